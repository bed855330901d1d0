// Package memstore is an in-memory store.Store, for tests and for
// short-lived scratch worlds. It keeps chunked values as chunks under a
// manifest exactly as the Pebble store does, so tests of chunking and sync
// behave the same on both.
package memstore

import (
	"bytes"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Store is an in-memory store. It implements store.Store, store.Chunked and
// store.Verifier, and is safe for concurrent use. Use New to make one.
type Store struct {
	mu      sync.RWMutex
	objects map[coda.ID]object
	chunks  map[coda.ID][]byte
	refs    map[string]coda.ID
	closed  bool
}

// object is a stored value: whole, or chunked under a manifest.
type object struct {
	data []byte
	m    *store.Manifest
}

func (o object) size() int64 {
	if o.m != nil {
		return o.m.Size
	}
	return int64(len(o.data))
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.Chunked      = (*Store)(nil)
	_ store.Verifier     = (*Store)(nil)
	_ store.ChunkBatcher = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{
		objects: make(map[coda.ID]object),
		chunks:  make(map[coda.ID][]byte),
		refs:    make(map[string]coda.ID),
	}
}

func (s *Store) lookup(id coda.ID) (object, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return object{}, store.ErrClosed
	}
	o, ok := s.objects[id]
	if !ok {
		return object{}, store.NotFound(id)
	}
	return o, nil
}

// Get implements store.Store.
func (s *Store) Get(id coda.ID) ([]byte, error) {
	o, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	if o.m == nil {
		return bytes.Clone(o.data), nil
	}
	buf := make([]byte, 0, o.m.Size)
	for _, c := range o.m.Chunks {
		data, err := s.getChunkShared(c.ID)
		if err != nil {
			return nil, err
		}
		buf = append(buf, data...)
	}
	return buf, nil
}

// Has implements store.Store.
func (s *Store) Has(id coda.ID) (bool, error) {
	_, err := s.lookup(id)
	if errs.Is(err, errs.NotExist) {
		return false, nil
	}
	return err == nil, err
}

// Size implements store.Store.
func (s *Store) Size(id coda.ID) (int64, error) {
	o, err := s.lookup(id)
	if err != nil {
		return 0, err
	}
	return o.size(), nil
}

// Open implements store.Store.
func (s *Store) Open(id coda.ID) (store.Blob, error) {
	o, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	if o.m == nil {
		return store.NewBytesBlob(o.data), nil
	}
	return store.NewChunkedBlob(o.m, s.getChunkShared), nil
}

// putChunk stores a chunk whose id the caller has computed.
func (s *Store) putChunk(id coda.ID, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	if _, ok := s.chunks[id]; !ok {
		s.chunks[id] = bytes.Clone(data)
	}
	return nil
}

func (s *Store) putValue(v store.Value) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	if _, ok := s.objects[v.ID]; !ok {
		s.objects[v.ID] = object{data: bytes.Clone(v.Data), m: v.Manifest}
	}
	return nil
}

// Put implements store.Store.
func (s *Store) Put(data []byte) (coda.ID, error) {
	v, err := store.SplitBytes(data, s.putChunk)
	if err != nil {
		return coda.ID{}, err
	}
	return v.ID, s.putValue(v)
}

// PutReader implements store.Store.
func (s *Store) PutReader(r io.Reader) (coda.ID, int64, error) {
	v, err := store.SplitReader(r, s.putChunk)
	if err != nil {
		return coda.ID{}, 0, err
	}
	return v.ID, v.Size, s.putValue(v)
}

// GetRef implements store.Store.
func (s *Store) GetRef(name string) (coda.ID, error) {
	if err := store.CheckRefName(name); err != nil {
		return coda.ID{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return coda.ID{}, store.ErrClosed
	}
	id, ok := s.refs[name]
	if !ok {
		return coda.ID{}, errs.E(errs.NotExist, "store: no ref "+name)
	}
	return id, nil
}

// ListRefs implements store.Store.
func (s *Store) ListRefs(prefix string) ([]store.Ref, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	var refs []store.Ref
	for name, id := range s.refs {
		if strings.HasPrefix(name, prefix) {
			refs = append(refs, store.Ref{Name: name, ID: id})
		}
	}
	slices.SortFunc(refs, func(a, b store.Ref) int { return strings.Compare(a.Name, b.Name) })
	return refs, nil
}

// Objects implements store.Store. It lists the objects present when the
// iteration starts.
func (s *Store) Objects() iter.Seq2[coda.ID, error] {
	return func(yield func(coda.ID, error) bool) {
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			yield(coda.ID{}, store.ErrClosed)
			return
		}
		ids := make([]coda.ID, 0, len(s.objects))
		for id := range s.objects {
			ids = append(ids, id)
		}
		s.mu.RUnlock()
		slices.SortFunc(ids, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
		for _, id := range ids {
			if !yield(id, nil) {
				return
			}
		}
	}
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.closed = true
	s.objects, s.chunks, s.refs = nil, nil, nil
	return nil
}

// Chunks implements store.Chunked.
func (s *Store) Chunks(id coda.ID) (store.Manifest, error) {
	o, err := s.lookup(id)
	if err != nil {
		return store.Manifest{}, err
	}
	if o.m == nil {
		return store.Manifest{}, errs.E(errs.Invalid, "store: object "+id.String()+" is not chunked")
	}
	m := *o.m
	m.Chunks = slices.Clone(m.Chunks)
	return m, nil
}

// getChunkShared returns a chunk's bytes without copying: stored chunks are
// never modified, and blobs only read them.
func (s *Store) getChunkShared(id coda.ID) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	data, ok := s.chunks[id]
	if !ok {
		return nil, errs.E(errs.NotExist, "store: no chunk "+id.String())
	}
	return data, nil
}

// GetChunk implements store.Chunked.
func (s *Store) GetChunk(id coda.ID) ([]byte, error) {
	data, err := s.getChunkShared(id)
	return bytes.Clone(data), err
}

// HasChunk implements store.Chunked.
func (s *Store) HasChunk(id coda.ID) (bool, error) {
	_, err := s.getChunkShared(id)
	if errs.Is(err, errs.NotExist) {
		return false, nil
	}
	return err == nil, err
}

// AppendChunk appends the bytes of chunk id to dst, or returns
// errs.NotExist (as pebblestore's, for servers encoding chunks in place).
func (s *Store) AppendChunk(dst []byte, id coda.ID) ([]byte, error) {
	data, err := s.getChunkShared(id)
	if err != nil {
		return dst, err
	}
	return append(dst, data...), nil
}

// PutChunk implements store.Chunked.
func (s *Store) PutChunk(id coda.ID, data []byte) error {
	if err := store.CheckChunk(id, data); err != nil {
		return err
	}
	return s.putChunk(id, data)
}

// NewChunkBatch implements store.ChunkBatcher: chunks are held until
// Flush, as a store writing in batches would hold them, so that callers'
// tests see when chunks become visible.
func (s *Store) NewChunkBatch() store.ChunkBatch { return &chunkBatch{s: s} }

type chunkBatch struct {
	s       *Store
	mu      sync.Mutex
	pending map[coda.ID][]byte
}

// PutChunk implements store.ChunkBatch.
func (b *chunkBatch) PutChunk(id coda.ID, data []byte) error {
	if err := store.CheckChunk(id, data); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending == nil {
		b.pending = map[coda.ID][]byte{}
	}
	b.pending[id] = bytes.Clone(data)
	return nil
}

// Flush implements store.ChunkBatch.
func (b *chunkBatch) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, data := range b.pending {
		if err := b.s.putChunk(id, data); err != nil {
			return err
		}
		delete(b.pending, id)
	}
	return nil
}

// PutManifest implements store.Chunked.
func (s *Store) PutManifest(m store.Manifest) error {
	m.Chunks = slices.Clone(m.Chunks)
	read := func(id coda.ID, f func([]byte) error) error {
		data, err := s.getChunkShared(id)
		if err != nil {
			return err
		}
		return f(data)
	}
	if err := store.CheckAssembled(&m, read, nil); err != nil {
		return err
	}
	return s.putValue(store.Value{ID: m.ID, Size: m.Size, Manifest: &m})
}

// Verify implements store.Verifier.
func (s *Store) Verify(id coda.ID) error {
	o, err := s.lookup(id)
	if err != nil {
		return err
	}
	if o.m == nil {
		if coda.Sum(o.data) != id {
			return errs.E(errs.Corrupt, "store: object "+id.String()+" does not match its bytes")
		}
		return nil
	}
	return store.CheckChunks(o.m, s.getChunkShared)
}

// NewBatch implements store.Store.
func (s *Store) NewBatch() store.Batch { return &batch{s: s, objects: make(map[coda.ID]object)} }

type batch struct {
	s       *Store
	objects map[coda.ID]object
	refs    []refOp
	n       int
	done    bool
}

type refOp struct {
	name string
	id   coda.ID // zero: delete
	old  coda.ID
	swap bool // check that the ref points at old first
}

func (b *batch) add(v store.Value) {
	if _, ok := b.objects[v.ID]; !ok {
		b.objects[v.ID] = object{data: bytes.Clone(v.Data), m: v.Manifest}
	}
	b.n++
}

func (b *batch) Put(data []byte) (coda.ID, error) {
	if b.done {
		return coda.ID{}, store.ErrBatchDone
	}
	v, err := store.SplitBytes(data, b.s.putChunk)
	if err != nil {
		return coda.ID{}, err
	}
	b.add(v)
	return v.ID, nil
}

func (b *batch) PutReader(r io.Reader) (coda.ID, int64, error) {
	if b.done {
		return coda.ID{}, 0, store.ErrBatchDone
	}
	v, err := store.SplitReader(r, b.s.putChunk)
	if err != nil {
		return coda.ID{}, 0, err
	}
	b.add(v)
	return v.ID, v.Size, nil
}

func (b *batch) ref(op refOp) error {
	if b.done {
		return store.ErrBatchDone
	}
	if err := store.CheckRefName(op.name); err != nil {
		return err
	}
	b.refs = append(b.refs, op)
	b.n++
	return nil
}

func (b *batch) SetRef(name string, id coda.ID) error {
	if id.IsZero() {
		return errs.E(errs.Invalid, "store: SetRef to the zero id (use DeleteRef)")
	}
	return b.ref(refOp{name: name, id: id})
}

func (b *batch) DeleteRef(name string) error { return b.ref(refOp{name: name}) }

func (b *batch) SwapRef(name string, old, new coda.ID) error {
	return b.ref(refOp{name: name, id: new, old: old, swap: true})
}

func (b *batch) Len() int { return b.n }

func (b *batch) Commit(sync bool) error {
	if b.done {
		return store.ErrBatchDone
	}
	b.done = true
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	for _, op := range b.refs {
		if op.swap {
			if got := s.refs[op.name]; got != op.old {
				return store.RefConflict(op.name, op.old, got)
			}
		}
	}
	for id, o := range b.objects {
		if _, ok := s.objects[id]; !ok {
			s.objects[id] = o
		}
	}
	for _, op := range b.refs {
		if op.id.IsZero() {
			delete(s.refs, op.name)
		} else {
			s.refs[op.name] = op.id
		}
	}
	b.objects, b.refs = nil, nil
	return nil
}

func (b *batch) Discard() {
	b.done = true
	b.objects, b.refs = nil, nil
}
