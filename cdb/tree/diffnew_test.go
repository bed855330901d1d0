package tree

import (
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

// TestDiffPrunedNewDir: DiffPruned asks prune, top down, for the
// directories inside a directory only one side has (issue 7: a directory
// with a denying .acl inside a new one), reports nothing under one it
// names, and otherwise reports what Diff reports, in the same order.
func TestDiffPrunedNewDir(t *testing.T) {
	tr := New(memstore.New())
	put := func(root coda.ID, paths ...string) coda.ID {
		var ops []Op
		for _, p := range paths {
			ops = append(ops, Op{Path: p, Entry: Value(coda.Sum([]byte(p)), Stamp{Time: 1})})
		}
		r, err := tr.Apply(root, ops)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := put(EmptyRoot, "/e/v")
	b := put(a, "/n/x", "/n/h/s", "/n/h/t/u", "/n/k/w")
	for _, dir := range []string{"new", "removed"} {
		x, y := a, b
		if dir == "removed" {
			x, y = b, a
		}
		var all []string
		if err := tr.Diff(x, y, func(c Change) error { all = append(all, c.Path); return nil }); err != nil {
			t.Fatal(err)
		}
		var asked, got, pruned []string
		err := tr.DiffPruned(x, y, func(p string, _, _ Entry) bool {
			asked = append(asked, p)
			return p == "/n/h"
		}, func(c Change) error {
			got = append(got, c.Path)
			return nil
		}, func(p string, _, _ Entry) error {
			pruned = append(pruned, p)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if want := []string{"/n", "/n/h", "/n/k"}; !slices.Equal(asked, want) {
			t.Errorf("%s: prune asked for %q, want %q", dir, asked, want)
		}
		if want := []string{"/n/h"}; !slices.Equal(pruned, want) {
			t.Errorf("%s: pruned %q, want %q", dir, pruned, want)
		}
		if want := []string{"/n/k/w", "/n/x"}; !slices.Equal(got, want) {
			t.Errorf("%s: changes %q, want %q", dir, got, want)
		}
		if want := []string{"/n/h/s", "/n/h/t/u", "/n/k/w", "/n/x"}; !slices.Equal(all, want) {
			t.Errorf("%s: Diff found %q, want %q", dir, all, want)
		}
		// Pruning nothing: what Diff reports.
		var none []string
		if err := tr.DiffPruned(x, y, func(string, Entry, Entry) bool { return false }, func(c Change) error {
			none = append(none, c.Path)
			return nil
		}, nil); err != nil || !slices.Equal(none, all) {
			t.Errorf("%s: pruning nothing: %q, %v; want %q", dir, none, err, all)
		}
	}
}
