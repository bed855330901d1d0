package pebblestore

import (
	"github.com/cockroachdb/pebble/v2"

	"github.com/coalescent/coal/coda"
)

// SetRawObject and SetRawChunk overwrite entries behind the store's back,
// to test how corruption is reported.
func (s *Store) SetRawObject(id coda.ID, value []byte) error {
	return s.db.Set(key(prefixObject, id), value, pebble.Sync)
}

func (s *Store) SetRawChunk(id coda.ID, value []byte) error {
	return s.db.Set(key(prefixChunk, id), value, pebble.Sync)
}

func (s *Store) SetRaw(key, value []byte) error { return s.db.Set(key, value, pebble.Sync) }

// Flush writes the memtable to sstables, so that benchmarks read from disk
// structures rather than memory.
func (s *Store) Flush() error { return s.db.Flush() }

// ChunkCount returns the number of chunks stored.
func (s *Store) ChunkCount() (int, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixChunk}, UpperBound: []byte{prefixChunk + 1}})
	if err != nil {
		return 0, err
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n, it.Close()
}

// Ingested returns how many sstables Pebble has ingested since the store
// was opened.
func (s *Store) Ingested() uint64 { return s.db.Metrics().Ingest.Count }

// IngestDir is where sstables are built before they are ingested.
const IngestDir = ingestDir
