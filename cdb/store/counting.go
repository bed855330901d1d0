package store

import (
	"io"
	"sync/atomic"

	"github.com/coalescent/coal/coda"
)

// Counts are the operations a CountingStore has seen.
type Counts struct {
	ObjectsRead    int64 // Get and Open calls that found the object
	BytesRead      int64 // bytes returned by Get and read from Open's blobs
	Lookups        int64 // Has and Size calls
	ObjectsWritten int64 // Put and PutReader calls, in batches counted at Commit
	BytesWritten   int64 // the bytes of those objects
	RefsRead       int64 // GetRef calls and refs returned by ListRefs
	RefsWritten    int64 // ref updates committed
}

// CountingStore wraps a Store and counts what passes through it, for
// benchmarks and tests that report objects read and written. It counts
// calls, not storage: putting an object that is already stored counts as a
// write. It is safe for concurrent use.
type CountingStore struct {
	Store
	objectsRead, bytesRead, lookups atomic.Int64
	objectsWritten, bytesWritten    atomic.Int64
	refsRead, refsWritten           atomic.Int64
}

// Counting returns a CountingStore wrapping s. Optional capabilities of s
// (Chunked, Verifier) are reached through Unwrap, uncounted.
func Counting(s Store) *CountingStore { return &CountingStore{Store: s} }

// Unwrap returns the wrapped store.
func (c *CountingStore) Unwrap() Store { return c.Store }

// Counts returns the counts so far.
func (c *CountingStore) Counts() Counts {
	return Counts{
		ObjectsRead:    c.objectsRead.Load(),
		BytesRead:      c.bytesRead.Load(),
		Lookups:        c.lookups.Load(),
		ObjectsWritten: c.objectsWritten.Load(),
		BytesWritten:   c.bytesWritten.Load(),
		RefsRead:       c.refsRead.Load(),
		RefsWritten:    c.refsWritten.Load(),
	}
}

// Reset sets every count to zero.
func (c *CountingStore) Reset() {
	for _, n := range []*atomic.Int64{&c.objectsRead, &c.bytesRead, &c.lookups, &c.objectsWritten, &c.bytesWritten, &c.refsRead, &c.refsWritten} {
		n.Store(0)
	}
}

func (c *CountingStore) Get(id coda.ID) ([]byte, error) {
	data, err := c.Store.Get(id)
	if err == nil {
		c.objectsRead.Add(1)
		c.bytesRead.Add(int64(len(data)))
	}
	return data, err
}

func (c *CountingStore) Has(id coda.ID) (bool, error) {
	c.lookups.Add(1)
	return c.Store.Has(id)
}

func (c *CountingStore) Size(id coda.ID) (int64, error) {
	c.lookups.Add(1)
	return c.Store.Size(id)
}

func (c *CountingStore) Open(id coda.ID) (Blob, error) {
	b, err := c.Store.Open(id)
	if err != nil {
		return nil, err
	}
	c.objectsRead.Add(1)
	return &countingBlob{Blob: b, n: &c.bytesRead}, nil
}

func (c *CountingStore) Put(data []byte) (coda.ID, error) {
	id, err := c.Store.Put(data)
	if err == nil {
		c.objectsWritten.Add(1)
		c.bytesWritten.Add(int64(len(data)))
	}
	return id, err
}

func (c *CountingStore) PutReader(r io.Reader) (coda.ID, int64, error) {
	id, n, err := c.Store.PutReader(r)
	if err == nil {
		c.objectsWritten.Add(1)
		c.bytesWritten.Add(n)
	}
	return id, n, err
}

func (c *CountingStore) GetRef(name string) (coda.ID, error) {
	c.refsRead.Add(1)
	return c.Store.GetRef(name)
}

func (c *CountingStore) ListRefs(prefix string) ([]Ref, error) {
	refs, err := c.Store.ListRefs(prefix)
	c.refsRead.Add(int64(len(refs)))
	return refs, err
}

func (c *CountingStore) NewBatch() Batch {
	return &countingBatch{Batch: c.Store.NewBatch(), c: c}
}

type countingBatch struct {
	Batch
	c                    *CountingStore
	objects, bytes, refs int64
}

func (b *countingBatch) Put(data []byte) (coda.ID, error) {
	id, err := b.Batch.Put(data)
	if err == nil {
		b.objects++
		b.bytes += int64(len(data))
	}
	return id, err
}

func (b *countingBatch) PutReader(r io.Reader) (coda.ID, int64, error) {
	id, n, err := b.Batch.PutReader(r)
	if err == nil {
		b.objects++
		b.bytes += n
	}
	return id, n, err
}

func (b *countingBatch) SetRef(name string, id coda.ID) error {
	err := b.Batch.SetRef(name, id)
	if err == nil {
		b.refs++
	}
	return err
}

func (b *countingBatch) DeleteRef(name string) error {
	err := b.Batch.DeleteRef(name)
	if err == nil {
		b.refs++
	}
	return err
}

func (b *countingBatch) SwapRef(name string, old, new coda.ID) error {
	err := b.Batch.SwapRef(name, old, new)
	if err == nil {
		b.refs++
	}
	return err
}

func (b *countingBatch) Commit(sync bool) error {
	if err := b.Batch.Commit(sync); err != nil {
		return err
	}
	b.c.objectsWritten.Add(b.objects)
	b.c.bytesWritten.Add(b.bytes)
	b.c.refsWritten.Add(b.refs)
	b.objects, b.bytes, b.refs = 0, 0, 0
	return nil
}

type countingBlob struct {
	Blob
	n *atomic.Int64
}

func (b *countingBlob) Read(p []byte) (int, error) {
	n, err := b.Blob.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *countingBlob) ReadAt(p []byte, off int64) (int, error) {
	n, err := b.Blob.ReadAt(p, off)
	b.n.Add(int64(n))
	return n, err
}
