package coda

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// compile compiles src in a fresh registry and returns the schemas by name.
func compile(t *testing.T, src string) map[string]*Schema {
	t.Helper()
	ss, err := NewRegistry().Compile("t.coda", []byte(src))
	if err != nil {
		t.Fatalf("compile %q:\n%v", src, err)
	}
	out := make(map[string]*Schema)
	for _, s := range ss {
		out[s.Name] = s
	}
	return out
}

func TestCompileExample(t *testing.T) {
	src, err := os.ReadFile("testdata/schemas/person.coda")
	if err != nil {
		t.Fatal(err)
	}
	s := compile(t, string(src))
	p := s["Person"]
	if p == nil || p.Kind != KindStruct || len(p.Fields) != 7 {
		t.Fatalf("Person = %+v", p)
	}
	var got []string
	for _, f := range p.Fields {
		got = append(got, f.Name+": "+f.Type.String())
	}
	want := "name: string, birthday: Date, nick: optional<string>, tags: list<string>, scores: map<string, i64>, photo: optional<link<Blob>>, kind: Kind"
	if g := strings.Join(got, ", "); g != want {
		t.Errorf("Person fields\ngot  %s\nwant %s", g, want)
	}
	if b := p.Fields[1].Type; b.Kind != KindRef || b.Schema != s["Date"] || b.Ref != s["Date"].ID {
		t.Errorf("birthday = %+v, want Ref to Date", b)
	}
	if l := p.Fields[5].Type.Elem.Elem; l.Kind != KindRef || l.Schema != BlobSchema() || l.Ref != BlobSchema().ID {
		t.Errorf("photo's link target = %+v, want Ref to Blob", l)
	}
	k := s["Kind"]
	if k.Kind != KindEnum || len(k.Variants) != 2 || k.Variants[0].Name != "Human" || k.Variants[0].Tag != 0 ||
		k.Variants[1].Tag != 1 || k.Variants[1].Payload == nil || k.Variants[1].Payload.Kind != KindU32 {
		t.Errorf("Kind = %+v", k)
	}
	for name, sc := range s {
		if len(sc.Group) != 1 || sc.Group[0] != sc || sc.Index != 0 {
			t.Errorf("%s: group %v index %d, want a group of one", name, sc.Group, sc.Index)
		}
	}
}

// TestGoldenIDs pins the ids of the schemas in testdata/schemas/*.coda: the
// NAME ID lines in the .ids file next to each. These must never change.
func TestGoldenIDs(t *testing.T) {
	files, err := filepath.Glob("testdata/schemas/*.coda")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema files: %v", err)
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			ss, err := NewRegistry().Compile(filepath.Base(name), src)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			for _, s := range ss {
				fmt.Fprintf(&b, "%s %s\n", s.Name, s.ID)
			}
			golden := strings.TrimSuffix(name, ".coda") + ".ids"
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("ids changed:\ngot\n%swant\n%s", got, want)
			}
		})
	}
}

// TestIdentity checks what is and is not part of a schema's id.
func TestIdentity(t *testing.T) {
	id := func(src, name string) ID { return compile(t, src)[name].ID }
	base := "schema A { x: u8  y: string }"
	same := []struct{ name, src, decl string }{
		{"own name", "schema B { x: u8  y: string }", "B"},
		{"commas", "schema A { x: u8, y: string, }", "A"},
		{"newlines", "schema A {\n\tx: u8\n\ty: string\n}\n", "A"},
		{"comments", "// a comment\nschema A { // the x\n x: u8 // eight bits\n y: string }// end", "A"},
		{"tight", "schema A{x:u8 y:string}", "A"},
		{"CRLF", "schema A {\r\n x: u8\r\n y: string\r\n}\r\n", "A"},
		{"other declarations", "enum E { P }\nschema A { x: u8  y: string }\nschema Z { e: E }", "A"},
	}
	for _, tt := range same {
		if got, want := id(tt.src, tt.decl), id(base, "A"); got != want {
			t.Errorf("%s: id %s, want %s", tt.name, got, want)
		}
	}
	different := []struct{ name, src string }{
		{"field name", "schema A { z: u8  y: string }"},
		{"field order", "schema A { y: string  x: u8 }"},
		{"field type", "schema A { x: u16  y: string }"},
		{"extra field", "schema A { x: u8  y: string  z: bool }"},
		{"missing field", "schema A { x: u8 }"},
		{"wrapped type", "schema A { x: optional<u8>  y: string }"},
		{"enum", "enum A { x(u8)  y(string) }"},
	}
	seen := map[ID]string{id(base, "A"): "base"}
	for _, tt := range different {
		got := id(tt.src, "A")
		if prev, ok := seen[got]; ok {
			t.Errorf("%s: same id as %s", tt.name, prev)
		}
		seen[got] = tt.name
	}
}

func TestEnumIdentity(t *testing.T) {
	id := func(src string) ID { return compile(t, src)["E"].ID }
	base := id("enum E { A  B(u8)  C = 7 }")
	for _, src := range []string{
		"enum E { A = 0, B(u8) = 1, C = 0x7 }",
		"enum E { C = 7  B(u8) = 1  A = 0 }", // variants are written sorted by tag
		"enum E {\n A\n B(u8)\n C = 7\n}",
	} {
		if got := id(src); got != base {
			t.Errorf("%q: id %s, want %s", src, got, base)
		}
	}
	for _, src := range []string{
		"enum E { A  B(u8)  C = 8 }",
		"enum E { A  B(u16)  C = 7 }",
		"enum E { A  B  C = 7 }",
		"enum E { A  X(u8)  C = 7 }",
	} {
		if got := id(src); got == base {
			t.Errorf("%q: same id as the base", src)
		}
	}
}

// TestReferencesByID: a reference is by id, so renaming the referenced
// schema changes nothing and changing it changes the referrer.
func TestReferencesByID(t *testing.T) {
	a := compile(t, "schema D { x: u8 }\nschema P { d: D }")["P"].ID
	b := compile(t, "schema Q { d: E }\nschema E { x: u8 }")["Q"].ID
	c := compile(t, "schema P { d: D }\nschema D { x: u16 }")["P"].ID
	if a != b {
		t.Errorf("renamed reference: %s != %s", a, b)
	}
	if a == c {
		t.Errorf("changed referenced schema, same id")
	}
	// Compiling in two steps through the registry gives the same ids.
	r := NewRegistry()
	if _, err := r.Compile("d.coda", []byte("schema D { x: u8 }")); err != nil {
		t.Fatal(err)
	}
	ss, err := r.Compile("p.coda", []byte("schema P { d: D }"))
	if err != nil {
		t.Fatal(err)
	}
	if ss[0].ID != a {
		t.Errorf("two-step compile: %s, want %s", ss[0].ID, a)
	}
	// Local declarations shadow the registry.
	ss, err = r.Compile("p2.coda", []byte("schema D { x: u16 }\nschema P { d: D }"))
	if err != nil {
		t.Fatal(err)
	}
	if ss[1].ID != c {
		t.Errorf("shadowing: %s, want %s", ss[1].ID, c)
	}
}

// TestDeclarationOrder: permuting the declarations of a file never changes
// an id.
func TestDeclarationOrder(t *testing.T) {
	decls := []string{
		"schema Date { day: u8  month: u8  year: u32 }",
		"schema Person { name: string  birthday: Date  kind: Kind  friends: list<link<Person>>  tree: Tree }",
		"enum Kind { Human  Robot(u32) }",
		"schema Tree { kids: list<Tree>  up: optional<link<Forest>>  owner: optional<Person> }",
		"schema Forest { trees: map<string, Tree>  date: Date }",
		"enum Expr { Lit(i64)  Add(Pair)  Neg(Expr)  Call(Call) }",
		"schema Pair { l: Expr  r: Expr }",
		"schema Call { f: string  args: list<Expr>  at: Date }",
	}
	want := compile(t, strings.Join(decls, "\n"))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 50; i++ {
		rng.Shuffle(len(decls), func(i, j int) { decls[i], decls[j] = decls[j], decls[i] })
		got := compile(t, strings.Join(decls, "\n"))
		for name, s := range want {
			if got[name].ID != s.ID {
				t.Fatalf("order %q: %s has id %s, want %s", decls, name, got[name].ID, s.ID)
			}
		}
	}
}

func TestRecursive(t *testing.T) {
	s := compile(t, "schema Node { children: list<link<Node>> }")["Node"]
	if len(s.Group) != 1 || s.Group[0] != s {
		t.Fatalf("group = %v", s.Group)
	}
	target := s.Fields[0].Type.Elem.Elem
	if target.Kind != KindRec || target.N != 0 || target.Schema != s {
		t.Errorf("link target = %+v, want rec(0) to Node", target)
	}
	if got := s.Fields[0].Type.String(); got != "list<link<Node>>" {
		t.Errorf("type = %s", got)
	}
	// A recursive schema's id differs from a non-recursive look-alike.
	if o := compile(t, "schema Other { x: u8 }\nschema Node { children: list<link<Other>> }")["Node"]; o.ID == s.ID {
		t.Errorf("recursive and non-recursive Node have the same id")
	}
}

func TestMutualRecursion(t *testing.T) {
	base := compile(t, "schema A { b: optional<B>  n: u8 }\nschema B { a: list<A>  d: Date }\nschema Date { y: u32 }")
	a, b := base["A"], base["B"]
	if len(a.Group) != 2 || &a.Group[0] != &b.Group[0] || a.Group[a.Index] != a || b.Group[b.Index] != b {
		t.Fatalf("A and B not in one group: %v / %v", a.Group, b.Group)
	}
	if ab := a.Fields[0].Type.Elem; ab.Kind != KindRec || ab.Schema != b || int(ab.N) != b.Index {
		t.Errorf("A.b = %+v, want rec(%d) to B", ab, b.Index)
	}
	if ba := b.Fields[0].Type.Elem; ba.Kind != KindRec || ba.Schema != a || int(ba.N) != a.Index {
		t.Errorf("B.a = %+v, want rec(%d) to A", ba, a.Index)
	}
	if d := b.Fields[1].Type; d.Kind != KindRef || d.Ref != base["Date"].ID {
		t.Errorf("B.d = %+v, want Ref to Date", d)
	}
	if len(base["Date"].Group) != 1 {
		t.Errorf("Date in a group of %d", len(base["Date"].Group))
	}
	// Renaming and reordering members keeps every id.
	for _, src := range []string{
		"schema Y { a: list<X>  d: Date }\nschema X { b: optional<Y>  n: u8 }\nschema Date { y: u32 }",
		"schema Date { y: u32 }\nschema Q { a: list<P>  d: Date }\nschema P { b: optional<Q>  n: u8 }",
	} {
		got := compile(t, src)
		var ids []ID
		for _, s := range got {
			ids = append(ids, s.ID)
		}
		for _, want := range []ID{a.ID, b.ID, base["Date"].ID} {
			found := false
			for _, id := range ids {
				found = found || id == want
			}
			if !found {
				t.Errorf("%q: id %s missing", src, want)
			}
		}
	}
	// A member's id depends on the whole group.
	c := compile(t, "schema A { b: optional<B>  n: u8 }\nschema B { a: list<A>  d: Date  e: bool }\nschema Date { y: u32 }")
	if c["A"].ID == a.ID {
		t.Errorf("changing B did not change A's id")
	}
}

// TestGroupSymmetric: members that map onto each other are the same type,
// so they collapse into one schema, whichever order they are declared in.
func TestGroupSymmetric(t *testing.T) {
	a := compile(t, "schema A { next: list<B> }\nschema B { next: list<A> }")
	b := compile(t, "schema B { next: list<A> }\nschema A { next: list<B> }")
	x := compile(t, "schema X { next: list<X> }")
	for _, id := range []ID{a["A"].ID, a["B"].ID, b["A"].ID, b["B"].ID} {
		if id != x["X"].ID {
			t.Errorf("ids A %s B %s, then A %s B %s: want all equal to X %s", a["A"].ID, a["B"].ID, b["A"].ID, b["B"].ID, x["X"].ID)
			break
		}
	}
}

func TestCompileFiles(t *testing.T) {
	r := NewRegistry()
	ss, err := r.CompileFiles(map[string][]byte{
		"b.coda": []byte("schema B { a: list<A> }"),
		"a.coda": []byte("schema A { b: optional<B> }"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 || ss[0].Name != "A" || ss[1].Name != "B" {
		t.Fatalf("got %v", ss)
	}
	one := compile(t, "schema A { b: optional<B> }\nschema B { a: list<A> }")
	if ss[0].ID != one["A"].ID || ss[1].ID != one["B"].ID {
		t.Errorf("two files differ from one")
	}
}

// TestEncodeDate is a byte-annotated golden vector of a schema body.
func TestEncodeDate(t *testing.T) {
	s := compile(t, "schema Date { day: u8  month: u8  year: u32 }")["Date"]
	want := unhex(t, `
		01                  group: 1 member
		00                  Def.Struct
		03                  3 fields
		03 646179           "day"
		10                  u8
		05 6d6f6e7468       "month"
		10                  u8
		04 79656172         "year"
		12                  u32
		00000000            index 0`)
	if got := AppendSchemaBody(nil, s); !bytes.Equal(got, want) {
		t.Errorf("body\ngot  %x\nwant %x", got, want)
	}
	e := compile(t, "enum E { A  B(map<string, link<E>>) = 0x300 }")["E"]
	want = unhex(t, `
		01                  group: 1 member
		01                  Def.Enum
		02                  2 variants
		01 41 00000000 00   "A", tag 0, no payload
		01 42 00030000 01   "B", tag 0x300, payload:
		31 20 33 41 00000000    map<string, link<rec(0)>>
		00000000            index 0`)
	if got := AppendSchemaBody(nil, e); !bytes.Equal(got, want) {
		t.Errorf("body\ngot  %x\nwant %x", got, want)
	}
}

// unhex reads hex digits, ignoring everything from two spaces to the end of
// each line (the annotation).
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	var out []byte
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "  "); i >= 0 {
			line = line[:i]
		}
		line = strings.ReplaceAll(line, " ", "")
		for i := 0; i+1 < len(line); i += 2 {
			var b byte
			if _, err := fmt.Sscanf(line[i:i+2], "%02x", &b); err != nil {
				t.Fatalf("bad hex %q", line)
			}
			out = append(out, b)
		}
	}
	return out
}

func TestGroupLimit(t *testing.T) {
	ring := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "schema S%d { f%d: list<S%d>  x: optional<S%d> }\n", i, i, (i+1)%n, (i*7+3)%n)
		}
		return b.String()
	}
	ss, err := NewRegistry().Compile("ring.coda", []byte(ring(MaxGroupSize)))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss[0].Group) != MaxGroupSize {
		t.Errorf("group of %d, want %d", len(ss[0].Group), MaxGroupSize)
	}
	if _, err := DecodeSchema(SchemaObject(ss[0]), nil); err != nil {
		t.Errorf("decode the largest group: %v", err)
	}
	_, err = NewRegistry().Compile("ring.coda", []byte(ring(MaxGroupSize+1)))
	if want := `ring.coda:1:8: "S0" is in a recursive group of 1025 schemas, more than 1024`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func BenchmarkCompileExample(b *testing.B) {
	src, err := os.ReadFile("testdata/schemas/person.coda")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := NewRegistry().Compile("person.coda", src); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPerson(b *testing.B) *Schema {
	src, err := os.ReadFile("testdata/schemas/person.coda")
	if err != nil {
		b.Fatal(err)
	}
	ss, err := NewRegistry().Compile("person.coda", src)
	if err != nil {
		b.Fatal(err)
	}
	return ss[1]
}

// BenchmarkAppendSchemaBody: the hand-written schema encoder; compare
// BenchmarkAppendSchemaBodyGeneric, the generic codec on SchemaValue.
func BenchmarkAppendSchemaBody(b *testing.B) {
	s := benchPerson(b)
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		buf = AppendSchemaBody(buf[:0], s)
	}
}

func BenchmarkAppendSchemaBodyGeneric(b *testing.B) {
	s := benchPerson(b)
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		var err error
		if buf, err = AppendBody(buf[:0], MetaSchema(), SchemaValue(s)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSchemaObject(b *testing.B) {
	s := benchPerson(b)
	obj := SchemaObject(s)
	r := NewRegistry()
	r.Add(s.Fields[1].Type.Schema, s.Fields[6].Type.Schema)
	for b.Loop() {
		if _, err := DecodeSchemaObject(obj, r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBisimilarMembersCollapse: members of a recursive group that unfold
// to the same type are the same schema (docs/coda.md, section 4), so
// declaration order never shows in ids. A and B below have equal labels
// although swapping them is not a symmetry of the group as written.
func TestBisimilarMembersCollapse(t *testing.T) {
	ab := compile(t, "schema A { f: list<A>  g: list<B> }\nschema B { f: list<A>  g: list<A> }")
	ba := compile(t, "schema B { f: list<A>  g: list<A> }\nschema A { f: list<A>  g: list<B> }")
	x := compile(t, "schema X { f: list<X>  g: list<X> }")
	for _, c := range []struct {
		name string
		got  ID
	}{{"A (A first)", ab["A"].ID}, {"B (A first)", ab["B"].ID}, {"A (B first)", ba["A"].ID}, {"B (B first)", ba["B"].ID}} {
		if c.got != x["X"].ID {
			t.Errorf("%s: id %s, want the id of X %s", c.name, c.got, x["X"].ID)
		}
	}
	if n := len(ab["A"].Group); n != 1 {
		t.Errorf("collapsed group has %d members, want 1", n)
	}
	if ab["A"].Name != "A" || ab["B"].Name != "B" {
		t.Errorf("names lost in collapse: %q, %q", ab["A"].Name, ab["B"].Name)
	}
	// A three-member group where two collapse and one stays distinct.
	g := compile(t, "schema P { f: list<Q> }\nschema Q { f: list<P> }\nschema R { f: list<P>  s: string }\nschema S { r: list<R> p: list<S> }")
	if g["P"].ID != g["Q"].ID {
		t.Errorf("P and Q unfold to the same type but have ids %s and %s", g["P"].ID, g["Q"].ID)
	}
	if g["R"].ID == g["P"].ID {
		t.Errorf("R differs from P but shares its id")
	}
}

// A schema object whose group is not minimal (two members are the same
// type) is a second encoding of the same types, so decoding rejects it.
func TestDecodeRejectsNonMinimalGroup(t *testing.T) {
	x := compile(t, "schema X { f: list<X>  g: list<X> }")["X"]
	// Build the two-member group {A, B} by hand, as the compiler did before
	// collapsing, and encode it.
	mk := func() *Schema { return &Schema{Kind: KindStruct} }
	a, b := mk(), mk()
	group := []*Schema{a, b}
	rec := func(j uint32) Type {
		e := Type{Kind: KindRec, N: j, Schema: group[j]}
		return Type{Kind: KindList, Elem: &e}
	}
	a.Fields = []Field{{Name: "f", Type: rec(0)}, {Name: "g", Type: rec(1)}}
	b.Fields = []Field{{Name: "f", Type: rec(0)}, {Name: "g", Type: rec(0)}}
	for j, s := range group {
		s.Group, s.Index = group, j
	}
	obj := SchemaObject(a)
	if _, err := DecodeSchemaObject(obj, NewRegistry()); err == nil || !strings.Contains(err.Error(), "same type") {
		t.Fatalf("DecodeSchemaObject(non-minimal group) err = %v, want a 'same type' error", err)
	}
	if _, err := DecodeSchemaObject(SchemaObject(x), NewRegistry()); err != nil {
		t.Fatalf("DecodeSchemaObject(minimal) = %v", err)
	}
}
