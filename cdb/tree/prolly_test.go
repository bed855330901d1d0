package tree

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

// TestProllyEdits applies random batches of inserts, updates and removals
// to one directory's prolly tree and compares it, after every batch, with
// the tree chunked from scratch from a sorted map — including removals,
// which shrink trees and merge chunks (operations on paths never remove
// items, so only this test reaches those paths hard).
func TestProllyEdits(t *testing.T) {
	for _, small := range []bool{false, true} {
		t.Run(fmt.Sprintf("small=%v", small), func(t *testing.T) {
			if small {
				withSmallChunks(t)
			}
			for seed := range uint64(6) {
				r := rand.New(rand.NewPCG(seed, 3))
				tr := New(memstore.New())
				o := tr.newOp(true)
				m := map[key]Entry{}
				id := EmptyRoot
				universe := 3000
				if small {
					universe = 400
				}
				for step := range 60 {
					var edits []edit
					seen := map[key]bool{}
					n := 1 + r.IntN(40)
					if r.IntN(10) == 0 {
						n = 500 // big batches, sometimes nearly everything
					}
					for range n {
						k := key{name: fmt.Sprintf("k%05d", r.IntN(universe)), dir: r.IntN(4) == 0}
						if seen[k] {
							continue
						}
						seen[k] = true
						if r.IntN(3) == 0 || step > 50 {
							edits = append(edits, edit{key: k, del: true})
							delete(m, k)
							continue
						}
						e := Value(coda.Sum(fmt.Appendf(nil, "%d", r.Uint64())), Stamp{Time: uint64(step)})
						if k.dir {
							e = Entry{Kind: KindDir, ID: e.ID, Live: 1}
						}
						edits = append(edits, edit{key: k, e: e})
						m[k] = e
					}
					slices.SortFunc(edits, func(a, b edit) int { return compareKeys(a.key, b.key) })
					var err error
					if id, err = o.applyEdits(o, id, edits); err != nil {
						t.Fatal(err)
					}
					// From scratch.
					var items []item
					for k, e := range m {
						items = append(items, item{key: k, e: e})
					}
					slices.SortFunc(items, func(a, b item) int { return compareKeys(a.key, b.key) })
					fresh := tr.newOp(false)
					refs, _, err := fresh.chunk(0, items, true, false)
					if err != nil {
						t.Fatal(err)
					}
					want, err := fresh.top(0, refs)
					if err != nil {
						t.Fatal(err)
					}
					if id != want {
						t.Fatalf("seed %d step %d: %d items: edited tree %s, from scratch %s", seed, step, len(items), id.Short(), want.Short())
					}
					var got []item
					if err := tr.newOp(false).each(id, key{}, func(it item) error { got = append(got, it); return nil }); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, items) {
						t.Fatalf("seed %d step %d: iteration differs from the model", seed, step)
					}
				}
				if len(m) != 0 && id == EmptyRoot {
					t.Fatal("empty root with items")
				}
			}
		})
	}
}
