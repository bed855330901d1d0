package store

import "github.com/coalescent/coal/coda"

// WholeReader is implemented by stores that read many objects faster
// together, in ascending id order, than one by one (pebblestore: one
// iterator whose seeks move forward, so that a dense set of ids costs
// little more than a scan). It is a fast path: callers read what it does
// not give them the ordinary way (Get, Open), which also reports why an
// object could not be read.
type WholeReader interface {
	// ReadWhole calls fn(i, data) for each ids[i] stored whole (not
	// chunked under a manifest) and readable, in the order of ids, which
	// must ascend bytewise (errs.Invalid otherwise, before any call).
	// data is valid only during the call. Ids it skips — missing,
	// chunked, corrupt — are the caller's to read another way. An error
	// from fn stops the read and is returned.
	ReadWhole(ids []coda.ID, fn func(i int, data []byte) error) error
}
