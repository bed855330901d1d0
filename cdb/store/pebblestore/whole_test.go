package pebblestore_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/pebblestore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// ReadWhole gives exactly the whole objects among ascending ids, with
// their bytes, from the memtable and from sstables alike; it skips
// missing and chunked ones, refuses ids out of order, and stops at fn's
// error.
func TestReadWhole(t *testing.T) {
	s := open(t, t.TempDir())
	want := map[coda.ID][]byte{}
	for i := range 300 {
		b := fmt.Appendf(nil, "object %d", i)
		id, err := s.Put(b)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = b
	}
	if err := s.Flush(); err != nil { // half in sstables, half in the memtable
		t.Fatal(err)
	}
	for i := 300; i < 600; i++ {
		b := fmt.Appendf(nil, "object %d", i)
		id, err := s.Put(b)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = b
	}
	big := bytes.Repeat([]byte("chunked value "), 2*store.ChunkThreshold/14)
	bigID, err := s.Put(big)
	if err != nil {
		t.Fatal(err)
	}
	ids := []coda.ID{bigID, coda.Sum([]byte("never stored")), coda.Sum([]byte("nor this"))}
	for id := range want {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
	got := map[coda.ID][]byte{}
	last := -1
	err = s.ReadWhole(ids, func(i int, data []byte) error {
		if i <= last {
			t.Errorf("fn(%d) after fn(%d): not in the order of ids", i, last)
		}
		last = i
		got[ids[i]] = bytes.Clone(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("ReadWhole gave %d objects, want the %d stored whole", len(got), len(want))
	}
	for id, b := range want {
		if !bytes.Equal(got[id], b) {
			t.Errorf("object %s: got %q, want %q", id.Short(), got[id], b)
		}
	}
	if _, ok := got[bigID]; ok {
		t.Error("ReadWhole gave the chunked value; it is the caller's to Open")
	}

	// Out of order: refused before any call.
	calls := 0
	ids[0], ids[1] = ids[1], ids[0]
	err = s.ReadWhole(ids, func(int, []byte) error { calls++; return nil })
	if !errors.Is(err, errs.Invalid) || calls != 0 {
		t.Errorf("ids out of order: err %v after %d calls, want errs.Invalid after none", err, calls)
	}
	ids[0], ids[1] = ids[1], ids[0]

	// fn's error stops the read.
	stop := errors.New("stop")
	calls = 0
	err = s.ReadWhole(ids, func(int, []byte) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("fn failing: err %v after %d calls, want stop after 1", err, calls)
	}
}

// With VerifyReads, an object whose bytes do not hash to its id is
// skipped, so that the caller's ordinary read reports it.
func TestReadWholeVerify(t *testing.T) {
	dir := t.TempDir()
	s, err := pebblestore.Open(dir, pebblestore.Options{VerifyReads: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	good, err := s.Put([]byte("good"))
	if err != nil {
		t.Fatal(err)
	}
	rotten, err := s.Put([]byte("rotten"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetRawObject(rotten, append([]byte{0}, "r0tten"...)); err != nil {
		t.Fatal(err)
	}
	ids := []coda.ID{good, rotten}
	slices.SortFunc(ids, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
	var got []coda.ID
	if err := s.ReadWhole(ids, func(i int, _ []byte) error { got = append(got, ids[i]); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []coda.ID{good}) {
		t.Errorf("ReadWhole with VerifyReads gave %v, want only %s", got, good.Short())
	}
	if _, err := s.Get(rotten); !errors.Is(err, errs.Corrupt) {
		t.Errorf("Get(rotten) = %v, want errs.Corrupt", err)
	}
}
