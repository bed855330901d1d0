package cdb

import (
	"fmt"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// A Deriver computes the leaves a commit carries besides the ones its
// author wrote: state derived from the tree, such as the query indexes of
// package query (docs/query.md). Derived leaves are part of the tree, so
// they are versioned, replicated and merged like everything else; every
// node derives them again and checks them (docs/cdb.md, "Validation").
//
// A Deriver must be deterministic: its answers depend only on the trees and
// objects it is given. It does no I/O but through the DeriveEnv.
type Deriver interface {
	// Derived reports whether the leaf at path (meta: the metadata leaf of
	// the directory path) is derived: written by Derive and MergeFix
	// only. An author's put there is refused; an author's tombstone there
	// is dropped and derived again.
	Derived(path string, meta bool) bool
	// Derive returns the raw leaf ops (tree.Op.Raw) a signed commit with
	// the author's changes must add. parent is the first parent's tree
	// (the empty tree for a genesis), mid is parent with the changes
	// applied; stamp is the commit's stamp. A value it needs whose object
	// the store lacks is an errs.NotExist error.
	Derive(env DeriveEnv, parent, mid coda.ID, changes []Change, stamp tree.Stamp) ([]tree.Op, error)
	// MergeFix returns the raw leaf ops that make merged (the tree.Merge
	// of a and b) consistent; stamp is the merge commit's (its time, the
	// zero author).
	MergeFix(env DeriveEnv, a, b, merged coda.ID, stamp tree.Stamp) ([]tree.Op, error)
}

// DeriveEnv is what a Deriver reads through.
type DeriveEnv struct {
	Store tree.Store
	Tree  *tree.Tree
	// Schemas returns the schemas of the tree root (its /sys/schemas).
	Schemas func(root coda.ID) (*coda.Registry, error)
}

func deriveEnv(st tree.Store) DeriveEnv {
	return DeriveEnv{Store: st, Tree: tree.New(st),
		Schemas: func(root coda.ID) (*coda.Registry, error) { return schemasIn(st, root) }}
}

// splitDerived returns the changes an author made (those not derived) and
// whether any change is derived.
func splitDerived(d Deriver, ops []Change) (user []Change, derived bool) {
	user = make([]Change, 0, len(ops))
	for _, o := range ops {
		if d.Derived(o.Path, o.Meta) {
			derived = true
			continue
		}
		user = append(user, o)
	}
	return user, derived
}

// replayChanges applies changes to base as raw leaves stamped s.
func replayChanges(tr *tree.Tree, base coda.ID, changes []Change, s tree.Stamp) (coda.ID, error) {
	ops := make([]tree.Op, len(changes))
	for i, o := range changes {
		e := tree.Value(o.ID, s)
		if o.Delete {
			e = tree.Tombstone(s)
		}
		ops[i] = tree.Op{Path: o.Path, Meta: o.Meta, Entry: e, Raw: true}
	}
	return tr.Apply(base, ops)
}

// derive adds the derived leaves to a commit being built: the author's
// changes ops (a diff of parent and root) become the author's changes
// plus what the Deriver derives from them. It returns the new root and
// ops.
func (w *World) derive(tx *txn, parent *Commit, ops []Change) (coda.ID, []Change, error) {
	d := w.h.derive
	user, derived := splitDerived(d, ops)
	for _, o := range ops {
		if !o.Delete && d.Derived(o.Path, o.Meta) {
			return coda.ID{}, nil, errs.E(errs.Invalid, errs.Path(o.Path), "derived leaf (an index entry): written by coal, not by hand")
		}
	}
	mid := tx.root
	var err error
	if derived {
		if mid, err = replayChanges(tx.tr, parent.Tree, user, tx.stamp); err != nil {
			return coda.ID{}, nil, err
		}
	}
	add, err := d.Derive(deriveEnv(tx.st), parent.Tree, mid, user, tx.stamp)
	if err != nil {
		return coda.ID{}, nil, err
	}
	if len(add) == 0 && !derived {
		return tx.root, ops, nil
	}
	root, err := tx.tr.Apply(mid, add)
	if err != nil {
		return coda.ID{}, nil, err
	}
	ops, err = diffOps(tx.tr, parent.Tree, root)
	if err != nil {
		return coda.ID{}, nil, err
	}
	return root, ops, nil
}

// checkDerived checks that a signed commit's derived leaves are exactly
// what the Deriver derives from its other changes. A value the derivation
// needs that this node does not hold (withheld from it) makes the check
// pass unchecked: the nodes that hold it check it.
func checkDerived(d Deriver, st tree.Store, c *Commit, base coda.ID) error {
	tr := tree.New(st)
	user, derived := splitDerived(d, c.Ops)
	mid := c.Tree
	var err error
	if derived {
		if mid, err = replayChanges(tr, base, user, c.Stamp()); err != nil {
			return err
		}
	}
	add, err := d.Derive(deriveEnv(st), base, mid, user, c.Stamp())
	if errs.Is(err, errs.NotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("derive: %w", err)
	}
	if len(add) == 0 && !derived {
		return nil
	}
	got, err := tr.Apply(mid, add)
	if err != nil {
		return err
	}
	if got != c.Tree {
		return fmt.Errorf("its derived leaves (index entries) differ from their recomputation (tree %s, want %s)", c.Tree, got)
	}
	return nil
}

// mergeFix applies the Deriver's merge fixes to the merged root.
func mergeFix(d Deriver, st tree.Store, a, b, merged coda.ID, t uint64) (coda.ID, error) {
	if d == nil {
		return merged, nil
	}
	fix, err := d.MergeFix(deriveEnv(st), a, b, merged, tree.Stamp{Time: t})
	if err != nil || len(fix) == 0 {
		return merged, err
	}
	return tree.New(st).Apply(merged, fix)
}
