package module_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
)

// TestSigner: with Options.Signer the Results of verify and evaluate are
// signed by the signer (a node's key), not by the caller who commits
// them; the found specs name the signer; the signer's Results count as
// the caller's own (evaluate and build need no trust), and for a caller
// without that signer they count only by trust. Import still checks
// their signatures; a signer without its private key signs nothing.
func TestSigner(t *testing.T) {
	h, w := newHome(t)
	caller := h.NodeKey()
	node, err := cdb.NewIdentity("node", bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	publish(t, w, caller)
	o := module.Options{Signer: node}

	// A signer that cannot sign stores nothing.
	head, _ := w.Head()
	pubOnly := cdb.Identity{Name: "pub", Public: node.Public}
	if _, err := module.Verify(ctx, w, caller, circle, module.VerifyOptions{Options: module.Options{Signer: pubOnly}}); err == nil {
		t.Fatal("verify with a signer without its private key: no error")
	}
	if h2, _ := w.Head(); h2 != head {
		t.Fatal("a verify that could not sign committed")
	}

	rep, err := module.Verify(ctx, w, caller, circle, module.VerifyOptions{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	rs := results(t, w, caller)
	if len(rs) != 4 {
		t.Fatalf("%d results, want 4", len(rs))
	}
	for _, r := range rs {
		if !bytes.Equal(r.Node, node.Public) {
			t.Errorf("result of %s signed by %s, want the signer %s", r.Impl.Short(), cdb.KeyString(r.Node), node.Key())
		}
	}
	// The commit is the caller's.
	log, err := w.Log(rep.Commit.ID, "", 1)
	if err != nil || log[0].Author != caller.Key() {
		t.Fatalf("verify commit: %+v, %v; want authored by the caller", log, err)
	}
	tab, err := module.ShowWith(w, caller, circle, o)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, id := range rep.NewSpecs {
		it, err := w.Get(rep.Commit.ID, module.EntryPath(circle, module.KindSpec, id))
		if err != nil {
			t.Fatal(err)
		}
		s, err := module.DecodeSpec(it.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if s.Name == "found by verify on "+node.Key() {
			found++
		}
	}
	if found != len(rep.NewSpecs) || found == 0 {
		t.Errorf("%d of %d found specs name the signer", found, len(rep.NewSpecs))
	}
	if tab.Rows[0].Name != "direct" && tab.Rows[0].Name != "careful" || !tab.Rows[0].Verified || tab.Rows[0].By[0] != node.Key() {
		t.Fatalf("show with the signer: %+v", tab.Rows[0])
	}
	// Without the signer (and no trust) the node's Results are not the
	// caller's: nothing is verified, evaluate skips every impl.
	ev, err := module.Evaluate(ctx, w, caller, circle, module.EvalOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ev.Impls {
		if x.Skipped == "" {
			t.Fatalf("evaluate without the signer ranked %s", x.Name)
		}
	}
	ev, err = module.Evaluate(ctx, w, caller, circle, module.EvalOptions{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Impls[0].Name != "direct" || ev.Impls[0].Rank != 1 {
		t.Fatalf("evaluate with the signer: %+v", ev.Impls)
	}
	rec, err := module.BuildWith(ctx, w, caller, circle, o)
	if err != nil || len(rec.Results) != 2 {
		t.Fatalf("build with the signer: %+v, %v", rec, err)
	}
	for _, r := range results(t, w, caller) {
		if r.Kind == module.ResultEvaluate && !bytes.Equal(r.Node, node.Public) {
			t.Errorf("evaluate result signed by %s, want the signer", cdb.KeyString(r.Node))
		}
	}
	// Another home imports them: the signatures check (and a tampered
	// one does not).
	hb, wb := newHome(t)
	objs := catalogObjects(t, w, caller)
	if _, err := module.Import(ctx, wb, hb.NodeKey(), objs); err != nil {
		t.Fatalf("import of signer-signed results: %v", err)
	}
	r := rs[0]
	r.Steps++
	bad, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := module.Import(ctx, wb, hb.NodeKey(), [][]byte{bad}); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("import of a tampered result: %v", err)
	}
}
