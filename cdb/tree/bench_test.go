package tree

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

// bigTree builds a tree whose directory /big holds n values, with a
// Builder, and returns its root and the counting store.
func bigTree(tb testing.TB, n int) (*Tree, *store.CountingStore, coda.ID) {
	tb.Helper()
	cs := store.Counting(memstore.New())
	tr := New(cs)
	b := tr.NewBuilder()
	for i := range n {
		if err := b.Add(bigPath(i), Value(coda.Sum(fmt.Appendf(nil, "v%d", i)), Stamp{Time: 1})); err != nil {
			tb.Fatal(err)
		}
	}
	root, err := b.Finish()
	if err != nil {
		tb.Fatal(err)
	}
	return tr, cs, root
}

func bigPath(i int) string { return fmt.Sprintf("/big/f%08d", i) }

// changeSome returns root with k random paths of /big changed (half new
// values of existing paths, half new paths).
func changeSome(tb testing.TB, tr *Tree, root coda.ID, n, k int, r *rand.Rand, t uint64) coda.ID {
	tb.Helper()
	var ops []Op
	seen := map[string]bool{}
	for len(ops) < k {
		p := bigPath(r.IntN(n))
		if len(ops)%2 == 1 {
			p = fmt.Sprintf("/big/g%08d", r.IntN(n))
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		ops = append(ops, Op{Path: p, Entry: Value(coda.Sum(fmt.Appendf(nil, "w%d", r.Uint64())), Stamp{Time: t, Author: [32]byte{byte(t)}})})
	}
	next, err := tr.Apply(root, ops)
	if err != nil {
		tb.Fatal(err)
	}
	return next
}

// depth is the number of levels of the prolly tree of /big.
func depth(tb testing.TB, tr *Tree, root coda.ID) int {
	e, err := tr.Get(root, "/big")
	if err != nil {
		tb.Fatal(err)
	}
	n, err := tr.newOp(false).load(e.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return n.level + 1
}

// TestDiffCost checks that diffing two roots that differ in k paths of a
// 100,000-entry directory reads O(k · log n) nodes.
func TestDiffCost(t *testing.T) {
	const n = 100_000
	tr, cs, root := bigTree(t, n)
	d := depth(t, tr, root)
	r := rand.New(rand.NewPCG(1, 1))
	for _, k := range []int{1, 10, 100} {
		other := changeSome(t, tr, root, n, k, r, 2)
		cs.Reset()
		var changes int
		if err := tr.Diff(root, other, func(Change) error { changes++; return nil }); err != nil {
			t.Fatal(err)
		}
		reads, _ := objCounts(cs)
		if changes != k {
			t.Errorf("k=%d: %d changes", k, changes)
		}
		bound := 50 * k * d
		t.Logf("n=%d depth=%d k=%d: Diff read %d nodes (bound %d)", n, d, k, reads, bound)
		if int(reads) >= bound {
			t.Errorf("k=%d: Diff read %d nodes, want < %d", k, reads, bound)
		}
		cs.Reset()
		m, _, err := tr.Merge(coda.ID{}, root, other)
		if err != nil {
			t.Fatal(err)
		}
		reads, writes := objCounts(cs)
		t.Logf("n=%d k=%d: Merge read %d, wrote %d nodes", n, k, reads, writes)
		if m != other || int(reads) >= bound || int(writes) >= bound {
			t.Errorf("k=%d: Merge = %s (want %s), %d reads, %d writes", k, m.Short(), other.Short(), reads, writes)
		}
	}
	// One put writes O(log n) nodes.
	cs.Reset()
	if _, err := tr.Put(root, "/big/new", Value(coda.Sum(nil), Stamp{Time: 3})); err != nil {
		t.Fatal(err)
	}
	reads, writes := objCounts(cs)
	t.Logf("n=%d: one Put read %d, wrote %d nodes", n, reads, writes)
	if int(writes) > 2*d+4 {
		t.Errorf("one Put wrote %d nodes, want ≤ %d", writes, 2*d+4)
	}
}

var big struct {
	tr   *Tree
	cs   *store.CountingStore
	root coda.ID
}

const bigN = 1_000_000

func bigOnce(b *testing.B) (*Tree, *store.CountingStore, coda.ID) {
	if big.tr == nil {
		big.tr, big.cs, big.root = bigTree(b, bigN)
	}
	big.cs.Reset()
	return big.tr, big.cs, big.root
}

// BenchmarkBuild1M bulk-builds a directory of 1,000,000 values.
func BenchmarkBuild1M(b *testing.B) {
	var writes int64
	for b.Loop() {
		_, cs, _ := bigTree(b, bigN)
		_, w := objCounts(cs)
		writes += w
	}
	b.ReportMetric(float64(writes)/float64(b.N), "objects-written/op")
}

// BenchmarkPut1M puts one value into a directory of 1,000,000 entries.
func BenchmarkPut1M(b *testing.B) {
	tr, cs, root := bigOnce(b)
	d := depth(b, tr, root)
	r := rand.New(rand.NewPCG(2, 2))
	i := 0
	for b.Loop() {
		p := fmt.Sprintf("/big/f%08d", r.IntN(2*bigN))
		i++
		if _, err := tr.Put(root, p, Value(coda.Sum(fmt.Appendf(nil, "%d", i)), Stamp{Time: 5})); err != nil {
			b.Fatal(err)
		}
	}
	reads, writes := objCounts(cs)
	wbytes := cs.Counts().BytesWritten
	b.ReportMetric(float64(writes)/float64(b.N), "objects-written/op")
	b.ReportMetric(float64(reads)/float64(b.N), "objects-read/op")
	b.ReportMetric(float64(wbytes)/float64(b.N), "bytes-written/op")
	b.ReportMetric(float64(d), "depth")
}

// BenchmarkDiff1M10 diffs two roots that differ in 10 paths of a directory
// of 1,000,000 entries.
func BenchmarkDiff1M10(b *testing.B) {
	tr, cs, root := bigOnce(b)
	other := changeSome(b, tr, root, bigN, 10, rand.New(rand.NewPCG(3, 3)), 9)
	cs.Reset()
	for b.Loop() {
		n := 0
		if err := tr.Diff(root, other, func(Change) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 10 {
			b.Fatalf("%d changes", n)
		}
	}
	reads, _ := objCounts(cs)
	b.ReportMetric(float64(reads)/float64(b.N), "objects-read/op")
}

// BenchmarkMerge1M10 merges two heads that each changed 5 paths (10 in
// all) of a directory of 1,000,000 entries since their common base.
func BenchmarkMerge1M10(b *testing.B) {
	tr, cs, root := bigOnce(b)
	r := rand.New(rand.NewPCG(4, 4))
	x := changeSome(b, tr, root, bigN, 5, r, 10)
	y := changeSome(b, tr, root, bigN, 5, r, 11)
	cs.Reset()
	for b.Loop() {
		if _, _, err := tr.Merge(root, x, y); err != nil {
			b.Fatal(err)
		}
	}
	reads, writes := objCounts(cs)
	b.ReportMetric(float64(reads)/float64(b.N), "objects-read/op")
	b.ReportMetric(float64(writes)/float64(b.N), "objects-written/op")
}

// objCounts returns the objects read and written through cs.
func objCounts(cs *store.CountingStore) (reads, writes int64) {
	c := cs.Counts()
	return c.ObjectsRead, c.ObjectsWritten
}
