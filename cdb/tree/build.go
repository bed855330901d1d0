package tree

import (
	"fmt"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Builder builds a tree from leaves given in path order, writing each node
// once: the bulk path for imports, and the fastest way to make a large tree.
// It is not safe for concurrent use. Its zero value is not usable (use
// Tree.NewBuilder).
type Builder struct {
	o     *op
	stack []*chunker // open directories, root first
	err   error
}

// chunker chunks one directory's items as they stream in.
type chunker struct {
	name    string
	levels  [][]item // the open (not yet chunked) items of each level
	emitted []int    // chunks emitted at each level
	lastRef []item   // the last chunk emitted at each level
	live    uint64
	last    key
	any     bool
}

// NewBuilder returns a Builder writing to t's store.
func (t *Tree) NewBuilder() *Builder {
	return &Builder{o: t.newOp(false), stack: []*chunker{{}}}
}

// Add adds the leaf e (a value or a tombstone) at path p. Paths must come in
// strictly increasing path order (segment by segment; a value before a
// directory of the same name).
func (b *Builder) Add(p string, e Entry) error {
	segs, err := SplitPath(p)
	if err != nil {
		return b.fail(err)
	}
	if len(segs) == 0 {
		return b.fail(errs.E(errs.Invalid, errs.Path(p), "tree: the root is a directory"))
	}
	return b.add(segs[:len(segs)-1], segs[len(segs)-1], e, p)
}

// AddMeta adds the metadata leaf of the directory p; it must come before
// everything else in that directory.
func (b *Builder) AddMeta(p string, e Entry) error {
	segs, err := SplitPath(p)
	if err != nil {
		return b.fail(err)
	}
	return b.add(segs, "", e, p)
}

func (b *Builder) fail(err error) error {
	if b.err == nil {
		b.err = err
	}
	return err
}

func (b *Builder) add(dir []string, name string, e Entry, p string) error {
	if b.err != nil {
		return b.err
	}
	switch {
	case e.Kind == KindValue && !e.ID.IsZero():
	case e.Kind == KindTombstone:
		e.ID = coda.ID{}
	default:
		return b.fail(errs.E(errs.Invalid, errs.Path(p), "tree: Builder.Add takes a value (with an id) or a tombstone"))
	}
	e.Live = 0
	// Close the open directories that are not ancestors of p.
	common := 0
	for common < len(dir) && common+1 < len(b.stack) && b.stack[common+1].name == dir[common] {
		common++
	}
	for len(b.stack) > common+1 {
		if err := b.closeDir(); err != nil {
			return b.fail(err)
		}
	}
	for _, s := range dir[common:] {
		parent := b.stack[len(b.stack)-1]
		if err := parent.order(key{s, true}, p); err != nil {
			return b.fail(err)
		}
		b.stack = append(b.stack, &chunker{name: s})
	}
	d := b.stack[len(b.stack)-1]
	k := key{name, false}
	if err := d.order(k, p); err != nil {
		return b.fail(err)
	}
	if err := b.push(d, 0, item{key: k, e: e}); err != nil {
		return b.fail(err)
	}
	d.live += e.live()
	return nil
}

func (c *chunker) order(k key, p string) error {
	if c.any && compareKeys(k, c.last) <= 0 {
		return errs.E(errs.Invalid, errs.Path(p), "tree: Builder: paths out of order or repeated")
	}
	c.last, c.any = k, true
	return nil
}

// push adds it to level `level` of d, emitting a chunk at a boundary.
func (b *Builder) push(d *chunker, level int, it item) error {
	for len(d.levels) <= level {
		d.levels = append(d.levels, nil)
		d.emitted = append(d.emitted, 0)
		d.lastRef = append(d.lastRef, item{})
	}
	d.levels[level] = append(d.levels[level], it)
	if len(d.levels[level]) >= chunkMax || isBoundary(it.key, level) {
		return b.emit(d, level)
	}
	return nil
}

func (b *Builder) emit(d *chunker, level int) error {
	ref, err := b.o.emit(level, d.levels[level], false)
	if err != nil {
		return err
	}
	d.levels[level] = d.levels[level][:0]
	d.emitted[level]++
	d.lastRef[level] = ref
	return b.push(d, level+1, ref)
}

// finish closes the levels of d and returns its top node: the only chunk
// of the lowest level that has one.
func (b *Builder) finish(d *chunker) (coda.ID, error) {
	for level := 0; ; level++ {
		var buf []item
		emitted := 0
		if level < len(d.levels) {
			buf, emitted = d.levels[level], d.emitted[level]
		}
		switch {
		case emitted == 0 && len(buf) == 0:
			return b.o.write(&node{})
		case emitted == 0:
			return b.o.write(&node{level: level, items: buf})
		case emitted == 1 && len(buf) == 0:
			return d.lastRef[level].e.ID, nil
		}
		if len(buf) > 0 {
			if err := b.emit(d, level); err != nil {
				return coda.ID{}, err
			}
		}
	}
}

func (b *Builder) closeDir() error {
	d := b.stack[len(b.stack)-1]
	b.stack = b.stack[:len(b.stack)-1]
	id, err := b.finish(d)
	if err != nil {
		return err
	}
	if id == EmptyRoot {
		return nil
	}
	parent := b.stack[len(b.stack)-1]
	parent.live += d.live
	return b.push(parent, 0, item{key: key{d.name, true}, e: Entry{Kind: KindDir, ID: id, Live: d.live}})
}

// Finish writes what remains and returns the root of the tree built. The
// Builder cannot be used afterwards.
func (b *Builder) Finish() (coda.ID, error) {
	if b.err != nil {
		return coda.ID{}, b.err
	}
	for len(b.stack) > 1 {
		if err := b.closeDir(); err != nil {
			return coda.ID{}, b.fail(err)
		}
	}
	id, err := b.finish(b.stack[0])
	if err != nil {
		return coda.ID{}, b.fail(err)
	}
	b.err = fmt.Errorf("tree: Builder already finished")
	return id, nil
}
