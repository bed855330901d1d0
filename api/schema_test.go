package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/coda"
)

// TestSchemaSource: the text of every schema compiles, with the others,
// to the same ids.
func TestSchemaSource(t *testing.T) {
	const src = `
schema Person { name: string  age: u8  tags: list<string>  pet: optional<Pet>  photo: optional<link<Blob>>
  scores: map<string, f64>  key: bytes[32]  any: any  kind: Kind }
schema Pet { name: string }
enum Kind { Human  Robot(u32) = 7  Alien(list<Person>) }
schema Tree { kids: list<Tree>  leaf: optional<Leaf> }
schema Leaf { up: optional<Tree>  n: i64 }
`
	reg := coda.NewRegistry()
	list, err := reg.Compile("src.coda", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, sc := range list {
		text.WriteString(api.SchemaSource(sc))
	}
	again, err := coda.NewRegistry().Compile("printed.coda", []byte(text.String()))
	if err != nil {
		t.Fatalf("the printed schemas do not compile: %v\n%s", err, text.String())
	}
	if len(again) != len(list) {
		t.Fatalf("%d schemas printed, %d compiled", len(list), len(again))
	}
	for i := range list {
		if again[i].Name != list[i].Name || again[i].ID != list[i].ID {
			t.Errorf("%s %s printed and compiled is %s %s:\n%s", list[i].Name, list[i].ID, again[i].Name, again[i].ID, api.SchemaSource(list[i]))
		}
	}
}

func TestSchemaRoute(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	r := e.do("node", "GET", "/v1/worlds/default/schemas/Note", "", nil)
	e.want(r, 200)
	var st api.SchemaText
	if err := json.Unmarshal(r.body, &st); err != nil || st.Name != "Note" || st.Text != "schema Note {\n\ttext: string\n\tn: u32\n}\n" {
		t.Errorf("schema Note: %s (%v)", r.body, err)
	}
	// bob may not read /sys/schemas: for him there is no Note.
	e.want(e.do("bob", "GET", "/v1/worlds/default/schemas/Note", "", nil), 404)
	e.want(e.do("node", "GET", "/v1/worlds/default/schemas/Nope", "", nil), 404)
	e.want(e.do("node", "GET", "/v1/worlds/default/schemas/Note?at=zzzzzzzz", "", nil), 404)
}
