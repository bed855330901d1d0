package cdb

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb/tree"
)

// TestComparePaths: comparePaths, which does not split, orders every pair
// of canonical paths (with and without the metadata flag) as
// comparePathKeys orders their split opKeys — edge cases (the root, a
// name that is a prefix of another, a segment that sorts before or after
// "/") and random paths over a small alphabet.
func TestComparePaths(t *testing.T) {
	paths := []string{"/", "/a", "/a/b", "/a/b/c", "/ab", "/a-", "/a-/b", "/a0", "/b", "/a/a", "/aa/a", "/é", "/a/é", "/a.b", "/a.b/c"}
	r := rand.New(rand.NewPCG(7, 7))
	const alpha = "ab-./"
	for len(paths) < 300 {
		n := 1 + r.IntN(6)
		b := []byte{'/'}
		for range n {
			b = append(b, alpha[r.IntN(len(alpha))])
		}
		p := string(b)
		if segs, err := tree.SplitPath(p); err == nil && tree.JoinPath(segs) == p {
			paths = append(paths, p)
		}
	}
	key := func(p string, meta bool) []string {
		segs, err := tree.SplitPath(p)
		if err != nil {
			t.Fatal(err)
		}
		return opKey(segs, meta)
	}
	for _, a := range paths {
		for _, b := range paths {
			for _, am := range []bool{false, true} {
				for _, bm := range []bool{false, true} {
					got := comparePaths(a, am, b, bm)
					want := comparePathKeys(key(a, am), key(b, bm))
					if got != want {
						t.Fatalf("comparePaths(%q, %v, %q, %v) = %d, want %d", a, am, b, bm, got, want)
					}
				}
			}
		}
	}
}

// TestMergeRuns: ops grouped by directory as commits group them, each
// group in path order, the groups in random order (with empty ones), come
// out of mergeRuns in path order — whether the groups' runs overlap
// (a directory and its subdirectory) or lie side by side.
func TestMergeRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	for round := range 300 {
		seen := map[string]bool{}
		var all []Change
		for range 1 + r.IntN(40) {
			p := ""
			for range 1 + r.IntN(3) {
				p += "/" + string(rune('a'+r.IntN(3)))
			}
			meta := r.IntN(4) == 0
			if k := fmt.Sprint(p, meta); !seen[k] {
				seen[k] = true
				all = append(all, Change{Path: p, Meta: meta})
			}
		}
		less := func(a, b Change) int { return comparePaths(a.Path, a.Meta, b.Path, b.Meta) }
		want := slices.SortedFunc(slices.Values(all), less)
		by := map[string][]Change{}
		for _, o := range want {
			by[opDir(o.Path, o.Meta)] = append(by[opDir(o.Path, o.Meta)], o)
		}
		var ops []Change
		var runs [][2]int
		for _, d := range slices.Collect(maps.Keys(by)) { // random order
			if r.IntN(3) == 0 {
				runs = append(runs, [2]int{len(ops), len(ops)})
			}
			runs = append(runs, [2]int{len(ops), len(ops) + len(by[d])})
			ops = append(ops, by[d]...)
		}
		if got := mergeRuns(ops, runs); !slices.Equal(got, want) {
			t.Fatalf("round %d: mergeRuns gave %v, want %v", round, got, want)
		}
	}
}
