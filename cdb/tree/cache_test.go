package tree

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

// cachingStore counts Gets and offers a NodeCache for every id but those
// in skip.
type cachingStore struct {
	Store
	c    *NodeCache
	gets atomic.Int64
	skip map[coda.ID]bool
}

func (s *cachingStore) Get(id coda.ID) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(id)
}

func (s *cachingStore) NodeCache(id coda.ID) *NodeCache {
	if s.skip[id] {
		return nil
	}
	return s.c
}

// TestNodeCache checks that Trees over a CachingStore read each node from
// the store once (a second Tree included), not a node NodeCache refuses
// to cache, that results are the same as without the cache, and that a
// full cache drops old nodes rather than growing.
func TestNodeCache(t *testing.T) {
	ms := memstore.New()
	var ops []Op
	for i := range 2000 {
		ops = append(ops, Op{Path: fmt.Sprintf("/d/k%04d", i), Entry: Value(coda.Sum([]byte{byte(i), byte(i >> 8)}), Stamp{Time: 1})})
	}
	root, err := New(ms).Apply(EmptyRoot, ops)
	if err != nil {
		t.Fatal(err)
	}
	cs := &cachingStore{Store: ms, c: NewNodeCache(64 << 20)}
	if _, err := New(cs).Get(root, "/d/k0999"); err != nil {
		t.Fatal(err)
	}
	first := cs.gets.Load()
	if first == 0 {
		t.Fatal("no Get on a cold cache")
	}
	e, err := New(cs).Get(root, "/d/k0999")
	if err != nil || e.ID != ops[999].Entry.ID {
		t.Fatalf("cached Get = %v, %v; want %v", e, err, ops[999].Entry.ID)
	}
	if n := cs.gets.Load() - first; n != 0 {
		t.Errorf("a second Tree read %d nodes from the store; the cache should hold them", n)
	}
	// A node NodeCache refuses is read every time.
	cs.skip = map[coda.ID]bool{root: true}
	var reads []int64
	for range 2 {
		before := cs.gets.Load()
		if _, err := New(cs).Get(root, "/d/k0001"); err != nil {
			t.Fatal(err)
		}
		reads = append(reads, cs.gets.Load()-before)
	}
	if reads[1] != 1 {
		t.Errorf("the second Get read %d nodes from the store, want 1 (the root, which may not be cached; the rest is)", reads[1])
	}
	// A small cache stays small.
	small := &cachingStore{Store: ms, c: NewNodeCache(4096)}
	if err := New(small).Walk(root, "/", func(string, Entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	small.c.mu.Lock()
	n := len(small.c.cur) + len(small.c.old)
	small.c.mu.Unlock()
	if n > 4 {
		t.Errorf("a cache of 4096 bytes holds %d nodes of about 4 KB", n)
	}
}
