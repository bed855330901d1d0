package tree

import (
	"fmt"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Verify checks the tree root the way fsck does: every node is present and
// decodes canonically, every directory's chunking is the canonical one for
// its entries (docs/tree.md), every directory's live count is right, and no
// directory is empty. It reads every node once. The first problem is an
// errs.Corrupt error naming the directory.
func (t *Tree) Verify(root coda.ID) error {
	o := t.newOp(false)
	_, err := o.verifyDir(root, nil, nil)
	return err
}

// Verifier verifies many roots that share directories (the trees of a
// history, for fsck), reading each distinct directory once: a directory
// whose top node it has verified before is not read again. It is not safe
// for concurrent use.
type Verifier struct {
	o *op
	// Skip, if set, names directories not to read (by path and top node):
	// their entries (node id, live count) are taken as their parents
	// record them. fsck skips the subtrees a node lacks by design
	// (docs/sync.md, opaque subtrees).
	Skip func(path string, node coda.ID) bool
}

// NewVerifier returns a Verifier over t's store.
func (t *Tree) NewVerifier() *Verifier {
	o := t.newOp(false)
	o.verified = make(map[coda.ID]uint64)
	return &Verifier{o: o}
}

// Verify is Tree.Verify, skipping directories verified before.
func (v *Verifier) Verify(root coda.ID) error {
	_, err := v.o.verifyDir(root, nil, v.Skip)
	return err
}

// Dirs returns the number of distinct directories verified so far.
func (v *Verifier) Dirs() int { return len(v.o.verified) }

func (o *op) verifyDir(id coda.ID, segs []string, skip func(string, coda.ID) bool) (uint64, error) {
	if l, ok := o.verified[id]; ok {
		return l, nil
	}
	p := JoinPath(segs)
	if len(segs) > MaxDepth {
		return 0, errs.E(errs.Corrupt, errs.Path(p), fmt.Sprintf("tree: directories nested deeper than %d", MaxDepth))
	}
	var items []item
	var live uint64
	err := o.each(id, key{}, func(it item) error {
		if it.key.dir {
			if it.e.ID == EmptyRoot {
				return errs.E(errs.Corrupt, errs.Path(p), fmt.Sprintf("tree: empty directory %q", it.key.name))
			}
			sub := appendSeg(segs, it.key.name)
			l := it.e.Live
			if skip == nil || !skip(JoinPath(sub), it.e.ID) {
				var err error
				if l, err = o.verifyDir(it.e.ID, sub, skip); err != nil {
					return err
				}
			}
			if l != it.e.Live {
				return errs.E(errs.Corrupt, errs.Path(p), fmt.Sprintf("tree: directory %q records %d live values, has %d", it.key.name, it.e.Live, l))
			}
		}
		if n := len(items); n > 0 && compareKeys(items[n-1].key, it.key) >= 0 {
			return errs.E(errs.Corrupt, errs.Path(p), fmt.Sprintf("tree: names out of order across nodes at %q", it.key.name))
		}
		items = append(items, it)
		live += it.e.live()
		return nil
	})
	if err != nil {
		if errs.Is(err, errs.Corrupt) {
			return 0, err
		}
		return 0, errs.E(errs.Corrupt, errs.Path(p), err)
	}
	dry := &op{t: o.t, dry: true}
	refs, _, err := dry.chunk(0, items, true, false)
	if err != nil {
		return 0, err
	}
	want, err := dry.top(0, refs)
	if err != nil {
		return 0, err
	}
	if want != id {
		return 0, errs.E(errs.Corrupt, errs.Path(p), fmt.Sprintf("tree: directory node %s is not the canonical chunking of its entries (want %s)", id, want))
	}
	if o.verified != nil {
		o.verified[id] = live
	}
	return live, nil
}
