package tree

import (
	"fmt"
	"sync/atomic"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Store is the object store a Tree reads and writes: content-addressed,
// Put returns coda.Sum(data). It is the subset of cdb/store's interface the
// tree needs. Implementations must be safe for concurrent use if the Tree
// is used concurrently.
type Store interface {
	Get(id coda.ID) ([]byte, error)
	Put(data []byte) (coda.ID, error)
}

// Counting wraps a Store and counts the objects read and written through
// it. It is safe for concurrent use if the underlying Store is.
type Counting struct {
	Store
	reads, writes, readBytes, writeBytes atomic.Int64
}

// NewCounting returns a counting wrapper around s.
func NewCounting(s Store) *Counting { return &Counting{Store: s} }

// Get reads an object and counts it.
func (c *Counting) Get(id coda.ID) ([]byte, error) {
	b, err := c.Store.Get(id)
	if err == nil {
		c.reads.Add(1)
		c.readBytes.Add(int64(len(b)))
	}
	return b, err
}

// Put writes an object and counts it.
func (c *Counting) Put(data []byte) (coda.ID, error) {
	c.writes.Add(1)
	c.writeBytes.Add(int64(len(data)))
	return c.Store.Put(data)
}

// Counts returns the objects read and written so far.
func (c *Counting) Counts() (reads, writes int64) { return c.reads.Load(), c.writes.Load() }

// Bytes returns the bytes read and written so far.
func (c *Counting) Bytes() (read, written int64) { return c.readBytes.Load(), c.writeBytes.Load() }

// Reset sets the counts to zero.
func (c *Counting) Reset() {
	c.reads.Store(0)
	c.writes.Store(0)
	c.readBytes.Store(0)
	c.writeBytes.Store(0)
}

// MapStore is a minimal in-memory Store for tests and tools: a map from id
// to bytes. It is not safe for concurrent use.
type MapStore map[coda.ID][]byte

// Get returns the object with id, or an errs.NotExist error.
func (m MapStore) Get(id coda.ID) ([]byte, error) {
	b, ok := m[id]
	if !ok {
		return nil, errs.E(errs.NotExist, fmt.Sprintf("tree: object %s not in store", id))
	}
	return b, nil
}

// Put stores data under its id. The bytes are copied.
func (m MapStore) Put(data []byte) (coda.ID, error) {
	id := coda.Sum(data)
	if _, ok := m[id]; !ok {
		m[id] = append([]byte(nil), data...)
	}
	return id, nil
}
