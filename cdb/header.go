package cdb

import (
	"crypto/ed25519"

	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/coda"
)

// parentCommit returns commit id as far as a new commit on it needs it:
// from the cache if it is there, else only its header (decodeHeader),
// since a commit may list a million ops that its child never reads. Any
// problem with the header is left to the full decoding (w.commit), which
// reports it.
func (w *World) parentCommit(id coda.ID) (*Commit, error) {
	if c := w.h.commits.get(id); c != nil {
		return w.commit(id)
	}
	b, err := w.h.store.Get(id)
	if err != nil || coda.Sum(b) != id {
		return w.commit(id)
	}
	c, ok := w.h.schema.decodeHeader(b)
	if !ok || (c.World != w.id && !(c.IsGenesis() && id == w.id)) {
		return w.commit(id)
	}
	c.ID = id
	return c, nil
}

// decodeHeader decodes the start of a stored commit (schema Signed,
// docs/cdb.md): world, parents, tree, author and time, not the message,
// ops, call, conflicts or signature. The bytes are not checked beyond
// that: the commit was checked when it was stored, and ok is false for
// anything unexpected. The layout (docs/coda.md: structs are their fields
// concatenated):
//
//	Signed schema id (32)
//	world: bytes[32]            32 bytes
//	parents: list<link>         uvarint(n) ‖ n × 32 bytes
//	tree: link                  32 bytes
//	author: optional<bytes[32]> 0x00, or 0x01 ‖ 32 bytes
//	time: u64                   8 bytes, little-endian
//	…
func (cs *commitSchemas) decodeHeader(data []byte) (*Commit, bool) {
	if len(data) < coda.IDSize || coda.ID(data[:coda.IDSize]) != cs.signed.ID {
		return nil, false
	}
	r := coda.NewReader(data[coda.IDSize:])
	c := &Commit{}
	world, err := r.ID()
	if err != nil {
		return nil, false
	}
	c.World = world
	n, err := r.Len(coda.IDSize, 1<<20)
	if err != nil {
		return nil, false
	}
	for range n {
		p, err := r.ID()
		if err != nil {
			return nil, false
		}
		c.Parents = append(c.Parents, p)
	}
	if c.Tree, err = r.ID(); err != nil {
		return nil, false
	}
	switch flag, err := r.Byte(); {
	case err != nil:
		return nil, false
	case flag == 1:
		a, err := r.Take(ed25519.PublicKeySize)
		if err != nil {
			return nil, false
		}
		c.Author = ed25519.PublicKey(append([]byte(nil), a...))
	case flag != 0:
		return nil, false
	}
	t, err := r.U64()
	if err != nil {
		return nil, false
	}
	c.Time = hlc.Time(t)
	return c, true
}
