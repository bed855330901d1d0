package module_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
)

var ctx = context.Background()

const circleDir = "../examples/modules/circle"

func fixedClock() time.Time { return time.Unix(1_700_000_000, 0) }

func newHome(t testing.TB) (*cdb.Home, *cdb.World) {
	t.Helper()
	h, err := cdb.Init(filepath.Join(t.TempDir(), "home"), call.With(acl.With(cdb.Options{NoAudit: true, Clock: fixedClock})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	w, err := h.World("")
	if err != nil {
		t.Fatal(err)
	}
	return h, w
}

func publish(t testing.TB, w *cdb.World, as cdb.Identity) module.Published {
	t.Helper()
	p, err := module.Publish(ctx, w, as, circleDir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPublish: the circle DIR publishes its interface, 2 specs, 4 impls
// and their code, a predicate and a bench; publishing again adds nothing;
// List and Catalog see it.
func TestPublish(t *testing.T) {
	h, w := newHome(t)
	me := h.NodeKey()
	p := publish(t, w, me)
	count := map[module.Kind]int{}
	for _, e := range p.Entries {
		count[e.Kind]++
	}
	if p.Module != "geometry::circle" || count[module.KindInterface] != 1 || count[module.KindSpec] != 2 || count[module.KindImpl] != 4 ||
		count[module.KindCode] != 5 || count[module.KindBench] != 1 || p.New != len(p.Entries) || p.Commit.ID.IsZero() {
		t.Fatalf("published %+v: %v", p, count)
	}
	again := publish(t, w, me)
	if again.New != 0 || !again.Commit.ID.IsZero() {
		t.Fatalf("second publish stored %d objects", again.New)
	}
	ents, err := module.Catalog(w.As(me.Public), coda.ID{}, "")
	if err != nil || len(ents) != len(p.Entries) {
		t.Fatalf("catalog: %d entries, %v; want %d", len(ents), err, len(p.Entries))
	}
	ls, err := module.List(w, me)
	if err != nil || len(ls) != 1 || ls[0].Impls != 4 || ls[0].Specs != 2 || ls[0].Functions[0] != "intersects" {
		t.Fatalf("list: %+v, %v", ls, err)
	}
	if _, err := w.Get(coda.ID{}, "/sys/schemas/CirclePair"); err != nil {
		t.Fatalf("the interface's schemas are not in /sys/schemas: %v", err)
	}
}

// TestPublishErrors: errors name FILE:LINE:COL.
func TestPublishErrors(t *testing.T) {
	cases := []struct{ file, text, want string }{
		{"interface.json", `{"name": "Bad Name", "schemas": "c.coda", "functions": [{"name": "f", "input": "A", "output": "A"}]}`, "interface.json:1:10: "},
		{"interface.json", "{\"name\": \"x\",\n  \"schemas\": \"c.coda\", \"functions\": [{\"name\": \"f\", \"input\": \"B\", \"output\": \"A\"}]}", "interface.json:2:61: "},
		{"interface.json", "{\"name\": \"x\",\n \"bogus\": 1}", "interface.json:2:"},
		{"specs/s.json", "{\"cases\": [\n {\"function\": \"f\", \"input\": {\"n\": 1}, \"output\": {\"n\": \"x\"}}]}", "specs/s.json:2:49: not a A"},
		{"specs/s.json", "{\"cases\": [\n {\"function\": \"g\", \"input\": {\"n\": 1}, \"output\": {\"n\": 1}}]}", "specs/s.json:2:15: no function \"g\""},
		{"impls/i.co", "HALT\n^ g RTN ;\n", "impls/i.co:1:1: no entry f"},
		{"impls/i.co", "HALT\n^ f RTN BOGUS ;\n", "impls/i.co:2:"},
	}
	for _, c := range cases {
		dir := filepath.Join(t.TempDir(), "m")
		files := map[string]string{
			"c.coda":         "schema A { n: u8 }\n",
			"interface.json": `{"name": "x", "schemas": "c.coda", "functions": [{"name": "f", "input": "A", "output": "A"}]}`,
			"impls/ok.co":    "HALT\n^ f RTN ;\n",
		}
		files[c.file] = c.text
		for name, text := range files {
			writeFile(t, filepath.Join(dir, name), text)
		}
		_, err := module.ReadDir(dir)
		if err == nil || !strings.Contains(err.Error(), "m/"+c.want) || !errs.Is(err, errs.Invalid) {
			t.Errorf("%s %q: %v, want m/%s", c.file, c.text, err, c.want)
		}
	}
}
