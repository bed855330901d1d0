package pebblestore_test

// Benchmarks of the object store against raw Pebble doing the same work;
// docs/perf.md ("Object store") records the numbers and how they were run:
//
//	go test -run '^$' -bench . -count 5 ./cdb/store/pebblestore

import (
	"bytes"
	"encoding/binary"
	"flag"
	"io"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/pebblestore"
	"github.com/coalescent/coal/cdb/store/storetest"
	"github.com/coalescent/coal/coda"
)

// rawOptions gives raw Pebble the settings pebblestore uses.
func rawOptions() *pebble.Options {
	return &pebble.Options{
		MemTableSize:               64 << 20,
		CacheSize:                  (64 + 2*64) << 20, // as pebblestore: 64 MiB beside two memtables
		FormatMajorVersion:         pebble.FormatNewest,
		CompactionConcurrencyRange: func() (int, int) { return 1, 2 },
		Logger:                     quiet{},
	}
}

type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf(format, args...)
}

func openRaw(b *testing.B) *pebble.DB {
	db, err := pebble.Open(b.TempDir(), rawOptions())
	if err != nil {
		b.Fatal(err)
	}
	return db
}

func openStore(b *testing.B) *pebblestore.Store {
	s, err := pebblestore.Open(b.TempDir(), pebblestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

const bulkValues = 100_000

// smallValues returns bulkValues values of 100 bytes, different for each seed.
func smallValues(seed uint64) [][]byte {
	all := storetest.Random(seed, bulkValues*100)
	vals := make([][]byte, bulkValues)
	for i := range vals {
		vals[i] = all[i*100 : (i+1)*100]
	}
	return vals
}

// BenchmarkBulkWrite writes 100,000 values of 100 bytes in one batch with
// one synced commit, through the store (which hashes each value and keys it
// by id) and through raw Pebble (the same ids as keys, computed before the
// timer starts, and the same values). One op is the whole 100,000; each op
// starts from an empty database.
func BenchmarkBulkWrite(b *testing.B) {
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			s := openStore(b)
			vals := smallValues(uint64(i))
			b.StartTimer()
			bt := s.NewBatch()
			for _, v := range vals {
				if _, err := bt.Put(v); err != nil {
					b.Fatal(err)
				}
			}
			if err := bt.Commit(true); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(bulkValues)*float64(b.N)/b.Elapsed().Seconds(), "values/s")
	})
	b.Run("pebble", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			db := openRaw(b)
			vals := smallValues(uint64(i))
			keys := make([]coda.ID, len(vals))
			for j, v := range vals {
				keys[j] = coda.Sum(v)
			}
			b.StartTimer()
			bt := db.NewBatch()
			for j, v := range vals {
				if err := bt.Set(keys[j][:], v, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := bt.Commit(pebble.Sync); err != nil {
				b.Fatal(err)
			}
			bt.Close()
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(bulkValues)*float64(b.N)/b.Elapsed().Seconds(), "values/s")
	})
}

// BenchmarkSyncedCommit is one small object and a branch head written in
// one durable (fsynced) commit: the latency a user waits for per commit.
func BenchmarkSyncedCommit(b *testing.B) {
	b.Run("store", func(b *testing.B) {
		s := openStore(b)
		defer s.Close()
		v := make([]byte, 100)
		for i := 0; b.Loop(); i++ {
			binary.LittleEndian.PutUint64(v, uint64(i))
			bt := s.NewBatch()
			id, err := bt.Put(v)
			if err != nil {
				b.Fatal(err)
			}
			bt.SetRef("worlds/default/heads/main", id)
			if err := bt.Commit(true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pebble", func(b *testing.B) {
		db := openRaw(b)
		defer db.Close()
		v := make([]byte, 100)
		for i := 0; b.Loop(); i++ {
			binary.LittleEndian.PutUint64(v, uint64(i))
			id := coda.Sum(v)
			bt := db.NewBatch()
			bt.Set(id[:], v, nil)
			bt.Set([]byte("worlds/default/heads/main"), id[:], nil)
			if err := bt.Commit(pebble.Sync); err != nil {
				b.Fatal(err)
			}
			bt.Close()
		}
	})
}

const blobSize = 64 << 20

// BenchmarkBlob writes and reads one 64 MiB blob: through the store
// (chunked, streamed, hashed, one synced commit) and as one raw Pebble
// value (Set with sync, Get). Writes start from an empty database; reads
// follow a flush, so they come from sstables and the block cache.
func BenchmarkBlob(b *testing.B) {
	data := storetest.Random(64, blobSize)
	b.Run("write/store", func(b *testing.B) {
		b.SetBytes(blobSize)
		for b.Loop() {
			b.StopTimer()
			s := openStore(b)
			b.StartTimer()
			bt := s.NewBatch()
			if _, _, err := bt.PutReader(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
			if err := bt.Commit(true); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
	})
	b.Run("write/pebble", func(b *testing.B) {
		b.SetBytes(blobSize)
		for b.Loop() {
			b.StopTimer()
			db := openRaw(b)
			b.StartTimer()
			if err := db.Set([]byte("blob"), data, pebble.Sync); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
	})
	b.Run("read/store", func(b *testing.B) {
		s := openStore(b)
		defer s.Close()
		id, err := s.Put(data)
		if err != nil {
			b.Fatal(err)
		}
		s.Flush()
		b.SetBytes(blobSize)
		for b.Loop() {
			r, err := s.Open(id)
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, r); err != nil || n != blobSize {
				b.Fatal(n, err)
			}
			r.Close()
		}
	})
	b.Run("read/pebble", func(b *testing.B) {
		db := openRaw(b)
		defer db.Close()
		db.Set([]byte("blob"), data, pebble.NoSync)
		db.Flush()
		b.SetBytes(blobSize)
		for b.Loop() {
			v, closer, err := db.Get([]byte("blob"))
			if err != nil || len(v) != blobSize {
				b.Fatal(err)
			}
			io.Copy(io.Discard, bytes.NewReader(v))
			closer.Close()
		}
	})
}

var _ store.Store = (*pebblestore.Store)(nil)

// BenchmarkGet reads random 100-byte objects out of 100,000, flushed to an
// sstable: the store's Get (which copies) against raw Pebble's Get plus a
// copy. Missing measures Has of absent ids, which bloom filters answer.
func BenchmarkGet(b *testing.B) {
	vals := smallValues(7)
	ids := make([]coda.ID, len(vals))
	for i, v := range vals {
		ids[i] = coda.Sum(v)
	}
	b.Run("store", func(b *testing.B) {
		s := openStore(b)
		defer s.Close()
		bt := s.NewBatch()
		for _, v := range vals {
			bt.Put(v)
		}
		bt.Commit(false)
		s.Flush()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Get(ids[(i*7919)%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pebble", func(b *testing.B) {
		db := openRaw(b)
		defer db.Close()
		bt := db.NewBatch()
		for i, v := range vals {
			bt.Set(ids[i][:], v, nil)
		}
		bt.Commit(pebble.NoSync)
		db.Flush()
		for i := 0; b.Loop(); i++ {
			v, closer, err := db.Get(ids[(i*7919)%len(ids)][:])
			if err != nil {
				b.Fatal(err)
			}
			_ = bytes.Clone(v)
			closer.Close()
		}
	})
	b.Run("missing", func(b *testing.B) {
		s := openStore(b)
		defer s.Close()
		bt := s.NewBatch()
		for _, v := range vals {
			bt.Put(v)
		}
		bt.Commit(false)
		s.Flush()
		var id coda.ID
		for i := 0; b.Loop(); i++ {
			binary.LittleEndian.PutUint64(id[:], uint64(i))
			if has, err := s.Has(id); has || err != nil {
				b.Fatal(has, err)
			}
		}
	})
}

var assembleSize = flag.Int("assemble.size", 256<<20, "bytes of BenchmarkAssemble's value")

// BenchmarkAssemble stores a value as a fetch over the network does:
// PutChunk of each chunk (in order), then PutManifest, then one synced
// commit; from an empty store, with Pebble's value separation (chunks in
// blob files that compactions do not rewrite) and without.
func BenchmarkAssemble(b *testing.B) {
	data := storetest.Random(65, *assembleSize)
	chunks := map[coda.ID][]byte{}
	v, err := store.SplitBytes(data, func(id coda.ID, c []byte) error { chunks[id] = c; return nil })
	if err != nil {
		b.Fatal(err)
	}
	m := v.Manifest
	for _, sep := range []int{0, -1} {
		name := "separated"
		if sep < 0 {
			name = "inline"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				b.StopTimer()
				s, err := pebblestore.Open(b.TempDir(), pebblestore.Options{ValueSeparation: sep})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for _, c := range m.Chunks {
					if err := s.PutChunk(c.ID, chunks[c.ID]); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.PutManifest(*m); err != nil {
					b.Fatal(err)
				}
				if err := store.SetRef(s, "head", m.ID, true); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
		})
	}
}
