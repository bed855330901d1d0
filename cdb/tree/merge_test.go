package tree

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

// replica applies random ops to a copy of a model and to the tree.
func replica(t *testing.T, tr *Tree, g *gen, root coda.ID, m model, n int) (coda.ID, model) {
	t.Helper()
	m = m.clone()
	for range n {
		o := g.op()
		mc := m.clone()
		if mc.apply(o) != 0 {
			continue
		}
		next, err := tr.Apply(root, []Op{o})
		if err != nil {
			t.Fatalf("Apply(%+v): %v", o, err)
		}
		root, m = next, mc
	}
	return root, m
}

// mergeModels is the naive merge: per leaf, the greater entry.
func mergeModels(a, b model) model {
	out := a.clone()
	for k, eb := range b {
		if ea, ok := out[k]; !ok || eb.Compare(ea) > 0 {
			out[k] = eb
		}
	}
	return out
}

func modelDiff(a, b model) []Change {
	keys := map[mkey]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var ks []mkey
	for k := range keys {
		if a[k] != b[k] {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, comparePathKeys)
	var out []Change
	for _, k := range ks {
		out = append(out, Change{Path: k.path, Meta: k.meta, A: a[k], B: b[k]})
	}
	return out
}

func diffAll(t *testing.T, tr *Tree, a, b coda.ID) []Change {
	t.Helper()
	var out []Change
	if err := tr.Diff(a, b, func(c Change) error {
		out = append(out, c)
		return nil
	}); err != nil {
		t.Fatalf("Diff: %v", err)
	}
	return out
}

func mustMerge(t *testing.T, tr *Tree, base, a, b coda.ID) (coda.ID, []Conflict) {
	t.Helper()
	r, c, err := tr.Merge(base, a, b)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	return r, c
}

func TestMergeLaws(t *testing.T) {
	for _, small := range []bool{false, true} {
		t.Run(fmt.Sprintf("small=%v", small), func(t *testing.T) {
			if small {
				withSmallChunks(t)
			}
			for seed := range uint64(10) {
				r := rand.New(rand.NewPCG(seed, 2))
				g := &gen{r: r}
				tr := New(memstore.New())
				base, mbase := replica(t, tr, g, EmptyRoot, model{}, 150)
				a, ma := replica(t, tr, g, base, mbase, 60)
				b, mb := replica(t, tr, g, base, mbase, 60)
				c, mc := replica(t, tr, g, base, mbase, 60)

				ab, cab := mustMerge(t, tr, base, a, b)
				ba, cba := mustMerge(t, tr, base, b, a)
				if ab != ba {
					t.Fatalf("seed %d: not commutative: %s vs %s", seed, ab.Short(), ba.Short())
				}
				if !reflect.DeepEqual(cab, cba) {
					t.Fatalf("seed %d: conflicts differ by order:\n%v\n%v", seed, cab, cba)
				}
				if want := mergeModels(ma, mb).build(t, tr); ab != want {
					t.Fatalf("seed %d: merge root %s, model says %s", seed, ab.Short(), want.Short())
				}
				if aa, cs := mustMerge(t, tr, base, a, a); aa != a || len(cs) != 0 {
					t.Fatalf("seed %d: not idempotent", seed)
				}
				if x, _ := mustMerge(t, tr, base, ab, b); x != ab {
					t.Fatalf("seed %d: merge(ab, b) != ab", seed)
				}
				abc1, _ := mustMerge(t, tr, base, ab, c)
				bc, _ := mustMerge(t, tr, base, b, c)
				abc2, _ := mustMerge(t, tr, base, a, bc)
				ac, _ := mustMerge(t, tr, base, a, c)
				abc3, _ := mustMerge(t, tr, base, ac, b)
				if abc1 != abc2 || abc1 != abc3 {
					t.Fatalf("seed %d: not associative: %s %s %s", seed, abc1.Short(), abc2.Short(), abc3.Short())
				}
				if want := mergeModels(mergeModels(ma, mb), mc).build(t, tr); abc1 != want {
					t.Fatalf("seed %d: 3-way merge root differs from the model", seed)
				}
				if err := tr.Verify(abc1); err != nil {
					t.Fatalf("seed %d: Verify: %v", seed, err)
				}
				// Merging with the base or the empty tree.
				if x, _ := mustMerge(t, tr, coda.ID{}, a, base); x != mustBuild(t, tr, mergeModels(ma, mbase)) {
					t.Fatalf("seed %d: merge with base", seed)
				}
				if x, _ := mustMerge(t, tr, coda.ID{}, EmptyRoot, a); x != a {
					t.Fatalf("seed %d: merge with the empty tree changed the tree", seed)
				}
				// Conflicts: as the model predicts.
				var want []Conflict
				for _, ch := range modelDiff(ma, mb) {
					if ch.A.Kind == 0 || ch.B.Kind == 0 {
						continue
					}
					win, lose := ch.A, ch.B
					if lose.Compare(win) > 0 {
						win, lose = lose, win
					}
					if lose.Kind != KindValue || mbase[mkey{ch.Path, ch.Meta}] == lose {
						continue
					}
					want = append(want, Conflict{Path: ch.Path, Meta: ch.Meta, Winner: win, Loser: lose})
				}
				if !reflect.DeepEqual(cab, want) {
					t.Fatalf("seed %d: conflicts\n got %v\nwant %v", seed, cab, want)
				}
				t.Logf("seed %d: %d conflicts, %d diffs", seed, len(cab), len(modelDiff(ma, mb)))
				// Replaying the merge as raw ops on one side gives the merge.
				var raw []Op
				for _, ch := range diffAll(t, tr, a, ab) {
					raw = append(raw, Op{Path: ch.Path, Meta: ch.Meta, Entry: ch.B, Raw: true})
				}
				if x, err := tr.Apply(a, raw); err != nil || x != ab {
					t.Fatalf("seed %d: replaying %d raw ops: %s, %v; want %s", seed, len(raw), x.Short(), err, ab.Short())
				}
				// Diff against the model.
				if got, want := diffAll(t, tr, a, b), modelDiff(ma, mb); !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d: Diff\n got %v\nwant %v", seed, got, want)
				}
				if got, want := diffAll(t, tr, EmptyRoot, c), modelDiff(model{}, mc); !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d: Diff from empty\n got %v\nwant %v", seed, got, want)
				}
			}
		})
	}
}

func mustBuild(t *testing.T, tr *Tree, m model) coda.ID { return m.build(t, tr) }

// TestMergeOrder merges the same set of heads in every order.
func TestMergeOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	g := &gen{r: r}
	tr := New(memstore.New())
	base, mbase := replica(t, tr, g, EmptyRoot, model{}, 100)
	var heads []coda.ID
	want := mbase
	for range 4 {
		h, m := replica(t, tr, g, base, mbase, 40)
		heads = append(heads, h)
		want = mergeModels(want, m)
	}
	wantRoot := want.build(t, tr)
	perms := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}}
	for _, p := range perms {
		acc := heads[p[0]]
		for _, i := range p[1:] {
			acc, _ = mustMerge(t, tr, base, acc, heads[i])
		}
		if acc != wantRoot {
			t.Errorf("order %v: root %s, want %s", p, acc.Short(), wantRoot.Short())
		}
	}
	// Pairwise tree of merges.
	l, _ := mustMerge(t, tr, base, heads[0], heads[3])
	rr, _ := mustMerge(t, tr, base, heads[2], heads[1])
	if x, _ := mustMerge(t, tr, base, rr, l); x != wantRoot {
		t.Errorf("balanced merge: root %s, want %s", x.Short(), wantRoot.Short())
	}
}

// TestMergeRemoveDir: rm -r /a concurrent with a new /a/b keeps /a/b.
func TestMergeRemoveDir(t *testing.T) {
	tr := New(memstore.New())
	s := func(tm uint64, a byte) Stamp { return Stamp{Time: tm, Author: [32]byte{a}} }
	v := func(x string) coda.ID { return coda.Sum([]byte(x)) }
	base, err := tr.Apply(EmptyRoot, []Op{
		{Path: "/a/x", Entry: Value(v("x"), s(1, 1))},
		{Path: "/a/y", Entry: Value(v("y"), s(1, 1))},
		{Path: "/k", Entry: Value(v("k0"), s(1, 1))},
	})
	if err != nil {
		t.Fatal(err)
	}
	left, err := tr.Apply(base, []Op{
		{Path: "/a", Entry: Tombstone(s(2, 1)), Recursive: true},
		{Path: "/k", Entry: Value(v("k1"), s(2, 1))},
	})
	if err != nil {
		t.Fatal(err)
	}
	right, err := tr.Apply(base, []Op{
		{Path: "/a/b", Entry: Value(v("b"), s(3, 2))},
		{Path: "/k", Entry: Value(v("k2"), s(3, 2))},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, conflicts, err := tr.Merge(base, left, right)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	tr.Walk(m, "/", func(p string, e Entry) error {
		got = append(got, p)
		return nil
	})
	if want := []string{"/a/b", "/k"}; !slices.Equal(got, want) {
		t.Errorf("merged paths %v, want %v", got, want)
	}
	if e, _ := tr.Get(m, "/k"); e.ID != v("k2") {
		t.Errorf("/k = %v, want the later k2", e)
	}
	want := []Conflict{{Path: "/k", Winner: Value(v("k2"), s(3, 2)), Loser: Value(v("k1"), s(2, 1))}}
	if !reflect.DeepEqual(conflicts, want) {
		t.Errorf("conflicts %v, want %v", conflicts, want)
	}
}

func TestChangeKind(t *testing.T) {
	v, tomb := Value(coda.Sum(nil), Stamp{}), Tombstone(Stamp{})
	for _, tc := range []struct {
		a, b Entry
		want ChangeKind
	}{
		{Entry{}, v, Added}, {tomb, v, Added}, {v, Entry{}, Removed}, {v, tomb, Removed},
		{v, v, Changed}, {Entry{}, tomb, Hidden}, {tomb, tomb, Hidden},
	} {
		if got := (Change{A: tc.a, B: tc.b}).Kind(); got != tc.want {
			t.Errorf("%v → %v: %v, want %v", tc.a.Kind, tc.b.Kind, got, tc.want)
		}
	}
}
