package tree

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

// TestDiffPrunedReuse: DiffPruned, run over many pairs of random trees
// (with small chunks too, for prolly trees of several levels) and so
// reusing the stacks of the calls before it, reports what a diff on fresh
// stacks reports, in the same order: the changes and the pruned
// directories, pruning none, some or every directory.
func TestDiffPrunedReuse(t *testing.T) {
	for _, small := range []bool{false, true} {
		t.Run(fmt.Sprintf("small=%v", small), func(t *testing.T) {
			if small {
				withSmallChunks(t)
			}
			for seed := range uint64(4) {
				r := rand.New(rand.NewPCG(seed, 3))
				g := &gen{r: r}
				tr := New(memstore.New())
				roots := []coda.ID{EmptyRoot}
				root, m := EmptyRoot, model{}
				for range 12 {
					root, m = replica(t, tr, g, root, m, 40)
					roots = append(roots, root)
				}
				fresh := func(a, b coda.ID, prune func(string, Entry, Entry) bool, fn func(Change) error, dir func(string, Entry, Entry) error) error {
					return tr.newOp(false).diffPruned(a, b, prune, fn, dir)
				}
				for i := range 40 {
					a, b := roots[r.IntN(len(roots))], roots[r.IntN(len(roots))]
					mode := i % 3
					prune := func(p string, _, _ Entry) bool {
						switch mode {
						case 0:
							return false
						case 1:
							return len(p)%2 == 0
						}
						return true
					}
					run := func(diff func(a, b coda.ID, prune func(string, Entry, Entry) bool, fn func(Change) error, dir func(string, Entry, Entry) error) error) ([]Change, []string, error) {
						var cs []Change
						var ps []string
						err := diff(a, b, prune, func(c Change) error { cs = append(cs, c); return nil },
							func(p string, _, _ Entry) error { ps = append(ps, p); return nil })
						return cs, ps, err
					}
					wc, wp, werr := run(fresh)
					gc, gp, gerr := run(tr.DiffPruned)
					if werr != nil || gerr != nil {
						t.Fatalf("seed %d pair %d: %v, %v", seed, i, gerr, werr)
					}
					if !reflect.DeepEqual(gc, wc) || !reflect.DeepEqual(gp, wp) {
						t.Fatalf("seed %d pair %d (prune mode %d): DiffPruned found %d changes and %d pruned, on fresh stacks %d and %d",
							seed, i, mode, len(gc), len(gp), len(wc), len(wp))
					}
				}
			}
		})
	}
}
