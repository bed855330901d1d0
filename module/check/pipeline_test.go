package check

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
)

// TestSyntheticTreeMatchesWorld checks that the synthetic tree stores each
// schema exactly as `coal schema add` (cdb.World.AddSchemas) does, and that
// the registry a program's SCHEMA requests see is the interface's.
func TestSyntheticTreeMatchesWorld(t *testing.T) {
	const src = "schema Point { x: f64  y: f64 }\nschema Circle { c: Point  r: f64 }\nenum Shape { C(Circle)  P(Point)  List(list<Shape>) }\n"
	h, err := cdb.Init(filepath.Join(t.TempDir(), "home"), cdb.Options{NoAudit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w, err := h.World("")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.AddSchemas(context.Background(), h.NodeKey(), "s.coda", []byte(src)); err != nil {
		t.Fatal(err)
	}
	reg := coda.NewRegistry()
	if _, err := reg.Compile("s.coda", []byte(src)); err != nil {
		t.Fatal(err)
	}
	b, err := synthetic(reg)
	if err != nil {
		t.Fatal(err)
	}
	tr := tree.New(b.st)
	ents, err := tr.List(b.root, cdb.SchemasDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 3 {
		t.Errorf("%d entries in %s, want 3 (no built-ins)", len(ents), cdb.SchemasDir)
	}
	for _, name := range []string{"Point", "Circle", "Shape"} {
		it, err := w.Get(coda.ID{}, cdb.SchemasDir+"/"+name)
		if err != nil {
			t.Fatal(err)
		}
		e, err := tr.Get(b.root, cdb.SchemasDir+"/"+name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e.ID != it.ID || e.Stamp != (tree.Stamp{}) {
			t.Errorf("%s: synthetic %s stamp %v, world %s", name, e.ID, e.Stamp, it.ID)
		}
	}
	got, err := cdb.SchemasAt(b.st, b.root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Point", "Circle", "Shape"} {
		a, _ := got.Lookup(name)
		want, _ := reg.Lookup(name)
		if a == nil || a.ID != want.ID {
			t.Errorf("%s: SchemasAt gives %v, want %s", name, a, want.ID)
		}
	}
	// The same set of schemas in another registry shares the tree.
	reg2 := coda.NewRegistry()
	if _, err := reg2.Compile("s.coda", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if b2, _ := synthetic(reg2); b2 != b {
		t.Errorf("the same schemas built a second tree")
	}
}

// TestPipeline is verify in miniature: generate inputs, run an
// implementation on each, and shrink the first input that breaks a
// property ("inc's output is below 20") through Run.
func TestPipeline(t *testing.T) {
	ctx := context.Background()
	reg, s := compile(t, `schema N { n: u64 }`)
	inc := build(t, "inc", incSrc)
	bounds := []Bound{{Field: "n", Min: 0, Max: 1e6}}
	breaks := func(in []byte) bool {
		o, err := Run(ctx, reg, inc, "", in, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Want(s.ID); err != nil {
			t.Fatal(err)
		}
		return decodeT(t, reg, o.Output).Index(0).AsUint() >= 20
	}
	r := NewRand(42)
	var found []byte
	for range 100 {
		in, err := Generate(r, s, reg, bounds)
		if err != nil {
			t.Fatal(err)
		}
		if breaks(in) {
			found = in
			break
		}
	}
	if found == nil {
		t.Fatal("no input of 100 breaks n+1 < 20")
	}
	calls := 0
	min := Shrink(found, s, reg, bounds, func(b []byte) bool { calls++; return breaks(b) }, 200)
	if n := decodeT(t, reg, min).Index(0).AsUint(); n != 19 {
		t.Errorf("shrunk to n = %d, want 19 (%d calls)", n, calls)
	}
}

// TestRunConcurrent runs one program from many goroutines (go test -race).
func TestRunConcurrent(t *testing.T) {
	ctx := context.Background()
	reg, s := compile(t, `schema N { n: u64 }`)
	inc := build(t, "inc", incSrc)
	big := build(t, "big", bigSrc)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range uint64(20) {
				n := uint64(g)*100 + i
				o, err := Run(ctx, reg, inc, "", nObj(t, s, n), nil, 0)
				if err != nil || string(o.Output) != string(nObj(t, s, n+1)) {
					t.Errorf("inc %d: %x, %v", n, o.Output, err)
					return
				}
				p, err := Run(ctx, reg, big, "", nObj(t, s, n), map[string][]byte{"/output": o.Output}, 0)
				if err != nil || (p.ExitCode == 0) != (n > 10) {
					t.Errorf("big %d: exit %d, %v", n, p.ExitCode, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
