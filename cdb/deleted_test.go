package cdb

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// TestDeleteBranchRefusals: main, the current branch, an unknown branch
// and a bad name are refused with the kind and the name; nothing changes.
func TestDeleteBranchRefusals(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	if err := w.CreateBranch("dev", coda.ID{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Switch("dev"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		kind errs.Kind
		text string
	}{
		{DefaultBranch, errs.Invalid, `"main"`},
		{"dev", errs.Invalid, `"dev"`},
		{"nosuch", errs.NotExist, `"nosuch"`},
		{"a b", errs.Invalid, `"a b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.DeleteBranch(tc.name)
			if !errs.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("DeleteBranch(%q) = %v, want %v naming %s", tc.name, err, tc.kind, tc.text)
			}
		})
	}
	bs, err := w.Branches()
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 {
		t.Errorf("branches after refusals: %+v, want dev and main", bs)
	}
	if dead, err := w.DeletedBranches(); err != nil || len(dead) != 0 {
		t.Errorf("tombstones after refusals: %v, %v; want none", dead, err)
	}
	if _, err := w.DeleteBranch("dev"); err == nil || !strings.Contains(err.Error(), "current branch") {
		t.Errorf("DeleteBranch of the current branch: %v, want it named the current branch", err)
	}
}

// TestDeleteBranchTombstone: deleting records the head the branch had,
// which survives a reopen; making the branch again clears it.
func TestDeleteBranchTombstone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	h, err := Init(dir, Options{Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	w := defaultWorld(t, h)
	withSchemas(t, w)
	if err := w.CreateBranch("dev", coda.ID{}); err != nil {
		t.Fatal(err)
	}
	want, err := w.Resolve("dev")
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.DeleteBranch("dev")
	if err != nil || got != want {
		t.Fatalf("DeleteBranch(dev) = %s, %v; want %s", got, err, want)
	}
	if _, err := w.Resolve("dev"); !errs.Is(err, errs.NotExist) {
		t.Errorf("Resolve(dev) after delete: %v, want NotExist", err)
	}
	if _, err := w.DeleteBranch("dev"); !errs.Is(err, errs.NotExist) {
		t.Errorf("second DeleteBranch(dev): %v, want NotExist", err)
	}
	// Nothing is removed: the head is still a commit here.
	if _, err := w.LoadCommit(want); err != nil {
		t.Errorf("the deleted branch's head: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	h, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w = defaultWorld(t, h)
	bs, err := w.Branches()
	if err != nil || len(bs) != 1 || bs[0].Name != DefaultBranch {
		t.Errorf("branches after reopen: %+v, %v; want main alone", bs, err)
	}
	at, ok, err := w.DeletedBranch("dev")
	if err != nil || !ok || at != want {
		t.Errorf("DeletedBranch(dev) after reopen = %s, %v, %v; want %s, true", at, ok, err, want)
	}
	if dead, err := w.DeletedBranches(); err != nil || len(dead) != 1 || dead["dev"] != want {
		t.Errorf("DeletedBranches = %v, %v; want dev → %s", dead, err, want)
	}
	if _, ok, _ := w.DeletedBranch("main"); ok {
		t.Errorf("main has a tombstone")
	}

	// Made again (elsewhere than before): the tombstone goes.
	if err := w.CreateBranch("dev", w.ID()); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := w.DeletedBranch("dev"); ok || err != nil {
		t.Errorf("DeletedBranch(dev) after CreateBranch = %v, %v; want no tombstone", ok, err)
	}
	if got, err := w.Resolve("dev"); err != nil || got != w.ID() {
		t.Errorf("dev made again at %s, %v; want the genesis %s", got, err, w.ID())
	}
	// A refused CreateBranch (it exists) leaves a later tombstone alone.
	if _, err := w.DeleteBranch("dev"); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateBranch("dev", coda.ID{}); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateBranch("dev", coda.ID{}); !errs.Is(err, errs.Exist) {
		t.Errorf("CreateBranch of an existing branch: %v, want Exist", err)
	}
}

// TestDeleteBranchThenWrite: a branch deleted while not current can be
// made again and written to; its reads are of the new branch.
func TestDeleteBranchThenWrite(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	if err := w.CreateBranch("dev", coda.ID{}); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Switch("dev"))
	old := mustCommit(t, w, Op{Kind: Put, Path: "/p/a", Schema: "Person", Value: person("a", 1)})
	must(w.Switch(DefaultBranch))
	if _, err := w.DeleteBranch("dev"); err != nil {
		t.Fatal(err)
	}
	must(w.CreateBranch("dev", coda.ID{}))
	must(w.Switch("dev"))
	ci := mustCommit(t, w, Op{Kind: Put, Path: "/p/b", Schema: "Person", Value: person("b", 2)})
	head, err := w.Head()
	if err != nil || head != ci.ID {
		t.Errorf("head of dev made again: %s, %v; want %s", head, err, ci.ID)
	}
	if ok, _ := w.isAncestor(old.ID, head); ok {
		t.Errorf("the new dev holds the deleted dev's commit %s", old.ID)
	}
}
