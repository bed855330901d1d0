package module_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
	"github.com/coalescent/coal/module/moduletest"
	"github.com/coalescent/coal/prog"
)

const libCircle = "geometry::libcircle"

// putLib stores the exported routines of src in w's /lib by name, as
// coal prog add does.
func putLib(t *testing.T, w *cdb.World, as cdb.Identity, src string) {
	t.Helper()
	if _, _, err := w.AddSchemas(ctx, as, "program.coda", prog.SchemaSource()); err != nil {
		t.Fatal(err)
	}
	_, named, err := prog.BuildLibrary("lib.co", []byte(src), co.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ops []cdb.Op
	for _, l := range named {
		b, err := l.Lib.Encode()
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, cdb.Op{Kind: cdb.Put, Path: module.LibDir + "/" + l.Name, Raw: b})
	}
	if _, err := w.Commit(ctx, as, ops, "lib"); err != nil {
		t.Fatal(err)
	}
}

// libCircleDir is the circle under libCircle with two more impls that
// square with /lib's sq: "linked" calls it by id (<sq), "copied" copies
// it (>sq).
func libCircleDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "libcircle")
	moduletest.CopyCircle(t, dir, libCircle)
	direct, err := os.ReadFile(filepath.Join(dir, "impls", "direct.co"))
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]string{"linked": "<sq", "copied": ">sq"} {
		src := "+ .lib :sq ;\n" + strings.ReplaceAll(string(direct), "DPD64 MLF64", call)
		writeFile(t, filepath.Join(dir, "impls", name+".co"), src)
	}
	return dir
}

// TestImplLinksLib: an implementation may import /lib routines of the
// catalog world, copied or linked by id: publish links them into its
// Program (no imports left), so it verifies and scores the same number
// of steps on a home without any /lib, after an import of the catalog;
// the DIR read without a world cannot link; a world whose /lib has
// another sq makes another program.
func TestImplLinksLib(t *testing.T) {
	dir := libCircleDir(t)
	h1, w1 := newHome(t)
	me1 := h1.NodeKey()
	putLib(t, w1, me1, "^ sq DPD64 MLF64 ;\n")
	pub, err := module.Publish(ctx, w1, me1, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range pub.Entries {
		if e.Kind != module.KindCode {
			continue
		}
		it, err := w1.Get(coda.ID{}, e.Path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := prog.Decode(it.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Imports) != 0 || len(p.Links) != 0 {
			t.Fatalf("program %s still imports %v: not linked at publish", e.ID.Short(), p.Imports)
		}
	}
	scores := func(h *cdb.Home, w *cdb.World) map[string]uint64 {
		t.Helper()
		me := h.NodeKey()
		vr, err := module.Verify(ctx, w, me, libCircle, module.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range vr.Impls {
			if want := x.Name != "cheat" && x.Name != "sloppy"; x.Pass != want {
				t.Fatalf("verify on %s: %s pass %v, want %v (%+v)", h.Dir(), x.Name, x.Pass, want, x.Failure)
			}
		}
		ev, err := module.Evaluate(ctx, w, me, libCircle, module.EvalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]uint64{}
		for _, x := range ev.Impls {
			if x.Skipped == "" {
				out[x.Name] = x.Steps
			}
		}
		return out
	}
	s1 := scores(h1, w1)
	if len(s1) != 4 || s1["linked"] == 0 || s1["copied"] == 0 || s1["linked"] == s1["direct"] {
		t.Fatalf("scores on the publishing home: %v", s1)
	}
	// A home with no /lib at all gets the catalog and the same steps.
	h2, w2 := newHome(t)
	if _, err := module.Import(ctx, w2, h2.NodeKey(), catalogObjects(t, w1, me1)); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Get(coda.ID{}, module.LibDir); !errs.Is(err, errs.NotExist) {
		t.Fatalf("the second home has a /lib: %v", err)
	}
	s2 := scores(h2, w2)
	for n, st := range s1 {
		if s2[n] != st {
			t.Errorf("%s: %d steps on the second home, %d on the first", n, s2[n], st)
		}
	}
	t.Logf("steps over the bench: %v", s1)

	// Without a world there is no /lib.
	if _, err := module.ReadDir(dir); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "libcircle/impls/") {
		t.Fatalf("ReadDir of a DIR importing /lib: %v", err)
	}
	// Another sq in /lib (a slower one): another program for linked.
	h3, w3 := newHome(t)
	putLib(t, w3, h3.NodeKey(), "^ sq DPD64 MLF64 NOP ;\n")
	pub3, err := module.Publish(ctx, w3, h3.NodeKey(), dir)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[coda.ID]bool{}
	for _, e := range pub.Entries {
		ids[e.ID] = true
	}
	differ := 0
	for _, e := range pub3.Entries {
		if e.Kind == module.KindCode && !ids[e.ID] {
			differ++
		}
	}
	if differ != 2 {
		t.Fatalf("%d programs differ with another /lib sq, want 2 (linked and copied)", differ)
	}
	// 100 bench calls, 3 squares each: one NOP more per square.
	s3 := scores(h3, w3)
	for _, n := range []string{"linked", "copied"} {
		if s3[n] != s1[n]+300 {
			t.Errorf("%s with a slower sq: %d steps, with the first %d; want 300 more", n, s3[n], s1[n])
		}
	}
}
