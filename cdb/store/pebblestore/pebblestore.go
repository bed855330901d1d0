// Package pebblestore is the store.Store that coal keeps on disk, built on
// Pebble (github.com/cockroachdb/pebble/v2). One directory holds one store,
// and only one process may have it open at a time.
//
// Key layout (docs/store.md "Pebble key layout"). Every key starts with a
// one-byte prefix naming its space; ids are the 32 raw bytes:
//
//	key                     value
//	0x00 "format"           "coal-store/1": the layout version, written on creation
//	'o' (0x6f) + id[32]     0x00 + the value's bytes           (values <= store.ChunkThreshold)
//	                        0x01 + the manifest's encoding     (larger values)
//	'c' (0x63) + id[32]     the chunk's bytes
//	'r' (0x72) + name       the 32-byte id the ref points at
//
// Values are stored as they are: Pebble compresses blocks (Snappy), so the
// store never compresses anything itself.
//
// A large batch (NewBatchSize of Options.IngestSize or more) writes its
// objects as an sstable, built in the ingest/ subdirectory, which Commit
// ingests before committing the rest of the batch; see docs/store.md,
// "Large batches".
//
// Reads trust the bytes, for speed: Pebble checksums every block it reads,
// which catches corruption on the medium. Verify re-hashes an object and
// its chunks, and Options.VerifyReads re-hashes on every read.
package pebblestore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Key prefixes; see the package comment.
const (
	prefixMeta   = 0x00
	prefixObject = 'o'
	prefixChunk  = 'c'
	prefixRef    = 'r'
)

// Value tags of object entries.
const (
	tagWhole    = 0x00
	tagManifest = 0x01
)

var (
	formatKey     = []byte("\x00format")
	formatVersion = []byte("coal-store/1")
)

// chunkFlushBytes is how many bytes of chunks a write collects before
// committing them (unsynced) ahead of the manifest that refers to them.
const chunkFlushBytes = 4 << 20

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Logger receives Pebble's messages. Nil discards them.
	Logger *slog.Logger
	// CacheSize is the size of the block cache, not counting memtables.
	// Zero means 64 MiB. (Pebble charges memtables to the block cache, so
	// the cache is made this much larger than two memtables.)
	CacheSize int64
	// MemTableSize is the size of each memtable. Zero means 64 MiB, so that
	// a batch of up to 32 MiB (Pebble's large-batch threshold is half a
	// memtable) goes through the memtable rather than its own flush.
	MemTableSize uint64
	// VerifyReads re-hashes every object and chunk read and reports an
	// errs.Corrupt error on a mismatch. It costs a BLAKE3 pass over every
	// byte read; without it, Verify is what checks hashes.
	VerifyReads bool
	// ValueSeparation is the size from which values are kept in Pebble's
	// blob files, outside the sstables, so that compactions do not rewrite
	// them (docs/store.md, "Settings"). Zero means 8 KiB; negative turns
	// value separation off.
	ValueSeparation int
	// IngestSize is the size from which a batch made by NewBatchSize
	// writes its objects to an sstable that Commit ingests, rather than
	// to the write-ahead log and a memtable (docs/store.md, "Large
	// batches"). Zero means 4 MiB; negative turns ingestion off.
	IngestSize int
}

// defaultValueSeparation is Options.ValueSeparation's default.
const defaultValueSeparation = 8 << 10

// Store is a store.Store in a Pebble database. It implements store.Chunked
// and store.Verifier and is safe for concurrent use.
type Store struct {
	db     *pebble.DB
	lock   *pebble.Lock
	verify bool

	// dir and popts (with Pebble's defaults filled in) make the sstables
	// of large batches; ingestSeq names them.
	dir       string
	popts     *pebble.Options
	ingestSeq atomic.Uint64
	ingestMin int // Options.IngestSize; 0: off

	// mu guards closed; every operation holds it for reading while it uses
	// db, so that Close waits for them.
	mu     sync.RWMutex
	closed bool

	// refMu serializes commits that change refs, so that SwapRef's check
	// and the write are atomic with respect to every other ref update.
	refMu sync.Mutex

	cuts cutCache // chunk classes from PutChunk, for PutManifest
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.Chunked      = (*Store)(nil)
	_ store.Verifier     = (*Store)(nil)
	_ store.ChunkBatcher = (*Store)(nil)
)

// Open opens the store in dir, creating it if needed. If another process
// (or this one) has it open, Open fails with an errs.Unavailable error.
func Open(dir string, o Options) (*Store, error) {
	op := errs.Op("pebblestore.Open")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errs.E(op, errs.Path(dir), err)
	}
	lock, err := pebble.LockDirectory(dir, vfs.Default)
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errs.E(op, errs.Unavailable, errs.Path(dir), "store is in use by another process")
		}
		if strings.Contains(err.Error(), "held by current process") {
			return nil, errs.E(op, errs.Unavailable, errs.Path(dir), "store is already open in this process")
		}
		return nil, errs.E(op, errs.Path(dir), err)
	}
	cacheSize := o.CacheSize
	if cacheSize <= 0 {
		cacheSize = 64 << 20
	}
	memTable := o.MemTableSize
	if memTable == 0 {
		memTable = 64 << 20
	}
	cache := pebble.NewCache(cacheSize + 2*int64(memTable))
	defer cache.Unref()
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	popts := &pebble.Options{
		Cache:              cache,
		Lock:               lock,
		MemTableSize:       memTable,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleLogger{logger},
		// A 2-core machine: one compaction normally, a second when behind.
		CompactionConcurrencyRange: func() (int, int) { return 1, 2 },
	}
	if o.ValueSeparation >= 0 {
		// Chunks (16-256 KiB) go to blob files at flush and stay there:
		// compactions move their keys and references, not their bytes.
		minSize := o.ValueSeparation
		if minSize == 0 {
			minSize = defaultValueSeparation
		}
		popts.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
			return pebble.ValueSeparationPolicy{
				Enabled:               true,
				MinimumSize:           minSize,
				MaxBlobReferenceDepth: 10,
				RewriteMinimumAge:     5 * time.Minute,
				TargetGarbageRatio:    0.2,
			}
		}
	}
	for i := range popts.Levels {
		// Has and Get of absent ids are common (dedup, sync); bloom
		// filters answer most of them without reading a data block.
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	// Sstables a crash left half built are of no use.
	tmp := filepath.Join(dir, ingestDir)
	if err := errors.Join(os.RemoveAll(tmp), os.Mkdir(tmp, 0o700)); err != nil {
		lock.Close()
		return nil, errs.E(op, errs.Path(tmp), err)
	}
	db, err := pebble.Open(dir, popts)
	if err != nil {
		lock.Close()
		return nil, errs.E(op, errs.Path(dir), kind(err))
	}
	wopts := popts.Clone()
	wopts.EnsureDefaults()
	s := &Store{db: db, lock: lock, verify: o.VerifyReads, dir: dir, popts: wopts}
	switch {
	case o.IngestSize == 0:
		s.ingestMin = defaultIngestSize
	case o.IngestSize > 0:
		s.ingestMin = o.IngestSize
	}
	if err := s.checkFormat(); err != nil {
		s.Close()
		return nil, errs.E(op, errs.Path(dir), err)
	}
	return s, nil
}

func (s *Store) checkFormat() error {
	v, closer, err := s.db.Get(formatKey)
	if errors.Is(err, pebble.ErrNotFound) {
		// A new store, unless the directory holds some other database.
		it, err := s.db.NewIter(nil)
		if err != nil {
			return err
		}
		used := it.First()
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return err
		}
		if used {
			return errs.E(errs.Invalid, "store: directory holds a Pebble database that is not a coal store")
		}
		return s.db.Set(formatKey, formatVersion, pebble.Sync)
	}
	if err != nil {
		return err
	}
	defer closer.Close()
	if !bytes.Equal(v, formatVersion) {
		return errs.E(errs.Invalid, fmt.Sprintf("store: unknown layout %q (this coal reads %q)", v, formatVersion))
	}
	return nil
}

// pebbleLogger passes Pebble's messages to a slog.Logger.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Info(fmt.Sprintf(format, args...)) }
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}

// Fatalf keeps Pebble's own behaviour, which is to end the process: Pebble
// calls it only when it cannot go on safely.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
	pebble.DefaultLogger.Fatalf(format, args...)
}

func key(prefix byte, id coda.ID) []byte {
	k := make([]byte, 1+coda.IDSize)
	k[0] = prefix
	copy(k[1:], id[:])
	return k
}

func refKey(name string) []byte { return append([]byte{prefixRef}, name...) }

// enter makes an operation wait for Close or fail after it.
func (s *Store) enter() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	return nil
}

func (s *Store) leave() { s.mu.RUnlock() }

// get calls f with the value of k, or returns errNotFound. The value is
// valid only during f.
func (s *Store) get(k []byte, f func(v []byte) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	v, closer, err := s.db.Get(k)
	if err != nil {
		return kind(err)
	}
	defer closer.Close()
	return f(v)
}

// kind gives Pebble's corruption errors the errs.Corrupt kind.
func kind(err error) error {
	if err != nil && pebble.IsCorruptionError(err) {
		return errs.E(errs.Corrupt, err)
	}
	return err
}

// object returns the entry of the object id: a copy of the whole value, or
// its manifest. No lock is held when it returns, so callers may go on to
// read chunks.
func (s *Store) object(id coda.ID) (data []byte, m *store.Manifest, err error) {
	err = s.get(key(prefixObject, id), func(v []byte) error {
		if len(v) == 0 {
			return errs.E(errs.Corrupt, "store: object "+id.String()+": empty entry")
		}
		switch v[0] {
		case tagWhole:
			if s.verify && coda.Sum(v[1:]) != id {
				return corruptObject(id, v[1:])
			}
			data = append([]byte{}, v[1:]...)
			return nil
		case tagManifest:
			dm, err := store.DecodeManifest(v[1:])
			if err != nil {
				return fmt.Errorf("object %s: %w", id, err)
			}
			if dm.ID != id {
				return errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: manifest is for %s", id, dm.ID))
			}
			m = &dm
			return nil
		}
		return errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: unknown entry tag %#x", id, v[0]))
	})
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil, store.NotFound(id)
	}
	return data, m, err
}

func corruptObject(id coda.ID, data []byte) error {
	return errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: bytes hash to %s", id, coda.Sum(data)))
}

// Get implements store.Store.
func (s *Store) Get(id coda.ID) ([]byte, error) {
	data, m, err := s.object(id)
	if err != nil || m == nil {
		return data, err
	}
	out := make([]byte, 0, m.Size)
	for _, c := range m.Chunks {
		err := s.chunk(c.ID, func(data []byte) error {
			if len(data) != int(c.Len) {
				return errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: chunk %s has %d bytes, manifest says %d", id, c.ID, len(data), c.Len))
			}
			out = append(out, data...)
			return nil
		})
		if errs.Is(err, errs.NotExist) {
			err = errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: chunk %s is missing", id, c.ID))
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Has implements store.Store.
func (s *Store) Has(id coda.ID) (bool, error) {
	err := s.get(key(prefixObject, id), func([]byte) error { return nil })
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Size implements store.Store. It does not copy the value.
func (s *Store) Size(id coda.ID) (int64, error) {
	var n int64
	err := s.get(key(prefixObject, id), func(v []byte) error {
		if len(v) > 0 && v[0] == tagWhole && !s.verify {
			n = int64(len(v) - 1)
			return errSized
		}
		return nil
	})
	switch {
	case err == errSized:
		return n, nil
	case errors.Is(err, pebble.ErrNotFound):
		return 0, store.NotFound(id)
	case err != nil:
		return 0, err
	}
	// A manifest, or an entry to check: decode it the usual way.
	data, m, err := s.object(id)
	if err != nil {
		return 0, err
	}
	if m != nil {
		return m.Size, nil
	}
	return int64(len(data)), nil
}

// errSized stops Size's lookup early once it has the size.
var errSized = errors.New("sized")

// Open implements store.Store.
func (s *Store) Open(id coda.ID) (store.Blob, error) {
	data, m, err := s.object(id)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return store.NewBytesBlob(data), nil
	}
	return store.NewChunkedBlob(m, s.GetChunk), nil
}

// chunk calls f with the bytes of chunk id, valid only during f.
func (s *Store) chunk(id coda.ID, f func([]byte) error) error {
	err := s.get(key(prefixChunk, id), func(v []byte) error {
		if s.verify && coda.Sum(v) != id {
			return errs.E(errs.Corrupt, fmt.Sprintf("store: chunk %s: bytes hash to %s", id, coda.Sum(v)))
		}
		return f(v)
	})
	if errors.Is(err, pebble.ErrNotFound) {
		return errs.E(errs.NotExist, "store: no chunk "+id.String())
	}
	return err
}

// GetChunk implements store.Chunked.
func (s *Store) GetChunk(id coda.ID) ([]byte, error) {
	var out []byte
	err := s.chunk(id, func(v []byte) error { out = bytes.Clone(v); return nil })
	return out, err
}

// AppendChunk appends the bytes of chunk id to dst, or returns
// errs.NotExist: GetChunk without a copy of its own, for servers that
// encode chunks into a message buffer.
func (s *Store) AppendChunk(dst []byte, id coda.ID) ([]byte, error) {
	err := s.chunk(id, func(v []byte) error { dst = append(dst, v...); return nil })
	return dst, err
}

// HasChunk implements store.Chunked.
func (s *Store) HasChunk(id coda.ID) (bool, error) {
	err := s.get(key(prefixChunk, id), func([]byte) error { return nil })
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Chunks implements store.Chunked.
func (s *Store) Chunks(id coda.ID) (store.Manifest, error) {
	_, m, err := s.object(id)
	if err != nil {
		return store.Manifest{}, err
	}
	if m == nil {
		return store.Manifest{}, errs.E(errs.Invalid, "store: object "+id.String()+" is not chunked")
	}
	return *m, nil
}

// PutChunk implements store.Chunked. It hashes and classifies the chunk
// (store.ClassifyChunk, remembered for PutManifest) in the caller's
// goroutine, so that fetches running in parallel check in parallel, and
// writes it unsynced without first looking it up: callers fetching a value
// ask HasChunk before fetching, and storing a chunk twice is harmless.
func (s *Store) PutChunk(id coda.ID, data []byte) error {
	if err := store.CheckChunk(id, data); err != nil {
		return err
	}
	class := store.ClassifyChunk(data)
	b := s.db.NewBatch()
	defer b.Close()
	op := b.SetDeferred(1+coda.IDSize, len(data))
	op.Key[0] = prefixChunk
	copy(op.Key[1:], id[:])
	copy(op.Value, data)
	if err := op.Finish(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	err := b.Commit(pebble.NoSync)
	s.leave()
	if err != nil {
		return kind(err)
	}
	s.cuts.note(id, class)
	return nil
}

// NewChunkBatch implements store.ChunkBatcher: the chunks go into one
// Pebble batch, committed (unsynced) each time it holds chunkFlushBytes,
// and by Flush. A Pebble commit per 64 KiB chunk cost about 0.7 s of CPU
// per GiB fetched (docs/perf.md, "Sync").
func (s *Store) NewChunkBatch() store.ChunkBatch { return &chunkBatch{s: s} }

// chunkBatch is a store.ChunkBatch on a Store.
type chunkBatch struct {
	s       *Store
	mu      sync.Mutex
	b       *pebble.Batch
	ids     []coda.ID
	classes []store.CutClass
}

// PutChunk implements store.ChunkBatch. It checks and classifies the chunk
// in the caller's goroutine, as Store.PutChunk does; only the copy into
// the batch, and every chunkFlushBytes a commit, hold the batch's lock.
func (c *chunkBatch) PutChunk(id coda.ID, data []byte) error {
	if err := store.CheckChunk(id, data); err != nil {
		return err
	}
	class := store.ClassifyChunk(data)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.b == nil {
		c.b = c.s.db.NewBatch()
	}
	op := c.b.SetDeferred(1+coda.IDSize, len(data))
	op.Key[0] = prefixChunk
	copy(op.Key[1:], id[:])
	copy(op.Value, data)
	if err := op.Finish(); err != nil {
		return err
	}
	c.ids = append(c.ids, id)
	c.classes = append(c.classes, class)
	if c.b.Len() < chunkFlushBytes {
		return nil
	}
	return c.flushLocked()
}

// Flush implements store.ChunkBatch.
func (c *chunkBatch) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

func (c *chunkBatch) flushLocked() error {
	if c.b == nil {
		return nil
	}
	b := c.b
	c.b = nil
	defer b.Close()
	ids, classes := c.ids, c.classes
	c.ids, c.classes = c.ids[:0], c.classes[:0]
	if b.Empty() {
		return nil
	}
	if err := c.s.enter(); err != nil {
		return err
	}
	err := b.Commit(pebble.NoSync)
	c.s.leave()
	if err != nil {
		return kind(err)
	}
	for i, id := range ids {
		c.s.cuts.note(id, classes[i])
	}
	return nil
}

// PutManifest implements store.Chunked: store.CheckAssembled, reading each
// chunk once and hashing the whole, with the chunk classes PutChunk noted.
func (s *Store) PutManifest(m store.Manifest) error {
	err := store.CheckAssembled(&m, s.chunk, s.cuts.get)
	if err != nil {
		return err
	}
	b := s.NewBatch().(*batch)
	defer b.Discard()
	if err := b.setManifest(&m); err != nil {
		return err
	}
	if err := b.Commit(false); err != nil {
		return err
	}
	s.cuts.forget(&m)
	return nil
}

// cutCache remembers the store.CutClass of chunks PutChunk stored, until
// their manifest is put: a class is a function of the bytes, which the id
// names, so it never goes stale. It is bounded; when full it is emptied,
// and PutManifest classifies the chunks it does not find again.
type cutCache struct {
	mu sync.Mutex
	m  map[coda.ID]store.CutClass
}

// maxCuts bounds cutCache: the chunks of a 16 GiB value of 64 KiB chunks.
const maxCuts = 1 << 18

func (c *cutCache) note(id coda.ID, k store.CutClass) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCuts {
		c.m = make(map[coda.ID]store.CutClass)
	}
	c.m[id] = k
}

func (c *cutCache) get(id coda.ID) (store.CutClass, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.m[id]
	return k, ok
}

func (c *cutCache) forget(m *store.Manifest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range m.Chunks {
		delete(c.m, ch.ID)
	}
}

// Verify implements store.Verifier: it re-hashes the object, or each of its
// chunks and their concatenation, and re-checks the chunk boundaries.
func (s *Store) Verify(id coda.ID) error {
	data, m, err := s.object(id)
	if err != nil {
		return err
	}
	if m == nil {
		if coda.Sum(data) != id {
			return corruptObject(id, data)
		}
		return nil
	}
	return store.CheckChunks(m, func(cid coda.ID) ([]byte, error) {
		var out []byte
		err := s.get(key(prefixChunk, cid), func(v []byte) error { out = bytes.Clone(v); return nil })
		if errors.Is(err, pebble.ErrNotFound) {
			return nil, errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: chunk %s is missing", id, cid))
		}
		return out, err
	})
}

// Put implements store.Store.
func (s *Store) Put(data []byte) (coda.ID, error) {
	b := s.newBatch()
	defer b.Discard()
	id, err := b.Put(data)
	if err != nil {
		return coda.ID{}, err
	}
	return id, b.Commit(false)
}

// PutReader implements store.Store.
func (s *Store) PutReader(r io.Reader) (coda.ID, int64, error) {
	b := s.newBatch()
	defer b.Discard()
	id, n, err := b.PutReader(r)
	if err != nil {
		return coda.ID{}, 0, err
	}
	return id, n, b.Commit(false)
}

// GetRef implements store.Store.
func (s *Store) GetRef(name string) (coda.ID, error) {
	if err := store.CheckRefName(name); err != nil {
		return coda.ID{}, err
	}
	id, err := s.ref(name)
	if err == nil && id.IsZero() {
		err = errs.E(errs.NotExist, "store: no ref "+name)
	}
	return id, err
}

// ref returns the id the ref name points at, or the zero ID.
func (s *Store) ref(name string) (coda.ID, error) {
	var id coda.ID
	err := s.get(refKey(name), func(v []byte) error {
		if len(v) != coda.IDSize {
			return errs.E(errs.Corrupt, fmt.Sprintf("store: ref %q: %d-byte value", name, len(v)))
		}
		copy(id[:], v)
		return nil
	})
	if errors.Is(err, pebble.ErrNotFound) {
		return coda.ID{}, nil
	}
	return id, err
}

// ListRefs implements store.Store.
func (s *Store) ListRefs(prefix string) ([]store.Ref, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	lower := refKey(prefix)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: successor(lower)})
	if err != nil {
		return nil, err
	}
	var refs []store.Ref
	for it.First(); it.Valid(); it.Next() {
		v := it.Value()
		if len(v) != coda.IDSize {
			it.Close()
			return nil, errs.E(errs.Corrupt, fmt.Sprintf("store: ref %q: %d-byte value", it.Key()[1:], len(v)))
		}
		refs = append(refs, store.Ref{Name: string(it.Key()[1:]), ID: coda.ID(v)})
	}
	return refs, errors.Join(it.Error(), it.Close())
}

// successor returns the least key greater than every key with prefix p
// (p never is all 0xff here: it starts with a prefix byte below 0xff).
func successor(p []byte) []byte {
	s := bytes.Clone(p)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 0xff {
			s[i]++
			return s[:i+1]
		}
	}
	return nil
}

// objectsPage is how many ids Objects reads per iterator; no lock or
// iterator is held while the caller's loop body runs.
const objectsPage = 1024

// Objects implements store.Store.
func (s *Store) Objects() iter.Seq2[coda.ID, error] {
	return func(yield func(coda.ID, error) bool) {
		lower := []byte{prefixObject}
		upper := []byte{prefixObject + 1}
		for {
			ids, err := s.objectsPage(lower, upper)
			if err != nil {
				yield(coda.ID{}, err)
				return
			}
			for _, id := range ids {
				if !yield(id, nil) {
					return
				}
			}
			if len(ids) < objectsPage {
				return
			}
			last := ids[len(ids)-1]
			lower = append(key(prefixObject, last), 0)
		}
	}
}

func (s *Store) objectsPage(lower, upper []byte) ([]coda.ID, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	ids := make([]coda.ID, 0, objectsPage)
	for it.First(); it.Valid() && len(ids) < objectsPage; it.Next() {
		k := it.Key()
		if len(k) != 1+coda.IDSize {
			it.Close()
			return nil, errs.E(errs.Corrupt, fmt.Sprintf("store: object key of %d bytes", len(k)))
		}
		ids = append(ids, coda.ID(k[1:]))
	}
	return ids, errors.Join(it.Error(), it.Close())
}

// Close implements store.Store. It waits for operations in progress.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.closed = true
	err := s.db.Close()
	return errors.Join(err, s.lock.Close())
}

// chunkWriter stores chunks ahead of their manifest, in unsynced batches of
// about chunkFlushBytes, skipping chunks already stored.
type chunkWriter struct {
	s    *Store
	b    *pebble.Batch
	seen map[coda.ID]bool
}

func (s *Store) newChunkWriter() *chunkWriter {
	return &chunkWriter{s: s, seen: make(map[coda.ID]bool)}
}

func (w *chunkWriter) put(id coda.ID, data []byte) error {
	if w.seen[id] {
		return nil
	}
	w.seen[id] = true
	if has, err := w.s.HasChunk(id); err != nil || has {
		return err
	}
	if w.b == nil {
		w.b = w.s.db.NewBatch()
	}
	op := w.b.SetDeferred(1+coda.IDSize, len(data))
	op.Key[0] = prefixChunk
	copy(op.Key[1:], id[:])
	copy(op.Value, data)
	if err := op.Finish(); err != nil {
		return err
	}
	if w.b.Len() >= chunkFlushBytes {
		return w.flush()
	}
	return nil
}

func (w *chunkWriter) flush() error {
	if w.b == nil {
		return nil
	}
	b := w.b
	w.b = nil
	defer b.Close()
	if err := w.s.enter(); err != nil {
		return err
	}
	defer w.s.leave()
	return b.Commit(pebble.NoSync)
}

func (w *chunkWriter) discard() {
	if w.b != nil {
		w.b.Close()
		w.b = nil
	}
}
