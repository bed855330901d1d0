package tree

import (
	"hash/maphash"
	"slices"
	"sync"

	"github.com/coalescent/coal/coda"
)

// The id memo: the ids of the nodes this process has recently encoded and
// hashed, found by their content. A dry write (ApplyDry: validation's
// replay of a commit's ops) that makes a node whose content equals one in
// the memo takes its id from there instead of encoding and hashing it
// again: the node a commit's build just wrote is, item for item, the node
// its validation recomputes. It stays a real check: an id in the memo is
// coda.Sum of the encoding of exactly the items and level it is stored
// with (computed by this process, by Sum or by a Store's Put, which
// returns Sum), a hit requires equal items and level, and a node's
// encoding is a function of those alone. So a hit gives the id that
// hashing would, for a commit made here or received from elsewhere; a
// miss hashes.
//
// The memo is keyed by a seeded hash of most of the content (maphash,
// seeded at random per process; see sum); a collision, which nodes that
// differ only in what sum leaves out always have, only costs a miss or
// replaces an entry. It holds two generations of at most memoMax nodes
// each; the nodes are immutable once written.
type idMemo struct {
	mu       sync.Mutex
	seed     maphash.Seed
	cur, old map[uint64]memoEntry
}

type memoEntry struct {
	id coda.ID
	n  *node
}

// memoMax bounds each generation: the nodes of the commits being built
// and validated at one time are a few per commit.
const memoMax = 1024

var memo = &idMemo{seed: maphash.MakeSeed(), cur: make(map[uint64]memoEntry)}

// sum returns the memo's hash of n's content: its level and, of each
// item, the key, kind, the first 8 bytes of the id, the stamp's time and
// the live count (not the stamp's author, nor the rest of the id: a hash
// of less is faster, and nodes that differ only there merely share a key,
// which lookup's comparison of every item tells apart).
func (m *idMemo) sum(n *node) uint64 {
	bp := encodeBufs.Get().(*[]byte)
	b := append((*bp)[:0], byte(n.level))
	for i := range n.items {
		it := &n.items[i]
		e := &it.e
		b = coda.AppendUvarint(b, uint64(len(it.key.name)))
		b = append(b, it.key.name...)
		b = append(b, boolByte(it.key.dir), byte(e.Kind))
		b = append(b, e.ID[:8]...)
		b = appendU64(b, e.Stamp.Time)
		b = appendU64(b, e.Live)
	}
	k := maphash.Bytes(m.seed, b)
	*bp = b
	encodeBufs.Put(bp)
	return k
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// lookup returns the id of a node with n's content, if the memo has one.
func (m *idMemo) lookup(k uint64, n *node) (coda.ID, bool) {
	m.mu.Lock()
	e, ok := m.cur[k]
	if !ok {
		e, ok = m.old[k]
	}
	m.mu.Unlock()
	if !ok || e.n.level != n.level || !slices.Equal(e.n.items, n.items) {
		return coda.ID{}, false
	}
	return e.id, true
}

// add records that id is the id of n (coda.Sum of encodeNode(n)).
func (m *idMemo) add(k uint64, id coda.ID, n *node) {
	m.mu.Lock()
	if len(m.cur) >= memoMax {
		m.old, m.cur = m.cur, make(map[uint64]memoEntry, memoMax)
	}
	m.cur[k] = memoEntry{id, n}
	m.mu.Unlock()
}
