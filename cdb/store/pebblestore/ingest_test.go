package pebblestore_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/pebblestore"
	"github.com/coalescent/coal/cdb/store/storetest"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// ingestOptions makes every batch of NewBatchSize(ingestBatch) ingest.
var ingestOptions = pebblestore.Options{IngestSize: 1 << 10}

const ingestBatch = 1 << 20

// sortedObjects returns n small objects and their ids, in id order.
func sortedObjects(seed uint64, n int) ([]coda.ID, [][]byte) {
	rnd := storetest.Random(seed, n*40)
	type obj struct {
		id   coda.ID
		data []byte
	}
	objs := make([]obj, n)
	for i := range objs {
		d := rnd[i*40 : i*40+10+i%30]
		objs[i] = obj{coda.Sum(d), d}
	}
	slices.SortFunc(objs, func(a, b obj) int { return bytes.Compare(a.id[:], b.id[:]) })
	ids, data := make([]coda.ID, n), make([][]byte, n)
	for i, o := range objs {
		ids[i], data[i] = o.id, o.data
	}
	return ids, data
}

func emptyIngestDir(t *testing.T, dir string) {
	t.Helper()
	left, err := os.ReadDir(filepath.Join(dir, pebblestore.IngestDir))
	if err != nil || len(left) > 0 {
		t.Fatalf("the ingest directory holds %v (%v), want nothing", left, err)
	}
}

// TestIngestBatch: a sized batch over Options.IngestSize takes objects in
// id order into an sstable and the rest (out of order, repeated, chunked,
// refs) into its Pebble batch; nothing is visible before Commit, all of
// it after (and the objects put before it), also after reopening, and the
// sstable was ingested.
func TestIngestBatch(t *testing.T) {
	dir := t.TempDir()
	s, err := pebblestore.Open(dir, ingestOptions)
	if err != nil {
		t.Fatal(err)
	}
	// Objects in the memtable, among the table's keys: Pebble ingests
	// the table above the memtable (a flushable ingest).
	before, beforeData := sortedObjects(4, 50)
	for _, d := range beforeData {
		if _, err := s.Put(d); err != nil {
			t.Fatal(err)
		}
	}
	ids, data := sortedObjects(1, 500)
	b := s.NewBatchSize(ingestBatch)
	sp := b.(store.SummedPutter)
	for i := range ids {
		if err := sp.PutSummed(ids[i], data[i]); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 { // a repeat, and one out of order
			if err := sp.PutSummed(ids[i], data[i]); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Put(data[i/2]); err != nil {
				t.Fatal(err)
			}
		}
	}
	large := storetest.Random(2, store.ChunkThreshold*3)
	lid, err := b.Put(large)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SwapRef("heads/main", coda.ID{}, ids[0]); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Has(ids[1]); err != nil || ok {
		t.Fatalf("before Commit: Has = %v, %v", ok, err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if n := s.Ingested(); n != 1 {
		t.Errorf("%d sstables ingested, want 1", n)
	}
	emptyIngestDir(t, dir)
	check := func(s *pebblestore.Store) {
		t.Helper()
		for i, id := range ids {
			got, err := s.Get(id)
			if err != nil || !bytes.Equal(got, data[i]) {
				t.Fatalf("Get(%s) = %q, %v, want %q", id.Short(), got, err, data[i])
			}
		}
		for i, id := range before {
			if got, err := s.Get(id); err != nil || !bytes.Equal(got, beforeData[i]) {
				t.Fatalf("Get(%s) = %q, %v, want %q", id.Short(), got, err, beforeData[i])
			}
		}
		if got, err := s.Get(lid); err != nil || !bytes.Equal(got, large) {
			t.Fatalf("Get(large) = %d bytes, %v", len(got), err)
		}
		if head, err := s.GetRef("heads/main"); err != nil || head != ids[0] {
			t.Fatalf("head %s, %v", head.Short(), err)
		}
		n := 0
		for _, err := range s.Objects() {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != len(before)+len(ids)+1 {
			t.Fatalf("Objects lists %d, want %d", n, len(before)+len(ids)+1)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = pebblestore.Open(dir, ingestOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
}

// TestIngestRefused: a sized batch whose SwapRef fails, or that is
// discarded, leaves no object visible and no file behind; one holding
// only refs commits them.
func TestIngestRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := pebblestore.Open(dir, ingestOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids, data := sortedObjects(3, 100)
	fill := func() store.Batch {
		b := s.NewBatchSize(ingestBatch)
		for i := range ids {
			if err := b.(store.SummedPutter).PutSummed(ids[i], data[i]); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	b := fill()
	b.SwapRef("heads/main", ids[5], ids[0]) // the ref does not exist
	if err := b.Commit(true); !errs.Is(err, errs.Conflict) {
		t.Fatalf("Commit with a failing SwapRef = %v, want a conflict", err)
	}
	fill().Discard()
	for _, id := range ids {
		if ok, err := s.Has(id); err != nil || ok {
			t.Fatalf("after a refused commit: Has(%s) = %v, %v", id.Short(), ok, err)
		}
	}
	if n := s.Ingested(); n != 0 {
		t.Errorf("%d sstables ingested, want 0", n)
	}
	emptyIngestDir(t, dir)

	b = s.NewBatchSize(ingestBatch)
	b.SetRef("heads/main", ids[1])
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if head, err := s.GetRef("heads/main"); err != nil || head != ids[1] {
		t.Fatalf("head %s, %v", head.Short(), err)
	}
	emptyIngestDir(t, dir)

	// Without refs, a sized batch commits its objects alone.
	b = fill()
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Has(ids[7]); err != nil || !ok {
		t.Fatalf("Has = %v, %v", ok, err)
	}
}

// TestIngestLeftovers: an sstable a crash left half built is removed by
// the next Open.
func TestIngestLeftovers(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.Close()
	left := filepath.Join(dir, pebblestore.IngestDir, "000001.sst")
	if err := os.WriteFile(left, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a leftover sstable survives Open: %v", err)
	}
}

// ingester is the process TestKillDuringIngests kills: it commits sized
// batches that ingest (200 objects and a head object listing their ids,
// the head ref swapped) with sync, and prints each head id once Commit
// has returned.
func ingester(dir string) int {
	s, err := pebblestore.Open(dir, ingestOptions)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	old, _ := s.GetRef("heads/main")
	for i := 0; ; i++ {
		ids, data := sortedObjects(uint64(os.Getpid())<<20|uint64(i), 200)
		b := s.NewBatchSize(ingestBatch)
		for j := range ids {
			b.(store.SummedPutter).PutSummed(ids[j], data[j])
		}
		var list []byte
		for _, id := range ids {
			list = append(list, id[:]...)
		}
		head, _ := b.Put(list)
		b.SwapRef("heads/main", old, head)
		if err := b.Commit(true); err != nil {
			fmt.Println("error:", err)
			return 1
		}
		old = head
		fmt.Println(head.String())
	}
}

// TestKillDuringIngests is TestKillDuringWrites for batches that ingest
// their objects: after each SIGKILL, every acknowledged head and the
// current one are there with every object they list, and the ingest
// directory is empty again.
func TestKillDuringIngests(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	dir := t.TempDir()
	acked := killWriter(t, dir, "COAL_TEST_INGESTER", 6, 40, func(round int, acked []coda.ID) {
		s, err := pebblestore.Open(dir, ingestOptions)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		defer s.Close()
		emptyIngestDir(t, dir)
		head, err := s.GetRef("heads/main")
		if err != nil {
			t.Fatalf("round %d: head: %v", round, err)
		}
		for _, id := range append(acked, head) {
			list, err := s.Get(id)
			if err != nil {
				t.Fatalf("round %d: acknowledged head %s: %v", round, id.Short(), err)
			}
			for k := 0; k+coda.IDSize <= len(list); k += coda.IDSize {
				if err := s.Verify(coda.ID(list[k : k+coda.IDSize])); err != nil {
					t.Fatalf("round %d: head %s: %v", round, id.Short(), err)
				}
			}
		}
	})
	t.Logf("%d commits acknowledged, all intact", len(acked))
}
