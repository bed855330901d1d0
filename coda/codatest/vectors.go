package codatest

import (
	"encoding/hex"
	"fmt"
	"math"
	"strings"

	"github.com/coalescent/coal/coda"
)

// Vector is a golden vector: Value, of type Type, has the canonical body
// Body. Body is written by hand, byte by byte, in the annotated hex format
// of ParseHex: it is the expectation, not the encoder's output.
//
// The list is append-only and vectors never change: each is also a file
// testdata/golden/NAME.txt (see the README there), and FuzzDecode picks its
// schema by a vector's index.
type Vector struct {
	Name  string // unique; the golden file's name without .txt
	Type  *coda.Type
	Value coda.Value
	Body  string // annotated hex
}

// Bytes returns the vector's body bytes.
func (v Vector) Bytes() []byte {
	b, err := ParseHex(v.Body)
	if err != nil {
		return nil // TestVectorsParse keeps this from happening
	}
	return b
}

// ParseHex reads annotated hex: on each line, "#" starts a comment; what
// remains is hex digits, two per byte, with any spaces between bytes.
func ParseHex(text string) ([]byte, error) {
	var out []byte
	for i, line := range strings.Split(text, "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		line = strings.Join(strings.Fields(line), "")
		b, err := hex.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", i+1, err)
		}
		out = append(out, b...)
	}
	return out, nil
}

// FormatFile returns the golden file text of v.
func FormatFile(v Vector) string {
	var b strings.Builder
	b.WriteString("# CODA golden vector. Never edit this file; add a new vector instead.\n")
	fmt.Fprintf(&b, "# name: %s\n", v.Name)
	fmt.Fprintf(&b, "# type: %s\n", v.Type)
	for _, s := range reachable(v.Type, v.Value) {
		fmt.Fprintf(&b, "#   %s  // id %s\n", Decl(s), s.ID)
	}
	fmt.Fprintf(&b, "# value: %s\n", v.Value)
	b.WriteString("#\n")
	body := strings.TrimLeft(v.Body, "\n")
	if strings.TrimSpace(body) == "" {
		b.WriteString("# (empty body: no bytes)\n")
	} else {
		b.WriteString(body)
		if !strings.HasSuffix(body, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// repeat returns the hex of n copies of byte x, 16 to a line.
func repeat(x byte, n int, comment string) string {
	return hexLines(n, func(int) byte { return x }, comment)
}

// counting returns the hex of bytes 0, 1, …, n−1 (mod 256), 16 to a line.
func counting(n int, comment string) string {
	return hexLines(n, func(i int) byte { return byte(i) }, comment)
}

func hexLines(n int, at func(int) byte, comment string) string {
	var b strings.Builder
	for i := 0; i < n; i += 16 {
		for j := i; j < min(i+16, n); j++ {
			if j > i {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%02x", at(j))
		}
		if i == 0 {
			b.WriteString("  # " + comment)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func countingBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func idOf(x byte) coda.ID {
	var id coda.ID
	for i := range id {
		id[i] = x
	}
	return id
}

func f32bits(b uint32) coda.Value { return coda.F32(math.Float32frombits(b)) }

// PersonValue is the Person of the golden vector "struct-person".
func PersonValue() coda.Value {
	return coda.Struct(
		coda.String("Ada"),
		coda.Struct(coda.U8(10), coda.U8(12), coda.U32(1815)),
		coda.Some(coda.String("ada")),
		coda.List(coda.String("math"), coda.String("poet")),
		coda.Map(
			coda.MapEntry{Key: coda.String("y"), Value: coda.I64(-1)},
			coda.MapEntry{Key: coda.String("x"), Value: coda.I64(3)},
		),
		coda.None(),
		coda.Enum(1, coda.U32(7)),
	)
}

const (
	dateID = "ba dd 1a 61 e6 5f 7a 9e d0 58 6e bb 41 8b 96 ad 08 cf c8 47 44 99 16 a3 b4 1e cc 0c f9 d7 fb a5"
	kindID = "68 90 61 b9 40 4c bc ba 2b b5 fc 4b 65 2e 07 34 b2 41 a5 4e 58 4b be b7 c2 d0 7a 21 a5 e2 a0 e4"
	blobID = "62 ac 4a 0d 9e 05 4e 95 ea db 93 25 01 74 eb 03 23 31 12 35 8d 51 d5 6d d1 72 45 6d ca a8 66 f7"
)

// Vectors returns the golden vectors, at least one for every type.
func Vectors() []Vector {
	var (
		boolT   = Prim(coda.KindBool)
		u8      = Prim(coda.KindU8)
		u16     = Prim(coda.KindU16)
		u32     = Prim(coda.KindU32)
		u64     = Prim(coda.KindU64)
		i8      = Prim(coda.KindI8)
		i16     = Prim(coda.KindI16)
		i32     = Prim(coda.KindI32)
		i64     = Prim(coda.KindI64)
		f32     = Prim(coda.KindF32)
		f64     = Prim(coda.KindF64)
		str     = Prim(coda.KindString)
		bytesT  = Prim(coda.KindBytes)
		anyT    = Prim(coda.KindAny)
		me      = coda.MapEntry{}
		entry   = func(k, v coda.Value) coda.MapEntry { me.Key, me.Value = k, v; return me }
		dateVal = func(d, m uint8, y uint32) coda.Value { return coda.Struct(coda.U8(d), coda.U8(m), coda.U32(y)) }
	)
	return []Vector{
		// Scalars.
		{"bool-false", boolT, coda.Bool(false), "00  # false"},
		{"bool-true", boolT, coda.Bool(true), "ff  # true (0xFF; 0x01 is rejected)"},
		{"u8-zero", u8, coda.U8(0), "00  # 0"},
		{"u8-max", u8, coda.U8(255), "ff  # 255"},
		{"u16", u16, coda.U16(0x1234), "34 12  # 0x1234, little-endian"},
		{"u16-max", u16, coda.U16(math.MaxUint16), "ff ff  # 65535"},
		{"u32", u32, coda.U32(0xDEADBEEF), "ef be ad de  # 0xdeadbeef, little-endian"},
		{"u64", u64, coda.U64(0x0102030405060708), "08 07 06 05 04 03 02 01  # 0x0102030405060708, little-endian"},
		{"u64-max", u64, coda.U64(math.MaxUint64), "ff ff ff ff ff ff ff ff  # 2^64-1"},
		{"i8-minus-one", i8, coda.I8(-1), "ff  # -1, two's complement"},
		{"i8-min", i8, coda.I8(math.MinInt8), "80  # -128"},
		{"i8-max", i8, coda.I8(math.MaxInt8), "7f  # 127"},
		{"i16", i16, coda.I16(-2), "fe ff  # -2"},
		{"i32-min", i32, coda.I32(math.MinInt32), "00 00 00 80  # -2^31"},
		{"i64-minus-one", i64, coda.I64(-1), "ff ff ff ff ff ff ff ff  # -1"},
		{"i64-one", i64, coda.I64(1), "01 00 00 00 00 00 00 00  # 1"},
		{"f32", f32, coda.F32(1.5), "00 00 c0 3f  # 1.5 = 0x3fc00000"},
		{"f32-negative-zero", f32, coda.F32(float32(math.Copysign(0, -1))), "00 00 00 80  # -0 = 0x80000000, distinct from 0"},
		{"f32-nan", f32, f32bits(0x7FC00000), "00 00 c0 7f  # NaN: only 0x7fc00000"},
		{"f32-infinity", f32, coda.F32(float32(math.Inf(1))), "00 00 80 7f  # +Inf = 0x7f800000"},
		{"f32-subnormal", f32, f32bits(1), "01 00 00 00  # smallest subnormal, 0x00000001"},
		{"f64", f64, coda.F64(math.Pi), "18 2d 44 54 fb 21 09 40  # pi = 0x400921fb54442d18"},
		{"f64-negative-zero", f64, coda.F64(math.Copysign(0, -1)), "00 00 00 00 00 00 00 80  # -0"},
		{"f64-nan", f64, coda.F64(math.NaN()), "00 00 00 00 00 00 f8 7f  # NaN: only 0x7ff8000000000000"},
		{"f64-negative-infinity", f64, coda.F64(math.Inf(-1)), "00 00 00 00 00 00 f0 ff  # -Inf = 0xfff0000000000000"},

		// Strings and bytes.
		{"string-empty", str, coda.String(""), "00  # length 0"},
		{"string-ascii", str, coda.String("hi"), "02     # length 2\n68 69  # \"hi\""},
		{"string-utf8", str, coda.String("héllo"), "06                 # length 6 (bytes, not characters)\n68 c3 a9 6c 6c 6f  # h, é = c3 a9, l, l, o"},
		{"string-cjk", str, coda.String("世界"), "06                 # length 6\ne4 b8 96 e7 95 8c  # 世 = e4 b8 96, 界 = e7 95 8c"},
		{"string-astral", str, coda.String("😀"), "04           # length 4\nf0 9f 98 80  # U+1F600, four bytes (no surrogates)"},
		{"string-128", str, coda.String(strings.Repeat("a", 128)), "80 01  # length 128: uvarint 0x80 0x01 (two bytes from 128 on)\n" + repeat('a', 128, `"aaa…", 128 times`)},
		{"bytes-empty", bytesT, coda.Bytes(nil), "00  # length 0"},
		{"bytes", bytesT, coda.Bytes([]byte{0x00, 0xff, 0x10}), "03        # length 3\n00 ff 10  # the bytes"},
		{"fixed-0", Fixed(0), coda.FixedBytes(nil), "# bytes[0]: no bytes at all"},
		{"fixed-4", Fixed(4), coda.FixedBytes([]byte{0xde, 0xad, 0xbe, 0xef}), "de ad be ef  # bytes[4]: the 4 bytes, no length"},

		// Lists.
		{"list-empty", ListOf(u8), coda.List(), "00  # count 0"},
		{"list-u16", ListOf(u16), coda.List(coda.U16(1), coda.U16(2), coda.U16(0x300)), "03     # count 3\n01 00  # 1\n02 00  # 2\n00 03  # 0x300"},
		{"list-string", ListOf(str), coda.List(coda.String("a"), coda.String("")), "02     # count 2\n01 61  # \"a\"\n00     # \"\""},
		{"list-list", ListOf(ListOf(u8)), coda.List(coda.List(coda.U8(1)), coda.List(), coda.List(coda.U8(2), coda.U8(3))),
			"03        # count 3\n01 01     # [1]\n00        # []\n02 02 03  # [2, 3]"},
		{"list-bool", ListOf(boolT), coda.List(coda.Bool(true), coda.Bool(false)), "02  # count 2\nff  # true\n00  # false"},
		{"list-130", ListOf(u8), listCounting(130), "82 01  # count 130: uvarint 0x82 0x01\n" + counting(130, "0, 1, 2, …, 129")},
		{"list-fixed-0", ListOf(Fixed(0)), coda.List(coda.FixedBytes(nil), coda.FixedBytes(nil), coda.FixedBytes(nil)), "03  # count 3; each bytes[0] is zero bytes"},
		{"list-empty-struct", ListOf(Ref(Empty)), coda.List(coda.Struct(), coda.Struct()), "02  # count 2; each Empty {} is zero bytes"},

		// Maps: keys strictly increasing.
		{"map-empty", MapOf(str, i64), coda.Map(), "00  # count 0"},
		{"map-string", MapOf(str, i64), coda.Map(entry(coda.String("b"), coda.I64(2)), entry(coda.String("a"), coda.I64(1)), entry(coda.String("ab"), coda.I64(3))), `
03                       # count 3; keys bytewise: "a" < "ab" < "b" (a prefix sorts first)
01 61                    # "a"
01 00 00 00 00 00 00 00  # 1
02 61 62                 # "ab"
03 00 00 00 00 00 00 00  # 3
01 62                    # "b"
02 00 00 00 00 00 00 00  # 2
`},
		{"map-i32", MapOf(i32, boolT), coda.Map(entry(coda.I32(3), coda.Bool(true)), entry(coda.I32(-5), coda.Bool(false)), entry(coda.I32(0), coda.Bool(true))), `
03           # count 3; signed keys numerically: -5 < 0 < 3
fb ff ff ff  # -5
00           # false
00 00 00 00  # 0
ff           # true
03 00 00 00  # 3
ff           # true
`},
		{"map-u16", MapOf(u16, u8), coda.Map(entry(coda.U16(256), coda.U8(1)), entry(coda.U16(2), coda.U8(2))), `
02        # count 2; 2 < 256 numerically (not by little-endian bytes)
02 00 02  # 2: 2
00 01 01  # 256: 1
`},
		{"map-i64-extremes", MapOf(i64, u8), coda.Map(entry(coda.I64(math.MaxInt64), coda.U8(2)), entry(coda.I64(math.MinInt64), coda.U8(1))), `
02                          # count 2
00 00 00 00 00 00 00 80 01  # -2^63: 1
ff ff ff ff ff ff ff 7f 02  # 2^63-1: 2
`},
		{"map-u64", MapOf(u64, u8), coda.Map(entry(coda.U64(1<<63), coda.U8(1)), entry(coda.U64(1), coda.U8(2))), `
02                          # count 2; unsigned: 1 < 2^63
01 00 00 00 00 00 00 00 02  # 1: 2
00 00 00 00 00 00 00 80 01  # 2^63: 1
`},
		{"map-bool", MapOf(boolT, str), coda.Map(entry(coda.Bool(true), coda.String("t")), entry(coda.Bool(false), coda.String("f"))), `
02        # count 2; false < true
00 01 66  # false: "f"
ff 01 74  # true: "t"
`},
		{"map-bytes", MapOf(bytesT, u8), coda.Map(
			entry(coda.Bytes([]byte{2}), coda.U8(3)), entry(coda.Bytes([]byte{1, 0}), coda.U8(2)),
			entry(coda.Bytes([]byte{1}), coda.U8(1)), entry(coda.Bytes(nil), coda.U8(0))), `
04        # count 4; bytewise: "" < 01 < 01 00 < 02
00 00     # "": 0
01 01 01  # 01: 1
02 01 00 02  # 01 00: 2
01 02 03  # 02: 3
`},
		{"map-fixed", MapOf(Fixed(2), u8), coda.Map(entry(coda.FixedBytes([]byte{0xff, 0}), coda.U8(1)), entry(coda.FixedBytes([]byte{0, 0xff}), coda.U8(2))), `
02        # count 2
00 ff 02  # 00ff: 2
ff 00 01  # ff00: 1
`},
		{"map-link", MapOf(LinkTo(anyT), u8), coda.Map(entry(coda.Link(idOf(0x22)), coda.U8(2)), entry(coda.Link(idOf(0x11)), coda.U8(1))), "02  # count 2; links bytewise\n" +
			repeat(0x11, 32, "id 1111…11") + "01  # 1\n" + repeat(0x22, 32, "id 2222…22") + "02  # 2\n"},
		{"map-enum", MapOf(Ref(Color), u8), coda.Map(entry(coda.Enum(7), coda.U8(3)), entry(coda.Enum(0), coda.U8(1))), `
02     # count 2; enum keys by tag
00 01  # Red (tag 0): 1
07 03  # Blue (tag 7): 3
`},

		// Optionals.
		{"optional-none", OptionalOf(u8), coda.None(), "00  # absent"},
		{"optional-some", OptionalOf(u8), coda.Some(coda.U8(5)), "01  # present\n05  # 5"},
		{"optional-some-none", OptionalOf(OptionalOf(u8)), coda.Some(coda.None()), "01  # present\n00  # inner: absent"},
		{"optional-some-some", OptionalOf(OptionalOf(u8)), coda.Some(coda.Some(coda.U8(0))), "01  # present\n01  # inner: present\n00  # 0"},

		// Links and any.
		{"link", LinkTo(Ref(Blob)), coda.Link(coda.ID(countingBytes(32))), counting(32, "the 32-byte id 00 01 … 1f, no length")},
		{"any-date", anyT, coda.AnyOf(Date, dateVal(1, 2, 2000)), dateID + `  # schema id of Date
06           # body length 6
01           # day 1
02           # month 2
d0 07 00 00  # year 2000
`},
		{"any-enum", anyT, coda.AnyOf(Kind, coda.Enum(1, coda.U32(1))), kindID + `  # schema id of Kind
05           # body length 5
01           # tag 1: Robot
01 00 00 00  # payload u32 1
`},
		{"any-long", anyT, coda.AnyOf(Blob, coda.Struct(coda.Bytes(countingBytes(130)))), blobID + `  # schema id of Blob
84 01  # body length 132: two-byte uvarint
82 01  # data: length 130
` + counting(130, "00 01 … 81")},
		{"struct-holder", Ref(Holder), coda.Struct(coda.AnyOf(Kind, coda.Enum(0))), kindID + `  # item: schema id of Kind
01  # body length 1
00  # tag 0: Human
`},

		// Structs.
		{"struct-date", Ref(Date), dateVal(31, 12, 1999), "1f           # day 31\n0c           # month 12\ncf 07 00 00  # year 1999"},
		{"struct-empty", Ref(Empty), coda.Struct(), "# Empty {}: no bytes"},
		{"struct-zero", Ref(Zero), coda.Struct(coda.FixedBytes(nil), coda.Struct()), "# Zero {z: bytes[0], e: Empty}: no bytes"},
		{"struct-blob", Ref(Blob), coda.Struct(coda.Bytes([]byte("hi"))), "02     # data: length 2\n68 69  # \"hi\""},
		{"struct-person", Ref(Person), PersonValue(), `
03 41 64 61              # name: length 3, "Ada"
0a                       # birthday.day 10
0c                       # birthday.month 12
17 07 00 00              # birthday.year 1815
01 03 61 64 61           # nick: present, length 3, "ada"
02                       # tags: count 2
04 6d 61 74 68           # tags[0]: "math"
04 70 6f 65 74           # tags[1]: "poet"
02                       # scores: count 2
01 78                    # key "x"
03 00 00 00 00 00 00 00  # 3
01 79                    # key "y"
ff ff ff ff ff ff ff ff  # -1
00                       # photo: absent
01                       # kind: tag 1, Robot
07 00 00 00              # payload u32 7
`},

		// Enums.
		{"enum-unit", Ref(Kind), coda.Enum(0), "00  # tag 0: Human, no payload"},
		{"enum-payload", Ref(Kind), coda.Enum(1, coda.U32(42)), "01           # tag 1: Robot\n2a 00 00 00  # payload u32 42"},
		{"enum-sparse-tag", Ref(Color), coda.Enum(7), "07  # tag 7: Blue"},
		{"enum-tag-300", Ref(Big), coda.Enum(300, coda.String("x")), "ac 02  # tag 300: uvarint 0xac 0x02\n01 78  # payload \"x\""},

		// Recursive schemas.
		{"rec-tree", Ref(Tree), coda.Struct(coda.U32(1), coda.List(
			coda.Struct(coda.U32(2), coda.List()),
			coda.Struct(coda.U32(3), coda.List(coda.Struct(coda.U32(4), coda.List()))),
		)), `
01 00 00 00  # value 1
02           # children: count 2
02 00 00 00  # children[0].value 2
00           # children[0].children: count 0
03 00 00 00  # children[1].value 3
01           # children[1].children: count 1
04 00 00 00  # children[1].children[0].value 4
00           # children[1].children[0].children: count 0
`},
		{"rec-expr", Ref(Expr), coda.Enum(2, coda.Struct(coda.Enum(0, coda.I64(1)), coda.Enum(1, coda.Enum(0, coda.I64(2))))), `
02                       # Add
00                       # a: Num
01 00 00 00 00 00 00 00  # 1
01                       # b: Neg
00                       # Num
02 00 00 00 00 00 00 00  # 2
`},
	}
}

func listCounting(n int) coda.Value {
	vs := make([]coda.Value, n)
	for i := range vs {
		vs[i] = coda.U8(uint8(i))
	}
	return coda.List(vs...)
}

// Decl writes schema s in the schema language, on one line.
func Decl(s *coda.Schema) string {
	var b strings.Builder
	if s.Kind == coda.KindEnum {
		fmt.Fprintf(&b, "enum %s {", s.Name)
		for _, v := range s.Variants {
			fmt.Fprintf(&b, " %s", v.Name)
			if v.Payload != nil {
				fmt.Fprintf(&b, "(%s)", v.Payload)
			}
			fmt.Fprintf(&b, " = %d", v.Tag)
		}
	} else {
		fmt.Fprintf(&b, "schema %s {", s.Name)
		for _, f := range s.Fields {
			fmt.Fprintf(&b, " %s: %s", f.Name, &f.Type)
		}
	}
	b.WriteString(" }")
	return b.String()
}

// reachable lists the schemas t refers to, and those of the any values in
// v, each once, in the order first met.
func reachable(t *coda.Type, v coda.Value) []*coda.Schema {
	var out []*coda.Schema
	seen := map[*coda.Schema]bool{}
	var walkT func(t *coda.Type)
	var walkS func(s *coda.Schema)
	walkS = func(s *coda.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		out = append(out, s)
		for i := range s.Fields {
			walkT(&s.Fields[i].Type)
		}
		for _, vr := range s.Variants {
			if vr.Payload != nil {
				walkT(vr.Payload)
			}
		}
	}
	walkT = func(t *coda.Type) {
		if t == nil {
			return
		}
		walkT(t.Key)
		walkT(t.Elem)
		walkS(t.Schema)
	}
	walkT(t)
	var walkV func(v coda.Value)
	walkV = func(v coda.Value) {
		if s := v.AnySchema(); s != nil {
			walkS(s)
		}
		switch v.Kind() {
		case coda.KindList, coda.KindStruct:
			for i := 0; i < v.Len(); i++ {
				walkV(v.Index(i))
			}
		case coda.KindMap:
			for i := 0; i < v.Len(); i++ {
				walkV(v.Entry(i).Value)
			}
		case coda.KindOptional, coda.KindEnum, coda.KindAny:
			if p, ok := v.Payload(); ok {
				walkV(p)
			}
		}
	}
	walkV(v)
	return out
}
