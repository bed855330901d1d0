package cdb

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/pebblestore"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
)

// bigWorld returns a Pebble-backed world holding n values under /big,
// written as one commit, and the counting store under it.
func bigWorld(b *testing.B, n int) (*World, *store.CountingStore) {
	b.Helper()
	dir := b.TempDir()
	ps, err := pebblestore.Open(filepath.Join(dir, "store"), pebblestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cs := store.Counting(ps)
	h, err := Init(filepath.Join(dir, "home"), Options{Store: cs})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	w := defaultWorld(b, h)
	withSchemas(b, w)
	petSchema, _ := mustRegistry(b, w).Lookup("Pet")
	_, err = w.write(ctx, h.NodeKey(), "fill", false, func(tx *txn) error {
		ops := make([]tree.Op, n)
		for i := range n {
			obj, err := coda.EncodeObject(petSchema, pet(fmt.Sprint(i)))
			if err != nil {
				return err
			}
			id, err := tx.st.Put(obj)
			if err != nil {
				return err
			}
			ops[i] = tree.Op{Path: fmt.Sprintf("/big/k%07d", i), Entry: tree.Value(id, tx.stamp)}
		}
		tx.pending = ops
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return w, cs
}

func mustRegistry(b testing.TB, w *World) *coda.Registry {
	r, err := w.Schemas(coda.ID{})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func worldSize(b *testing.B) int {
	if testing.Short() {
		return 100_000
	}
	return 1_000_000
}

// BenchmarkPutLargeWorld: one put and durable commit in a world of n
// entries (issue 3, benchmark b): latency, and objects written per commit.
func BenchmarkPutLargeWorld(b *testing.B) {
	n := worldSize(b)
	w, cs := bigWorld(b, n)
	key := w.h.NodeKey()
	cs.Reset()
	i := 0
	for b.Loop() {
		i++
		if _, err := w.Commit(ctx, key, []Op{petOp(fmt.Sprintf("/big/k%07d", (i*7919)%n), fmt.Sprint(i))}, ""); err != nil {
			b.Fatal(err)
		}
	}
	c := cs.Counts()
	b.ReportMetric(float64(c.ObjectsWritten)/float64(b.N), "objects-written/op")
	b.ReportMetric(float64(c.ObjectsRead)/float64(b.N), "objects-read/op")
}

// BenchmarkDiffMergeLargeWorld: diff and merge of two heads that differ in
// 10 paths in a world of n entries (issue 3, benchmark c): objects read.
func BenchmarkDiffMergeLargeWorld(b *testing.B) {
	n := worldSize(b)
	w, cs := bigWorld(b, n)
	key := w.h.NodeKey()
	base, _ := w.Head()
	i := 0
	var diffReads, mergeReads int64
	for b.Loop() {
		b.StopTimer()
		i++
		x, y := fmt.Sprintf("x%d", i), fmt.Sprintf("y%d", i)
		for k, br := range []string{x, y} {
			if err := w.CreateBranch(br, base); err != nil {
				b.Fatal(err)
			}
			if err := w.Switch(br); err != nil {
				b.Fatal(err)
			}
			var ops []Op
			for j := range 5 {
				ops = append(ops, petOp(fmt.Sprintf("/big/k%07d", (i*1000+j*7919+k*500)%n), br))
			}
			if _, err := w.Commit(ctx, key, ops, ""); err != nil {
				b.Fatal(err)
			}
		}
		hx, _ := w.Resolve(x)
		hy, _ := w.Resolve(y)
		cs.Reset()
		b.StartTimer()
		changes := 0
		if err := w.Diff(hx, hy, func(tree.Change) error { changes++; return nil }); err != nil {
			b.Fatal(err)
		}
		diffReads += cs.Counts().ObjectsRead
		cs.Reset()
		if _, _, err := w.Merge(ctx, x); err != nil {
			b.Fatal(err)
		}
		mergeReads += cs.Counts().ObjectsRead
		b.StopTimer()
		if changes != 10 {
			b.Fatalf("diff: %d changes, want 10", changes)
		}
		base = mustHead(b, w)
		b.StartTimer()
	}
	b.ReportMetric(float64(diffReads)/float64(b.N), "diff-objects-read/op")
	b.ReportMetric(float64(mergeReads)/float64(b.N), "merge-objects-read/op")
}
