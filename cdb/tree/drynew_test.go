package tree

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

// loggingStore notes the ids read through it.
type loggingStore struct {
	Store
	mu   sync.Mutex
	read map[coda.ID]bool
}

func (s *loggingStore) Get(id coda.ID) ([]byte, error) {
	s.mu.Lock()
	s.read[id] = true
	s.mu.Unlock()
	return s.Store.Get(id)
}

// treeNodes returns the ids of every node of the tree root but the empty
// node.
func treeNodes(t *testing.T, tr *Tree, root coda.ID) map[coda.ID]bool {
	t.Helper()
	out := map[coda.ID]bool{}
	o := tr.newOp(false)
	var visit func(id coda.ID)
	visit = func(id coda.ID) {
		if id == EmptyRoot || out[id] {
			return
		}
		out[id] = true
		n, err := o.load(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range n.items {
			if n.level > 0 || it.key.dir {
				visit(it.e.ID)
			}
		}
	}
	visit(root)
	return out
}

// TestApplyDryNew checks ApplyDryNew against Apply and Diff on random
// batches, with deep trees: it gives Apply's root; it reports every node
// of the new tree that the old tree lacks, each once, and nothing a Diff
// of the two trees does not read: the nodes a Diff reads are those it
// reports and nodes of the old tree (a received commit's completeness is
// judged by these, docs/bundle.md).
func TestApplyDryNew(t *testing.T) {
	for _, small := range []bool{false, true} {
		t.Run(fmt.Sprintf("small=%v", small), func(t *testing.T) {
			if small {
				withSmallChunks(t)
			}
			for seed := range uint64(6) {
				r := rand.New(rand.NewPCG(seed, 7))
				g := &gen{r: r}
				tr := New(memstore.New())
				root := EmptyRoot
				applied := 0
				for step := range 60 {
					// A batch of ops the tree takes, one after the other.
					var ops []Op
					next := root
					for range 1 + r.IntN(40) {
						o := g.op()
						if n, err := tr.Apply(next, []Op{o}); err == nil {
							ops, next = append(ops, o), n
						}
					}
					if n, err := tr.Apply(root, ops); err != nil || n != next {
						t.Fatalf("seed %d step %d: Apply of the batch = %s, %v; one by one %s", seed, step, n, err, next)
					}
					applied++
					reported := map[coda.ID]bool{}
					dry, err := tr.ApplyDryNew(root, ops, func(id coda.ID) {
						if reported[id] {
							t.Errorf("seed %d step %d: node %s reported twice", seed, step, id)
						}
						reported[id] = true
					})
					if err != nil || dry != next {
						t.Fatalf("seed %d step %d: ApplyDryNew = %s, %v; Apply gives %s", seed, step, dry, err, next)
					}
					old, cur := treeNodes(t, tr, root), treeNodes(t, tr, next)
					for id := range cur {
						if !old[id] && !reported[id] {
							t.Errorf("seed %d step %d: new node %s not reported", seed, step, id)
						}
					}
					ls := &loggingStore{Store: tr.s, read: map[coda.ID]bool{}}
					if err := New(ls).Diff(root, next, func(Change) error { return nil }); err != nil {
						t.Fatal(err)
					}
					for id := range reported {
						if !cur[id] || !ls.read[id] {
							t.Errorf("seed %d step %d: reported node %s: in the new tree %v, read by the diff %v", seed, step, id, cur[id], ls.read[id])
						}
					}
					for id := range ls.read {
						if !old[id] && !reported[id] {
							t.Errorf("seed %d step %d: node %s read by the diff, not in the old tree, not reported", seed, step, id)
						}
					}
					root = next
				}
				if applied < 50 {
					t.Errorf("seed %d: %d batches applied of 60", seed, applied)
				}
			}
		})
	}
}

// TestApplyDryNewCopy: a new directory whose nodes equal another
// directory's (held by the old tree elsewhere) is reported whole, as a
// diff reads it.
func TestApplyDryNewCopy(t *testing.T) {
	tr := New(memstore.New())
	var ops, copies []Op
	for i := range 300 {
		v := Value(coda.Sum(fmt.Appendf(nil, "v%d", i)), Stamp{Time: 1})
		ops = append(ops, Op{Path: fmt.Sprintf("/y/f%03d", i), Entry: v})
		copies = append(copies, Op{Path: fmt.Sprintf("/x/f%03d", i), Entry: v})
	}
	root, err := tr.Apply(EmptyRoot, ops)
	if err != nil {
		t.Fatal(err)
	}
	y, err := tr.Get(root, "/y")
	if err != nil {
		t.Fatal(err)
	}
	var got []coda.ID
	next, err := tr.ApplyDryNew(root, copies, func(id coda.ID) { got = append(got, id) })
	if err != nil {
		t.Fatal(err)
	}
	x, err := tr.ApplyDry(root, copies)
	if err != nil || x != next {
		t.Fatalf("ApplyDryNew = %s, ApplyDry = %s, %v", next, x, err)
	}
	want := treeNodes(t, tr, y.ID)
	found := 0
	for _, id := range got {
		if want[id] {
			found++
		}
	}
	if found != len(want) || len(got) != len(want)+1 {
		t.Errorf("reported %d nodes, %d of /x's %d (+1 for the root)", len(got), found, len(want))
	}
	if got[0] != next {
		t.Errorf("first reported %s, want the root %s", got[0], next)
	}
}
