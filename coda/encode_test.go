package coda_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coda/codatest"
	"github.com/coalescent/coal/errs"
)

// TestRandomRoundTrip checks, over random schemas and values, that
// decode(encode(v)) == v, that encoding is deterministic, and that objects
// and ids agree.
func TestRandomRoundTrip(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 50
	}
	cases, res := codatest.Cases(1, n)
	opts := coda.DecodeOptions{Resolver: res}
	for i, c := range cases {
		b, err := coda.AppendBody(nil, c.Schema, c.Value)
		if err != nil {
			t.Fatalf("case %d: encode %s as %s: %v", i, c.Value, codatest.Decl(c.Schema), err)
		}
		if err := coda.CheckSchema(c.Schema, c.Value); err != nil {
			t.Fatalf("case %d: Check = %v after encoding", i, err)
		}
		b2, _ := coda.AppendBody([]byte("prefix"), c.Schema, c.Value)
		if !bytes.Equal(b2[6:], b) || string(b2[:6]) != "prefix" {
			t.Fatalf("case %d: encoding not deterministic:\n%x\n%x", i, b, b2[6:])
		}
		v, err := coda.DecodeBody(c.Schema, b, opts)
		if err != nil {
			t.Fatalf("case %d: decode %x as %s: %v", i, b, codatest.Decl(c.Schema), err)
		}
		if !coda.Equal(v, c.Value) {
			t.Fatalf("case %d: round trip:\n got %s\nwant %s", i, v, c.Value)
		}
		again, err := coda.AppendBody(nil, c.Schema, v)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("case %d: re-encoding the decoded value: %x, %v; want %x", i, again, err, b)
		}

		obj, err := coda.EncodeObject(c.Schema, c.Value)
		if err != nil || !bytes.Equal(obj[:coda.IDSize], c.Schema.ID[:]) || !bytes.Equal(obj[coda.IDSize:], b) {
			t.Fatalf("case %d: EncodeObject = %x, %v", i, obj, err)
		}
		s, ov, err := coda.DecodeObject(obj, opts)
		if err != nil || s != c.Schema || !coda.Equal(ov, c.Value) {
			t.Fatalf("case %d: DecodeObject = %v, %s, %v", i, s, ov, err)
		}
		id, err := coda.ObjectID(c.Schema, c.Value)
		if err != nil || id != coda.Sum(obj) {
			t.Fatalf("case %d: ObjectID = %s, %v; want %s", i, id, err, coda.Sum(obj))
		}
	}
}

// TestRandomMutations checks canonicity: a mutated encoding is either
// rejected with a *DecodeError, or it decodes to a value whose encoding is
// exactly the mutated bytes, so no value has a second encoding.
func TestRandomMutations(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 40
	}
	cases, res := codatest.Cases(1000, n)
	opts := coda.DecodeOptions{Resolver: res}
	r := rand.New(rand.NewPCG(7, 7))
	accepted, rejected := 0, 0
	for i, c := range cases {
		b, err := coda.AppendBody(nil, c.Schema, c.Value)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		for j := 0; j < 30; j++ {
			m := mutate(r, b)
			v, err := coda.DecodeBody(c.Schema, m, opts)
			if err != nil {
				var de *coda.DecodeError
				if !errors.As(err, &de) || de.Offset < 0 || de.Offset > len(m) {
					t.Fatalf("case %d: decode %x: error %v is not a DecodeError with an offset in the input", i, m, err)
				}
				if !errors.Is(err, errs.Invalid) && !errors.Is(err, errs.NotExist) {
					t.Fatalf("case %d: decode %x: error %v is neither Invalid nor NotExist", i, m, err)
				}
				rejected++
				continue
			}
			accepted++
			re, err := coda.AppendBody(nil, c.Schema, v)
			if err != nil {
				t.Fatalf("case %d: mutation %x decodes to %s, which does not encode: %v", i, m, v, err)
			}
			if !bytes.Equal(re, m) {
				t.Fatalf("case %d: mutation %x decodes to %s, which encodes to %x: a second encoding", i, m, v, re)
			}
		}
	}
	t.Logf("mutations: %d accepted (each canonical), %d rejected", accepted, rejected)
}

func mutate(r *rand.Rand, b []byte) []byte {
	m := bytes.Clone(b)
	switch op := r.IntN(6); {
	case op == 0 && len(m) > 0: // flip bits of one byte
		m[r.IntN(len(m))] ^= byte(1 + r.IntN(255))
	case op == 1 && len(m) > 0: // truncate
		m = m[:r.IntN(len(m))]
	case op == 2: // append a byte
		m = append(m, byte(r.Uint32()))
	case op == 3: // insert a byte
		i := r.IntN(len(m) + 1)
		m = append(m[:i], append([]byte{byte(r.Uint32())}, m[i:]...)...)
	case op == 4 && len(m) > 0: // delete a byte
		i := r.IntN(len(m))
		m = append(m[:i], m[i+1:]...)
	default: // set a byte to an interesting value
		if len(m) > 0 {
			m[r.IntN(len(m))] = []byte{0x00, 0x01, 0x02, 0x7f, 0x80, 0xff}[r.IntN(6)]
		}
	}
	return m
}

func TestCheckPaths(t *testing.T) {
	p := codatest.PersonValue()
	with := func(field int, v coda.Value) coda.Value {
		fs := make([]coda.Value, p.Len())
		for i := range fs {
			fs[i] = p.Index(i)
		}
		fs[field] = v
		return coda.Struct(fs...)
	}
	date := coda.Struct(coda.String("x"), coda.U8(12), coda.U32(1815))
	deep := coda.Value(coda.U8(1))
	deepT := codatest.Prim(coda.KindU8)
	for i := 0; i < coda.DefaultMaxDepth; i++ {
		deep, deepT = coda.Some(deep), codatest.OptionalOf(deepT)
	}
	tests := []struct {
		name string
		t    *coda.Type
		v    coda.Value
		want string // the whole error text
	}{
		{"field", codatest.Ref(codatest.Person), with(1, date), "birthday.day: expected u8, got string"},
		{"list element", codatest.Ref(codatest.Person), with(3, coda.List(coda.String("a"), coda.U8(1))), "tags[1]: expected string, got u8"},
		{"map value", codatest.Ref(codatest.Person), with(4, coda.Map(coda.MapEntry{Key: coda.String("k"), Value: coda.String("v")})), `scores["k"]: expected i64, got string`},
		{"map key", codatest.Ref(codatest.Person), with(4, coda.Map(coda.MapEntry{Key: coda.U8(1), Value: coda.I64(1)})), `scores[#0]: expected string, got u8`},
		{"duplicate key", codatest.Ref(codatest.Person), with(4, coda.Map(coda.MapEntry{Key: coda.String("k"), Value: coda.I64(1)}, coda.MapEntry{Key: coda.String("k"), Value: coda.I64(2)})), `scores["k"]: duplicate map key`},
		{"enum payload", codatest.Ref(codatest.Person), with(6, coda.Enum(1, coda.String("x"))), "kind.Robot: expected u32, got string"},
		{"enum missing payload", codatest.Ref(codatest.Person), with(6, coda.Enum(1)), "kind.Robot: variant needs a payload of type u32, value has none"},
		{"enum extra payload", codatest.Ref(codatest.Person), with(6, coda.Enum(0, coda.U32(1))), "kind.Human: variant has no payload, value has one"},
		{"enum unknown tag", codatest.Ref(codatest.Person), with(6, coda.Enum(5)), "kind: Kind has no variant with tag 5"},
		{"optional", codatest.Ref(codatest.Person), with(2, coda.Some(coda.U8(1))), "nick: expected string, got u8"},
		{"not optional", codatest.Ref(codatest.Person), with(2, coda.String("x")), "nick: expected optional<string>, got string"},
		{"field count", codatest.Ref(codatest.Date), coda.Struct(coda.U8(1)), "Date has 3 fields, value has 1"},
		{"u8 range", codatest.Prim(coda.KindU8), coda.Uint(coda.KindU8, 256), "256 out of range for u8"},
		{"i16 range", codatest.Prim(coda.KindI16), coda.Int(coda.KindI16, -40000), "-40000 out of range for i16"},
		{"utf8", codatest.ListOf(codatest.Prim(coda.KindString)), coda.List(coda.String("ok"), coda.String("a\xffb")), "[1]: invalid UTF-8 at byte 1 of the string"},
		{"fixed length", codatest.Fixed(4), coda.FixedBytes([]byte{1}), "expected 4 bytes, got 1"},
		{"bytes for fixed", codatest.Fixed(1), coda.Bytes([]byte{1}), "expected bytes[1], got bytes"},
		{"link", codatest.LinkTo(codatest.Ref(codatest.Blob)), coda.Bytes(make([]byte, 32)), "expected link<Blob>, got bytes"},
		{"any without schema", codatest.Prim(coda.KindAny), coda.Any(codatest.Date.ID, coda.Struct()), "any: schema " + codatest.Date.ID.String() + " unknown to the encoder (build the value with AnyOf)"},
		{"any body", codatest.Ref(codatest.Holder), coda.Struct(coda.AnyOf(codatest.Date, coda.Struct(coda.U8(1), coda.U8(2), coda.U16(3)))), "item.year: expected u32, got u16"},
		{"recursive", codatest.Ref(codatest.Tree), coda.Struct(coda.U32(1), coda.List(coda.Struct(coda.U32(2), coda.List(coda.U32(3))))), "children[0].children[0]: expected Tree (struct), got u32"},
		{"depth", codatest.OptionalOf(deepT), coda.Some(deep), "nesting deeper than the limit 64"},
		{"invalid", codatest.Prim(coda.KindU8), coda.Value{}, "expected u8, got kind(0x00)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := coda.Check(tt.t, tt.v)
			if err == nil {
				t.Fatalf("Check(%s, %s) = nil, want %q", tt.t, tt.v, tt.want)
			}
			var ve *coda.ValueError
			if !errors.As(err, &ve) || !errors.Is(err, errs.Invalid) {
				t.Errorf("Check error %T %v is not an Invalid *ValueError", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("Check(%s, %s) =\n %q\nwant\n %q", tt.t, tt.v, err, tt.want)
			}
			if _, err2 := coda.AppendValue(nil, tt.t, tt.v); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("AppendValue error %v differs from Check's", err2)
			}
		})
	}
}

func TestAppendValueKeepsDst(t *testing.T) {
	dst := []byte("abc")
	got, err := coda.AppendValue(dst, codatest.Ref(codatest.Date), coda.Struct(coda.U8(1), coda.U8(2), coda.String("x")))
	if err == nil || string(got) != "abc" {
		t.Errorf("AppendValue on error = %q, %v; want dst unchanged and an error", got, err)
	}
}

func TestNaNCanonicalisedByConstructors(t *testing.T) {
	v := coda.F64(-nan())
	b, err := coda.AppendValue(nil, codatest.Prim(coda.KindF64), v)
	if err != nil || !bytes.Equal(b, []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f}) {
		t.Errorf("F64(-NaN) encodes as %x, %v", b, err)
	}
	bad := coda.Uint(coda.KindF64, 0x7FF8000000000001) // a NaN that bypassed F64
	if err := coda.Check(codatest.Prim(coda.KindF64), bad); err == nil || !strings.Contains(err.Error(), "non-canonical f64 NaN") {
		t.Errorf("Check(non-canonical NaN) = %v", err)
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

// both resolves from a registry, then from codatest's hand-built schemas
// (which random `any` values use).
type both struct{ r *coda.Registry }

func (b both) SchemaByID(id coda.ID) (*coda.Schema, error) {
	if s, err := b.r.SchemaByID(id); err == nil {
		return s, nil
	}
	return codatest.DefaultResolver.SchemaByID(id)
}

// TestCompiledRoundTrip runs random values of compiled schemas (the
// compiler sets Type.Schema, including for recursive groups) through the
// codec.
func TestCompiledRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "schemas", "*.coda"))
	if err != nil || len(files) == 0 {
		t.Skipf("no compiled schemas in testdata/schemas (%v)", err)
	}
	reg := coda.NewRegistry()
	var schemas []*coda.Schema
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := reg.Compile(f, src)
		if err != nil {
			t.Fatal(err)
		}
		schemas = append(schemas, ss...)
	}
	opts := coda.DecodeOptions{Resolver: both{reg}}
	g := codatest.NewGen(3)
	for _, s := range schemas {
		for i := 0; i < 40; i++ {
			v := g.Value(codatest.Ref(s), 4)
			obj, err := coda.EncodeObject(s, v)
			if err != nil {
				t.Fatalf("%s: encode %s: %v", s.Name, v, err)
			}
			ds, dv, err := coda.DecodeObject(obj, opts)
			if err != nil || ds.ID != s.ID || !coda.Equal(dv, v) {
				t.Fatalf("%s: decode %x = %v, %s, %v; want %s", s.Name, obj, ds, dv, err, v)
			}
		}
	}
}
