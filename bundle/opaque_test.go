package bundle

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/errs"
)

// TestOpaqueMerge: /q is alice's alone (opaque to bob). Two concurrent
// changes to /q reach a clone made from bundles as bob: it cannot merge
// them, keeps its head (Waiting) and does not fail; alice's merge then
// arrives, validates there without /q, and the clone follows to alice's
// head and root, fsck clean, holding no node and no name from inside /q.
func TestOpaqueMerge(t *testing.T) {
	a := origin(t)
	a.putACL(t, "alice", "/q", grant(a.key(t, "alice"), acl.All))
	a.put(t, "alice", "/q/base", "alice only")
	g := a.head(t)
	// The clone: bob's view, on a home whose node may read nothing.
	data := a.bundle(t, "bob", CreateOptions{})
	c := clone(t, data, secured())
	for _, name := range []string{"base", "alice only"} {
		if bytes.Contains(data, []byte(name)) {
			t.Errorf("bob's bundle holds %q, from inside /q", name)
		}
	}
	// Two concurrent changes to /q: main and the branch side.
	must(t, a.w.CreateBranch("side", g))
	a.put(t, "alice", "/q/main", "on main")
	mainHead := a.head(t)
	must(t, a.w.Switch("side"))
	a.put(t, "alice", "/q/side", "on side")
	sideHead := a.head(t)
	must(t, a.w.Switch("main"))
	res, err := Apply(ctx, c.w, bytes.NewReader(a.bundle(t, "bob", CreateOptions{Since: g})), "")
	must(t, err)
	if c.head(t) != mainHead {
		t.Fatalf("the clone's head %s, want main's %s (%+v)", c.head(t), mainHead, res)
	}
	res, err = Apply(ctx, c.w, bytes.NewReader(a.bundle(t, "bob", CreateOptions{Since: g, Head: sideHead})), "")
	must(t, err)
	if !res.Waiting || res.Merge != nil || c.head(t) != mainHead {
		t.Fatalf("side's bundle: %+v, head %s; want Waiting, no merge, head still main's %s", res, c.head(t), mainHead)
	}
	// Alice merges (she may read /q); her merge reaches the clone.
	if _, _, err := a.w.Merge(ctx, "side"); err != nil {
		t.Fatal(err)
	}
	merged := a.bundle(t, "bob", CreateOptions{Since: g})
	if bytes.Contains(merged, []byte("on side")) || bytes.Contains(merged, []byte("/q/side")) {
		t.Errorf("the merge's bundle for bob holds names or values from inside /q")
	}
	res, err = Apply(ctx, c.w, bytes.NewReader(merged), "")
	must(t, err)
	if c.head(t) != a.head(t) || !res.FastForward {
		t.Fatalf("after alice's merge: the clone's head %s, alice's %s (%+v)", c.head(t), a.head(t), res)
	}
	ca, err := a.w.LoadCommit(a.head(t))
	must(t, err)
	cc, err := c.w.LoadCommit(c.head(t))
	must(t, err)
	if ca.Tree != cc.Tree || !cc.Opaque() {
		t.Errorf("roots %s / %s, the clone's merge opaque there: %v", ca.Tree, cc.Tree, cc.Opaque())
	}
	if _, err := a.text(t, "/q/side"); err != nil {
		t.Errorf("alice: /q/side: %v", err)
	}
	e, err := tree.New(c.h.Store()).Get(cc.Tree, "/q")
	must(t, err)
	if ok, _ := c.h.Store().Has(e.ID); ok {
		t.Errorf("the clone holds /q's node")
	}
	var lines []string
	n, err := c.w.FsckReport(func(p string) { t.Errorf("fsck: %s", p) }, func(l string) { lines = append(lines, l) })
	if err != nil || n.Opaque == 0 || !strings.Contains(strings.Join(lines, "\n"), "opaque subtree") {
		t.Errorf("fsck: %v, %+v, %q; want clean, opaque parts missing by design", err, n, lines)
	}
	if _, err := c.w.Replay(nil); err != nil {
		t.Errorf("replay on the clone: %v", err)
	}
	// A reader's clone of the same history validates all of it.
	r := clone(t, a.bundle(t, "alice", CreateOptions{}), secured())
	if got, err := r.text(t, "/q/side"); err != nil || got != "on side" {
		t.Errorf("alice's clone: /q/side = %q, %v", got, err)
	}
	if opq, err := r.w.OpaqueSubtrees(); err != nil || len(opq) != 0 {
		t.Errorf("alice's clone: opaque %v, %v; want none", opq, err)
	}
}

// TestOpaqueHeader: the header's opaque list round-trips, and a list out
// of order, repeated, naming the root or a non-canonical path is refused.
func TestOpaqueHeader(t *testing.T) {
	a := origin(t)
	base := Header{Version: Version, World: a.w.ID(), Name: "w", Branch: "main", Author: a.key(t, "alice").Key()}
	enc := func(opaque ...string) []byte {
		h := base
		h.Opaque = opaque
		var b bytes.Buffer
		_, err := write(&b, h, nil)
		must(t, err)
		return b.Bytes()
	}
	hdr, _, err := Read(bytes.NewReader(enc("/a", "/a/b", "/b")))
	must(t, err)
	if strings.Join(hdr.Opaque, " ") != "/a /a/b /b" {
		t.Errorf("opaque %q", hdr.Opaque)
	}
	for _, bad := range [][]string{{"/b", "/a"}, {"/a", "/a"}, {"/"}, {"a"}, {"/a/"}, {"/a//b"}} {
		if _, _, err := Read(bytes.NewReader(enc(bad...))); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "opaque") {
			t.Errorf("opaque %q: %v; want invalid", bad, err)
		}
	}
}

// TestOpaqueRevalidate: a clone whose node may not read /q accepts bob's
// write to /q, made without the right, with its opaque parts (it cannot
// check rights inside /q); when the same commit arrives whole (made as
// alice), it is validated fully and refused, naming the path; an honest
// history arriving whole is validated and no longer opaque.
func TestOpaqueRevalidate(t *testing.T) {
	a := origin(t)
	a.putACL(t, "alice", "/q", grant(a.key(t, "alice"), acl.All))
	a.put(t, "alice", "/q/base", "alice only")
	g := a.head(t)
	c := clone(t, a.bundle(t, "bob", CreateOptions{}), secured())
	m := attacker(t, a)
	m.put(t, "bob", "/q/evil", "bob has no right here")
	if _, err := Apply(ctx, c.w, bytes.NewReader(m.bundle(t, "bob", CreateOptions{Since: g})), ""); err != nil {
		t.Fatalf("bob's write, hidden in /q: %v (a node that may not read /q cannot check it)", err)
	}
	if c.head(t) != m.head(t) {
		t.Fatalf("the clone's head %s, want m's %s", c.head(t), m.head(t))
	}
	before := state(t, c.h)
	_, err := Apply(ctx, c.w, bytes.NewReader(m.bundle(t, "bob", CreateOptions{Since: g, Reader: a.key(t, "alice").Public})), "")
	if !errs.Is(err, errs.Permission) || !strings.Contains(err.Error(), "/q/evil") {
		t.Errorf("the same commit whole: %v; want a permission error naming /q/evil", err)
	}
	if after := state(t, c.h); after != before {
		t.Errorf("something was stored:\nbefore %s\nafter  %s", before, after)
	}
	// An honest clone, then alice's whole history: validated, not opaque.
	h := clone(t, a.bundle(t, "bob", CreateOptions{}), secured())
	a.put(t, "alice", "/q/more", "alice only")
	_, err = Apply(ctx, h.w, bytes.NewReader(a.bundle(t, "bob", CreateOptions{Since: g})), "")
	must(t, err)
	hc, err := h.w.LoadCommit(h.head(t))
	must(t, err)
	if !hc.Opaque() {
		t.Fatalf("the honest clone's head is not opaque before alice's bundle")
	}
	res, err := Apply(ctx, h.w, bytes.NewReader(a.bundle(t, "alice", CreateOptions{})), "")
	must(t, err)
	if res.Revalidated == 0 {
		t.Errorf("alice's bundle: %+v, want commits revalidated", res)
	}
	hc, err = h.w.LoadCommit(h.head(t))
	must(t, err)
	if hc.Opaque() {
		t.Errorf("the head is still opaque after alice's bundle")
	}
	if got, err := h.text(t, "/q/more"); err != nil || got != "alice only" {
		t.Errorf("/q/more: %q, %v", got, err)
	}
	if err := h.w.Fsck(func(p string) { t.Errorf("fsck: %s", p) }); err != nil {
		t.Error(err)
	}
}
