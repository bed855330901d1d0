package tree

// Chunking: how a directory's sorted item list becomes a prolly tree
// (docs/tree.md, "Chunking"). The rule depends only on the items, never on
// the order of the operations that produced them:
//
//	h(key)            = fmix64(FNV-1a-64(name ‖ d)), d = 0x01 for a
//	                    directory, 0x00 for a leaf (keyHash)
//	boundary(key, L)  = the top 6·(L+1) bits of h(key) are zero (L ≤ 9)
//
// Level 0 is the list of entries; level L+1 is the list of children, one
// for each chunk of level L, keyed by the chunk's last key. A chunk of level
// L ends after an item whose key is a boundary at L, after MaxItems items,
// or at the end of the list. The lowest level that forms one chunk is the
// top node; an empty directory is an empty leaf node.

import (
	"slices"
	"sync"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// FanoutBits is log2 of the target fanout: on average 64 items a node.
const FanoutBits = 6

// chunkBits and chunkMax are FanoutBits and MaxItems; tests lower them to
// exercise deep trees and forced boundaries with little data.
var (
	chunkBits = FanoutBits
	chunkMax  = MaxItems
)

// keyHash is FNV-1a (64-bit) of name ‖ d, finished with MurmurHash3's
// fmix64 so that its top bits are well mixed. It is not a cryptographic
// hash and need not be: nothing is gained by choosing names to avoid
// boundaries (MaxItems bounds every node), and all it must be is fast and
// exactly specified.
func keyHash(k key) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(k.name); i++ {
		h ^= uint64(k.name[i])
		h *= prime
	}
	if k.dir {
		h ^= 1
	}
	h *= prime
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func isBoundary(k key, level int) bool {
	bitsN := chunkBits * (level + 1)
	if bitsN > 64-chunkBits {
		return false
	}
	return keyHash(k)>>(64-bitsN) == 0
}

func (w *op) write(n *node) (coda.ID, error) {
	if schemaErr != nil {
		return coda.ID{}, schemaErr
	}
	var id coda.ID
	if w.dry && w.made != nil {
		// ApplyDryNew replays commits made elsewhere: the memo holds
		// none of their nodes, nor is asked for them again.
		id = sumNode(n)
		w.made[id] = n
	} else if w.dry {
		k := memo.sum(n)
		var ok bool
		if id, ok = memo.lookup(k, n); !ok {
			id = sumNode(n)
			mn := n
			if w.arena != nil {
				// n's items are the arena's, reused after the op.
				mn = &node{level: n.level, items: slices.Clone(n.items)}
			}
			memo.add(k, id, mn)
		}
	} else {
		k := memo.sum(n)
		var err error
		put := w.t.s.Put
		if os, ok := w.t.s.(OwningStore); ok {
			put = os.PutOwned
		}
		if id, err = put(encodeNode(n)); err != nil {
			return id, errs.E(errs.Op("tree: write node"), err)
		}
		memo.add(k, id, n)
	}
	if w.cache != nil {
		w.cache[id] = n
	}
	if !w.dry && w.t.cs != nil {
		// A store that caches nodes gets the node it was just given,
		// decoded (its cache for a node it has only staged may be one
		// of its own).
		if nc := w.t.cs.NodeCache(id); nc != nil {
			nc.add(id, n, nodeCost(n))
		}
	}
	return id, nil
}

// chunk splits items (level `level`, starting right after a boundary) into
// chunks, writes every complete one and returns their references (items of
// level+1). If final, the tail is written as the last chunk; otherwise it is
// returned for the caller to continue.
//
// If own, the caller gives items up: their elements are never changed
// afterwards, so the nodes may keep them rather than copies.
func (w *op) chunk(level int, items []item, final, own bool) (refs []item, tail []item, err error) {
	start := 0
	for i := range items {
		if i+1-start >= chunkMax || isBoundary(items[i].key, level) {
			ref, err := w.emit(level, items[start:i+1], own)
			if err != nil {
				return nil, nil, err
			}
			refs = append(refs, ref)
			start = i + 1
		}
	}
	tail = items[start:]
	if final && len(tail) > 0 {
		ref, err := w.emit(level, tail, own)
		if err != nil {
			return nil, nil, err
		}
		refs = append(refs, ref)
		tail = nil
	}
	return refs, tail, nil
}

// sumNode returns the id of n (coda.Sum of encodeNode(n)), encoding it
// into a pooled buffer.
func sumNode(n *node) coda.ID {
	bp := encodeBufs.Get().(*[]byte)
	*bp = append((*bp)[:0], NodeSchemaID[:]...)
	*bp = appendBody(*bp, n)
	id := coda.Sum(*bp)
	encodeBufs.Put(bp)
	return id
}

// encodeBufs holds the buffers dry writes encode nodes into.
var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// emit writes the node of items. If own, items is the caller's to give:
// its elements are never changed afterwards, and the node keeps them
// (capped, so that appending to the node could not reach past them).
func (w *op) emit(level int, items []item, own bool) (item, error) {
	n := &node{level: level}
	if own {
		n.items = items[:len(items):len(items)]
	} else {
		n.items = append([]item(nil), items...)
	}
	id, err := w.write(n)
	if err != nil {
		return item{}, err
	}
	return item{key: items[len(items)-1].key, e: Entry{Kind: KindDir, ID: id}}, nil
}

// top builds the levels above `level` from the complete list of its chunk
// references and returns the top node's id.
func (w *op) top(level int, refs []item) (coda.ID, error) {
	for len(refs) > 1 {
		level++
		var err error
		if refs, _, err = w.chunk(level, refs, true, true); err != nil {
			return coda.ID{}, err
		}
	}
	if len(refs) == 0 {
		return w.write(&node{})
	}
	return refs[0].e.ID, nil
}

// edit sets (or, if del, removes) the item with key k.
type edit struct {
	key key
	e   Entry
	del bool
}

// cursor walks the nodes of one level of a prolly tree in key order.
type cursor struct {
	r      *op
	level  int
	frames []frame // from the top node down to the parent of the current node
	cur    *node
}

type frame struct {
	n *node
	i int
}

// seek returns a cursor at the node of `level` whose key range holds k (the
// first node whose last key is ≥ k, else the last node).
func (r *op) seek(top *node, level int, k key) (*cursor, error) {
	c := &cursor{r: r, level: level}
	n := top
	for n.level > level {
		i := searchItems(n.items, k)
		if i == len(n.items) {
			i--
		}
		c.frames = append(c.frames, frame{n, i})
		var err error
		if n, err = r.child(n, i); err != nil {
			return nil, err
		}
	}
	c.cur = n
	return c, nil
}

// last reports whether the cursor is at the last node of its level.
func (c *cursor) last() bool {
	for _, f := range c.frames {
		if f.i+1 < len(f.n.items) {
			return false
		}
	}
	return true
}

// next moves to the next node of the level; the caller checks last first.
func (c *cursor) next() error {
	d := len(c.frames) - 1
	for d >= 0 && c.frames[d].i+1 >= len(c.frames[d].n.items) {
		d--
	}
	if d < 0 {
		return errs.E(errs.Internal, "tree: cursor past the end")
	}
	c.frames[d].i++
	c.frames = c.frames[:d+1]
	n, err := c.r.child(c.frames[d].n, c.frames[d].i)
	if err != nil {
		return err
	}
	for n.level > c.level {
		c.frames = append(c.frames, frame{n, 0})
		if n, err = c.r.child(n, 0); err != nil {
			return err
		}
	}
	c.cur = n
	return nil
}

// searchItems returns the index of the first item with key ≥ k.
func searchItems(items []item, k key) int {
	lo, hi := 0, len(items)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compareKeys(items[m].key, k) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// applyEdits applies sorted edits (strictly increasing keys) to the prolly
// tree whose top node is rootID, writing only the nodes that change, and
// returns the new top node's id.
func (w *op) applyEdits(r *op, rootID coda.ID, edits []edit) (coda.ID, error) {
	if len(edits) == 0 {
		return rootID, nil
	}
	top, err := r.load(rootID)
	if err != nil {
		return coda.ID{}, err
	}
	for level := 0; ; level++ {
		refs, next, err := w.applyLevel(r, top, level, edits)
		if err != nil {
			return coda.ID{}, err
		}
		if level < top.level {
			edits = next
			continue
		}
		// refs is now the complete new list of this level's chunks.
		id, err := w.top(level, refs)
		if err != nil {
			return coda.ID{}, err
		}
		return w.collapse(r, id)
	}
}

// collapse descends from a top node with a single child to the lowest node
// that is the only chunk of its level.
func (w *op) collapse(r *op, id coda.ID) (coda.ID, error) {
	for {
		n, err := r.load(id)
		if err != nil {
			return id, err
		}
		if n.level == 0 || len(n.items) > 1 {
			return id, nil
		}
		id = n.items[0].e.ID
	}
}

// applyLevel applies edits to the items of `level` window by window. It
// returns the new chunk references and, for the level above, the edits
// that replace the old chunks of each window with the new ones.
func (w *op) applyLevel(r *op, top *node, level int, edits []edit) (refs []item, next []edit, err error) {
	var dels []edit
	for len(edits) > 0 {
		c, err := r.seek(top, level, edits[0].key)
		if err != nil {
			return nil, nil, err
		}
		var buf []item
		for {
			n := c.cur
			last := c.last()
			// The edits that fall in this node.
			j := len(edits)
			if !last {
				lk := n.items[len(n.items)-1].key
				j = 0
				for j < len(edits) && compareKeys(edits[j].key, lk) <= 0 {
					j++
				}
			}
			buf = mergeEdits(w.growItems(buf, len(n.items)+j), n.items, edits[:j])
			edits = edits[j:]
			if len(n.items) > 0 {
				dels = append(dels, edit{key: n.items[len(n.items)-1].key, del: true})
			}
			newRefs, tail, err := w.chunk(level, buf, last, true)
			if err != nil {
				return nil, nil, err
			}
			refs = append(refs, newRefs...)
			buf = append(buf[:0:0], tail...)
			if last || (len(buf) == 0 && (len(edits) == 0 || !nextNodeHas(c, edits[0].key))) {
				break
			}
			if err := c.next(); err != nil {
				return nil, nil, err
			}
		}
	}
	return refs, mergeLevelEdits(dels, refs), nil
}

// nextNodeHas reports whether key k falls in the node after the cursor's
// (so the window can continue without a new seek).
func nextNodeHas(c *cursor, k key) bool {
	for d := len(c.frames) - 1; d >= 0; d-- {
		f := c.frames[d]
		if f.i+1 < len(f.n.items) {
			return compareKeys(k, f.n.items[f.i+1].key) <= 0
		}
	}
	return false
}

// growItems returns dst with room for n more items: from the op's arena
// if it has one (a dry op), else from the heap.
func (w *op) growItems(dst []item, n int) []item {
	if w.arena == nil || cap(dst)-len(dst) >= n {
		return slices.Grow(dst, n)
	}
	return append(w.arena.take(len(dst)+n), dst...)
}

// itemArena hands out the item buffers of a dry op (ApplyDry) from
// pooled slabs: the nodes a dry op makes are dropped when it ends (only
// their ids are kept; the memo keeps copies), so their items can be
// reused by the next one instead of being garbage.
type itemArena struct {
	slabs [][]item
	off   int // used items of the last slab
}

// arenaSlab is the size of a slab: the items of the nodes one commit of a
// few puts touches.
const arenaSlab = 1024

var itemSlabs = sync.Pool{New: func() any { s := make([]item, arenaSlab); return &s }}

// take returns an empty slice with capacity n.
func (a *itemArena) take(n int) []item {
	if n > arenaSlab {
		return make([]item, 0, n)
	}
	if len(a.slabs) == 0 || a.off+n > arenaSlab {
		a.slabs = append(a.slabs, *itemSlabs.Get().(*[]item))
		a.off = 0
	}
	s := a.slabs[len(a.slabs)-1][a.off : a.off : a.off+n]
	a.off += n
	return s
}

// release clears the slabs (so that they hold no strings) and pools them;
// nothing may use the items taken from a after.
func (a *itemArena) release() {
	for i, s := range a.slabs {
		if i == len(a.slabs)-1 {
			clear(s[:a.off])
		} else {
			clear(s)
		}
		itemSlabs.Put(&s)
	}
	a.slabs, a.off = nil, 0
}

// mergeEdits appends to dst the items with the sorted edits applied.
func mergeEdits(dst, items []item, edits []edit) []item {
	dst = slices.Grow(dst, len(items)+len(edits))
	i, j := 0, 0
	for i < len(items) || j < len(edits) {
		switch {
		case j == len(edits) || i < len(items) && compareKeys(items[i].key, edits[j].key) < 0:
			dst = append(dst, items[i])
			i++
		case i == len(items) || compareKeys(edits[j].key, items[i].key) < 0:
			if !edits[j].del {
				dst = append(dst, item{key: edits[j].key, e: edits[j].e})
			}
			j++
		default: // same key
			if !edits[j].del {
				dst = append(dst, item{key: edits[j].key, e: edits[j].e})
			}
			i++
			j++
		}
	}
	return dst
}

// mergeLevelEdits combines the removal of old chunk keys with the new chunk
// references into one sorted edit list; a new reference replaces a removal
// of the same key.
func mergeLevelEdits(dels []edit, refs []item) []edit {
	out := make([]edit, 0, len(dels)+len(refs))
	i, j := 0, 0
	for i < len(dels) || j < len(refs) {
		switch {
		case j == len(refs) || i < len(dels) && compareKeys(dels[i].key, refs[j].key) < 0:
			out = append(out, dels[i])
			i++
		case i == len(dels) || compareKeys(refs[j].key, dels[i].key) < 0:
			out = append(out, edit{key: refs[j].key, e: refs[j].e})
			j++
		default:
			out = append(out, edit{key: refs[j].key, e: refs[j].e})
			i++
			j++
		}
	}
	return out
}
