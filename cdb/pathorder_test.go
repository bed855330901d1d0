package cdb

import (
	"math/rand/v2"
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
