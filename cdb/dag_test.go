package cdb

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/coda"
)

// dag builds commit DAGs described by a tiny language:
//
//	G -> A -> B; G -> C; B -> M; C -> M
//
// G is the genesis. Every other name is a commit; one with one parent
// puts /n/NAME and /shared (so that concurrent commits conflict there),
// one with two parents is the merge of them. Statements are separated by
// ';', chains by "->". Each commit is made on its own branch, named after
// it.
type dag struct {
	t       testing.TB
	w       *World
	parents map[string][]string
	order   []string
	ids     map[string]coda.ID
}

func buildDAG(t testing.TB, w *World, src string) *dag {
	t.Helper()
	d := &dag{t: t, w: w, parents: map[string][]string{}, ids: map[string]coda.ID{}}
	seen := map[string]bool{"G": true}
	for _, stmt := range strings.Split(src, ";") {
		names := strings.Split(stmt, "->")
		for i := range names {
			names[i] = strings.TrimSpace(names[i])
		}
		for i := 1; i < len(names); i++ {
			n := names[i]
			if !slices.Contains(d.parents[n], names[i-1]) {
				d.parents[n] = append(d.parents[n], names[i-1])
			}
			if !seen[n] {
				seen[n] = true
				d.order = append(d.order, n)
			}
		}
	}
	head, err := w.Head()
	if err != nil {
		t.Fatal(err)
	}
	d.ids["G"] = head
	if err := w.CreateBranch("G", head); err != nil {
		t.Fatal(err)
	}
	// Build in an order where parents come first.
	done := map[string]bool{"G": true}
	for len(done) < len(d.order)+1 {
		progress := false
		for _, n := range d.order {
			if done[n] || !allDone(done, d.parents[n]) {
				continue
			}
			d.make(n)
			done[n] = true
			progress = true
		}
		if !progress {
			t.Fatalf("dag %q: a cycle or an unknown parent", src)
		}
	}
	return d
}

func allDone(done map[string]bool, names []string) bool {
	for _, n := range names {
		if !done[n] {
			return false
		}
	}
	return true
}

func (d *dag) make(n string) {
	t, w := d.t, d.w
	t.Helper()
	ps := d.parents[n]
	if err := w.CreateBranch(n, d.ids[ps[0]]); err != nil {
		t.Fatal(err)
	}
	if err := w.Switch(n); err != nil {
		t.Fatal(err)
	}
	switch len(ps) {
	case 1:
		ci, err := w.Commit(ctx, w.h.NodeKey(), []Op{
			{Kind: Put, Path: "/n/" + n, Schema: "Pet", Value: coda.Struct(coda.String(n))},
			{Kind: Put, Path: "/shared", Schema: "Pet", Value: coda.Struct(coda.String(n))},
		}, n)
		if err != nil {
			t.Fatalf("commit %s: %v", n, err)
		}
		d.ids[n] = ci.ID
	case 2:
		ci, _, err := w.Merge(ctx, ps[1])
		if err != nil {
			t.Fatalf("merge %s: %v", n, err)
		}
		d.ids[n] = ci.ID
	default:
		t.Fatalf("%s: %d parents", n, len(ps))
	}
}

func TestDAGMerge(t *testing.T) {
	tests := []struct {
		src       string
		merge     string // the merge commit to inspect
		conflicts int
		ff        bool
		visible   []string // names under /n at the merge
	}{
		{src: "G -> A -> B; G -> C; B -> M; C -> M", merge: "M", conflicts: 1, visible: []string{"A", "B", "C"}},
		{src: "G -> A; A -> B; A -> M; B -> M", merge: "M", ff: true, visible: []string{"A", "B"}},
		{src: "G -> A; G -> B; G -> C; A -> M1; B -> M1; M1 -> M2; C -> M2", merge: "M2", conflicts: 1, visible: []string{"A", "B", "C"}},
		// Criss-cross: the two merges of one pair are the same commit
		// (merges are deterministic), so merging them changes nothing.
		{src: "G -> A; G -> B; A -> X; B -> X; B -> Y; A -> Y; X -> Z; Y -> Z", merge: "Z", conflicts: 1, visible: []string{"A", "B"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			h := newHome(t)
			w := defaultWorld(t, h)
			withSchemas(t, w)
			d := buildDAG(t, w, tt.src)
			c, err := w.LoadCommit(d.ids[tt.merge])
			if err != nil {
				t.Fatal(err)
			}
			if tt.ff {
				if c.IsMerge() || c.ID != d.ids["B"] {
					t.Errorf("want a fast-forward to B, got %s", c.ID)
				}
			} else if !c.IsMerge() {
				t.Fatalf("%s is not a merge commit", tt.merge)
			}
			if len(c.Conflicts) != tt.conflicts {
				t.Errorf("conflicts = %+v, want %d", c.Conflicts, tt.conflicts)
			}
			ls, err := w.List(c.ID, "/n")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range ls {
				names = append(names, e.Name)
			}
			if !slices.Equal(names, tt.visible) {
				t.Errorf("/n = %v, want %v", names, tt.visible)
			}
			if tt.conflicts > 0 {
				cs, err := w.Conflicts(c.ID)
				if err != nil {
					t.Fatal(err)
				}
				k := cs[0]
				if k.WinnerItem == nil || k.LoserItem == nil || coda.Equal(k.WinnerItem.Value, k.LoserItem.Value) {
					t.Errorf("conflict values: %+v", k)
				}
				got, err := w.Get(c.ID, "/shared")
				if err != nil || !coda.Equal(got.Value, k.WinnerItem.Value) {
					t.Errorf("/shared = %v, want the winner %v", got.Value, k.WinnerItem.Value)
				}
			}
			r, err := w.Replay(nil)
			if err != nil {
				t.Fatal(err)
			}
			distinct := map[coda.ID]bool{}
			for _, id := range d.ids {
				distinct[id] = true
			}
			if r.Count != len(distinct)+1 { // + the schema commit
				t.Errorf("replayed %d commits, want %d", r.Count, len(distinct)+1)
			}
			if tt.merge == "Z" && (d.ids["X"] != d.ids["Y"] || d.ids["Z"] != d.ids["X"]) {
				t.Errorf("criss-cross merges differ: X %s, Y %s, Z %s", d.ids["X"], d.ids["Y"], d.ids["Z"])
			}
		})
	}
}

// TestMergeOrder: heads of random concurrent histories, merged in every
// order, give the same root; Replay recomputes every merge commit.
func TestMergeOrder(t *testing.T) {
	for seed := range 4 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			h := newHome(t)
			w := defaultWorld(t, h)
			withSchemas(t, w)
			g, _ := w.Head()
			const nb = 4
			var heads []string
			for b := range nb {
				name := fmt.Sprintf("b%d", b)
				heads = append(heads, name)
				if err := w.CreateBranch(name, g); err != nil {
					t.Fatal(err)
				}
			}
			// Random commits, with occasional merges between branches.
			for range 30 {
				b := heads[rng.IntN(nb)]
				if err := w.Switch(b); err != nil {
					t.Fatal(err)
				}
				if rng.IntN(5) == 0 {
					if _, _, err := w.Merge(ctx, heads[rng.IntN(nb)]); err != nil {
						t.Fatal(err)
					}
					continue
				}
				var ops []Op
				for range 1 + rng.IntN(3) {
					p := fmt.Sprintf("/d%d/k%d", rng.IntN(2), rng.IntN(6))
					if rng.IntN(4) == 0 {
						if _, err := w.Get(coda.ID{}, p); err == nil {
							ops = append(ops, Op{Kind: Delete, Path: p})
							continue
						}
					}
					ops = append(ops, Op{Kind: Put, Path: p, Schema: "Pet", Value: coda.Struct(coda.String(fmt.Sprint(rng.IntN(1000))))})
				}
				if _, err := w.Commit(ctx, w.h.NodeKey(), ops, ""); err != nil && !strings.Contains(err.Error(), "nothing to commit") {
					t.Fatal(err)
				}
			}
			var root coda.ID
			for i := range 6 {
				perm := slices.Clone(heads)
				rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
				at, err := w.Resolve(perm[0])
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("all%d", i)
				if err := w.CreateBranch(name, at); err != nil {
					t.Fatal(err)
				}
				if err := w.Switch(name); err != nil {
					t.Fatal(err)
				}
				for _, b := range perm[1:] {
					if _, _, err := w.Merge(ctx, b); err != nil {
						t.Fatal(err)
					}
				}
				// Merging again changes nothing (idempotent).
				ci, _, err := w.Merge(ctx, perm[0])
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					root = ci.Tree
				} else if ci.Tree != root {
					t.Fatalf("order %v: root %s, want %s", perm, ci.Tree, root)
				}
			}
			if _, err := w.Replay(nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}
