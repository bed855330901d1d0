package cdb

// Calls (issue 8, docs/calls.md): commits made by running a program
// against a world. Package call runs programs; cdb only commits what a run
// wrote, with its Call record, and asks a CallChecker (Options.Calls) to
// re-execute the call of every commit it validates (step 6 of
// ValidateCommit): local commits, merges, Replay and Receive (bundles and
// sync). cdb cannot import call, so the hook is defined here.

import (
	"context"
	"fmt"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// CallChecker re-executes the call a commit records. Package call
// implements it (call.With(opts)).
type CallChecker interface {
	// CheckCall runs c.Call again against the tree of parents[0] as c's
	// author, with the read filter policy gives (nil policy: everything
	// readable), and checks that it writes exactly what c changed and
	// reports the same output and step count. st reads the parents' state
	// and c's objects; the checker must not write to it (it keeps what it
	// computes in memory). A mismatch is an errs.Invalid error.
	CheckCall(st tree.Store, policy Policy, c *Commit, parents []*Commit) error
}

// CallWrite is one write of a call: the object bytes Data put at Path, or,
// with Delete, a tombstone at Path.
type CallWrite struct {
	Path   string
	Data   []byte
	Delete bool
}

// ApplyCallWrites applies writes, in order, to root as a call's commit
// does: each put a value and each delete a tombstone of the leaf at its
// path, stamped with stamp. Objects and tree nodes go to st. It is the one
// function that turns a run's writes into a tree, used both to commit a
// call (CommitCall) and to re-execute one (CallChecker).
func ApplyCallWrites(st tree.Store, root coda.ID, stamp tree.Stamp, writes []CallWrite) (coda.ID, error) {
	ops := make([]tree.Op, 0, len(writes))
	for _, w := range writes {
		p, _, err := canon(w.Path)
		if err != nil {
			return coda.ID{}, err
		}
		if w.Delete {
			ops = append(ops, tree.Op{Path: p, Entry: tree.Tombstone(stamp)})
			continue
		}
		id, err := st.Put(w.Data)
		if err != nil {
			return coda.ID{}, err
		}
		ops = append(ops, tree.Op{Path: p, Entry: tree.Value(id, stamp)})
	}
	if len(ops) == 0 {
		return root, nil
	}
	return tree.New(st).Apply(root, ops)
}

// CallCommit is what CommitCall commits: a run's writes against Parent,
// the call record, and the objects the record names that are not in the
// tree (the input and the output).
type CallCommit struct {
	Parent  coda.ID // the head the program ran against
	Writes  []CallWrite
	Call    Call
	Objects [][]byte // the input and output objects
	Message string
}

// CommitCall commits a call's writes as one signed commit by author on
// the current branch, whose head must still be cc.Parent (otherwise an
// errs.Conflict error: the caller runs the program again on the new head).
// Every put is checked as a Put op is (its schema known, fitting the
// directory's schema, sizes), and the author's rights as for any commit.
// The call is not re-executed: it was just run. A call that writes
// nothing commits nothing (an errs.Invalid error, "nothing to commit").
func (w *World) CommitCall(ctx context.Context, author Identity, cc CallCommit) (CommitInfo, error) {
	op := errs.Op("cdb.CommitCall")
	if !author.CanSign() {
		return CommitInfo{}, errs.E(op, errs.Invalid, fmt.Sprintf("identity %q cannot sign", author.Name))
	}
	if len(cc.Message) > MaxMessage {
		return CommitInfo{}, errs.E(op, errs.Limit, fmt.Sprintf("commit message of %d bytes, more than %d", len(cc.Message), MaxMessage))
	}
	branch := w.Branch()
	var c *Commit
	var err error
	w.exclusively(func() { c, err = w.buildCall(ctx, author, branch, cc) })
	if err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	if err := w.h.syncStore(); err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	w.h.notify(w.id)
	return c.Info(), w.h.recordWrite(author.Public, "call", w.id, c.ID, nil)
}

func (w *World) buildCall(ctx context.Context, author Identity, branch string, cc CallCommit) (*Commit, error) {
	head, err := w.branchHead(branch)
	if err != nil {
		return nil, err
	}
	if head != cc.Parent {
		return nil, errs.E(errs.Conflict, fmt.Sprintf("branch %s moved from %s to %s while the program ran", branch, cc.Parent.Short(), head.Short()))
	}
	parent, err := w.parentCommit(head)
	if err != nil {
		return nil, err
	}
	t := w.h.clock.After(parent.Time)
	b := w.h.store.NewBatch()
	defer b.Discard()
	st := newStaging(w.h.store, b)
	reg, err := schemasIn(st, parent.Tree)
	if err != nil {
		return nil, err
	}
	reg = w.h.withPolicySchemas(reg)
	tx := &txn{w: w, st: st, tr: tree.New(st), root: parent.Tree, parent: parent, reg: reg,
		stamp: tree.Stamp{Time: uint64(t), Author: author.Public32()}}
	for _, wr := range cc.Writes {
		o := Op{Kind: Put, Path: wr.Path, Raw: wr.Data}
		if wr.Delete {
			o = Op{Kind: Delete, Path: wr.Path}
		}
		if err := checkOp(&o); err != nil {
			return nil, err
		}
		if err := tx.do(&o); err != nil {
			return nil, err
		}
	}
	if err := tx.flush(); err != nil {
		return nil, err
	}
	ops, err := diffOps(tx.tr, parent.Tree, tx.root)
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return nil, errs.E(errs.Invalid, "nothing to commit: the call changed nothing")
	}
	if w.h.derive != nil {
		// The derived leaves (index entries) of the call's writes, as
		// for any commit; the checker re-executes the writes alone.
		if tx.root, ops, err = w.derive(tx, parent, ops); err != nil {
			return nil, err
		}
	}
	call := cc.Call
	c := &Commit{World: w.id, Parents: []coda.ID{head}, Tree: tx.root, Time: t, Message: cc.Message, Ops: ops, Call: &call}
	obj, err := w.h.schema.sign(c, author)
	if err != nil {
		return nil, err
	}
	env := w.validateEnv(st, false)
	env.Call = func(*Commit, []*Commit) error { return nil } // just run
	if err := ValidateCommit(env, c, []*Commit{parent}); err != nil {
		if errs.Is(err, errs.Permission) || errs.Is(err, errs.Invalid) && w.h.policy != nil {
			return nil, w.h.recordWrite(author.Public, "call", w.id, c.ID, err)
		}
		return nil, errs.E(errs.Internal, fmt.Errorf("cdb: a call commit built here fails validation: %w", err))
	}
	if err := ctx.Err(); err != nil {
		return nil, errs.E(errs.Canceled, err)
	}
	for _, o := range cc.Objects {
		if _, err := b.Put(o); err != nil {
			return nil, err
		}
	}
	if err := putCommit(b, c, obj); err != nil {
		return nil, err
	}
	if err := b.SwapRef(headRef(w.id, branch), head, c.ID); err != nil {
		return nil, err
	}
	if err := b.SetRef(clockRef, clockID(w.h.clock.Last())); err != nil {
		return nil, err
	}
	if err := b.Commit(!w.h.canSync()); err != nil {
		if errs.Is(err, errs.Conflict) {
			return nil, errs.E(errs.Conflict, fmt.Errorf("branch %s moved during the commit: %w", branch, err))
		}
		return nil, err
	}
	w.h.commits.put(c)
	return c, nil
}

// callHook sets env.Call to the home's CallChecker, reading st. The
// checker re-executes the call and compares its writes with the commit's
// own changes: with a Deriver, the commit it is shown has the tree its
// parent has with the commit's changes that are not derived (step 4b
// checks the derived ones).
func (h *Home) callHook(env *ValidateEnv, st tree.Store) {
	if cc := h.calls; cc != nil {
		p, d := h.policy, h.derive
		env.Call = func(c *Commit, parents []*Commit) error {
			if d != nil && len(parents) == 1 {
				user, derived := splitDerived(d, c.Ops)
				if derived {
					root, err := replayChanges(tree.New(st), parents[0].Tree, user, c.Stamp())
					if err != nil {
						return err
					}
					cu := *c
					cu.Tree, cu.Ops = root, user
					c = &cu
				}
			}
			return cc.CheckCall(st, p, c, parents)
		}
	}
}

// RecordRead reports a read a call made through v to the home's Auditor,
// as v's own reads are: action (e.g. "call-get"), the path, the commit read
// and the result.
func (v *View) RecordRead(action, path string, commit coda.ID, err error) error {
	return v.record(action, path, commit, err)
}

// SchemasAt returns the schemas of /sys/schemas in the tree root, read
// through st (what a call's SCHEMA request and its input are judged on).
func SchemasAt(st tree.Store, root coda.ID) (*coda.Registry, error) {
	return schemasIn(st, root)
}

// CallObjects returns the ids of the objects c's call record names that
// are not in the tree: its input and output (none if c has no call).
// Bundles carry them with the commit, so that receivers can re-execute it.
func (c *Commit) CallObjects() []coda.ID {
	var ids []coda.ID
	if c.Call != nil {
		for _, id := range []*coda.ID{c.Call.Input, c.Call.Output} {
			if id != nil {
				ids = append(ids, *id)
			}
		}
	}
	return ids
}

// checkCallObjects marks the call objects of c received in objs as used
// (Receive: what was received must hold nothing else) and, for a commit
// new here (fresh), refuses a call record this node could not check for
// want of what it names rather than by right: its program must be
// received, stored here, or withheld from this node (listed by the
// sender, or recorded before: World.Withheld), and its input and output,
// which travel with the commit whoever reads them, received or stored.
// A record naming code no one sent is not taken on trust.
func checkCallObjects(wh *World, c *Commit, objs map[coda.ID][]byte, used, withheld map[coda.ID]bool, fresh bool) error {
	for _, id := range c.CallObjects() {
		if _, ok := objs[id]; ok {
			used[id] = true
		}
	}
	if c.Call == nil || !fresh {
		return nil
	}
	present := func(id coda.ID) (bool, error) {
		if _, ok := objs[id]; ok {
			return true, nil
		}
		return wh.h.store.Has(id)
	}
	ok, err := present(c.Call.Program)
	if err != nil {
		return err
	}
	if !ok {
		ok = withheld[c.Call.Program]
	}
	if !ok {
		if _, ok, err = wh.Withheld(c.Call.Program); err != nil {
			return err
		}
	}
	if !ok {
		return errs.E(errs.Invalid, fmt.Sprintf("commit %s: its call record names program %s, which was neither received, nor stored here, nor withheld from this node", c.ID, c.Call.Program))
	}
	for _, id := range c.CallObjects() {
		if ok, err := present(id); err != nil || !ok {
			if err != nil {
				return err
			}
			return errs.E(errs.Invalid, fmt.Sprintf("commit %s: its call record names object %s (input or output), which was not received", c.ID, id))
		}
	}
	return nil
}
