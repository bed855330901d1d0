package tree

import (
	"fmt"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

// resetMemo empties the id memo, so that the next dry writes hash.
func resetMemo() {
	memo.mu.Lock()
	memo.cur, memo.old = make(map[uint64]memoEntry), nil
	memo.mu.Unlock()
}

// TestMemoDryIDs checks that ApplyDry gives the root Apply wrote whether
// its nodes' ids come from the memo (filled by that Apply) or are hashed
// afresh, and that a dry replay of other ops (which must miss the memo
// for the nodes that differ) gives the root Apply gives for them.
func TestMemoDryIDs(t *testing.T) {
	tr := New(memstore.New())
	var ops []Op
	for i := range 500 {
		ops = append(ops, Op{Path: fmt.Sprintf("/d%d/%d", i%7, i), Entry: Value(coda.Sum(fmt.Appendf(nil, "%d", i)), Stamp{Time: uint64(i)})})
	}
	base, err := tr.Apply(EmptyRoot, ops)
	if err != nil {
		t.Fatal(err)
	}
	next := []Op{{Path: "/d3/x", Entry: Value(coda.Sum([]byte("x")), Stamp{Time: 900})}}
	other := []Op{{Path: "/d3/x", Entry: Value(coda.Sum([]byte("y")), Stamp{Time: 900})}}
	want, err := tr.Apply(base, next)
	if err != nil {
		t.Fatal(err)
	}
	// Now the memo holds want's nodes.
	if got, err := tr.ApplyDry(base, next); err != nil || got != want {
		t.Fatalf("dry replay with the memo: %v, %v; want %v", got, err, want)
	}
	dryOther, err := tr.ApplyDry(base, other)
	if err != nil {
		t.Fatal(err)
	}
	if dryOther == want {
		t.Fatalf("other ops gave the same root %v", want)
	}
	resetMemo()
	if got, err := tr.ApplyDry(base, next); err != nil || got != want {
		t.Fatalf("dry replay without the memo: %v, %v; want %v", got, err, want)
	}
	resetMemo()
	wantOther, err := tr.Apply(base, other)
	if err != nil {
		t.Fatal(err)
	}
	if dryOther != wantOther {
		t.Fatalf("dry replay of other ops gave %v, Apply %v", dryOther, wantOther)
	}
}

// TestMemoNeedsEqualContent checks that an entry under a node's key whose
// content differs is not taken for it.
func TestMemoNeedsEqualContent(t *testing.T) {
	a := &node{items: []item{{key: key{"a", false}, e: Value(coda.Sum([]byte("1")), Stamp{Time: 1})}}}
	b := &node{items: []item{{key: key{"a", false}, e: Value(coda.Sum([]byte("2")), Stamp{Time: 1})}}}
	k := memo.sum(a)
	if memo.sum(b) == k {
		t.Fatal("different nodes, same memo hash")
	}
	memo.add(k, coda.Sum(encodeNode(a)), a)
	if id, ok := memo.lookup(k, b); ok {
		t.Fatalf("node b found as %v under a's key", id)
	}
	if id, ok := memo.lookup(k, a); !ok || id != coda.Sum(encodeNode(a)) {
		t.Fatalf("node a: %v, %v", id, ok)
	}
	c := &node{level: 1, items: a.items}
	if _, ok := memo.lookup(k, c); ok {
		t.Fatal("a node of another level found under a's key")
	}
}

// TestDryArenaReuse checks that the item buffers dry replays reuse do
// not leak into what outlives them: dry replays that miss the memo (it
// then keeps copies) followed by others that reuse the same slabs, then
// the same ops applied for real, give the same roots.
func TestDryArenaReuse(t *testing.T) {
	tr := New(memstore.New())
	var ops []Op
	for i := range 300 {
		ops = append(ops, Op{Path: fmt.Sprintf("/d%d/%d", i%3, i), Entry: Value(coda.Sum(fmt.Appendf(nil, "%d", i)), Stamp{Time: uint64(i)})})
	}
	base, err := tr.Apply(EmptyRoot, ops)
	if err != nil {
		t.Fatal(err)
	}
	resetMemo()
	op := func(i int) []Op {
		return []Op{{Path: fmt.Sprintf("/d%d/n%d", i%3, i), Entry: Value(coda.Sum(fmt.Appendf(nil, "n%d", i)), Stamp{Time: uint64(1000 + i)})}}
	}
	dry := make([]coda.ID, 40)
	for round := range 2 { // the second round hits the memo's copies
		for i := range dry {
			got, err := tr.ApplyDry(base, op(i))
			if err != nil {
				t.Fatal(err)
			}
			if round == 1 && got != dry[i] {
				t.Fatalf("dry replay %d: %v, then %v", i, dry[i], got)
			}
			dry[i] = got
		}
	}
	resetMemo()
	for i := range dry {
		want, err := tr.Apply(base, op(i))
		if err != nil {
			t.Fatal(err)
		}
		if dry[i] != want {
			t.Fatalf("op %d: dry replay %v, Apply %v", i, dry[i], want)
		}
	}
}
