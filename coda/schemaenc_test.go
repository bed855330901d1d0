package coda

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/coalescent/coal/errs"
)

// object returns the schema object of a hand-built group member.
func object(group []*Schema, index int) []byte {
	for i, s := range group {
		s.Group, s.Index = group, i
	}
	return SchemaObject(group[index])
}

func withMeta(body ...byte) []byte {
	m := MetaID()
	return append(m[:], body...)
}

func rec(n uint32) Type        { return Type{Kind: KindRec, N: n} }
func prim(k Kind) Type         { return Type{Kind: k} }
func wrap(k Kind, e Type) Type { return Type{Kind: k, Elem: &e} }

func TestDecodeSchemaObjectRejects(t *testing.T) {
	st := func(fields ...Field) *Schema { return &Schema{Kind: KindStruct, Fields: fields} }
	en := func(vs ...Variant) *Schema { return &Schema{Kind: KindEnum, Variants: vs} }
	unknown := Type{Kind: KindRef, Ref: Sum([]byte("unknown"))}
	valid := object([]*Schema{st(Field{"x", prim(KindU8)})}, 0)

	// Two members in canonical order, then swapped.
	a := compile(t, "schema A { b: optional<B> }\nschema B { a: list<A>  n: u8 }")["A"]
	swapped := []*Schema{
		st(Field{"a", wrap(KindList, rec(1))}, Field{"n", prim(KindU8)}),
		st(Field{"b", wrap(KindOptional, rec(0))}),
	}
	if a.Index == 1 { // canonical is B, A: swap to A, B
		swapped[0], swapped[1] = swapped[1], swapped[0]
		swapped[0].Fields[0].Type.Elem.N, swapped[1].Fields[0].Type.Elem.N = 1, 0
	}

	tests := []struct {
		name string
		data []byte
		want string // a substring of the error
		kind errs.Kind
	}{
		{"empty", nil, "unexpected end of input", errs.Invalid},
		{"not a schema object", append(make([]byte, 32), valid[32:]...), "not a schema object", errs.Invalid},
		{"trailing bytes", append(valid, 0), "trailing bytes", errs.Invalid},
		{"truncated", valid[:len(valid)-1], "unexpected end of input", errs.Invalid},
		{"index out of range", append(valid[:len(valid)-4], 1, 0, 0, 0), "index 1 out of range", errs.Invalid},
		{"empty group", (withMeta(0, 0, 0, 0, 0)), "empty group", errs.Invalid},
		{"unknown Def tag", (withMeta(1, 2, 0, 0, 0, 0, 0)), "unknown Def tag 2", errs.Invalid},
		{"unknown type tag", object([]*Schema{st(Field{"x", Type{Kind: 0x23}})}, 0), "unknown type tag 0x23", errs.Invalid},
		{"value kind as type", object([]*Schema{st(Field{"x", Type{Kind: KindStruct}})}, 0), "unknown type tag 0x50", errs.Invalid},
		{"duplicate field", object([]*Schema{st(Field{"x", prim(KindU8)}, Field{"x", prim(KindU8)})}, 0), `duplicate field "x"`, errs.Invalid},
		{"bad name", object([]*Schema{st(Field{"x y", prim(KindU8)})}, 0), `name "x y" is not an identifier`, errs.Invalid},
		{"empty enum", object([]*Schema{en()}, 0), "enum with no variants", errs.Invalid},
		{"unsorted tags", object([]*Schema{en(Variant{"A", 2, nil}, Variant{"B", 1, nil})}, 0), "not strictly increasing", errs.Invalid},
		{"duplicate tags", object([]*Schema{en(Variant{"A", 1, nil}, Variant{"B", 1, nil})}, 0), "not strictly increasing", errs.Invalid},
		{"duplicate variant", object([]*Schema{en(Variant{"A", 1, nil}, Variant{"A", 2, nil})}, 0), `duplicate variant "A"`, errs.Invalid},
		{"bytes too long", object([]*Schema{st(Field{"x", Type{Kind: KindFixedBytes, N: 65537}})}, 0), "bytes[65537] longer than 65536", errs.Invalid},
		{"rec out of range", object([]*Schema{st(Field{"x", wrap(KindList, rec(1))})}, 0), "rec(1) out of range", errs.Invalid},
		{"unknown ref", object([]*Schema{st(Field{"x", unknown})}, 0), "unknown schema", errs.NotExist},
		{"bad map key", object([]*Schema{st(Field{"m", Type{Kind: KindMap, Key: &Type{Kind: KindF32}, Elem: &Type{Kind: KindU8}}})}, 0), "invalid map key type f32", errs.Invalid},
		{"bad link target", object([]*Schema{st(Field{"l", wrap(KindLink, prim(KindU8))})}, 0), "invalid link target u8", errs.Invalid},
		{"infinite type", object([]*Schema{st(Field{"a", rec(0)})}, 0), "infinite type", errs.Invalid},
		{"not connected", object([]*Schema{st(Field{"x", prim(KindU8)}), st(Field{"y", prim(KindU8)})}, 0), "not strongly connected", errs.Invalid},
		{"not canonical order", object(swapped, 0), "not in canonical order", errs.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeSchemaObject(tt.data, NewRegistry())
			if err == nil {
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.kind) {
				t.Errorf("err = %v (%v), want %q (%v)", err, errs.KindOf(err), tt.want, tt.kind)
			}
		})
	}
	// The swapped group in canonical order is accepted.
	if _, err := DecodeSchemaObject(SchemaObject(a), NewRegistry()); err != nil {
		t.Errorf("canonical group: %v", err)
	}
}

func TestDecodeSchemaObjectRefs(t *testing.T) {
	r := NewRegistry()
	ss, err := r.Compile("t.coda", []byte("schema D { x: u8 }\nschema P { d: D  b: link<Blob>  s: link<Schema> }"))
	if err != nil {
		t.Fatal(err)
	}
	p := ss[1]
	g, err := DecodeSchemaObject(SchemaObject(p), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 1 || g[0].ID != p.ID || g[0].Name != "" {
		t.Fatalf("got %v", g)
	}
	if d := g[0].Fields[0].Type; d.Kind != KindRef || d.Schema != ss[0] {
		t.Errorf("field d = %+v, want Ref to D", d)
	}
	if f := g[0].Fields[1]; f.Name != "b" || f.Type.Elem.Schema != BlobSchema() {
		t.Errorf("field b = %+v", f)
	}
	// Built-ins resolve without a resolver; D does not.
	if _, err := DecodeSchemaObject(SchemaObject(p), nil); !errors.Is(err, errs.NotExist) {
		t.Errorf("nil resolver: err = %v, want NotExist", err)
	}
	if _, err := DecodeSchemaObject(SchemaObject(BlobSchema()), nil); err != nil {
		t.Errorf("Blob with nil resolver: %v", err)
	}
	if !bytes.Equal(AppendSchemaBody(nil, g[0]), AppendSchemaBody(nil, p)) {
		t.Errorf("re-encoding differs")
	}
}

// FuzzParseSchemaObject: no input makes DecodeSchemaObject panic, and every
// accepted schema object re-encodes to the same bytes, with ids that hash it.
func FuzzParseSchemaObject(f *testing.F) {
	r := NewRegistry()
	for _, s := range append(append([]*Schema{}, MetaSchema().Group...), BlobSchema()) {
		f.Add(SchemaObject(s))
	}
	for _, src := range []string{
		"schema Date { day: u8  month: u8  year: u32 }\nenum Kind { Human  Robot(u32) }",
		"schema A { b: optional<B>  m: map<string, link<any>> }\nschema B { a: list<A>  f: bytes[4] }",
		"enum Expr { Lit(i64)  Add(Pair)  Neg(Expr) }\nschema Pair { l: Expr  r: Expr }",
	} {
		ss, err := NewRegistry().Compile("seed.coda", []byte(src))
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range ss {
			f.Add(SchemaObject(s))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, i, err := decodeSchemaObject(data, r)
		if err != nil {
			return
		}
		s := g[i]
		if got := SchemaObject(s); !bytes.Equal(got, data) {
			t.Fatalf("re-encoded\n%x\nwant\n%x", got, data)
		}
		for _, m := range g {
			if m.Group[m.Index] != m {
				t.Fatalf("member %d: bad Group/Index", m.Index)
			}
			if m != MetaSchema() && Sum(SchemaObject(m)) != m.ID {
				t.Fatalf("member %d: id is not the hash of its object", m.Index)
			}
		}
		if _, _, err := DecodeObject(data, DecodeOptions{Resolver: r}); err != nil {
			t.Fatalf("the generic codec rejects an accepted schema object: %v", err)
		}
	})
}
