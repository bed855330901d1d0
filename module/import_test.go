package module_test

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
)

// catalogObjects returns the objects of w's catalog, build and main left
// out (they are local).
func catalogObjects(t testing.TB, w *cdb.World, as cdb.Identity) [][]byte {
	t.Helper()
	ents, err := module.Catalog(w.As(as.Public), coda.ID{}, "")
	if err != nil {
		t.Fatal(err)
	}
	var objs [][]byte
	for _, e := range ents {
		if e.Kind == module.KindBuild || e.Kind == module.KindMain {
			continue
		}
		it, err := w.Get(coda.ID{}, e.Path)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, it.Raw)
	}
	return objs
}

func results(t testing.TB, w *cdb.World, as cdb.Identity) []*module.Result {
	t.Helper()
	var out []*module.Result
	for _, obj := range catalogObjects(t, w, as) {
		if r, err := module.DecodeResult(obj); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// TestImportRecheckTrust: B imports A's catalog; B rechecks A's Results
// and agrees; a forged Result (a liar's "sloppy passes", a wrong step
// count) is found out; with A trusted for verdicts and scores B builds
// without verifying; a bad object fails the whole import.
func TestImportRecheckTrust(t *testing.T) {
	ha, wa, _ := evaluateHome(t)
	a := ha.NodeKey()
	hb, wb := newHome(t)
	b := hb.NodeKey()
	objs := catalogObjects(t, wa, a)
	imp, err := module.Import(ctx, wb, b, objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Entries) != len(objs) || imp.Commit.ID.IsZero() {
		t.Fatalf("imported %d entries of %d", len(imp.Entries), len(objs))
	}
	if again, err := module.Import(ctx, wb, b, objs); err != nil || len(again.Entries) != 0 || again.Known != len(objs) {
		t.Fatalf("second import: %+v, %v", again, err)
	}
	rs := results(t, wb, b)
	if len(rs) != 6 {
		t.Fatalf("%d results imported, want 6 (4 verify, 2 evaluate)", len(rs))
	}
	var sloppy, evalRes *module.Result
	for _, r := range rs {
		agree, why, err := module.Recheck(ctx, wb, b, r)
		if err != nil || !agree {
			t.Fatalf("recheck of %s %s: %v, %s, %v", r.Kind, r.Impl.Short(), agree, why, err)
		}
		if r.Kind == module.ResultVerify && !r.Pass && sloppy == nil {
			sloppy = r
		}
		if r.Kind == module.ResultEvaluate {
			evalRes = r
		}
	}
	// A liar says the failing impl passes, and lies about steps.
	liar, err := hb.NewKey("liar")
	if err != nil {
		t.Fatal(err)
	}
	lie := *sloppy
	lie.Pass, lie.Failure = true, nil
	if err := lie.Sign(liar); err != nil {
		t.Fatal(err)
	}
	if agree, why, err := module.Recheck(ctx, wb, b, &lie); err != nil || agree {
		t.Fatalf("recheck of a lie: %v, %s, %v", agree, why, err)
	}
	lie2 := *evalRes
	lie2.Steps--
	if err := lie2.Sign(liar); err != nil {
		t.Fatal(err)
	}
	if agree, why, err := module.Recheck(ctx, wb, b, &lie2); err != nil || agree || !strings.Contains(why, "steps") {
		t.Fatalf("recheck of a wrong score: %v, %s, %v", agree, why, err)
	}
	// Trusting A, B builds on A's verdicts and scores alone.
	trustA := func(node ed25519.PublicKey, kind string) bool { return bytes.Equal(node, a.Public) }
	if _, err := module.Build(ctx, wb, b, circle); !errs.Is(err, errs.NotExist) {
		t.Fatalf("build trusting no one: %v", err)
	}
	rec, err := module.BuildWith(ctx, wb, b, circle, module.Options{Trust: trustA})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := module.ShowWith(wb, b, circle, module.Options{Trust: trustA})
	if err != nil || tab.Rows[0].Impl != rec.Impl || tab.Rows[0].Name != "direct" || tab.Rows[0].By[0] != cdb.KeyString(a.Public) {
		t.Fatalf("show: %+v, %v; build %+v", tab.Rows, err, rec)
	}
	// A tampered result fails the import, naming it; nothing is stored.
	bad, _ := lie.Encode()
	bad[len(bad)-1] ^= 1
	head, _ := wb.Head()
	_, err = module.Import(ctx, wb, b, [][]byte{objs[0], bad})
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), coda.Sum(bad).String()) {
		t.Fatalf("import of a tampered result: %v", err)
	}
	if h2, _ := wb.Head(); h2 != head {
		t.Fatal("a failed import committed")
	}
}
