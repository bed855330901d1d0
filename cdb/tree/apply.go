package tree

import (
	"fmt"
	"slices"
	"sync"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Op is one change of a batch (Apply). A put has Entry.Kind KindValue; a
// delete has Entry.Kind KindTombstone and writes a tombstone carrying
// Entry.Stamp. Ops apply in order, as if one after the other.
type Op struct {
	Path  string
	Entry Entry
	// Meta makes the op act on the metadata leaf of the directory Path
	// (e.g. the schema its children must have) instead of on Path itself.
	// Putting metadata creates the directory; a directory whose only live
	// leaf is its metadata is live (it lists and exists).
	Meta bool
	// Recursive, on a delete, tombstones every live value and metadata leaf
	// at and under Path (rm -r). Without it, deleting a directory is an
	// errs.Invalid error.
	Recursive bool
	// Raw sets the leaf at Path (or the metadata leaf, with Meta) to Entry
	// exactly, value or tombstone, without the checks of a put or delete:
	// no "not a directory", "is a directory" or "not-exist". It replays
	// what a merge did: Apply(a, the raw ops of Diff(a, Merge(a, b)))
	// gives the merged root. Raw excludes Recursive. A raw op whose
	// Entry is a directory (KindDir: node id and live count) grafts that
	// directory at Path whole, without reading it.
	Raw bool
}

// Put returns the root after putting e (a value) at path p.
func (t *Tree) Put(root coda.ID, p string, e Entry) (coda.ID, error) {
	return t.Apply(root, []Op{{Path: p, Entry: e}})
}

// Delete returns the root after deleting the value at p, leaving a
// tombstone stamped s.
func (t *Tree) Delete(root coda.ID, p string, s Stamp) (coda.ID, error) {
	return t.Apply(root, []Op{{Path: p, Entry: Tombstone(s)}})
}

// Apply applies ops in order and returns the new root. It is atomic: on
// error nothing is written and the error names the op's path. Each changed
// node is written once, however many ops touch it, so a batch of k changes
// in a directory of n entries writes O(k · log n) nodes.
//
// Errors: a bad path or entry is errs.Invalid, as is putting a value where
// a live directory is, or under a live value ("not a directory"), and a
// non-recursive delete of a directory; deleting what does not exist (or is
// already deleted) is errs.NotExist.
func (t *Tree) Apply(root coda.ID, ops []Op) (coda.ID, error) {
	b := t.newBatch(root)
	for i := range ops {
		if err := b.apply(&ops[i]); err != nil {
			return root, errs.E(errs.Op("tree.Apply"), err)
		}
	}
	return b.flush()
}

// ApplyDry is Apply without writing: it returns the root Apply would,
// computing node ids only (validation recomputes trees this way).
func (t *Tree) ApplyDry(root coda.ID, ops []Op) (coda.ID, error) {
	b := t.newBatch(root)
	b.o.dry = true
	b.o.arena = &itemArena{}
	defer b.o.arena.release()
	for i := range ops {
		if err := b.apply(&ops[i]); err != nil {
			return root, errs.E(errs.Op("tree.Apply"), err)
		}
	}
	return b.flush()
}

// ApplyDryNew is ApplyDry that also calls made with the id of every node
// of the new tree the ops made and did not read: each node reachable from
// the new root through nodes the ops made (not through a node of root's
// tree, nor the empty node), but those they read from the Store. Each is
// reported once, parents before children.
//
// Every node of the new tree that root's tree lacks is reported, and
// every node reported is one a Diff of root against the new root reads
// (TestApplyDryNew): a node the ops made whose content is a node of
// root's tree in the same directory was built from that node's items, so
// the ops read it. Validation of a received commit learns from its replay
// which received nodes its tree needs, without the diff (cdb,
// docs/bundle.md). It hashes every node it makes: the id memo, which
// serves the validation of a commit built in this process, holds none of
// a received commit's nodes, and is not filled with them.
func (t *Tree) ApplyDryNew(root coda.ID, ops []Op, made func(coda.ID)) (coda.ID, error) {
	b := t.newBatch(root)
	b.o.dry = true
	b.o.arena = &itemArena{}
	defer b.o.arena.release()
	b.o.made, b.o.read = map[coda.ID]*node{}, map[coda.ID]bool{}
	for i := range ops {
		if err := b.apply(&ops[i]); err != nil {
			return root, errs.E(errs.Op("tree.Apply"), err)
		}
	}
	id, err := b.flush()
	if err != nil {
		return id, err
	}
	b.o.reportMade(id, made)
	return id, nil
}

// reportMade calls fn with the ids of the nodes reachable from id
// through nodes the op made (o.made), except those it read, each once.
func (o *op) reportMade(id coda.ID, fn func(coda.ID)) {
	stack := []coda.ID{id}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n, ok := o.made[id]
		if !ok || id == EmptyRoot {
			continue
		}
		delete(o.made, id) // once
		if !o.read[id] {
			fn(id)
		}
		for i := len(n.items) - 1; i >= 0; i-- {
			if it := &n.items[i]; n.level > 0 || it.key.dir {
				stack = append(stack, it.e.ID)
			}
		}
	}
}

// Batch is an Apply in steps, for callers that learn their ops one at a
// time: each Apply checks and applies its ops at once, with the errors
// Tree.Apply would give, but nodes are written only by Flush, so that k
// ops cost one Apply of k ops however they are split. A Batch is not safe
// for concurrent use; after an error or Flush it must not be used.
type Batch struct {
	b *batch
}

// NewBatch returns a Batch over the tree root.
func (t *Tree) NewBatch(root coda.ID) *Batch { return &Batch{b: t.newBatch(root)} }

// Apply applies ops in order, as Tree.Apply does; nothing is written.
func (b *Batch) Apply(ops ...Op) error {
	for i := range ops {
		if err := b.b.apply(&ops[i]); err != nil {
			return errs.E(errs.Op("tree.Apply"), err)
		}
	}
	return nil
}

// Flush writes every node the ops changed, once, and returns the new root.
func (b *Batch) Flush() (coda.ID, error) { return b.b.flush() }

// batch is a mutable overlay on a base tree: the directories an operation
// has opened, with their pending leaf edits.
type batch struct {
	o    *op
	root *dirState
	segs []string // the segments of the op being applied (apply)
}

type dirState struct {
	parent  *dirState
	name    string
	base    coda.ID // top node of the directory before the batch
	existed bool    // the parent held this directory before the batch
	changed bool
	live    uint64 // live values under it now (meaningless for the root)
	// The leaves set, in the order first set: names[i] is set to
	// leaves[i]. While each name set is greater than the last (a replay
	// sets them in path order) they are found by binary search; after
	// the first that is not, by index.
	names    []string
	leaves   []Entry
	unsorted bool
	index    map[string]int
	subs     map[string]*dirState
}

// find returns the position of the leaf named name in d.names, if set.
func (d *dirState) find(name string) (int, bool) {
	n := len(d.names)
	switch {
	case n == 0:
		return 0, false
	case d.unsorted:
		i, ok := d.index[name]
		return i, ok
	case name > d.names[n-1]:
		return n, false
	}
	return slices.BinarySearch(d.names, name)
}

// add sets the leaf named name, not set yet, to e.
func (d *dirState) add(name string, e Entry) {
	if n := len(d.names); !d.unsorted && n > 0 && name < d.names[n-1] {
		d.unsorted = true
		d.index = make(map[string]int, 2*n)
		for i, x := range d.names {
			d.index[x] = i
		}
	}
	if d.unsorted {
		d.index[name] = len(d.names)
	}
	d.names = append(d.names, name)
	d.leaves = append(d.leaves, e)
}

func (t *Tree) newBatch(root coda.ID) *batch {
	return &batch{o: t.newOp(true), root: &dirState{base: root, existed: true}}
}

// leaf returns the current leaf entry (value or tombstone) named name in d.
func (b *batch) leaf(d *dirState, name string) (Entry, bool, error) {
	if i, ok := d.find(name); ok {
		return d.leaves[i], true, nil
	}
	return b.o.lookup(d.base, key{name, false})
}

// setLeaf sets the leaf named name in d to e.
func (b *batch) setLeaf(d *dirState, name string, e Entry) error {
	i, set := d.find(name)
	var old Entry
	ok := set
	if set {
		old = d.leaves[i]
	} else {
		var err error
		if old, ok, err = b.o.lookup(d.base, key{name, false}); err != nil {
			return err
		}
	}
	if ok && old == e {
		return nil
	}
	if set {
		d.leaves[i] = e
	} else {
		d.add(name, e)
	}
	delta := e.live() - old.live()
	for x := d; x != nil; x = x.parent {
		x.live += delta
		x.changed = true
	}
	return nil
}

// sub opens the subdirectory name of d (creating it if absent).
func (b *batch) sub(d *dirState, name string) (*dirState, error) {
	if s, ok := d.subs[name]; ok {
		return s, nil
	}
	e, ok, err := b.o.lookup(d.base, key{name, true})
	if err != nil {
		return nil, err
	}
	s := &dirState{parent: d, name: name, base: EmptyRoot}
	if ok {
		s.base, s.live, s.existed = e.ID, e.Live, true
	}
	if d.subs == nil {
		d.subs = make(map[string]*dirState)
	}
	d.subs[name] = s
	return s, nil
}

// graft replaces the subdirectory name of d by the directory e wholesale.
func (b *batch) graft(d *dirState, name string, e Entry) error {
	s, err := b.sub(d, name)
	if err != nil {
		return err
	}
	delta := e.Live - s.live
	s.base, s.live, s.subs = e.ID, e.Live, nil
	s.names, s.leaves, s.unsorted, s.index = nil, nil, false, nil
	for x := s; x != nil; x = x.parent {
		x.changed = true
	}
	for x := d; x != nil; x = x.parent {
		x.live += delta
	}
	return nil
}

// open opens the directory at segs for writing: every ancestor that holds
// a live value is an error ("not a directory").
func (b *batch) open(segs []string, p string) (*dirState, error) {
	d := b.root
	for i, s := range segs {
		e, ok, err := b.leaf(d, s)
		if err != nil {
			return nil, err
		}
		if ok && e.Kind == KindValue {
			return nil, errs.E(errs.Invalid, errs.Path(p), fmt.Sprintf("tree: %s is not a directory", JoinPath(segs[:i+1])))
		}
		if d, err = b.sub(d, s); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (b *batch) apply(o *Op) error {
	segs, err := splitInto(b.segs[:0], o.Path)
	if err != nil {
		return err
	}
	b.segs = segs
	p := o.Path
	e := o.Entry
	switch e.Kind {
	case KindValue:
		if e.ID.IsZero() {
			return errs.E(errs.Invalid, errs.Path(p), "tree: put of a zero id")
		}
		if o.Recursive {
			return errs.E(errs.Invalid, errs.Path(p), "tree: a put cannot be recursive")
		}
	case KindTombstone:
		e.ID = coda.ID{}
	case KindDir:
		// A raw graft: the directory at Path becomes e (node and live
		// count) wholesale, its nodes unread. Validation uses it for
		// subtrees whose nodes it lacks by design (docs/sync.md).
		if !o.Raw || o.Meta || o.Recursive || e.ID.IsZero() || len(segs) == 0 {
			return errs.E(errs.Invalid, errs.Path(p), "tree: a directory entry is only grafted raw, at a path below the root")
		}
		d, err := b.openRaw(segs[:len(segs)-1])
		if err != nil {
			return err
		}
		return b.graft(d, segs[len(segs)-1], e)
	default:
		return errs.E(errs.Invalid, errs.Path(p), fmt.Sprintf("tree: op entry kind %v (want value or tombstone)", e.Kind))
	}
	e.Live = 0
	if o.Raw {
		if o.Recursive {
			return errs.E(errs.Invalid, errs.Path(p), "tree: a raw op cannot be recursive")
		}
		dir, name := segs, ""
		if !o.Meta {
			if len(segs) == 0 {
				return errs.E(errs.Invalid, errs.Path(p), "tree: the root is a directory")
			}
			dir, name = segs[:len(segs)-1], segs[len(segs)-1]
		}
		d, err := b.openRaw(dir)
		if err != nil {
			return err
		}
		return b.setLeaf(d, name, e)
	}
	if o.Meta {
		if o.Recursive {
			return errs.E(errs.Invalid, errs.Path(p), "tree: a metadata op cannot be recursive")
		}
		d, err := b.open(segs, p)
		if err != nil {
			return err
		}
		if e.Kind == KindTombstone {
			old, ok, err := b.leaf(d, "")
			if err != nil {
				return err
			}
			if !ok || old.Kind != KindValue {
				return errs.E(errs.NotExist, errs.Path(p), "tree: directory has no metadata")
			}
		}
		return b.setLeaf(d, "", e)
	}
	if len(segs) == 0 {
		if e.Kind == KindTombstone && o.Recursive {
			return b.tombAll(b.root, e)
		}
		return errs.E(errs.Invalid, errs.Path(p), "tree: the root is a directory")
	}
	name := segs[len(segs)-1]
	d, err := b.open(segs[:len(segs)-1], p)
	if err != nil {
		return err
	}
	old, oldOK, err := b.leaf(d, name)
	if err != nil {
		return err
	}
	var dir *dirState
	if _, ok := d.subs[name]; ok || e.Kind == KindTombstone {
		if dir, err = b.sub(d, name); err != nil {
			return err
		}
	} else if de, ok, err := b.o.lookup(d.base, key{name, true}); err != nil {
		return err
	} else if ok && de.Live > 0 {
		return errs.E(errs.Invalid, errs.Path(p), "tree: is a directory")
	}
	if e.Kind == KindValue {
		if dir != nil && dir.live > 0 {
			return errs.E(errs.Invalid, errs.Path(p), "tree: is a directory")
		}
		return b.setLeaf(d, name, e)
	}
	// A delete.
	found := false
	if oldOK && old.Kind == KindValue {
		found = true
		if err := b.setLeaf(d, name, e); err != nil {
			return err
		}
	}
	if dir.live > 0 {
		if !o.Recursive {
			return errs.E(errs.Invalid, errs.Path(p), "tree: is a directory (delete it recursively)")
		}
		found = true
		if err := b.tombAll(dir, e); err != nil {
			return err
		}
	}
	if !dir.existed && !dir.changed {
		delete(d.subs, name) // opened only to look
	}
	if !found {
		return notExist(p)
	}
	return nil
}

// tombAll replaces every live leaf under d with the tombstone t.
func (b *batch) tombAll(d *dirState, t Entry) error {
	var leaves, dirs []string
	err := b.o.each(d.base, key{}, func(it item) error {
		if it.key.dir {
			dirs = append(dirs, it.key.name)
		} else {
			leaves = append(leaves, it.key.name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	leaves = append(leaves, d.names...)
	for name := range d.subs {
		dirs = append(dirs, name)
	}
	slices.Sort(leaves)
	for i, name := range leaves {
		if i > 0 && leaves[i-1] == name {
			continue
		}
		e, _, err := b.leaf(d, name)
		if err != nil {
			return err
		}
		if e.Kind == KindValue {
			if err := b.setLeaf(d, name, t); err != nil {
				return err
			}
		}
	}
	slices.Sort(dirs)
	for i, name := range dirs {
		if i > 0 && dirs[i-1] == name {
			continue
		}
		s, err := b.sub(d, name)
		if err != nil {
			return err
		}
		if s.live > 0 {
			if err := b.tombAll(s, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush writes every changed directory, bottom up, and returns the new root.
func (b *batch) flush() (coda.ID, error) {
	id, _, err := b.flushDir(b.root)
	if err != nil {
		return coda.ID{}, err
	}
	if id == EmptyRoot && !b.o.dry {
		if _, err := b.o.t.s.Put(encodeNode(emptyNode)); err != nil {
			return coda.ID{}, err
		}
	}
	return id, nil
}

func (b *batch) flushDir(d *dirState) (coda.ID, uint64, error) {
	if !d.changed {
		return d.base, d.live, nil
	}
	// The leaves in the order they were set: the ops of a commit come in
	// path order, so a directory of leaves alone is mostly in key order
	// already, and is not sorted again.
	ep := editBufs.Get().(*[]edit)
	defer func() {
		clear(*ep) // no strings kept alive by the pool
		*ep = (*ep)[:0]
		editBufs.Put(ep)
	}()
	edits := slices.Grow((*ep)[:0], len(d.names)+len(d.subs))
	for i, name := range d.names {
		edits = append(edits, edit{key: key{name, false}, e: d.leaves[i]})
	}
	for name, s := range d.subs {
		if !s.changed {
			continue
		}
		id, live, err := b.flushDir(s)
		if err != nil {
			return coda.ID{}, 0, err
		}
		switch {
		case id != EmptyRoot:
			edits = append(edits, edit{key: key{name, true}, e: Entry{Kind: KindDir, ID: id, Live: live}})
		case s.existed:
			edits = append(edits, edit{key: key{name, true}, del: true})
		}
	}
	if cmp := func(x, y edit) int { return compareKeys(x.key, y.key) }; !slices.IsSortedFunc(edits, cmp) {
		slices.SortFunc(edits, cmp)
	}
	*ep = edits
	id, err := b.o.applyEdits(b.o, d.base, edits)
	if err != nil {
		return coda.ID{}, 0, err
	}
	return id, d.live, nil
}

// editBufs holds the edit lists of flushed directories, for the next
// (applyEdits keeps none of an edit list's elements).
var editBufs = sync.Pool{New: func() any { return new([]edit) }}
