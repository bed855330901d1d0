package store_test

import (
	"io"
	"testing"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

func TestCounting(t *testing.T) {
	c := store.Counting(memstore.New())
	defer c.Close()
	id, _ := c.Put([]byte("hello"))
	b := c.NewBatch()
	b.Put([]byte("a"))
	b.Put([]byte("bc"))
	b.SetRef("heads/main", id)
	if got := c.Counts(); got.ObjectsWritten != 1 {
		t.Fatalf("before Commit: %+v", got)
	}
	b.Commit(false)
	discarded := c.NewBatch()
	discarded.Put([]byte("not counted"))
	discarded.Discard()
	c.Get(id)
	c.Get(coda.Sum([]byte("missing")))
	c.Has(id)
	bl, _ := c.Open(id)
	io.ReadAll(bl)
	c.GetRef("heads/main")
	want := store.Counts{ObjectsRead: 2, BytesRead: 10, Lookups: 1, ObjectsWritten: 3, BytesWritten: 8, RefsRead: 1, RefsWritten: 1}
	if got := c.Counts(); got != want {
		t.Fatalf("Counts = %+v\nwant %+v", got, want)
	}
	if _, ok := c.Unwrap().(store.Chunked); !ok {
		t.Fatal("Unwrap lost the Chunked capability")
	}
	c.Reset()
	if got := c.Counts(); got != (store.Counts{}) {
		t.Fatalf("after Reset: %+v", got)
	}
}
