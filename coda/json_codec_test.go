package coda_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coda/codatest"
)

// TestJSONVectors maps every golden vector to JSON and back: the value and
// its canonical bytes survive.
func TestJSONVectors(t *testing.T) {
	r := codatest.DefaultResolver
	for _, vec := range codatest.Vectors() {
		t.Run(vec.Name, func(t *testing.T) {
			text, err := coda.ToJSON(vec.Type, vec.Value, r)
			if err != nil {
				t.Fatalf("ToJSON: %v", err)
			}
			if !json.Valid(text) {
				t.Fatalf("ToJSON gave invalid JSON %s", text)
			}
			v, err := coda.FromJSON(vec.Type, text, r)
			if err != nil {
				t.Fatalf("FromJSON(%s): %v", text, err)
			}
			if !coda.Equal(v, vec.Value) {
				t.Errorf("FromJSON(ToJSON(v)) != v for %s", text)
			}
			body, err := coda.AppendValue(nil, vec.Type, v)
			if err != nil {
				t.Fatalf("AppendValue: %v", err)
			}
			if !bytes.Equal(body, vec.Bytes()) {
				t.Errorf("bytes after JSON = %x, want %x", body, vec.Bytes())
			}
		})
	}
}

// TestJSONRandom is the property test over random schemas and values: JSON
// round-trips, and any reordering of keys and whitespace gives the same
// canonical bytes.
func TestJSONRandom(t *testing.T) {
	cases, r := codatest.Cases(42, 150)
	rng := rand.New(rand.NewPCG(3, 4))
	for i, c := range cases {
		want, err := coda.AppendBody(nil, c.Schema, c.Value)
		if err != nil {
			t.Fatalf("case %d: AppendBody: %v", i, err)
		}
		text, err := coda.SchemaToJSON(c.Schema, c.Value, r)
		if err != nil {
			t.Fatalf("case %d: SchemaToJSON: %v", i, err)
		}
		for j := 0; j < 3; j++ {
			doc := text
			if j > 0 {
				doc = reorderJSON(t, text, rng)
			}
			v, err := coda.SchemaFromJSON(c.Schema, doc, r)
			if err != nil {
				t.Fatalf("case %d: SchemaFromJSON(%s): %v", i, doc, err)
			}
			got, err := coda.AppendBody(nil, c.Schema, v)
			if err != nil {
				t.Fatalf("case %d: AppendBody after JSON %s: %v", i, doc, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("case %d: JSON %s\ngave %x\nwant %x", i, doc, got, want)
			}
		}
	}
}

// reorderJSON shuffles the keys of every object in doc and adds whitespace.
// It works on encoding/json's tokens, keeping numbers as written.
func reorderJSON(t *testing.T, doc []byte, rng *rand.Rand) []byte {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var node func() []byte
	ws := func() string { return []string{"", " ", "\n  ", "\t"}[rng.IntN(4)] }
	node = func() []byte {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("reorderJSON: %v", err)
		}
		var out []byte
		switch tok := tok.(type) {
		case json.Delim:
			if tok == '[' {
				out = append(out, '[')
				for i := 0; d.More(); i++ {
					if i > 0 {
						out = append(out, ',')
					}
					out = append(out, ws()...)
					out = append(out, node()...)
				}
				d.Token()
				return append(out, ws()+"]"...)
			}
			var members [][]byte
			for d.More() {
				k, _ := d.Token()
				kb, _ := json.Marshal(k)
				members = append(members, append(append(kb, ws()+":"+ws()...), node()...))
			}
			d.Token()
			rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
			return append(append([]byte("{"+ws()), bytes.Join(members, []byte(","+ws()))...), '}')
		case json.Number:
			return []byte(tok)
		default:
			b, _ := json.Marshal(tok)
			return b
		}
	}
	return node()
}

// FuzzJSON parses arbitrary text as JSON of one of the golden vectors'
// types: no panic, and accepted text gives a value the encoder accepts,
// whose JSON parses back to the same value and bytes.
func FuzzJSON(f *testing.F) {
	vecs := codatest.Vectors()
	r := codatest.DefaultResolver
	for i, vec := range vecs {
		text, err := coda.ToJSON(vec.Type, vec.Value, r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint16(i), text)
	}
	f.Fuzz(func(t *testing.T, which uint16, text []byte) {
		typ := vecs[int(which)%len(vecs)].Type
		v, err := coda.FromJSON(typ, text, r)
		if err != nil {
			return
		}
		body, err := coda.AppendValue(nil, typ, v)
		if err != nil {
			t.Fatalf("FromJSON(%s) accepted a value the encoder rejects: %v", text, err)
		}
		out, err := coda.ToJSON(typ, v, r)
		if err != nil {
			t.Fatalf("ToJSON of an accepted value: %v", err)
		}
		v2, err := coda.FromJSON(typ, out, r)
		if err != nil {
			t.Fatalf("FromJSON(ToJSON(v)) = %v for %s", err, out)
		}
		body2, _ := coda.AppendValue(nil, typ, v2)
		if !coda.Equal(v, v2) || !bytes.Equal(body, body2) {
			t.Fatalf("JSON round trip changed the value: %s -> %s", text, out)
		}
	})
}

// updating reports whether -update was given (the flag is declared in
// compile_test.go, in package coda's internal tests).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestJSONGolden pins the JSON text of every golden vector
// (testdata/json/vectors.txt, one "name<TAB>json" line each): the mapping
// is a format, and its output must not drift. Lines are never edited; -update
// appends vectors that have none yet.
func TestJSONGolden(t *testing.T) {
	const file = "testdata/json/vectors.txt"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if name, text, ok := strings.Cut(line, "\t"); ok && !strings.HasPrefix(line, "#") {
			want[name] = text
		}
	}
	var added []byte
	seen := map[string]bool{}
	for _, vec := range codatest.Vectors() {
		seen[vec.Name] = true
		text, err := coda.ToJSON(vec.Type, vec.Value, codatest.DefaultResolver)
		if err != nil {
			t.Fatalf("%s: %v", vec.Name, err)
		}
		w, ok := want[vec.Name]
		switch {
		case !ok && updating():
			added = fmt.Appendf(added, "%s\t%s\n", vec.Name, text)
		case !ok:
			t.Logf("%s: no golden JSON yet; run with -update", vec.Name)
		case w != string(text):
			t.Errorf("%s: JSON\n got %s\nwant %s", vec.Name, text, w)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s: golden JSON for a vector that no longer exists", name)
		}
	}
	if len(added) > 0 {
		if err := os.WriteFile(file, append(data, added...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
