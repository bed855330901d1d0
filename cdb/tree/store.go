package tree

import "github.com/coalescent/coal/coda"

// Store is the object store a Tree reads and writes: content-addressed,
// Put returns coda.Sum(data). It is the subset of cdb/store's Store that the
// tree needs; memstore and pebblestore satisfy it, and store.Counting counts
// what passes through it. Implementations must be safe for concurrent use if
// the Tree is used concurrently.
type Store interface {
	Get(id coda.ID) ([]byte, error)
	Put(data []byte) (coda.ID, error)
}

// OwningStore is a Store that can take ownership of what is put: PutOwned
// is Put where the caller gives data up (never changes or reuses it), so
// the store may keep it without a copy. The tree puts nodes it has just
// encoded this way when it can.
type OwningStore interface {
	PutOwned(data []byte) (coda.ID, error)
}
