package tree

import (
	"github.com/coalescent/coal/coda"
)

// Conflict records a concurrent loser of a merge: at Path (the metadata
// leaf of the directory Path, if Meta) Winner was kept and Loser, a value,
// was overruled. Losers are kept here so that nothing is silently lost.
type Conflict struct {
	Path          string
	Meta          bool
	Winner, Loser Entry
}

// Merge merges the trees a and b, the deterministic state-based merge of
// docs/tree.md: for every leaf path the entry with the greater stamp wins
// (Entry.Compare: time, then author, then id; tombstones included), and
// directories merge recursively, so deleting a directory does not delete
// what the other side concurrently put under it. The merged root depends on
// a and b alone, and Merge is commutative, associative and idempotent on
// roots.
//
// Conflicts lists, in path order, every path where both sides hold
// different leaf entries and the loser is a value that base (the common
// ancestor, if the caller knows one; the zero ID if not) does not hold at
// that path: a value the loser's side wrote after base. Losing tombstones
// are not conflicts (no data is lost), and neither are values that base
// already had (the winner's side overwrote them knowingly). Conflicts are
// the same for Merge(base, a, b) and Merge(base, b, a).
func (t *Tree) Merge(base, a, b coda.ID) (coda.ID, []Conflict, error) {
	if a == b {
		return a, nil, nil
	}
	bt := t.newBatch(a)
	o := bt.o
	var conflicts []Conflict
	err := o.diffDir(a, b, nil, &diffFuncs{
		leaf: func(segs []string, name string, ea, eb Entry) error {
			if ea.Kind == 0 || eb.Kind != 0 && eb.Compare(ea) > 0 {
				d, err := bt.openRaw(segs)
				if err != nil {
					return err
				}
				if err := bt.setLeaf(d, name, eb); err != nil {
					return err
				}
			}
			if ea.Kind == 0 || eb.Kind == 0 {
				return nil
			}
			win, lose := ea, eb
			if eb.Compare(ea) > 0 {
				win, lose = eb, ea
			}
			if lose.Kind != KindValue {
				return nil
			}
			if !base.IsZero() {
				be, ok, err := o.lookupLeaf(base, segs, name)
				if err != nil {
					return err
				}
				if ok && be == lose {
					return nil
				}
			}
			c := changeAt(segs, name, win, lose)
			conflicts = append(conflicts, Conflict{Path: c.Path, Meta: c.Meta, Winner: win, Loser: lose})
			return nil
		},
		dir: func(segs []string, name string, e Entry, inA bool) error {
			if inA {
				return nil
			}
			d, err := bt.openRaw(segs)
			if err != nil {
				return err
			}
			return bt.graft(d, name, e)
		},
	})
	if err != nil {
		return coda.ID{}, nil, err
	}
	root, err := bt.flush()
	if err != nil {
		return coda.ID{}, nil, err
	}
	return root, conflicts, nil
}

// openRaw opens the directory at segs without checking for values on the
// way: a merge may hold a value and a directory of the same name.
func (b *batch) openRaw(segs []string) (*dirState, error) {
	d := b.root
	for _, s := range segs {
		var err error
		if d, err = b.sub(d, s); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// lookupLeaf returns the leaf entry at segs/name in the tree root.
func (o *op) lookupLeaf(root coda.ID, segs []string, name string) (Entry, bool, error) {
	id := root
	for _, s := range segs {
		e, ok, err := o.lookup(id, key{s, true})
		if err != nil || !ok {
			return Entry{}, false, err
		}
		id = e.ID
	}
	return o.lookup(id, key{name, false})
}

// Leaf returns the leaf entry at p (with meta, the metadata leaf of the
// directory p): a value or a tombstone, which Get hides. ok is false if p
// holds no leaf. Revert uses it to see whether a path was changed again.
func (t *Tree) Leaf(root coda.ID, p string, meta bool) (e Entry, ok bool, err error) {
	segs, err := SplitPath(p)
	if err != nil {
		return Entry{}, false, err
	}
	if meta {
		return t.newOp(false).lookupLeaf(root, segs, "")
	}
	if len(segs) == 0 {
		return Entry{}, false, nil
	}
	return t.newOp(false).lookupLeaf(root, segs[:len(segs)-1], segs[len(segs)-1])
}
