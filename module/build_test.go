package module_test

import (
	"testing"
	"time"

	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
)

const circle = "geometry::circle"

// pair returns a CirclePair object of w's schemas.
func pair(t testing.TB, w *cdb.World, c ...float64) []byte {
	t.Helper()
	reg, err := w.Schemas(coda.ID{})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := reg.Lookup("CirclePair")
	if !ok {
		t.Fatal("no CirclePair schema")
	}
	obj, err := coda.EncodeObject(s, coda.Struct(
		coda.Struct(coda.F64(c[0]), coda.F64(c[1]), coda.F64(c[2])),
		coda.Struct(coda.F64(c[3]), coda.F64(c[4]), coda.F64(c[5]))))
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// evaluateHome publishes, verifies and evaluates the circle in a new
// home and returns the ranking (names, steps).
func evaluateHome(t *testing.T) (*cdb.Home, *cdb.World, module.Report) {
	h, w := newHome(t)
	me := h.NodeKey()
	publish(t, w, me)
	if _, err := module.Verify(ctx, w, me, circle, module.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := module.Evaluate(ctx, w, me, circle, module.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return h, w, rep
}

// TestEvaluateBuildCircle: on two separate homes evaluate ranks the two
// correct impls identically by steps (direct before careful) and skips
// the cheat and the sloppy one; build picks direct, never sloppy (which
// is faster); /mod/NAME/main answers calls through call.Run.
func TestEvaluateBuildCircle(t *testing.T) {
	h1, w1, r1 := evaluateHome(t)
	_, _, r2 := evaluateHome(t)
	for _, rep := range []module.Report{r1, r2} {
		if len(rep.Impls) != 4 || rep.Impls[0].Name != "direct" || rep.Impls[0].Rank != 1 || rep.Impls[1].Name != "careful" || rep.Impls[1].Rank != 2 ||
			rep.Impls[0].Steps >= rep.Impls[1].Steps || rep.Impls[2].Skipped == "" || rep.Impls[3].Skipped == "" {
			t.Fatalf("evaluate: %+v", rep.Impls)
		}
	}
	for i := 0; i < 2; i++ {
		if r1.Impls[i].Impl != r2.Impls[i].Impl || r1.Impls[i].Steps != r2.Impls[i].Steps {
			t.Fatalf("the two homes differ: %+v and %+v", r1.Impls[i], r2.Impls[i])
		}
	}
	t.Logf("direct %d steps, careful %d steps over the bench", r1.Impls[0].Steps, r1.Impls[1].Steps)
	me := h1.NodeKey()
	rec, err := module.Build(ctx, w1, me, circle)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Impl != r1.Impls[0].Impl || rec.Steps != r1.Impls[0].Steps {
		t.Fatalf("build chose %+v, want direct", rec)
	}
	tab, err := module.Show(w1, me, circle)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Rows[0].Name != "direct" || !tab.Rows[0].Built || tab.Rows[0].Rank != 1 || tab.Rows[1].Name != "careful" || tab.Build == nil {
		t.Fatalf("show: %+v", tab)
	}
	for _, r := range tab.Rows[2:] {
		if r.Verified || r.Rank != 0 {
			t.Fatalf("show: %+v verified", r)
		}
	}
	// The build and main were written in one commit.
	log, err := w1.Log(coda.ID{}, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := w1.LoadCommit(log[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Ops) != 2 {
		t.Fatalf("the build commit has %d ops, want 2 (build and main)", len(c.Ops))
	}
	cases := []struct {
		c    []float64
		want byte
	}{{[]float64{3, 0, 1, 3, 0, 8}, 0}, {[]float64{3, 0, 0, 3, 0, 6}, 0xFF}, {[]float64{1, 0, 0, 1, 2.5, 0}, 0}}
	for _, k := range cases {
		res, err := call.Run(ctx, w1, me, call.Request{Path: "/mod/" + circle + "/main", Entry: "intersects", Input: pair(t, w1, k.c...)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Output) != coda.IDSize+1 || res.Output[coda.IDSize] != k.want {
			t.Fatalf("call %v: output %x, want yes = %#x", k.c, res.Output, k.want)
		}
	}
}

// TestBuildNeverUnverified: with only unverified impls, build refuses.
func TestBuildNeverUnverified(t *testing.T) {
	h, w := newHome(t)
	publish(t, w, h.NodeKey())
	if _, err := module.Build(ctx, w, h.NodeKey(), circle); !errs.Is(err, errs.NotExist) {
		t.Fatalf("build before verify: %v, want NotExist", err)
	}
	if _, err := w.Get(coda.ID{}, "/mod/"+circle+"/main"); !errs.Is(err, errs.NotExist) {
		t.Fatalf("main after a refused build: %v", err)
	}
}

// TestWhyFailsCount: show says why an impl is not verified, counting the
// failing Results in the right number: one, then two after a second verify.
func TestWhyFailsCount(t *testing.T) {
	h, w := newHome(t)
	me := h.NodeKey()
	publish(t, w, me)
	for i, want := range []string{"fails (1 counted result says so)", "fails (2 counted results say so)"} {
		clock := func() time.Time { return time.Unix(1_700_000_000+int64(i), 0) }
		opts := module.VerifyOptions{Options: module.Options{Now: clock}, Impls: []string{"cheat"}, Cross: -1}
		if _, err := module.Verify(ctx, w, me, circle, opts); err != nil {
			t.Fatal(err)
		}
		tab, err := module.Show(w, me, circle)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, r := range tab.Rows {
			if r.Name == "cheat" {
				got = r.Why
			}
		}
		if got != want {
			t.Errorf("verify %d: cheat: why %q, want %q", i+1, got, want)
		}
	}
}
