package module_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
)

func byName(t testing.TB, rep module.Report) map[string]module.ImplReport {
	t.Helper()
	m := map[string]module.ImplReport{}
	for _, r := range rep.Impls {
		m[r.Name] = r
	}
	return m
}

// answer returns the yes of a CircleAnswer object.
func answer(t testing.TB, obj []byte) bool {
	t.Helper()
	if len(obj) != coda.IDSize+1 {
		t.Fatalf("answer %x: not a CircleAnswer", obj)
	}
	return obj[coda.IDSize] == 0xFF
}

// circles decodes a CirclePair object: ra, ax, ay, rb, bx, by.
func circles(t testing.TB, w *cdb.World, obj []byte) []float64 {
	t.Helper()
	reg, err := w.Schemas(coda.ID{})
	if err != nil {
		t.Fatal(err)
	}
	_, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: reg})
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			out = append(out, v.Index(i).Index(j).AsFloat())
		}
	}
	return out
}

// TestVerifyCircle: the two correct impls pass; the cheat and the sloppy
// one fail with a shrunk counterexample that is saved as a spec case
// (expected output from a correct impl); the Results are signed by the
// node and stored.
func TestVerifyCircle(t *testing.T) {
	h, w := newHome(t)
	me := h.NodeKey()
	publish(t, w, me)
	rep, err := module.Verify(ctx, w, me, "geometry::circle", module.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := byName(t, rep)
	for _, n := range []string{"direct", "careful"} {
		if r := got[n]; !r.Pass || r.Failure != nil || r.Steps == 0 || r.Runs < 200 {
			t.Errorf("%s: %+v, want a pass", n, r)
		}
	}
	for _, n := range []string{"cheat", "sloppy"} {
		r := got[n]
		if r.Pass || r.Failure == nil || r.Failure.Input == nil {
			t.Fatalf("%s: %+v, want a failure", n, r)
		}
		c := circles(t, w, r.Failure.Input)
		t.Logf("%s: counterexample %v: %s", n, c, r.Failure.Reason)
		// docs/modules.md §13 names them: shrinking is deterministic.
		want := map[string][]float64{"cheat": {0, 0, 0, 0, 0, 1}, "sloppy": {2, 0, 2, 0, 0, 0}}[n]
		if !slices.Equal(c, want) {
			t.Errorf("%s: counterexample %v, want %v", n, c, want)
		}
		// Shrunk: every number an integer of few digits.
		for _, x := range c {
			if x != float64(int(x)) || x > 40 || x < -40 {
				t.Errorf("%s: counterexample %v not shrunk", n, c)
			}
		}
		if answer(t, r.Failure.Expected) == answer(t, r.Failure.Got) {
			t.Errorf("%s: expected %x, got %x: no disagreement", n, r.Failure.Expected, r.Failure.Got)
		}
	}
	if len(rep.NewSpecs) != 2 || rep.Commit.ID.IsZero() {
		t.Fatalf("new specs %v, commit %v: want 2 found specs stored", rep.NewSpecs, rep.Commit.ID)
	}
	// The found specs are in the catalog and the passing impls' Results
	// cover them.
	ents, err := module.Catalog(w.As(me.Public), coda.ID{}, "geometry::circle")
	if err != nil {
		t.Fatal(err)
	}
	results := 0
	for _, e := range ents {
		if e.Kind != module.KindResult {
			continue
		}
		results++
		it, err := w.Get(coda.ID{}, e.Path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := module.DecodeResult(it.Raw)
		if err != nil {
			t.Fatalf("stored result: %v", err)
		}
		if !bytes.Equal(r.Node, me.Public) || len(r.Subjects) != 4 {
			t.Errorf("result %+v: want the node's, over 4 specs", r)
		}
	}
	if results != 4 {
		t.Fatalf("%d results stored, want 4", results)
	}
	// Verify again: the found specs now catch the cheat as a case.
	rep2, err := module.Verify(ctx, w, me, "geometry::circle", module.VerifyOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if g := byName(t, rep2); g["cheat"].Pass || g["sloppy"].Pass || !g["direct"].Pass || !g["careful"].Pass || len(rep2.NewSpecs) != 0 {
		t.Fatalf("second verify: %+v", rep2)
	}
}

// TestVerifyCanceled: a canceled verify signs and stores nothing.
func TestVerifyCanceled(t *testing.T) {
	h, w := newHome(t)
	me := h.NodeKey()
	publish(t, w, me)
	before, _ := w.Head()
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := module.Verify(c, w, me, "geometry::circle", module.VerifyOptions{}); !errs.Is(err, errs.Canceled) {
		t.Fatalf("canceled verify: %v", err)
	}
	if _, err := module.Evaluate(c, w, me, "geometry::circle", module.EvalOptions{}); err == nil {
		t.Fatal("canceled evaluate: no error")
	}
	if after, _ := w.Head(); after != before {
		t.Fatal("a canceled verify committed")
	}
}
