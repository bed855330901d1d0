package module_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/module"
)

// circleCopy copies the circle DIR to a temporary one without its
// specs/random.json, plus the files given.
func circleCopy(t *testing.T, files map[string]string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "circle")
	err := filepath.WalkDir(circleDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(circleDir, p)
		if rel == filepath.Join("specs", "random.json") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		writeFile(t, filepath.Join(dst, rel), string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		writeFile(t, filepath.Join(dst, name), text)
	}
	return dst
}

// TestCrossCheck: with only the seed's cases, all four impls pass the
// specs; cross-checking them against each other on random inputs fails
// the cheat and the sloppy one (the correct two and one wrong one make a
// majority), and the shrunk disagreements are saved as a found spec.
func TestCrossCheck(t *testing.T) {
	h, w := newHome(t)
	me := h.NodeKey()
	given := `{"function": "intersects", "inputs": [
		{"a": {"radius": 1, "center_x": 0, "center_y": 0}, "b": {"radius": 1, "center_x": 3, "center_y": 0}},
		{"a": {"radius": 2, "center_x": 0, "center_y": 0}, "b": {"radius": 1, "center_x": 3, "center_y": 0}}]}`
	if _, err := module.Publish(ctx, w, me, circleCopy(t, map[string]string{"benches/given.json": given})); err != nil {
		t.Fatal(err)
	}
	rep, err := module.Verify(ctx, w, me, circle, module.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := byName(t, rep)
	if !got["direct"].Pass || !got["careful"].Pass {
		t.Fatalf("correct impls: %+v", rep.Impls)
	}
	for _, n := range []string{"cheat", "sloppy"} {
		f := got[n].Failure
		if got[n].Pass || f == nil || !strings.Contains(f.Reason, "cross-check") || f.Spec.IsZero() {
			t.Fatalf("%s: %+v, want a cross-check failure", n, got[n])
		}
		t.Logf("%s: %v (%s)", n, circles(t, w, f.Input), f.Reason)
	}
	if len(rep.NewSpecs) != 1 {
		t.Fatalf("found specs %v, want 1", rep.NewSpecs)
	}
	// Two benches now: the generated one and two given inputs.
	ev, err := module.Evaluate(ctx, w, me, circle, module.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Impls[0].Name != "direct" || ev.Impls[0].Runs != 102 || ev.Impls[1].Name != "careful" || ev.Impls[2].Skipped == "" {
		t.Fatalf("evaluate: %+v", ev.Impls)
	}
}

// TestReferenceOracle: a property whose oracle is the direct impl fails
// sloppy with the reference's output as the expected one.
func TestReferenceOracle(t *testing.T) {
	h, w := newHome(t)
	me := h.NodeKey()
	dir := circleCopy(t, map[string]string{"specs/ref.json": `{"name": "against direct", "properties": [
		{"function": "intersects", "count": 100, "seed": 3, "oracle": {"reference": "direct"},
		 "bounds": [{"field": "a.radius", "min": 0, "max": 10}, {"field": "b.radius", "min": 0, "max": 10},
		            {"field": "a.center_x", "min": -20, "max": 20}, {"field": "b.center_x", "min": -20, "max": 20},
		            {"field": "a.center_y", "min": -20, "max": 20}, {"field": "b.center_y", "min": -20, "max": 20}]}]}`})
	if _, err := module.Publish(ctx, w, me, dir); err != nil {
		t.Fatal(err)
	}
	rep, err := module.Verify(ctx, w, me, circle, module.VerifyOptions{Cross: -1})
	if err != nil {
		t.Fatal(err)
	}
	got := byName(t, rep)
	if !got["direct"].Pass || !got["careful"].Pass || got["sloppy"].Pass || got["cheat"].Pass {
		t.Fatalf("verify: %+v", rep.Impls)
	}
	f := got["sloppy"].Failure
	if f.Expected == nil || answer(t, f.Expected) == answer(t, f.Got) || !strings.Contains(f.Reason, "reference impl direct") {
		t.Fatalf("sloppy: %+v", f)
	}
	if len(rep.NewSpecs) != 2 {
		t.Fatalf("found specs %v, want 2", rep.NewSpecs)
	}
}
