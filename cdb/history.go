package cdb

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"strings"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Log returns up to n commits (n <= 0: all) reachable from the commit from
// (zero: the head), newest first (by time, then id). With a path other
// than "" or "/", only the commits whose ops touched that path or anything
// under it.
// logStart resolves where a log starts (the zero id: the head) and the
// path prefix it is limited to ("" for the whole world).
func (w *World) logStart(from coda.ID, path string) (coda.ID, string, error) {
	if from.IsZero() {
		h, err := w.Head()
		if err != nil {
			return coda.ID{}, "", err
		}
		from = h
	}
	if path == "" || path == "/" {
		return from, "", nil
	}
	p, _, err := canon(path)
	if err != nil {
		return coda.ID{}, "", err
	}
	return from, p, nil
}

func (w *World) Log(from coda.ID, path string, n int) ([]CommitInfo, error) {
	op := errs.Op("cdb.Log")
	from, prefix, err := w.logStart(from, path)
	if err != nil {
		return nil, errs.E(op, err)
	}
	var out []CommitInfo
	err = w.history(from, func(c *Commit) (bool, error) {
		if prefix == "" || touches(c, prefix) {
			out = append(out, c.Info())
		}
		return n <= 0 || len(out) < n, nil
	})
	if err != nil {
		return nil, errs.E(op, err)
	}
	return out, nil
}

func touches(c *Commit, prefix string) bool {
	for _, o := range c.Ops {
		if o.Path == prefix || strings.HasPrefix(o.Path, prefix+"/") {
			return true
		}
	}
	return false
}

// history visits the commits reachable from id newest first (time, then
// id, descending) until fn returns false.
func (w *World) history(id coda.ID, fn func(*Commit) (bool, error)) error {
	c, err := w.commit(id)
	if err != nil {
		return err
	}
	q := &commitHeap{c}
	seen := map[coda.ID]bool{id: true}
	for q.Len() > 0 {
		c := heap.Pop(q).(*Commit)
		more, err := fn(c)
		if err != nil || !more {
			return err
		}
		for _, p := range c.Parents {
			if seen[p] {
				continue
			}
			seen[p] = true
			pc, err := w.commit(p)
			if err != nil {
				return err
			}
			heap.Push(q, pc)
		}
	}
	return nil
}

type commitHeap []*Commit

func (h commitHeap) Len() int { return len(h) }
func (h commitHeap) Less(i, j int) bool {
	return cmp.Or(cmp.Compare(h[i].Time, h[j].Time), bytes.Compare(h[i].ID[:], h[j].ID[:])) > 0
}
func (h commitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *commitHeap) Push(x any)   { *h = append(*h, x.(*Commit)) }
func (h *commitHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// Diff calls fn for every leaf that differs between the trees of commits a
// and b (zero b: the head), in path order. Tombstones are entries: a
// delete shows as a value becoming a tombstone (tree.Change.Kind says
// what a reader sees).
func (w *World) Diff(a, b coda.ID, fn func(tree.Change) error) error {
	op := errs.Op("cdb.Diff")
	ra, err := w.root(a)
	if err != nil {
		return errs.E(op, err)
	}
	rb, err := w.root(b)
	if err != nil {
		return errs.E(op, err)
	}
	return w.h.cached.Diff(ra, rb, fn)
}

// Revert makes a new commit undoing exactly the ops of commit c (for a
// merge commit: what it changed relative to its first parent). A path that
// was changed again after c (its entry at the head is not the one c
// wrote) is left alone and returned, so that no later change is clobbered.
func (w *World) Revert(ctx context.Context, author Identity, c coda.ID) (CommitInfo, []string, error) {
	op := errs.Op("cdb.Revert")
	rc, err := w.commit(c)
	if err != nil {
		return CommitInfo{}, nil, errs.E(op, err)
	}
	if rc.IsGenesis() {
		return CommitInfo{}, nil, errs.E(op, errs.Invalid, "cannot revert the genesis commit")
	}
	before, err := w.commit(rc.firstParent())
	if err != nil {
		return CommitInfo{}, nil, errs.E(op, err)
	}
	var skipped []string
	msg := fmt.Sprintf("revert %s", c.Short())
	if rc.Message != "" {
		msg += ": " + firstLine(rc.Message)
	}
	out, err := w.write(ctx, author, msg, rerunRebuild, func(tx *txn) error {
		skipped = skipped[:0]
		for _, o := range rc.Ops {
			after, err := leafAt(w.h.cached, rc.Tree, o.Path, o.Meta)
			if err != nil {
				return err
			}
			now, err := leafAt(tx.tr, tx.root, o.Path, o.Meta)
			if err != nil {
				return err
			}
			if now != after {
				skipped = append(skipped, metaPath(o.Path, o.Meta))
				continue
			}
			old, err := leafAt(w.h.cached, before.Tree, o.Path, o.Meta)
			if err != nil {
				return err
			}
			e := tree.Tombstone(tx.stamp)
			if old.Kind == tree.KindValue {
				e = tree.Value(old.ID, tx.stamp)
			} else if now.Kind != tree.KindValue {
				continue // absent or deleted before and now: nothing to undo
			}
			tx.pending = append(tx.pending, tree.Op{Path: o.Path, Meta: o.Meta, Entry: e, Raw: true})
		}
		return nil
	})
	if err != nil {
		return CommitInfo{}, skipped, errs.E(op, err)
	}
	return out.Info(), skipped, nil
}

func metaPath(p string, meta bool) string {
	if meta {
		return p + " (directory metadata)"
	}
	return p
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// leafAt returns the leaf entry (value or tombstone; zero if absent) at p.
func leafAt(tr *tree.Tree, root coda.ID, p string, meta bool) (tree.Entry, error) {
	e, _, err := tr.Leaf(root, p, meta)
	return e, err
}

// Reset makes a new commit whose visible content equals that of commit to:
// every path that differs gets to's value (or is deleted), stamped by the
// new commit. Nothing is rewritten: history keeps every commit.
func (w *World) Reset(ctx context.Context, author Identity, to coda.ID) (CommitInfo, error) {
	op := errs.Op("cdb.Reset")
	tc, err := w.commit(to)
	if err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	c, err := w.write(ctx, author, "reset to "+to.Short(), rerunRebuild, func(tx *txn) error {
		return tx.tr.Diff(tx.root, tc.Tree, func(ch tree.Change) error {
			var e tree.Entry
			switch {
			case ch.B.Kind == tree.KindValue:
				if ch.A.Kind == tree.KindValue && ch.A.ID == ch.B.ID {
					return nil
				}
				e = tree.Value(ch.B.ID, tx.stamp)
			case ch.A.Kind == tree.KindValue:
				e = tree.Tombstone(tx.stamp)
			default:
				return nil // invisible on both sides
			}
			tx.pending = append(tx.pending, tree.Op{Path: ch.Path, Meta: ch.Meta, Entry: e, Raw: true})
			return nil
		})
	})
	if err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	return c.Info(), nil
}

// BranchInfo describes a branch.
type BranchInfo struct {
	Name    string  `json:"name"`
	Head    coda.ID `json:"head"`
	Current bool    `json:"current"`
}

// Branches lists the world's branches by name.
func (w *World) Branches() ([]BranchInfo, error) {
	prefix := "head/" + w.id.String() + "/"
	refs, err := w.h.store.ListRefs(prefix)
	if err != nil {
		return nil, errs.E(errs.Op("cdb.Branches"), err)
	}
	cur := w.Branch()
	out := make([]BranchInfo, len(refs))
	for i, r := range refs {
		name := strings.TrimPrefix(r.Name, prefix)
		out[i] = BranchInfo{Name: name, Head: r.ID, Current: name == cur}
	}
	return out, nil
}

func validBranch(name string) error {
	if name == "HEAD" || name == "@" || strings.ContainsAny(name, "~ \t\n") || len(name) > 128 || !tree.ValidName(name) {
		return errs.E(errs.Invalid, fmt.Sprintf("bad branch name %q", name))
	}
	return nil
}

// CreateBranch makes the branch name at commit at (zero: the head).
// errs.Exist if it exists. A tombstone of name (DeleteBranch) is removed
// in the same batch: the branch is made again here.
func (w *World) CreateBranch(name string, at coda.ID) error {
	op := errs.Op("cdb.CreateBranch")
	if err := validBranch(name); err != nil {
		return errs.E(op, err)
	}
	if at.IsZero() {
		h, err := w.Head()
		if err != nil {
			return errs.E(op, err)
		}
		at = h
	} else if _, err := w.commit(at); err != nil {
		return errs.E(op, err)
	}
	b := w.h.store.NewBatch()
	defer b.Discard()
	if err := b.SwapRef(headRef(w.id, name), coda.ID{}, at); err != nil {
		return errs.E(op, err)
	}
	if err := b.DeleteRef(deletedRef(w.id, name)); err != nil {
		return errs.E(op, err)
	}
	if err := b.Commit(true); err != nil {
		if errs.Is(err, errs.Conflict) {
			return errs.E(op, errs.Exist, fmt.Sprintf("branch %q exists", name))
		}
		return errs.E(op, err)
	}
	return nil
}

// DeleteBranch deletes the branch name and returns the head it had. It
// refuses (errs.Invalid, naming it) the default branch and the current
// one, as git refuses the branch checked out; an unknown branch is
// errs.NotExist. In one synced batch it removes the head ref and records
// the node-local tombstone deleted/WORLD/NAME → that head, by which sync
// tells a stale copy of the branch on a peer from one written to after
// the deletion (docs/sync.md, "Deletion"). No commit is removed: the
// branch can be made again at the head returned. Rights are the caller's
// to check (acl.CheckRefChange, as for CreateBranch).
func (w *World) DeleteBranch(name string) (coda.ID, error) {
	op := errs.Op("cdb.DeleteBranch")
	if err := validBranch(name); err != nil {
		return coda.ID{}, errs.E(op, err)
	}
	if name == DefaultBranch {
		return coda.ID{}, errs.E(op, errs.Invalid, fmt.Sprintf("cannot delete branch %q of world %s: it is the default branch", name, w.name))
	}
	for attempt := 0; ; attempt++ {
		if name == w.Branch() {
			return coda.ID{}, errs.E(op, errs.Invalid, fmt.Sprintf("cannot delete branch %q of world %s: it is the current branch (switch to another first)", name, w.name))
		}
		head, err := w.branchHead(name)
		if err != nil {
			return coda.ID{}, errs.E(op, err)
		}
		b := w.h.store.NewBatch()
		if err := b.SwapRef(headRef(w.id, name), head, coda.ID{}); err != nil {
			b.Discard()
			return coda.ID{}, errs.E(op, err)
		}
		if err := b.SetRef(deletedRef(w.id, name), head); err != nil {
			b.Discard()
			return coda.ID{}, errs.E(op, err)
		}
		err = b.Commit(true)
		b.Discard()
		if errs.Is(err, errs.Conflict) && attempt < commitRetries {
			continue // the branch moved (a pull): delete it where it is now
		}
		if err != nil {
			return coda.ID{}, errs.E(op, fmt.Errorf("branch %q: %w", name, err))
		}
		// A branch made again under this name starts with no memory of
		// this one's durable head.
		w.dmu.Lock()
		delete(w.synced, name)
		w.dmu.Unlock()
		w.h.notify(w.id)
		return head, nil
	}
}

// Switch makes name the world's current branch (node state).
func (w *World) Switch(name string) error {
	op := errs.Op("cdb.Switch")
	if _, err := w.branchHead(name); err != nil {
		return errs.E(op, err)
	}
	err := w.h.setConfig(func(c *config) {
		if c.Branches == nil {
			c.Branches = map[string]string{}
		}
		if name == DefaultBranch {
			delete(c.Branches, w.id.String())
		} else {
			c.Branches[w.id.String()] = name
		}
	})
	if err != nil {
		return errs.E(op, err)
	}
	return nil
}

// Merge merges the branch into the current branch. If the branch's head is
// already in the current history, nothing changes (the current head is
// returned); if the current head is in the branch's history, the current
// branch fast-forwards to it; otherwise a merge commit is made: unsigned
// and deterministic (docs/cdb.md), its tree the per-path greatest-stamp
// merge, its conflicts the concurrent losers (also returned).
func (w *World) Merge(ctx context.Context, branch string) (CommitInfo, []tree.Conflict, error) {
	op := errs.Op("cdb.Merge")
	cur := w.Branch()
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return CommitInfo{}, nil, errs.E(op, errs.Canceled, err)
		}
		other, err := w.Resolve(branch)
		if err != nil {
			return CommitInfo{}, nil, errs.E(op, err)
		}
		ci, conflicts, err := w.mergeOnce(cur, other)
		if errs.Is(err, errs.Conflict) && attempt < commitRetries {
			continue
		}
		if err != nil {
			return CommitInfo{}, nil, errs.E(op, err)
		}
		w.h.notify(w.id)
		return ci, conflicts, w.h.recordWrite(nil, "merge", w.id, ci.ID, nil)
	}
}

func (w *World) mergeOnce(cur string, other coda.ID) (CommitInfo, []tree.Conflict, error) {
	head, err := w.branchHead(cur)
	if err != nil {
		return CommitInfo{}, nil, err
	}
	hc, err := w.commit(head)
	if err != nil {
		return CommitInfo{}, nil, err
	}
	oc, err := w.commit(other)
	if err != nil {
		return CommitInfo{}, nil, err
	}
	merged, err := w.isAncestor(other, head)
	if err != nil {
		return CommitInfo{}, nil, err
	}
	if merged {
		return hc.Info(), nil, nil // already merged
	}
	ff, err := w.isAncestor(head, other)
	if err != nil {
		return CommitInfo{}, nil, err
	}
	if ff {
		b := w.h.store.NewBatch()
		defer b.Discard()
		if err := b.SwapRef(headRef(w.id, cur), head, other); err != nil {
			return CommitInfo{}, nil, err
		}
		if err := b.Commit(true); err != nil {
			return CommitInfo{}, nil, err
		}
		ci := oc.Info()
		ci.FastForward = true
		return ci, nil, nil
	}
	b := w.h.store.NewBatch()
	defer b.Discard()
	st := newStaging(w.h.store, b)
	mc, err := computeMerge(st, w.mergeBaseRoot, w.id, []*Commit{hc, oc}, w.h.derive)
	if err != nil {
		return CommitInfo{}, nil, err
	}
	if err := ValidateCommit(w.validateEnv(st, false), mc, w.parentsOf(mc, hc, oc)); err != nil {
		return CommitInfo{}, nil, errs.E(errs.Internal, fmt.Errorf("cdb: a merge built here fails validation: %w", err))
	}
	obj, err := w.h.schema.encode(mc)
	if err != nil {
		return CommitInfo{}, nil, err
	}
	if err := putCommit(b, mc, obj); err != nil {
		return CommitInfo{}, nil, err
	}
	if err := b.SwapRef(headRef(w.id, cur), head, mc.ID); err != nil {
		return CommitInfo{}, nil, err
	}
	w.h.clock.Observe(mc.Time)
	if err := b.Commit(true); err != nil {
		return CommitInfo{}, nil, err
	}
	var conflicts []tree.Conflict
	for _, k := range mc.Conflicts {
		conflicts = append(conflicts, tree.Conflict{Path: k.Path, Meta: k.Meta,
			Winner: entryOf(k.Winner, k.WinnerStamp), Loser: entryOf(k.Loser, k.LoserStamp)})
	}
	return mc.Info(), conflicts, nil
}

func entryOf(id coda.ID, s tree.Stamp) tree.Entry {
	if id.IsZero() {
		return tree.Tombstone(s)
	}
	return tree.Value(id, s)
}

// parentsOf returns a and b in c.Parents order.
func (w *World) parentsOf(c *Commit, a, b *Commit) []*Commit {
	if c.Parents[0] == a.ID {
		return []*Commit{a, b}
	}
	return []*Commit{b, a}
}

// Conflicts returns the conflicts recorded by the merge commit c (zero:
// the head), with both values loaded (WinnerItem, LoserItem; nil for a
// tombstone).
func (w *World) Conflicts(c coda.ID) ([]Conflict, error) {
	op := errs.Op("cdb.Conflicts")
	if c.IsZero() {
		h, err := w.Head()
		if err != nil {
			return nil, errs.E(op, err)
		}
		c = h
	}
	mc, err := w.commit(c)
	if err != nil {
		return nil, errs.E(op, err)
	}
	out := make([]Conflict, len(mc.Conflicts))
	for i, k := range mc.Conflicts {
		for _, side := range []struct {
			id  coda.ID
			s   tree.Stamp
			dst **Item
		}{{k.Winner, k.WinnerStamp, &k.WinnerItem}, {k.Loser, k.LoserStamp, &k.LoserItem}} {
			if side.id.IsZero() {
				continue
			}
			it := &Item{Path: k.Path, Kind: ItemValue, ID: side.id, Stamp: side.s}
			if err := w.loadValue(mc.Tree, it); err != nil {
				return nil, errs.E(op, errs.Path(k.Path), err)
			}
			*side.dst = it
		}
		out[i] = k
	}
	return out, nil
}
