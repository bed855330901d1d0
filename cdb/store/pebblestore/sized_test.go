package pebblestore_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/pebblestore"
	"github.com/coalescent/coal/coda"
)

// TestNewBatchSize: a batch made with room up front holds what a batch
// does, past the room it was given, and commits it (and only at Commit).
func TestNewBatchSize(t *testing.T) {
	s, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var st store.Store = s
	sb, ok := st.(store.SizedBatcher)
	if !ok {
		t.Fatal("pebblestore.Store is not a store.SizedBatcher")
	}
	b := sb.NewBatchSize(1 << 10)
	defer b.Discard()
	want := map[coda.ID][]byte{}
	for i := range 200 {
		data := fmt.Appendf(nil, "object %d", i)
		id := coda.Sum(data)
		if i%2 == 0 {
			if err := b.(store.SummedPutter).PutSummed(id, data); err != nil {
				t.Fatal(err)
			}
		} else if got, err := b.Put(data); err != nil || got != id {
			t.Fatalf("Put: %s, %v, want %s", got, err, id)
		}
		want[id] = data
	}
	for id := range want {
		if ok, err := s.Has(id); err != nil || ok {
			t.Fatalf("before Commit: Has(%s) = %v, %v, want false", id, ok, err)
		}
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	for id, data := range want {
		got, err := s.Get(id)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get(%s) = %q, %v, want %q", id, got, err, data)
		}
	}
}
