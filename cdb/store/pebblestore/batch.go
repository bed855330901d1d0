package pebblestore

import (
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// batch is a store.Batch: a Pebble batch of object and ref entries, plus
// the conditions of its SwapRefs. Chunks of large values are committed
// ahead of it by a chunkWriter (see store.Batch).
type batch struct {
	s    *Store
	b    *pebble.Batch
	n    int
	refs bool // the batch changes refs: commit under refMu
	swap []swapCond
	done bool
	// sst, in a batch made by NewBatchSize for Options.IngestSize bytes
	// or more, takes the whole objects put in increasing id order (the
	// rest goes to b); see docs/store.md, "Large batches".
	sst *sstBuild
}

type swapCond struct {
	name string
	old  coda.ID
}

// NewBatch implements store.Store.
func (s *Store) NewBatch() store.Batch { return s.newBatch() }

func (s *Store) newBatch() *batch { return &batch{s: s, b: s.db.NewBatch()} }

// NewBatchSize implements store.SizedBatcher.
func (s *Store) NewBatchSize(size int) store.Batch {
	if s.ingestMin == 0 || size < s.ingestMin {
		return &batch{s: s, b: s.db.NewBatchWithSize(size)}
	}
	sb, err := s.newSSTBuild()
	if err != nil {
		// No file for the sstable: the objects go through the WAL.
		return &batch{s: s, b: s.db.NewBatchWithSize(size)}
	}
	return &batch{s: s, b: s.db.NewBatch(), sst: sb}
}

func (b *batch) setWhole(id coda.ID, data []byte) error {
	if b.sst != nil {
		ok, err := b.sst.add(id, data)
		if ok || err != nil {
			b.n++
			return err
		}
	}
	op := b.b.SetDeferred(1+coda.IDSize, 1+len(data))
	op.Key[0] = prefixObject
	copy(op.Key[1:], id[:])
	op.Value[0] = tagWhole
	copy(op.Value[1:], data)
	b.n++
	return op.Finish()
}

func (b *batch) setManifest(m *store.Manifest) error {
	v, err := m.AppendBinary([]byte{tagManifest})
	if err != nil {
		return err
	}
	b.n++
	return b.b.Set(key(prefixObject, m.ID), v, nil)
}

func (b *batch) add(v store.Value, w *chunkWriter) error {
	if v.Manifest == nil {
		return b.setWhole(v.ID, v.Data)
	}
	if err := w.flush(); err != nil {
		return err
	}
	return b.setManifest(v.Manifest)
}

func (b *batch) Put(data []byte) (coda.ID, error) {
	if b.done {
		return coda.ID{}, store.ErrBatchDone
	}
	if len(data) <= store.ChunkThreshold {
		id := coda.Sum(data)
		return id, b.setWhole(id, data)
	}
	w := b.s.newChunkWriter()
	defer w.discard()
	v, err := store.SplitBytes(data, w.put)
	if err != nil {
		return coda.ID{}, err
	}
	return v.ID, b.add(v, w)
}

// PutSummed implements store.SummedPutter.
func (b *batch) PutSummed(id coda.ID, data []byte) error {
	if b.done {
		return store.ErrBatchDone
	}
	if len(data) <= store.ChunkThreshold {
		return b.setWhole(id, data)
	}
	got, err := b.Put(data)
	if err == nil && got != id {
		return errs.E(errs.Internal, fmt.Sprintf("pebblestore: object %s put as %s", got, id))
	}
	return err
}

func (b *batch) PutReader(r io.Reader) (coda.ID, int64, error) {
	if b.done {
		return coda.ID{}, 0, store.ErrBatchDone
	}
	w := b.s.newChunkWriter()
	defer w.discard()
	v, err := store.SplitReader(r, w.put)
	if err != nil {
		return coda.ID{}, 0, err
	}
	return v.ID, v.Size, b.add(v, w)
}

func (b *batch) checkRef(name string) error {
	if b.done {
		return store.ErrBatchDone
	}
	return store.CheckRefName(name)
}

func (b *batch) SetRef(name string, id coda.ID) error {
	if err := b.checkRef(name); err != nil {
		return err
	}
	if id.IsZero() {
		return errs.E(errs.Invalid, "store: SetRef to the zero id (use DeleteRef)")
	}
	b.refs = true
	b.n++
	return b.b.Set(refKey(name), id[:], nil)
}

func (b *batch) DeleteRef(name string) error {
	if err := b.checkRef(name); err != nil {
		return err
	}
	b.refs = true
	b.n++
	return b.b.Delete(refKey(name), nil)
}

func (b *batch) SwapRef(name string, old, new coda.ID) error {
	if err := b.checkRef(name); err != nil {
		return err
	}
	var err error
	if new.IsZero() {
		err = b.DeleteRef(name)
	} else {
		err = b.SetRef(name, new)
	}
	if err == nil {
		b.swap = append(b.swap, swapCond{name, old})
	}
	return err
}

func (b *batch) Len() int { return b.n }

func (b *batch) Commit(sync bool) error {
	if b.done {
		return store.ErrBatchDone
	}
	defer b.Discard()
	s := b.s
	if b.sst != nil {
		return b.commitIngest(sync)
	}
	if !b.refs {
		return s.commit(b.b, sync)
	}
	// Check the conditions and apply the batch under refMu, but wait for
	// the fsync outside it, so that concurrent ref commits share their
	// syncs (Pebble's group commit). As with Pebble's own synced commits,
	// the batch is visible to readers slightly before it is durable; it is
	// acknowledged only after.
	if err := b.applyRefs(); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	return s.Sync()
}

// commitIngest commits a batch with an sstable: the sstable is finished
// and synced, ingested (durably: Pebble syncs its manifest), and then the
// rest of the batch is committed, under refMu and after the SwapRef
// conditions if it changes refs, so that a failed condition leaves no
// visible object. A crash between the two leaves objects no ref names.
func (b *batch) commitIngest(sync bool) error {
	s := b.s
	if b.sst.n == 0 {
		b.sst.discard()
		b.sst = nil
		return b.Commit(sync)
	}
	if err := b.sst.finish(); err != nil {
		return kind(err)
	}
	if !b.refs {
		if err := s.ingest(b.sst); err != nil {
			return err
		}
		if !b.b.Empty() {
			return s.commit(b.b, sync)
		}
		if sync {
			// The ingested objects are durable; earlier writes are too.
			return s.Sync()
		}
		return nil
	}
	if err := b.applyRefs(); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	return s.Sync()
}

func (b *batch) applyRefs() error {
	s := b.s
	s.refMu.Lock()
	defer s.refMu.Unlock()
	if err := b.checkSwaps(); err != nil {
		return err
	}
	if b.sst != nil {
		if err := s.ingest(b.sst); err != nil {
			return err
		}
	}
	return s.commit(b.b, false)
}

func (b *batch) checkSwaps() error {
	s := b.s
	for _, c := range b.swap {
		got, err := s.ref(c.name)
		if err != nil {
			return err
		}
		if got != c.old {
			return store.RefConflict(c.name, c.old, got)
		}
	}
	return nil
}

// Sync returns once everything committed to the store before it was
// called is on stable storage: it writes an empty synced WAL record.
// Concurrent calls share fsyncs (Pebble's group commit): cdb commits
// unsynced under a lock and syncs after it, and so do batches that change
// refs (the conditions checked under refMu, the fsync outside it).
func (s *Store) Sync() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.db.LogData(nil, pebble.Sync)
}

// commit commits a Pebble batch unless the store is closed.
func (s *Store) commit(b *pebble.Batch, sync bool) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	return b.Commit(opts)
}

func (b *batch) Discard() {
	if b.done {
		return
	}
	b.done = true
	if b.sst != nil {
		b.sst.discard()
		b.sst = nil
	}
	b.b.Close()
	b.b = nil
	b.swap = nil
}
