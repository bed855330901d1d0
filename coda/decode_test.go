package coda_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coda/codatest"
	"github.com/coalescent/coal/errs"
)

// Person's golden body, by field (see testdata/golden/struct-person.txt):
// name 0, birthday 4, nick 10, tags 15, scores 26, photo 47, kind 48; 53 bytes.
const (
	pName   = "03 41 64 61"
	pBday   = "0a 0c 17 07 00 00"
	pNick   = "01 03 61 64 61"
	pTags   = "02 04 6d 61 74 68 04 70 6f 65 74"
	pScores = "02 01 78 03 00 00 00 00 00 00 00 01 79 ff ff ff ff ff ff ff ff"
	pPhoto  = "00"
	pKind   = "01 07 00 00 00"
)

func person(fields ...string) string { return strings.Join(fields, " ") }

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad test hex %q: %v", s, err)
	}
	return b
}

func uvarint(x uint64) string { return hex.EncodeToString(coda.AppendUvarint(nil, x)) }

func nested(depth int) (*coda.Type, string) {
	t := codatest.Prim(coda.KindU8)
	for i := 0; i < depth; i++ {
		t = codatest.OptionalOf(t)
	}
	return t, strings.Repeat("01", depth) + "00"
}

func TestDecodeRejects(t *testing.T) {
	var (
		personT    = codatest.Ref(codatest.Person)
		holderT    = codatest.Ref(codatest.Holder)
		date       = hex.EncodeToString(codatest.Date.ID[:])
		kindID     = hex.EncodeToString(codatest.Kind.ID[:])
		unknown    = coda.Sum([]byte("no such schema"))
		boolsT     = codatest.ListOf(codatest.Prim(coda.KindBool))
		f32sT      = codatest.ListOf(codatest.Prim(coda.KindF32))
		f64sT      = codatest.ListOf(codatest.Prim(coda.KindF64))
		strT       = codatest.Prim(coda.KindString)
		u8sT       = codatest.ListOf(codatest.Prim(coda.KindU8))
		deep, _    = nested(coda.DefaultMaxDepth + 1)
		_, deepHex = nested(coda.DefaultMaxDepth + 1)
	)
	tests := []struct {
		name   string
		t      *coda.Type
		in     string
		lim    coda.Limits
		off    int
		path   string
		msg    string // a substring of the message
		exists bool   // the error is errs.NotExist, not errs.Invalid
	}{
		{"trailing bytes", personT, person(pName, pBday, pNick, pTags, pScores, pPhoto, pKind, "00"), coda.Limits{}, 53, "", "1 trailing bytes", false},
		{"trailing after u8", codatest.Prim(coda.KindU8), "01 02", coda.Limits{}, 1, "", "trailing", false},
		{"truncated", personT, person(pName, pBday, pNick, "02 04 6d 61 74"), coda.Limits{}, 16, "tags[0]", "length 4 exceeds the 3 remaining bytes", false},
		{"truncated fixed", personT, person(pName, "0a 0c 17 07"), coda.Limits{}, 6, "birthday.year", "unexpected end of input", false},
		{"non-minimal string length", personT, person("83 00 41 64 61", pBday), coda.Limits{}, 0, "name", "non-minimal uvarint", false},
		{"non-minimal list count", personT, person(pName, pBday, pNick, "82 00 04 6d 61 74 68 04 70 6f 65 74"), coda.Limits{}, 15, "tags", "non-minimal uvarint", false},
		{"non-minimal enum tag", personT, person(pName, pBday, pNick, pTags, pScores, pPhoto, "81 00 07 00 00 00"), coda.Limits{}, 48, "kind", "non-minimal uvarint", false},
		{"uvarint overflow", u8sT, "ff ff ff ff ff ff ff ff ff 02", coda.Limits{}, 0, "", "overflows 64 bits", false},
		{"unsorted map keys", personT, person(pName, pBday, pNick, pTags, "02 01 79 ff ff ff ff ff ff ff ff 01 78 03 00 00 00 00 00 00 00"), coda.Limits{}, 37, `scores["x"]`, "map key out of order", false},
		{"duplicate map keys", personT, person(pName, pBday, pNick, pTags, "02 01 78 03 00 00 00 00 00 00 00 01 78 03 00 00 00 00 00 00 00"), coda.Limits{}, 37, `scores["x"]`, "duplicate map key", false},
		{"unsorted signed keys", codatest.MapOf(codatest.Prim(coda.KindI8), codatest.Prim(coda.KindU8)), "02 01 00 ff 00", coda.Limits{}, 3, "[-1]", "out of order", false},
		{"unsorted bytes keys", codatest.MapOf(codatest.Prim(coda.KindBytes), codatest.Prim(coda.KindU8)), "02 01 01 00 00 00", coda.Limits{}, 4, "[0x]", "out of order", false},
		{"unsorted enum keys", codatest.MapOf(codatest.Ref(codatest.Color), codatest.Prim(coda.KindU8)), "02 07 00 01 00", coda.Limits{}, 3, "[Green]", "out of order", false},
		{"invalid UTF-8", personT, person("03 41 ff 61", pBday), coda.Limits{}, 2, "name", "invalid UTF-8", false},
		{"UTF-8 surrogate", strT, "03 ed a0 80", coda.Limits{}, 1, "", "invalid UTF-8", false},
		{"UTF-8 overlong", strT, "02 c0 80", coda.Limits{}, 1, "", "invalid UTF-8", false},
		{"UTF-8 beyond U+10FFFF", strT, "04 f4 90 80 80", coda.Limits{}, 1, "", "invalid UTF-8", false},
		{"bool 0x01", boolsT, "02 ff 01", coda.Limits{}, 2, "[1]", "non-canonical bool 0x01", false},
		{"bool 0x80", boolsT, "01 80", coda.Limits{}, 1, "[0]", "non-canonical bool", false},
		{"optional 0x02", personT, person(pName, pBday, "02"), coda.Limits{}, 10, "nick", "non-canonical optional flag 0x02", false},
		{"optional 0xff", personT, person(pName, pBday, pNick, pTags, pScores, "ff"), coda.Limits{}, 47, "photo", "non-canonical optional flag", false},
		{"f32 NaN with payload", f32sT, "01 01 00 c0 7f", coda.Limits{}, 1, "[0]", "non-canonical f32 NaN 0x7fc00001", false},
		{"f32 negative NaN", f32sT, "02 00 00 00 00 00 00 c0 ff", coda.Limits{}, 5, "[1]", "non-canonical f32 NaN 0xffc00000", false},
		{"f32 signalling NaN", f32sT, "01 01 00 80 7f", coda.Limits{}, 1, "[0]", "non-canonical f32 NaN", false},
		{"f64 NaN with payload", f64sT, "01 01 00 00 00 00 00 f8 7f", coda.Limits{}, 1, "[0]", "non-canonical f64 NaN 0x7ff8000000000001", false},
		{"f64 negative NaN", f64sT, "01 00 00 00 00 00 00 f8 ff", coda.Limits{}, 1, "[0]", "non-canonical f64 NaN 0xfff8000000000000", false},
		{"f64 signalling NaN", f64sT, "01 01 00 00 00 00 00 f0 7f", coda.Limits{}, 1, "[0]", "non-canonical f64 NaN", false},
		{"unknown enum tag", personT, person(pName, pBday, pNick, pTags, pScores, pPhoto, "02"), coda.Limits{}, 48, "kind", "unknown tag 2 of enum Kind", false},
		{"huge enum tag", codatest.Ref(codatest.Kind), "80 80 80 80 10", coda.Limits{}, 0, "", "unknown tag 4294967296", false},
		{"enum payload truncated", personT, person(pName, pBday, pNick, pTags, pScores, pPhoto, "01 07 00"), coda.Limits{}, 49, "kind.Robot", "unexpected end of input", false},
		{"any length too long", holderT, kindID + " 02 00 00", coda.Limits{}, 34, "item", "any body is 1 bytes, its length says 2", false},
		{"any length too short", holderT, date + " 05 01 02 d0 07 00 00", coda.Limits{}, 35, "item.year", "unexpected end of input", false},
		{"any length beyond input", holderT, date + " 7f 01 02", coda.Limits{}, 32, "item", "length 127 exceeds the 2 remaining bytes", false},
		{"any unknown schema", holderT, hex.EncodeToString(unknown[:]) + " 00", coda.Limits{}, 0, "item", "unknown schema " + unknown.String(), true},
		{"depth limit", deep, deepHex, coda.Limits{}, coda.DefaultMaxDepth, "", "nesting deeper than the limit 64", false},
		{"depth limit in recursion", codatest.Ref(codatest.Tree), "01 00 00 00 01 02 00 00 00 00", coda.Limits{MaxDepth: 3}, 9, "children[0].children", "nesting deeper than the limit 3", false},
		{"element limit", u8sT, uvarint(coda.DefaultMaxElems + 1), coda.Limits{}, 0, "", "16777217 elements, more than the limit 16777216", false},
		{"element limit in a field", personT, person(pName, pBday, pNick, pTags), coda.Limits{MaxElems: 1}, 15, "tags", "2 elements, more than the limit 1", false},
		{"element count beyond input", codatest.ListOf(codatest.Prim(coda.KindU32)), "03 00 00 00 00 00 00 00 00", coda.Limits{}, 0, "", "3 elements of at least 4 bytes exceed the 8 remaining bytes", false},
		{"zero-size elements", codatest.ListOf(codatest.ListOf(codatest.Fixed(0))), "02 d8 04 d8 04", coda.Limits{MaxElems: 1000}, 3, "[1]", "more than 1000 values of zero-size types", false},
		{"zero-size structs", codatest.ListOf(codatest.Ref(codatest.Empty)), uvarint(coda.DefaultMaxElems + 1), coda.Limits{}, 0, "", "more than the limit", false},
		{"size limit", u8sT, "04 01 02 03 04", coda.Limits{MaxSize: 4}, 4, "", "input is 5 bytes, more than the size limit 4", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := unhex(t, tt.in)
			v, err := coda.DecodeValue(tt.t, in, coda.DecodeOptions{Limits: tt.lim, Resolver: codatest.DefaultResolver})
			if err == nil {
				t.Fatalf("DecodeValue(%s, %x) = %s, want an error", tt.t, in, v)
			}
			var de *coda.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if de.Offset != tt.off || de.Path != tt.path || !strings.Contains(de.Msg, tt.msg) {
				t.Errorf("DecodeValue(%s, %x):\n got offset %d path %q msg %q\nwant offset %d path %q msg containing %q",
					tt.t, in, de.Offset, de.Path, de.Msg, tt.off, tt.path, tt.msg)
			}
			if tt.exists {
				if !errors.Is(err, errs.NotExist) {
					t.Errorf("error %v is not NotExist", err)
				}
			} else if !errors.Is(err, errs.Invalid) || errors.Is(err, errs.NotExist) {
				t.Errorf("error %v is not (only) Invalid", err)
			}
		})
	}
}

func TestDecodeObject(t *testing.T) {
	opts := coda.DecodeOptions{Resolver: codatest.DefaultResolver}
	obj, err := coda.EncodeObject(codatest.Person, codatest.PersonValue())
	if err != nil {
		t.Fatal(err)
	}
	s, v, err := coda.DecodeObject(obj, opts)
	if err != nil || s != codatest.Person || !coda.Equal(v, codatest.PersonValue()) {
		t.Fatalf("DecodeObject = %v, %s, %v", s, v, err)
	}

	// Offsets count from the start of the object.
	bad := append([]byte(nil), obj...)
	bad[coda.IDSize+10] = 2 // nick's optional flag
	_, _, err = coda.DecodeObject(bad, opts)
	var de *coda.DecodeError
	if !errors.As(err, &de) || de.Offset != coda.IDSize+10 || de.Path != "nick" {
		t.Errorf("DecodeObject(bad nick) = %v, want offset %d path nick", err, coda.IDSize+10)
	}

	if _, _, err := coda.DecodeObject(obj[:10], opts); !errors.As(err, &de) || de.Offset != 10 {
		t.Errorf("DecodeObject(10 bytes) = %v, want offset 10", err)
	}
	if _, _, err := coda.DecodeObject(append(obj, 0), opts); !errors.As(err, &de) || de.Offset != len(obj) {
		t.Errorf("DecodeObject(trailing byte) = %v, want offset %d", err, len(obj))
	}
	_, _, err = coda.DecodeObject(obj, coda.DecodeOptions{})
	if !errors.Is(err, errs.NotExist) || !strings.Contains(err.Error(), codatest.Person.ID.String()) {
		t.Errorf("DecodeObject without resolver = %v, want NotExist naming %s", err, codatest.Person.ID)
	}
	other := coda.Sum(nil)
	copy(bad, other[:])
	_, _, err = coda.DecodeObject(bad, opts)
	if !errors.Is(err, errs.NotExist) || !strings.Contains(err.Error(), other.String()) || !errors.As(err, &de) || de.Offset != 0 {
		t.Errorf("DecodeObject(unknown schema) = %v, want NotExist naming %s at offset 0", err, other)
	}
}

// TestDecodeStringsDoNotAlias checks that decoded strings and bytes are
// copies: changing the input afterwards changes nothing.
func TestDecodeStringsDoNotAlias(t *testing.T) {
	in := unhex(t, person(pName, pBday, pNick, pTags, pScores, pPhoto, pKind))
	v, err := coda.DecodeValue(codatest.Ref(codatest.Person), in, coda.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'X'
	}
	if !coda.Equal(v, codatest.PersonValue()) {
		t.Errorf("decoded value changed with its input: %s", v)
	}
}

// TestDecodeLargeStrings crosses the 32 KiB windows strings are copied in.
func TestDecodeLargeStrings(t *testing.T) {
	var vs []coda.Value
	for i := 0; i < 50; i++ {
		vs = append(vs, coda.String(strings.Repeat(string(rune('a'+i%26)), 1000*i)))
	}
	lt := codatest.ListOf(codatest.Prim(coda.KindString))
	b, err := coda.AppendValue(nil, lt, coda.List(vs...))
	if err != nil {
		t.Fatal(err)
	}
	v, err := coda.DecodeValue(lt, b, coda.DecodeOptions{})
	if err != nil || !coda.Equal(v, coda.List(vs...)) {
		t.Fatalf("large strings: %v", err)
	}
}

func TestDecodeAllocs(t *testing.T) {
	b, err := coda.AppendBody(nil, codatest.Profile, codatest.ProfileValue())
	if err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(100, func() {
		if _, err := coda.DecodeBody(codatest.Profile, b, coda.DecodeOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	// One copy of the strings, and a few chunks of Values.
	if n > 4 {
		t.Errorf("DecodeBody(Profile) makes %v allocations, want at most 4", n)
	}
}

// hostileDAG returns a struct nesting depth levels of two fields each, with
// leaf as the innermost field: 2^depth leaves from one value.
func hostileDAG(depth int, leaf *coda.Type) *coda.Schema {
	s := codatest.NewStruct("Z0", codatest.F("z", leaf))
	for i := 1; i <= depth; i++ {
		s = codatest.NewStruct("Z", codatest.F("a", codatest.Ref(s)), codatest.F("b", codatest.Ref(s)))
	}
	return s
}

// TestDecodeHostileSchemas: schemas the compiler would refuse, or that fan
// out, must not make the decoder hang, panic or allocate without bound.
func TestDecodeHostileSchemas(t *testing.T) {
	inf := codatest.NewStruct("Inf")
	inf.Fields = []coda.Field{codatest.F("a", codatest.Ref(inf)), codatest.F("b", codatest.Ref(inf))}
	zero := hostileDAG(40, codatest.Fixed(0))
	opts := coda.DecodeOptions{Limits: coda.Limits{MaxElems: 1 << 16}}
	tests := []struct {
		name string
		t    *coda.Type
		in   string
		msg  string
	}{
		{"infinite struct", codatest.Ref(inf), "", "nesting deeper than the limit"},
		{"list of infinite structs", codatest.ListOf(codatest.Ref(inf)), "05", "nesting deeper than the limit"},
		{"zero-size fan-out", codatest.Ref(zero), "", "values of zero-size types"},
		{"list of zero-size fan-out", codatest.ListOf(codatest.Ref(zero)), "01", "values of zero-size types"},
		{"unresolved reference", &coda.Type{Kind: coda.KindRef}, "00", "unresolved schema reference"},
		{"list without element type", &coda.Type{Kind: coda.KindList}, "00", "list type without element type"},
		{"map with float keys", codatest.MapOf(codatest.Prim(coda.KindF64), codatest.Prim(coda.KindU8)), "00", "not a valid map key type"},
		{"map with payload enum keys", codatest.MapOf(codatest.Ref(codatest.Kind), codatest.Prim(coda.KindU8)), "00", "not a valid map key type"},
		{"invalid kind", &coda.Type{Kind: coda.KindStruct}, "00", "invalid type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := coda.DecodeValue(tt.t, unhex(t, tt.in), opts)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("DecodeValue = %v, want an error containing %q", err, tt.msg)
			}
			if err := coda.Check(tt.t, coda.Value{}); err == nil {
				t.Errorf("Check(zero Value) = nil")
			}
		})
	}
}

// TestDecodeAtLimits: exactly at each limit is allowed.
func TestDecodeAtLimits(t *testing.T) {
	deep, deepHex := nested(coda.DefaultMaxDepth)
	in := unhex(t, deepHex)
	v, err := coda.DecodeValue(deep, in, coda.DecodeOptions{})
	if err != nil {
		t.Fatalf("depth %d: %v", coda.DefaultMaxDepth, err)
	}
	if out, err := coda.AppendValue(nil, deep, v); err != nil || string(out) != string(in) {
		t.Errorf("depth %d: re-encode = %x, %v", coda.DefaultMaxDepth, out, err)
	}
	lim := coda.DecodeOptions{Limits: coda.Limits{MaxElems: 3, MaxSize: 4}}
	if _, err := coda.DecodeValue(codatest.ListOf(codatest.Prim(coda.KindU8)), unhex(t, "03 01 02 03"), lim); err != nil {
		t.Errorf("3 elements, size 4, at limits 3 and 4: %v", err)
	}
	if _, err := coda.DecodeValue(codatest.ListOf(codatest.Ref(codatest.Zero)), unhex(t, "01"), lim); err != nil {
		t.Errorf("one Zero (3 zero-size values) at limit 3: %v", err)
	}
	if _, err := coda.DecodeValue(codatest.ListOf(codatest.Ref(codatest.Zero)), unhex(t, "02"), lim); err == nil {
		t.Errorf("two Zeros (6 zero-size values) accepted at limit 3")
	}
}

func TestNilTypesAndSchemas(t *testing.T) {
	if _, err := coda.DecodeValue(nil, []byte{0}, coda.DecodeOptions{}); err == nil {
		t.Error("DecodeValue(nil type) = nil error")
	}
	if _, err := coda.DecodeBody(nil, []byte{0}, coda.DecodeOptions{}); err == nil {
		t.Error("DecodeBody(nil schema) = nil error")
	}
	if err := coda.Check(nil, coda.U8(1)); err == nil {
		t.Error("Check(nil type) = nil error")
	}
	if err := coda.CheckSchema(nil, coda.Struct()); err == nil {
		t.Error("CheckSchema(nil schema) = nil error")
	}
	if _, _, err := coda.DecodeObject(make([]byte, 40), coda.DecodeOptions{Resolver: nilResolver{}}); err == nil {
		t.Error("DecodeObject with a resolver answering nil = nil error")
	}
}

type nilResolver struct{}

func (nilResolver) SchemaByID(coda.ID) (*coda.Schema, error) { return nil, nil }

func TestNilSchemaObjects(t *testing.T) {
	if _, err := coda.EncodeObject(nil, coda.Struct()); err == nil {
		t.Error("EncodeObject(nil schema) = nil error")
	}
	if _, err := coda.ObjectID(nil, coda.Struct()); err == nil {
		t.Error("ObjectID(nil schema) = nil error")
	}
}

// TestDecodeWideZeroFields: zero-size fields of a struct that is not itself
// zero-size count too, or one byte per struct could buy any number of values.
func TestDecodeWideZeroFields(t *testing.T) {
	fields := []coda.Field{codatest.F("x", codatest.Prim(coda.KindU8))}
	for i := 0; i < 100; i++ {
		fields = append(fields, codatest.F(fmt.Sprintf("z%d", i), codatest.Fixed(0)))
	}
	wide := codatest.NewStruct("Wide", fields...)
	lt := codatest.ListOf(codatest.Ref(wide))
	opts := coda.DecodeOptions{Limits: coda.Limits{MaxElems: 1000}}
	in := unhex(t, "0b 01 02 03 04 05 06 07 08 09 0a 0b")
	_, err := coda.DecodeValue(lt, in, opts)
	var de *coda.DecodeError
	if !errors.As(err, &de) || de.Offset != 11 || de.Path != "[10]" || !strings.Contains(de.Msg, "zero-size") {
		t.Errorf("11 structs of 100 zero-size fields at limit 1000: %v, want an error at offset 11, path [10]", err)
	}
	if _, err := coda.DecodeValue(lt, unhex(t, "0a 01 02 03 04 05 06 07 08 09 0a"), opts); err != nil {
		t.Errorf("10 structs of 100 zero-size fields at limit 1000: %v", err)
	}
}
