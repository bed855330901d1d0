package cdb

import (
	"crypto/ed25519"

	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/coda"
)

// headerOnly is the size from which parentCommit reads only a commit's
// header: smaller commits are decoded whole (and cached), which costs
// little; larger ones list many ops (an import's commit lists a path per
// file) that a child commit or a history walk never reads.
const headerOnly = 256 << 10

// headerBytes is how much of a large commit parentCommit reads: the
// header is ≈170 bytes plus 32 per parent.
const headerBytes = 16 << 10

// parentCommit returns commit id as far as a new commit on it, or a walk
// of the history's shape, needs it: from the cache if it is there; else a
// commit of up to headerOnly bytes decoded without its op groups (no Ops,
// no OpGroups, not cached); else only its header
// (decodeHeader), read from the start of the object without the rest, and
// not cached. The header's bytes are trusted as every store read is (the
// commit was validated when stored; Fsck re-hashes it). Anything unexpected
// is left to the full decoding (w.commit), which reports it.
func (w *World) parentCommit(id coda.ID) (*Commit, error) {
	if c := w.h.commits.get(id); c != nil {
		return w.commit(id)
	}
	size, err := w.h.store.Size(id)
	if err != nil {
		return w.commit(id)
	}
	if size <= headerOnly {
		// Decoded without its op groups (a commit object is small: its
		// ops are in the groups), and not cached.
		b, err := w.h.store.Get(id)
		if err != nil {
			return w.commit(id)
		}
		c, err := w.h.schema.decode(b)
		if err != nil || c.ID != id || (c.World != w.id && !(c.IsGenesis() && id == w.id)) {
			return w.commit(id)
		}
		c.OpGroups = nil
		return c, nil
	}
	b, err := w.h.store.Open(id)
	if err != nil {
		return w.commit(id)
	}
	head := make([]byte, min(size, headerBytes))
	k, err := b.ReadAt(head, 0)
	b.Close()
	if k < len(head) {
		return w.commit(id)
	}
	c, ok := w.h.schema.decodeHeader(head)
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
