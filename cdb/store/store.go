// Package store defines coal's content-addressed object store: the Store
// interface that the tree, commits and sync are written against, the
// content-defined chunking of large values, the manifest format, and helpers
// shared by every implementation (see memstore and pebblestore).
//
// An object is an immutable byte string named by its ID, coda.Sum(bytes).
// Values larger than ChunkThreshold are stored as content-defined chunks under
// a Manifest, so that two versions of a large blob share their unchanged
// chunks; readers never see the difference, except through the optional
// Chunked interface used by network sync. Refs are small named mutable
// pointers (branch heads, world names) changed only by batches, atomically
// with the objects they point to.
//
// The contract is specified in docs/store.md and checked for every
// implementation by the storetest conformance suite.
package store

import (
	"io"
	"iter"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Store is a content-addressed object store with named refs.
//
// All methods are safe for concurrent use. Reads see every write whose Put or
// Commit has returned. Put and PutReader on the Store itself are not synced to
// stable storage by themselves: they become durable with the next synced
// Commit (the write-ahead log is ordered), or on Close.
//
// No method takes a context: every operation is local and bounded by the
// size of the value. Fetching from peers belongs above this interface.
type Store interface {
	// Get returns the bytes of the object id, or an errs.NotExist error.
	// The caller owns the returned slice.
	Get(id coda.ID) ([]byte, error)
	// Has reports whether the object id is stored.
	Has(id coda.ID) (bool, error)
	// Size returns the size in bytes of the object id, or errs.NotExist.
	Size(id coda.ID) (int64, error)
	// Open returns a reader over the object id without loading a chunked
	// value whole, or errs.NotExist.
	Open(id coda.ID) (Blob, error)

	// Put stores data and returns its id. Storing an object that is
	// already present is cheap and not an error.
	Put(data []byte) (coda.ID, error)
	// PutReader stores everything read from r, streaming: memory use is
	// bounded by a few chunks whatever the size. It returns the id and size.
	PutReader(r io.Reader) (coda.ID, int64, error)

	// NewBatch starts an atomic group of writes: objects and ref updates.
	NewBatch() Batch

	// GetRef returns the id a ref points to, or errs.NotExist.
	GetRef(name string) (coda.ID, error)
	// ListRefs returns the refs whose names start with prefix, in byte
	// order of their names.
	ListRefs(prefix string) ([]Ref, error)

	// Objects iterates over the id of every stored object in byte order of
	// ids (chunks are not objects and are not listed). An iteration error
	// is yielded once, as the last pair. Writes made during the iteration
	// may or may not be seen.
	Objects() iter.Seq2[coda.ID, error]

	// Close releases the store. Later calls fail.
	Close() error
}

// Batch is an atomic group of writes. Nothing in a batch is visible until
// Commit returns successfully, and then all of it is; a failed or discarded
// batch leaves no visible trace. (Chunks of large values written through a
// batch may be stored before Commit; they are unreachable until their
// manifest is committed, and reclaimed by garbage collection if it never is.)
//
// A Batch is not safe for concurrent use. After Commit or Discard every
// method fails with errs.Invalid.
type Batch interface {
	// Put adds data to the batch and returns its id.
	Put(data []byte) (coda.ID, error)
	// PutReader adds everything read from r to the batch, streaming.
	PutReader(r io.Reader) (coda.ID, int64, error)
	// SetRef points the ref name at id.
	SetRef(name string, id coda.ID) error
	// DeleteRef removes the ref name; deleting a missing ref is not an error.
	DeleteRef(name string) error
	// SwapRef makes the batch conditional: Commit fails with errs.Conflict,
	// writing nothing, unless the ref name currently points at old (the
	// zero ID: does not exist). On success the ref points at new (the zero
	// ID: it is deleted). Conditions are checked against the store as it is
	// at Commit, before any of the batch's own updates.
	SwapRef(name string, old, new coda.ID) error
	// Len reports the number of operations in the batch.
	Len() int
	// Commit applies the batch atomically. With sync, it returns only once
	// the batch (and every write before it) is on stable storage, so that
	// it survives a crash of the process or the machine.
	Commit(sync bool) error
	// Discard abandons the batch. It is safe to call after Commit.
	Discard()
}

// SizedBatcher is implemented by stores that can make a batch with room
// for about size bytes of entries up front, so that a batch known to be
// large (the objects of a received clone) is not copied as it grows.
type SizedBatcher interface {
	NewBatchSize(size int) Batch
}

// SummedPutter is implemented by batches that can add data whose id the
// caller has just computed as coda.Sum(data), so that it is not hashed a
// second time (cdb's staging hashes every object it stages). The id must
// be exactly that: the batch does not check it.
type SummedPutter interface {
	PutSummed(id coda.ID, data []byte) error
}

// Ref is a named pointer to an object.
type Ref struct {
	Name string
	ID   coda.ID
}

// Blob reads one object. Size is the object's total size. A Blob is not
// safe for concurrent use, except ReadAt, which may be called concurrently.
// It is an io.ReadSeeker, so http.ServeContent can serve ranges from it.
type Blob interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
	Size() int64
}

// Chunked is implemented by stores that keep large values as chunks under a
// manifest and expose them, so that network sync can fetch the chunks of one
// value from several peers and store them as they arrive.
type Chunked interface {
	Store
	// Chunks returns the manifest of the chunked object id: errs.NotExist
	// if it is absent, errs.Invalid if it is stored whole (values of at
	// most ChunkThreshold bytes are never chunked).
	Chunks(id coda.ID) (Manifest, error)
	// GetChunk returns the bytes of a chunk, or errs.NotExist.
	GetChunk(id coda.ID) ([]byte, error)
	// HasChunk reports whether a chunk is stored.
	HasChunk(id coda.ID) (bool, error)
	// PutChunk stores a chunk received from elsewhere after checking that
	// coda.Sum(data) == id (errs.Corrupt otherwise) and its size
	// (errs.Limit above MaxChunk). It need not look the chunk up first:
	// callers ask HasChunk before fetching one.
	PutChunk(id coda.ID, data []byte) error
	// PutManifest stores a chunked object whose chunks are all present
	// (errs.NotExist naming the first missing one). It checks, as
	// CheckAssembled does, each chunk's length, that the chunks in order
	// hash to m.ID, and that Cut gives exactly m's boundaries (errs.Corrupt
	// otherwise), so one value has one manifest everywhere. It does not
	// re-hash each chunk: PutChunk did.
	PutManifest(m Manifest) error
}

// ChunkBatcher is implemented by Chunked stores that can store the chunks
// of one fetch in shared writes, fewer and larger than one per PutChunk.
type ChunkBatcher interface {
	// NewChunkBatch returns an empty ChunkBatch on the store.
	NewChunkBatch() ChunkBatch
}

// ChunkBatch stores chunks as Chunked.PutChunk does, with the same checks
// and errors, but a chunk it accepted is only certain to be stored
// (visible to HasChunk, GetChunk and PutManifest) once Flush has returned
// nil; before that it may or may not be. Its methods are safe for
// concurrent use. Chunks put and never flushed may be lost, so a fetch
// flushes after its last chunk, and when it stops early, to keep what it
// fetched. Like PutChunk, it does not make chunks durable: the synced
// commit that refers to them does.
type ChunkBatch interface {
	PutChunk(id coda.ID, data []byte) error
	// Flush stores the chunks put so far. The batch can be used again.
	Flush() error
}

// Verifier is implemented by stores that can check an object against its id.
type Verifier interface {
	// Verify re-reads the object id and its chunks and re-hashes them: an
	// errs.Corrupt error names the object or chunk that fails.
	Verify(id coda.ID) error
}

// ErrClosed is returned by every method of a closed store.
var ErrClosed = errs.E(errs.Invalid, "store: closed")

// ErrBatchDone is returned by every method of a batch after Commit or Discard.
var ErrBatchDone = errs.E(errs.Invalid, "store: batch already committed or discarded")

// NotFound returns the errs.NotExist error for a missing object.
func NotFound(id coda.ID) error {
	return errs.E(errs.NotExist, "store: no object "+id.String())
}
