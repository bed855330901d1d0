// Package tree is coal's Merkle tree of paths: directories of named entries
// (values, tombstones and subdirectories), each directory a prolly tree of
// content-defined chunks, every node a CODA object in a content-addressed
// Store. It is pure over the Store: no goroutines, no I/O of its own, no
// logging.
//
// A tree is named by its root: the id of the root directory's top node
// (coda.ID). Roots are immutable values; every change returns a new root and
// shares every unchanged node with the old one. The same logical content
// always gives the same root, whatever the order of the operations that built
// it (docs/tree.md).
//
// Leaves carry stamps (time, author); deletes leave tombstones, hidden from
// reads but kept so that Merge, the deterministic state-based merge of two
// trees, cannot resurrect deleted paths.
package tree

import (
	"errors"
	"fmt"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// EmptyRoot is the root of the empty tree: the id of an empty leaf node. It
// is never read from the store, and written when an operation returns it.
var EmptyRoot = coda.Sum(encodeNode(&node{}))

var emptyNode = &node{}

// Tree reads and writes trees in a Store. A Tree holds no state but the
// Store: it is safe for concurrent use if the Store is, and the zero Tree
// is not usable (use New).
type Tree struct {
	s  Store
	cs CachingStore // s, if it lets nodes be cached
}

// New returns a Tree over s. If s is a CachingStore, the Tree caches the
// nodes it reads in s's NodeCache.
func New(s Store) *Tree {
	cs, _ := s.(CachingStore)
	return &Tree{s: s, cs: cs}
}

// op is the context of one operation: the nodes it has read or written
// (when caching) and whether writes are dry (ids only).
type op struct {
	t     *Tree
	cache map[coda.ID]*node
	dry   bool
	// arena, if not nil, holds the items of the nodes a dry op makes
	// (ApplyDry): they must not outlive the op.
	arena *itemArena
	// verified holds the live count of every directory a Verifier has
	// verified, by top node id (nil: not verifying many roots).
	verified map[coda.ID]uint64
	// stacks holds the emptied stacks of finished directory diffs, for
	// the next (diffDir); pooled is where they came from and go back to
	// (newDiffOp, releaseStacks).
	stacks [][]diffElem
	pooled *[][]diffElem
	// made, if not nil, holds the nodes a dry op wrote, by id, and read
	// the ids of the nodes it read from its Store (ApplyDryNew).
	made map[coda.ID]*node
	read map[coda.ID]bool
}

func (t *Tree) newOp(cache bool) *op {
	o := &op{t: t}
	if cache {
		o.cache = make(map[coda.ID]*node)
	}
	return o
}

func (o *op) load(id coda.ID) (*node, error) {
	if schemaErr != nil {
		return nil, schemaErr
	}
	if id == EmptyRoot {
		return emptyNode, nil
	}
	if n, ok := o.cache[id]; ok {
		return n, nil
	}
	if o.read != nil {
		o.read[id] = true
	}
	var nc *NodeCache
	if o.t.cs != nil {
		if nc = o.t.cs.NodeCache(id); nc != nil {
			if n, ok := nc.get(id); ok {
				if o.cache != nil {
					o.cache[id] = n
				}
				return n, nil
			}
		}
	}
	b, err := o.t.s.Get(id)
	if err != nil {
		if errs.Is(err, errs.NotExist) {
			// A node the tree refers to is missing: that is not a missing
			// path, and must not look like one.
			return nil, errs.E(errs.Corrupt, fmt.Errorf("tree: node %s missing from the store (%v)", id, err))
		}
		return nil, fmt.Errorf("tree: load node %s: %w", id, err)
	}
	n, err := decodeNode(b)
	if err != nil {
		return nil, errs.E(errs.Corrupt, fmt.Errorf("tree: node %s: %w", id, err))
	}
	if o.cache != nil {
		o.cache[id] = n
	}
	if nc != nil {
		nc.add(id, n, nodeCost(n))
	}
	return n, nil
}

// child loads the i-th child of the internal node n, checking its level.
func (o *op) child(n *node, i int) (*node, error) {
	id := n.items[i].e.ID
	c, err := o.load(id)
	if err != nil {
		return nil, err
	}
	if c.level != n.level-1 {
		return nil, errs.E(errs.Corrupt, fmt.Sprintf("tree: node %s has level %d under a node of level %d", id, c.level, n.level))
	}
	return c, nil
}

// lookup finds the item with key k in the directory whose top node is id.
func (o *op) lookup(id coda.ID, k key) (Entry, bool, error) {
	n, err := o.load(id)
	if err != nil {
		return Entry{}, false, err
	}
	for {
		i := searchItems(n.items, k)
		if i == len(n.items) {
			return Entry{}, false, nil
		}
		if n.level == 0 {
			if compareKeys(n.items[i].key, k) == 0 {
				return n.items[i].e, true, nil
			}
			return Entry{}, false, nil
		}
		if n, err = o.child(n, i); err != nil {
			return Entry{}, false, err
		}
	}
}

// dir returns the top node of the directory at segs, which must exist.
func (o *op) dir(root coda.ID, segs []string, p string) (coda.ID, error) {
	id := root
	for _, s := range segs {
		e, ok, err := o.lookup(id, key{s, true})
		if err != nil {
			return id, err
		}
		if !ok || e.Live == 0 {
			return id, notExist(p)
		}
		id = e.ID
	}
	return id, nil
}

func notExist(p string) error {
	return errs.E(errs.NotExist, errs.Path(p), "tree: no such path")
}

// Get returns the entry at path p: a value, or a directory (Kind KindDir)
// if p holds no value but a directory with live entries. A missing or
// deleted (tombstoned) path is an errs.NotExist error. The root ("/") is a
// directory whose Live count is not recorded (zero).
func (t *Tree) Get(root coda.ID, p string) (Entry, error) {
	segs, err := SplitPath(p)
	if err != nil {
		return Entry{}, err
	}
	if len(segs) == 0 {
		return Entry{Kind: KindDir, ID: root}, nil
	}
	o := t.newOp(false)
	dir, err := o.dir(root, segs[:len(segs)-1], p)
	if err != nil {
		return Entry{}, err
	}
	name := segs[len(segs)-1]
	e, ok, err := o.lookup(dir, key{name, false})
	if err != nil {
		return Entry{}, err
	}
	if ok && e.Kind == KindValue {
		return e, nil
	}
	e, ok, err = o.lookup(dir, key{name, true})
	if err != nil {
		return Entry{}, err
	}
	if ok && e.Live > 0 {
		return e, nil
	}
	return Entry{}, notExist(p)
}

// GetMeta returns the metadata leaf of the directory at p (see Op.Meta).
func (t *Tree) GetMeta(root coda.ID, p string) (Entry, error) {
	segs, err := SplitPath(p)
	if err != nil {
		return Entry{}, err
	}
	o := t.newOp(false)
	dir, err := o.dir(root, segs, p)
	if err != nil {
		return Entry{}, err
	}
	e, ok, err := o.lookup(dir, key{"", false})
	if err != nil {
		return Entry{}, err
	}
	if !ok || e.Kind != KindValue {
		return Entry{}, errs.E(errs.NotExist, errs.Path(p), "tree: directory has no metadata")
	}
	return e, nil
}

// DirEntry is one name in a directory listing.
type DirEntry struct {
	Name string
	Entry
}

// List returns the live entries of the directory at p in key order: by name,
// and a value before a directory of the same name (a merge can leave both).
// Tombstones, directories without live entries and the metadata leaf are
// hidden. A path that is not a live directory is an errs.NotExist error.
func (t *Tree) List(root coda.ID, p string) ([]DirEntry, error) {
	return t.ListFrom(root, p, "", 0)
}

// ListFrom is List for huge directories: it returns at most limit entries
// (0: no limit) whose names sort after `after`. It never splits the value
// and the directory of one name, so it may return limit+1 entries.
func (t *Tree) ListFrom(root coda.ID, p, after string, limit int) ([]DirEntry, error) {
	segs, err := SplitPath(p)
	if err != nil {
		return nil, err
	}
	o := t.newOp(false)
	dir, err := o.dir(root, segs, p)
	if err != nil {
		return nil, err
	}
	var out []DirEntry
	err = o.each(dir, key{after, true}, func(it item) error {
		if it.key.name == "" || it.key.name <= after || it.e.live() == 0 {
			return nil
		}
		if limit > 0 && len(out) >= limit && out[len(out)-1].Name != it.key.name {
			return errStop
		}
		out = append(out, DirEntry{Name: it.key.name, Entry: it.e})
		return nil
	})
	if err != nil && err != errStop {
		return nil, err
	}
	return out, nil
}

var errStop = errors.New("stop")

// each calls fn for every item of the directory whose top node is id, in
// key order, starting at the first key ≥ from.
func (o *op) each(id coda.ID, from key, fn func(item) error) error {
	n, err := o.load(id)
	if err != nil {
		return err
	}
	return o.eachNode(n, from, fn)
}

func (o *op) eachNode(n *node, from key, fn func(item) error) error {
	i := searchItems(n.items, from)
	for ; i < len(n.items); i++ {
		if n.level == 0 {
			if err := fn(n.items[i]); err != nil {
				return err
			}
			continue
		}
		c, err := o.child(n, i)
		if err != nil {
			return err
		}
		if err := o.eachNode(c, from, fn); err != nil {
			return err
		}
	}
	return nil
}

// Walk calls fn for every live value at or under p, in path order
// (segment by segment, as in a listing: "/a", then "/a/…", then "/a0"). It
// stops at the first error fn returns and returns it. Metadata leaves are
// not visited. A path holding nothing live is an errs.NotExist error.
func (t *Tree) Walk(root coda.ID, p string, fn func(path string, e Entry) error) error {
	segs, err := SplitPath(p)
	if err != nil {
		return err
	}
	o := t.newOp(false)
	found := false
	visit := func(l Leaf) error {
		if l.Meta || l.Entry.Kind != KindValue {
			return nil
		}
		found = true
		return fn(l.Path, l.Entry)
	}
	if len(segs) == 0 {
		if err := o.walk(root, segs, visit); err != nil {
			return err
		}
		return nil
	}
	dir, err := o.dir(root, segs[:len(segs)-1], p)
	if err != nil {
		return err
	}
	name := segs[len(segs)-1]
	e, ok, err := o.lookup(dir, key{name, false})
	if err != nil {
		return err
	}
	if ok {
		if err := visit(Leaf{Path: JoinPath(segs), Entry: e}); err != nil {
			return err
		}
	}
	e, ok, err = o.lookup(dir, key{name, true})
	if err != nil {
		return err
	}
	if ok {
		if err := o.walk(e.ID, segs, visit); err != nil {
			return err
		}
	}
	if !found {
		return notExist(p)
	}
	return nil
}

// Leaf is a leaf entry (value or tombstone) with its path, as Walk, Diff and
// Merge report them. Meta marks the metadata leaf of the directory Path.
type Leaf struct {
	Path  string
	Meta  bool
	Entry Entry
}

// walk calls fn for every leaf (tombstones and metadata included) of the
// directory whose top node is id and whose path is segs, in path order.
func (o *op) walk(id coda.ID, segs []string, fn func(Leaf) error) error {
	return o.each(id, key{}, func(it item) error {
		if it.key.dir {
			return o.walk(it.e.ID, append(segs[:len(segs):len(segs)], it.key.name), fn)
		}
		if it.key.name == "" {
			return fn(Leaf{Path: JoinPath(segs), Meta: true, Entry: it.e})
		}
		return fn(Leaf{Path: joinName(segs, it.key.name, true), Entry: it.e})
	})
}
