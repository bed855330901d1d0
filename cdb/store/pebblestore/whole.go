package pebblestore

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

var _ store.WholeReader = (*Store)(nil)

// ReadWhole implements store.WholeReader with one iterator over the
// object keys: each seek starts from where the last one ended (Pebble
// tries a few Next steps before a full seek when seeks ascend), so ids
// that are close together in the key space — a clone reads most of a
// world's objects — cost about a step each instead of a search from the
// top. With VerifyReads, an object whose bytes do not hash to its id is
// skipped (the caller's ordinary read then reports it corrupt).
func (s *Store) ReadWhole(ids []coda.ID, fn func(i int, data []byte) error) error {
	for i := 1; i < len(ids); i++ {
		if bytes.Compare(ids[i-1][:], ids[i][:]) > 0 {
			return errs.E(errs.Op("pebblestore.ReadWhole"), errs.Invalid, fmt.Sprintf("ids[%d] %s sorts before ids[%d] %s", i, ids[i], i-1, ids[i-1]))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixObject}, UpperBound: []byte{prefixObject + 1}})
	if err != nil {
		return kind(err)
	}
	k := make([]byte, 1+coda.IDSize)
	k[0] = prefixObject
	for i, id := range ids {
		copy(k[1:], id[:])
		if !it.SeekGE(k) || !bytes.Equal(it.Key(), k) {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil || len(v) == 0 || v[0] != tagWhole {
			continue
		}
		if s.verify && coda.Sum(v[1:]) != id {
			continue
		}
		if err := fn(i, v[1:]); err != nil {
			it.Close()
			return err
		}
	}
	return kind(it.Close())
}
