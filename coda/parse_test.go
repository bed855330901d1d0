package coda

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/errs"
)

func TestParseExample(t *testing.T) {
	src, err := os.ReadFile("testdata/schemas/person.coda")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("person.coda", src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range f.Decls {
		var parts []string
		for _, fd := range d.Fields {
			parts = append(parts, fd.Name+": "+fd.Type.String())
		}
		for _, v := range d.Variants {
			s := v.Name
			if v.Payload != nil {
				s += "(" + v.Payload.String() + ")"
			}
			parts = append(parts, s)
		}
		got = append(got, d.Pos.String()+" "+d.Kind.String()+" "+d.Name+" {"+strings.Join(parts, ", ")+"}")
	}
	want := []string{
		"person.coda:2:1 struct Date {day: u8, month: u8, year: u32}",
		"person.coda:3:1 struct Person {name: string, birthday: Date, nick: optional<string>, tags: list<string>, scores: map<string, i64>, photo: optional<link<Blob>>, kind: Kind}",
		"person.coda:12:1 enum Kind {Human, Robot(u32)}",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseTags(t *testing.T) {
	f, err := Parse("t.coda", []byte("enum E { A = 0x10, B(bytes[4]) C = 7 D }"))
	if err != nil {
		t.Fatal(err)
	}
	vs := f.Decls[0].Variants
	if len(vs) != 4 || vs[0].Tag != 16 || !vs[0].HasTag || vs[1].HasTag || vs[2].Tag != 7 || vs[3].HasTag {
		t.Fatalf("variants = %+v", vs)
	}
	if p := vs[1].Payload; p == nil || !p.HasLen || p.Len != 4 {
		t.Errorf("B payload = %v, want bytes[4]", p)
	}
}

// TestErrors checks the exact text of compile errors: position, then what
// was expected and what was found.
func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown type", "schema A { x: Foo }",
			[]string{`t.coda:1:15: unknown type "Foo"`}},
		{"unknown type in generic", "schema A {\n  x: list<optional<Foo>>\n}",
			[]string{`t.coda:2:20: unknown type "Foo"`}},
		{"duplicate field", "schema A { x: u8, x: u16 }",
			[]string{`t.coda:1:19: duplicate field "x" in schema "A" (first at 1:12)`}},
		{"duplicate schema", "schema A { x: u8 }\nenum A { X }",
			[]string{`t.coda:2:6: duplicate schema "A" (first declared at t.coda:1:8)`}},
		{"duplicate variant", "enum E { A B A }",
			[]string{`t.coda:1:14: duplicate variant "A" in enum "E" (first at 1:10)`}},
		{"duplicate tag", "enum E { A = 1  B = 0x1 }",
			[]string{`t.coda:1:21: duplicate tag 1 (variant "A" at 1:10 has it too)`}},
		{"duplicate implicit tag", "enum E { A = 1  B = 0  C }",
			[]string{`t.coda:1:24: duplicate tag 1 (variant "A" at 1:10 has it too)`}},
		{"tag out of range", "enum E { A = 4294967296 }",
			[]string{`t.coda:1:14: tag 4294967296 out of range: tags are u32`}},
		{"implicit tag out of range", "enum E { A = 0xffffffff B C }",
			[]string{`t.coda:1:25: tag of variant "B" out of range: the previous tag is 4294967295, the largest u32`}},
		{"bad token", "schema A { x: u8 $ }",
			[]string{`t.coda:1:18: unexpected character "$"`}},
		{"bad token non-ASCII", "schema A { x: u8 é }",
			[]string{`t.coda:1:18: unexpected character "é"`}},
		{"invalid UTF-8", "schema A { x: u8 \xff }",
			[]string{`t.coda:1:18: invalid UTF-8 encoding`}},
		{"single slash", "schema A { x: u8 } / comment",
			[]string{`t.coda:1:20: unexpected character "/" (comments start with //)`,
				`t.coda:1:22: expected "schema" or "enum", found "comment"`}},
		{"unterminated block", "schema A {\n  x: u8\n",
			[]string{`t.coda:3:1: expected "}" to close schema A (opened at 1:10), found end of file`}},
		{"unterminated block before next", "enum K { X\nschema A { x: K }",
			[]string{`t.coda:2:1: expected "}" to close enum K (opened at 1:8), found "schema"`}},
		{"missing colon", "schema A { x u8 }",
			[]string{`t.coda:1:14: expected ":" after field name x, found "u8"`}},
		{"missing type", "schema A { x: }",
			[]string{`t.coda:1:15: expected type, found "}"`}},
		{"bad map key type", "schema A { m: map<list<u8>, u8> }",
			[]string{`t.coda:1:19: invalid map key type list<u8>: keys must be bool, integers, string, bytes, bytes[N], links or enums without payloads`}},
		{"float map key", "schema A { m: map<f64, u8> }",
			[]string{`t.coda:1:19: invalid map key type f64: keys must be bool, integers, string, bytes, bytes[N], links or enums without payloads`}},
		{"struct map key", "schema K { x: u8 }\nschema A { m: map<K, u8> }",
			[]string{`t.coda:2:19: invalid map key type K: keys must be bool, integers, string, bytes, bytes[N], links or enums without payloads`}},
		{"enum with payload map key", "enum K { X(u8) }\nschema A { m: map<K, u8> }",
			[]string{`t.coda:2:19: invalid map key type K: keys must be bool, integers, string, bytes, bytes[N], links or enums without payloads`}},
		{"bad link target", "schema A { l: link<string> }",
			[]string{`t.coda:1:20: invalid link target string: must be a schema name or any`}},
		{"link to list", "schema A { l: link<list<A>> }",
			[]string{`t.coda:1:20: invalid link target list<A>: must be a schema name or any`}},
		{"keyword name", "schema list { }",
			[]string{`t.coda:1:8: "list" is a keyword and cannot be declared`}},
		{"keyword as type", "schema A { x: enum }",
			[]string{`t.coda:1:15: expected a type, found keyword "enum"`}},
		{"empty enum", "enum E {}",
			[]string{`t.coda:1:6: enum "E" has no variants`}},
		{"bytes too long", "schema A { b: bytes[65537] }",
			[]string{`t.coda:1:15: bytes[65537] is longer than 65536 bytes`}},
		{"no type arguments", "schema A { x: u8<u8> }",
			[]string{`t.coda:1:17: type u8 takes no type arguments`}},
		{"missing type argument", "schema A { x: list }",
			[]string{`t.coda:1:20: expected "<" after list, found "}"`}},
		{"map missing comma", "schema A { x: map<u8 u8> }",
			[]string{`t.coda:1:22: expected "," after the key type of map, found "u8"`}},
		{"unclosed generic", "schema A { x: list<u8 }",
			[]string{`t.coda:1:23: expected ">" to close list<, found "}"`}},
		{"bad bytes length", "schema A { x: bytes[u8] }",
			[]string{`t.coda:1:21: expected length in bytes[N], found "u8"`}},
		{"leading zero", "enum E { A = 012 }",
			[]string{`t.coda:1:14: malformed number "012": leading zeros are not allowed`}},
		{"bad hex", "enum E { A = 0x }",
			[]string{`t.coda:1:14: malformed number "0x"`}},
		{"number too big", "enum E { A = 99999999999999999999 }",
			[]string{`t.coda:1:14: number 99999999999999999999 does not fit in 64 bits`}},
		{"missing tag", "enum E { A = }",
			[]string{`t.coda:1:14: expected tag number after "=", found "}"`}},
		{"unclosed payload", "enum E { A(u8 B }",
			[]string{`t.coda:1:15: expected ")" after the payload type of A, found "B"`}},
		{"not a declaration", "struct A { x: u8 }",
			[]string{`t.coda:1:1: expected "schema" or "enum", found "struct"`}},
		{"missing name", "schema { x: u8 }",
			[]string{`t.coda:1:8: expected schema name, found "{"`}},
		{"missing brace", "schema A x: u8 }",
			[]string{`t.coda:1:10: expected "{" after schema A, found "x"`}},
		{"infinite self", "schema A { a: A }",
			[]string{`t.coda:1:8: infinite type: A → A (a cycle must pass through list, map, optional, link or an enum payload)`}},
		{"infinite pair", "schema A { x: u8, b: B }\nschema B { a: A }",
			[]string{`t.coda:1:8: infinite type: A → B → A (a cycle must pass through list, map, optional, link or an enum payload)`}},
		{"infinite three", "schema C { a: A }\nschema A { b: B }\nschema B { c: C, o: optional<A> }",
			[]string{`t.coda:1:8: infinite type: C → A → B → C (a cycle must pass through list, map, optional, link or an enum payload)`}},
		{"several errors", "schema A {\n  x: Foo\n  y u8\n  x: u8\n}\nschema A { }\nenum E { P = 1, Q = 1 }\n# stray\nschema B { m: map<f32, u8>",
			[]string{
				`t.coda:2:6: unknown type "Foo"`,
				`t.coda:3:5: expected ":" after field name y, found "u8"`,
				`t.coda:4:3: duplicate field "x" in schema "A" (first at 2:3)`,
				`t.coda:6:8: duplicate schema "A" (first declared at t.coda:1:8)`,
				`t.coda:7:21: duplicate tag 1 (variant "P" at 7:10 has it too)`,
				`t.coda:8:1: unexpected character "#"`,
				`t.coda:8:3: expected "schema" or "enum", found "stray"`,
				`t.coda:9:19: invalid map key type f32: keys must be bool, integers, string, bytes, bytes[N], links or enums without payloads`,
				`t.coda:9:27: expected "}" to close schema B (opened at 9:10), found end of file`,
			}},
		{"recovery at next line", "schema A {\n  x: list<\n  y: u8\n  z u8\n  w: Nope\n}",
			[]string{
				`t.coda:3:4: expected ">" to close list<, found ":"`,
				`t.coda:4:5: expected ":" after field name z, found "u8"`,
				`t.coda:5:6: unknown type "Nope"`,
			}},
		{"one syntax error per line", "schema A { x u8, y u8 }",
			[]string{`t.coda:1:14: expected ":" after field name x, found "u8"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRegistry().Compile("t.coda", []byte(tt.src))
			if err == nil {
				t.Fatalf("compiled without error; want\n%s", strings.Join(tt.want, "\n"))
			}
			if !errors.Is(err, errs.Invalid) || errs.KindOf(err) != errs.Invalid {
				t.Errorf("errors.Is(err, errs.Invalid) = %v, errs.KindOf(err) = %v", errors.Is(err, errs.Invalid), errs.KindOf(err))
			}
			var el ErrorList
			if !errors.As(err, &el) {
				t.Fatalf("err is %T, want ErrorList", err)
			}
			var got []string
			for _, e := range el {
				got = append(got, e.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if err.Error() != strings.Join(tt.want, "\n") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestErrorAddsNothing(t *testing.T) {
	r := NewRegistry()
	if _, err := r.Compile("t.coda", []byte("schema Good { x: u8 }\nschema Bad { y: Nope }")); err == nil {
		t.Fatal("no error")
	}
	if _, ok := r.Lookup("Good"); ok {
		t.Error("a failed compilation added Good")
	}
}

func TestErrorListSorted(t *testing.T) {
	_, err := NewRegistry().CompileFiles(map[string][]byte{
		"b.coda": []byte("schema B { x: Nope }"),
		"a.coda": []byte("schema A { x: Nope }\nschema B { }"),
	})
	want := `a.coda:1:15: unknown type "Nope"
b.coda:1:8: duplicate schema "B" (first declared at a.coda:2:8)
b.coda:1:15: unknown type "Nope"`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

// FuzzParse checks that no text makes the compiler panic, that compiling
// is deterministic, that errors are sorted and positioned, and that every
// compiled schema's schema object decodes back to the same id.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/schemas/*.coda")
	for _, name := range files {
		if src, err := os.ReadFile(name); err == nil {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		r := NewRegistry()
		got, err := r.Compile("f.coda", src)
		if err != nil {
			var el ErrorList
			if !errors.As(err, &el) || len(el) == 0 {
				t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
			}
			for i, e := range el {
				if !e.Pos.IsValid() || e.Pos.File != "f.coda" {
					t.Errorf("error without a position: %v", e)
				}
				if i > 0 && e.Pos.before(el[i-1].Pos) {
					t.Errorf("errors not sorted: %v after %v", e, el[i-1])
				}
			}
			return
		}
		again, err := NewRegistry().Compile("f.coda", src)
		if err != nil {
			t.Fatalf("second compile: %v", err)
		}
		for i, s := range got {
			if again[i].ID != s.ID {
				t.Errorf("%s: id %s, then %s", s.Name, s.ID, again[i].ID)
			}
			obj := SchemaObject(s)
			if Sum(obj) != s.ID {
				t.Errorf("%s: Sum(SchemaObject) = %s, want %s", s.Name, Sum(obj), s.ID)
			}
			d, err := DecodeSchema(obj, r)
			if err != nil {
				t.Fatalf("%s: DecodeSchema: %v", s.Name, err)
			}
			if d.ID != s.ID {
				t.Errorf("%s: decoded id %s, want %s", s.Name, d.ID, s.ID)
			}
			if b := AppendSchemaBody(nil, d); !bytes.Equal(b, obj[IDSize:]) {
				t.Errorf("%s: re-encoded body differs", s.Name)
			}
		}
	})
}
