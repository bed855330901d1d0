package coda

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/errs"
)

// TestMetaIDGolden pins the ids of the built-in schemas. They are part of
// every schema id and object: they must never change.
func TestMetaIDGolden(t *testing.T) {
	if got, want := MetaID().String(), "um3pdsti7aqajsvlsqizwlmey5cmbha2itv2ifqzipn4hyw66qeq"; got != want {
		t.Errorf("MetaID = %s, want %s", got, want)
	}
	want := map[string]string{
		"Schema":  "um3pdsti7aqajsvlsqizwlmey5cmbha2itv2ifqzipn4hyw66qeq",
		"Def":     "jdnsxlsruhlnlmsq4v4n6mdg4rc4zymdbr2am67usibmgzuj5zlq",
		"Field":   "63uokjqwy3d3ks2j5zozfzc5orwgm7vmkleoygk4q2ieuzwopgwa",
		"Variant": "gpldpniauxd4mxt7bive4qnuoewn5hwckugjgsnvo5zgck4giiua",
		"Type":    "csqrt7l3xunroyyrvqoa4phrab2oxbxnbn5boacxpe55av5kzspa",
		"MapType": "4ee2o77n53zlniecobzzdbsqpacjx7nt7m6cumvsjbw3ycdak6qa",
	}
	g := MetaSchema().Group
	if len(g) != 6 || g[0] != MetaSchema() {
		t.Fatalf("meta group = %v", g)
	}
	for i, s := range g {
		if s.Index != i || s.ID.String() != want[s.Name] {
			t.Errorf("meta member %d %s: id %s, want %s", s.Index, s.Name, s.ID, want[s.Name])
		}
	}
	if got, want := BlobSchema().ID.String(), "3gnxltikbler3aglaa5onn5nlnasztn6ncnatpk44l4ewvdlhsda"; got != want {
		t.Errorf("Blob id = %s, want %s", got, want)
	}
	// M is the hash of the body alone; the others hash M ‖ body.
	if Sum(AppendSchemaBody(nil, MetaSchema())) != MetaID() {
		t.Error("M is not BLAKE3 of the meta body")
	}
	for _, s := range append(g[1:], BlobSchema()) {
		if Sum(SchemaObject(s)) != s.ID {
			t.Errorf("%s: id is not the hash of its schema object", s.Name)
		}
	}
}

// TestMetaMatchesSpec: the schema of schemas, compiled from its text in
// docs/coda.md, has the same definitions (its group differs: compiled, it is
// several groups, which is why it is built by hand).
func TestMetaMatchesSpec(t *testing.T) {
	src := `
schema Schema  { group: list<Def>  index: u32 }
enum   Def     { Struct(list<Field>) = 0  Enum(list<Variant>) = 1 }
schema Field   { name: string  type: Type }
schema Variant { name: string  tag: u32  payload: optional<Type> }
enum   Type {
  Bool = 0x01
  U8 = 0x10  U16 = 0x11  U32 = 0x12  U64 = 0x13
  I8 = 0x14  I16 = 0x15  I32 = 0x16  I64 = 0x17
  F32 = 0x18  F64 = 0x19
  String = 0x20  Bytes = 0x21  FixedBytes(u32) = 0x22
  List(Type) = 0x30  Map(MapType) = 0x31  Optional(Type) = 0x32  Link(Type) = 0x33
  Any = 0x34
  Ref(bytes[32]) = 0x40
  Rec(u32) = 0x41
}
schema MapType { key: Type  value: Type }
`
	r := &Registry{} // empty: the names Schema etc. are the local ones
	ss, err := r.Compile("meta.coda", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range ss {
		m := MetaSchema().Group[i]
		if got, want := describe(s), describe(m); got != want {
			t.Errorf("member %d:\ngot  %s\nwant %s", i, got, want)
		}
	}
}

func describe(s *Schema) string {
	var parts []string
	for _, f := range s.Fields {
		parts = append(parts, f.Name+": "+f.Type.String())
	}
	for _, v := range s.Variants {
		p := ""
		if v.Payload != nil {
			p = "(" + v.Payload.String() + ")"
		}
		parts = append(parts, fmt.Sprintf("%s%s = %d", v.Name, p, v.Tag))
	}
	return s.Name + " " + s.Kind.String() + " {" + strings.Join(parts, ", ") + "}"
}

func TestRegistryBuiltins(t *testing.T) {
	r := NewRegistry()
	for _, name := range []string{"Blob", "Schema"} {
		if _, ok := r.Lookup(name); !ok {
			t.Errorf("Lookup(%s) failed", name)
		}
	}
	for _, name := range []string{"Def", "Field", "Variant", "Type", "MapType"} {
		if _, ok := r.Lookup(name); ok {
			t.Errorf("Lookup(%s) succeeded: meta members other than Schema are not visible by name", name)
		}
	}
	for _, s := range append(MetaSchema().Group, BlobSchema()) {
		if got, err := r.SchemaByID(s.ID); err != nil || got != s {
			t.Errorf("SchemaByID(%s) = %v, %v", s.Name, got, err)
		}
	}
	if _, err := r.SchemaByID(Sum([]byte("nothing"))); !errors.Is(err, errs.NotExist) {
		t.Errorf("SchemaByID(unknown) err = %v, want NotExist", err)
	}
	// A schema may link to schema objects by name.
	if _, err := r.Compile("t.coda", []byte("schema Catalog { schemas: map<string, link<Schema>> }")); err != nil {
		t.Error(err)
	}
}

// TestMetaObjectsDecode: every meta member's schema object is a valid
// value of the schema of schemas for the generic codec, and decodes back
// into the built-in group.
func TestMetaObjectsDecode(t *testing.T) {
	r := NewRegistry()
	for _, m := range MetaSchema().Group {
		obj := SchemaObject(m)
		s, v, err := DecodeObject(obj, DecodeOptions{Resolver: r})
		if err != nil {
			t.Fatalf("%s: DecodeObject: %v", m.Name, err)
		}
		if s != MetaSchema() {
			t.Errorf("%s: decoded with schema %s, want the schema of schemas", m.Name, s.Name)
		}
		if !Equal(v, SchemaValue(m)) {
			t.Errorf("%s: decoded value differs from SchemaValue", m.Name)
		}
		g, err := DecodeSchemaObject(obj, r)
		if err != nil {
			t.Fatalf("%s: DecodeSchemaObject: %v", m.Name, err)
		}
		if len(g) != 6 || g[m.Index] != m {
			t.Errorf("%s: DecodeSchemaObject gave %v", m.Name, g)
		}
	}
}

// TestSchemaBodyMatchesCodec checks the hand-written schema encoder and
// decoder against the generic codec: AppendSchemaBody(s) ==
// AppendBody(MetaSchema(), SchemaValue(s)), and the generic decoder gives
// back SchemaValue(s), for the built-ins, the golden files and many random
// schemas.
func TestSchemaBodyMatchesCodec(t *testing.T) {
	r := NewRegistry()
	schemas := append(append([]*Schema{}, MetaSchema().Group...), BlobSchema())
	files, _ := filepath.Glob("testdata/schemas/*.coda")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := NewRegistry().Compile(name, src)
		if err != nil {
			t.Fatal(err)
		}
		r.Add(ss...)
		schemas = append(schemas, ss...)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	compiled := 0
	for i := 0; i < 300; i++ {
		src := randomSchemaSource(rng)
		ss, err := r.Compile(fmt.Sprintf("random%d.coda", i), []byte(src))
		if err != nil {
			continue // e.g. an infinite type
		}
		compiled++
		schemas = append(schemas, ss...)
	}
	if compiled < 100 {
		t.Errorf("only %d of 300 random files compiled", compiled)
	}
	for _, s := range schemas {
		want, err := AppendBody(nil, MetaSchema(), SchemaValue(s))
		if err != nil {
			t.Fatalf("%s: AppendBody(SchemaValue): %v", s.Name, err)
		}
		got := AppendSchemaBody(nil, s)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: AppendSchemaBody\ngot  %x\nwant %x", s.Name, got, want)
		}
		v, err := DecodeBody(MetaSchema(), got, DecodeOptions{Resolver: r})
		if err != nil {
			t.Fatalf("%s: DecodeBody: %v", s.Name, err)
		}
		if !Equal(v, SchemaValue(s)) {
			t.Errorf("%s: generic decode differs from SchemaValue", s.Name)
		}
		d, err := DecodeSchema(SchemaObject(s), r)
		if err != nil {
			t.Fatalf("%s: DecodeSchema: %v\n%s", s.Name, err, describe(s))
		}
		if d.ID != s.ID {
			t.Errorf("%s: DecodeSchema id %s, want %s", s.Name, d.ID, s.ID)
		}
	}
}

// randomSchemaSource writes a random .coda file of a few declarations that
// refer to each other (often in cycles) and to Blob.
func randomSchemaSource(rng *rand.Rand) string {
	n := 1 + rng.IntN(6)
	names := make([]string, n)
	enums := make([]bool, n)
	for i := range names {
		names[i] = fmt.Sprintf("S%d", i)
		enums[i] = rng.IntN(3) == 0
	}
	prims := []string{"bool", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f32", "f64", "string", "bytes", "bytes[16]", "any"}
	keys := []string{"bool", "u8", "i64", "string", "bytes", "bytes[4]", "link<Blob>"}
	var typ func(depth int) string
	typ = func(depth int) string {
		switch k := rng.IntN(10); {
		case depth > 3 || k < 3:
			return prims[rng.IntN(len(prims))]
		case k < 5:
			return names[rng.IntN(n)]
		case k == 5:
			return "list<" + typ(depth+1) + ">"
		case k == 6:
			return "optional<" + typ(depth+1) + ">"
		case k == 7:
			if rng.IntN(2) == 0 {
				return "link<any>"
			}
			return "link<" + names[rng.IntN(n)] + ">"
		default:
			return "map<" + keys[rng.IntN(len(keys))] + ", " + typ(depth+1) + ">"
		}
	}
	var b strings.Builder
	for i, name := range names {
		if enums[i] {
			fmt.Fprintf(&b, "enum %s {", name)
			tag := rng.IntN(3)
			for j := 0; j < 1+rng.IntN(4); j++ {
				fmt.Fprintf(&b, " V%d", j)
				if rng.IntN(2) == 0 {
					fmt.Fprintf(&b, "(%s)", typ(0))
				}
				tag += 1 + rng.IntN(3)
				fmt.Fprintf(&b, " = %d", tag)
			}
			b.WriteString(" }\n")
			continue
		}
		fmt.Fprintf(&b, "schema %s {", name)
		for j := 0; j < rng.IntN(5); j++ {
			fmt.Fprintf(&b, " f%d: %s", j, typ(0))
		}
		b.WriteString(" }\n")
	}
	return b.String()
}

// TestDeepestType: the most deeply nested type the language allows still
// gives a schema object within the decoder's default nesting limit.
func TestDeepestType(t *testing.T) {
	typ := "u8"
	for i := 0; i < MaxTypeDepth; i++ {
		typ = "map<u8, " + typ + ">"
	}
	for _, src := range []string{
		"schema A { x: " + typ + " }",
		"enum A { X(" + typ + ") }",
	} {
		ss, err := NewRegistry().Compile("t.coda", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := DecodeObject(SchemaObject(ss[0]), DecodeOptions{Resolver: NewRegistry()}); err != nil {
			t.Errorf("generic decode of the deepest schema: %v", err)
		}
	}
	_, err := NewRegistry().Compile("t.coda", []byte("schema A { x: list<"+typ+"> }"))
	if want := "t.coda:1:204: type nested more than 24 deep"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// TestRandomDeclarationOrder: shuffling the declarations of random files
// keeps every id. (Members with equal labels keep their declaration order,
// so a group whose equal members are not symmetric could differ; the random
// files do not seem to make such groups.)
func TestRandomDeclarationOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 300; i++ {
		src := randomSchemaSource(rng)
		want, err := NewRegistry().Compile("r.coda", []byte(src))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(src), "\n")
		rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		got, err := NewRegistry().Compile("r.coda", []byte(strings.Join(lines, "\n")))
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]ID{}
		for _, s := range got {
			ids[s.Name] = s.ID
		}
		for _, s := range want {
			if ids[s.Name] != s.ID {
				t.Errorf("%s: shuffled\n%s\n%s has id %s, want %s (from\n%s)", s.Name, strings.Join(lines, "\n"), s.Name, ids[s.Name], s.ID, src)
			}
		}
	}
}

func TestRegistryConcurrent(t *testing.T) {
	r := NewRegistry()
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func() {
			src := fmt.Sprintf("schema T%d { x: u%d  b: link<Blob> }", i, 8<<(i%4))
			ss, err := r.Compile(fmt.Sprintf("t%d.coda", i), []byte(src))
			if err == nil {
				_, err = r.SchemaByID(ss[0].ID)
			}
			if err == nil {
				if _, ok := r.Lookup(ss[0].Name); !ok {
					err = fmt.Errorf("%s not found", ss[0].Name)
				}
			}
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if got := len(r.Names()); got != 10 {
		t.Errorf("%d names, want 10: %v", got, r.Names())
	}
}
