package cdb

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// ValidateEnv is what ValidateCommit may read. Validation does no I/O of
// its own: it reads objects through Store (a snapshot of the parents'
// state) and writes the trees it recomputes to memory only.
type ValidateEnv struct {
	// Store reads tree nodes and objects.
	Store tree.Store
	// World is the world the commit must belong to.
	World coda.ID
	// Now is the local wall-clock time; zero skips the skew check.
	Now hlc.Time
	// Skew is how far ahead of Now a commit's time may be (zero:
	// DefaultSkew).
	Skew time.Duration
	// MergeBase returns the tree root of the common ancestor that serves
	// as the conflict base when merging the commits a and b (the zero id
	// if they have none). Needed for merge commits.
	MergeBase func(a, b coda.ID) (coda.ID, error)
	// Rights checks that the author may make every change (step 5, issue
	// 5). Nil skips the step.
	Rights func(c *Commit, parents []*Commit) error
	// Call re-executes c.Call and checks its ops, output and steps (step
	// 6, issue 8). Nil: a commit with a call is refused.
	Call func(c *Commit, parents []*Commit) error
	// Derive, if not nil, derives the leaves of step 4b (docs/query.md).
	Derive Deriver
	// Opaque, if not nil, reports whether the directory at path is an
	// opaque subtree here: one whose nodes this node lacks by design
	// (docs/sync.md, "Opaque subtrees"). A commit whose op groups are
	// partly withheld (Commit.Hidden) is valid only if every difference
	// its visible ops do not explain is inside one (step 4'). Nil: such a
	// commit is invalid.
	Opaque func(path string) bool
	// OpaquePaths lists the opaque subtrees (those Opaque reports), for
	// merges over them (step 3'). Nil: none.
	OpaquePaths func() []string
	// MayRead, if not nil, reports whether this node may read the
	// directory dir (its listing) in the tree root, with its own key and
	// the home's policy. Step 4' prunes an opaque subtree whose nodes are
	// here only where this node may read it neither on the first parent
	// nor in the commit's own tree. Nil: this node may read everything.
	MayRead func(root coda.ID, dir string) bool

	// replayed, if not nil, is called (on validation's goroutine) with
	// every valid signed commit that step 4 replayed as it is, nothing
	// withheld or taken out (checkable), and the nodes of its tree the
	// replay made and did not read (tree.ApplyDryNew): Receive's
	// completeness check learns from them which received nodes the commit
	// needs (checkReplayed). Only Receive sets it, with nothing opaque.
	replayed func(c *Commit, made []coda.ID)

	// signedHere says the commit was signed in this process, just now, by
	// commitSchemas.sign (World.build): step 3's signature check holds
	// by construction and is skipped (docs/cdb.md, "Validation"). Only
	// World.finish sets it; commits from anywhere else are verified.
	signedHere bool
}

// ErrHeld is the error of a commit whose time is too far ahead of the
// local clock: it is held, not applied, until it is not.
// It comes wrapped in an error of kind errs.Unavailable.
var ErrHeld = errors.New("cdb: commit time is ahead of the local clock beyond the skew bound: held")

// ValidateCommit is the one validation of a commit (docs/cdb.md,
// "Validation"), used by local commits, merge, replay and (later) bundle
// apply and sync. c is decoded (DecodeCommit, step 1's canonical decoding);
// parents are its decoded parents, in c.Parents order. It checks:
//
//  1. c is of env.World, and so are its parents;
//  2. c's time is greater than every parent's (a merge: equal to the
//     greatest), and not beyond the skew bound (ErrHeld);
//  3. the signature verifies for the author; merge commits are recomputed
//     from their parents and must be identical;
//  4. replaying the ops on the first parent's tree (the empty tree for a
//     genesis), each changed leaf stamped (time, author), gives c.Tree: so
//     every changed leaf carries the commit's stamp and nothing else moved;
//  5. rights (env.Rights, issue 5);
//  6. calls (env.Call, issue 8).
//
// Errors are errs.Invalid (or ErrHeld, or errs.Permission from the rights
// step), naming the commit.
func ValidateCommit(env ValidateEnv, c *Commit, parents []*Commit) error {
	if err := validateCommit(env, c, parents); err != nil {
		if errs.Is(err, errs.Unavailable) {
			return err
		}
		if errs.Is(err, errs.Permission) {
			return errs.E(errs.Permission, fmt.Errorf("commit %s: %w", c.ID, err))
		}
		return errs.E(errs.Invalid, fmt.Errorf("commit %s: %w", c.ID, err))
	}
	return nil
}

func validateCommit(env ValidateEnv, c *Commit, parents []*Commit) error {
	err := validateSteps(env, c, parents, false)
	if err != nil && errs.Is(err, errs.NotExist) && env.Opaque != nil && env.MayRead != nil && len(parents) > 0 {
		// An object its check needs is not here: the groups held in
		// opaque subtrees this node may read on neither side may have
		// travelled for another commit (the same group) while this
		// commit's subtree did not (its .acl entries, say). Checked as
		// if they were withheld, as the sender withheld them for it.
		if k, kerr := checkable(env, newStaging(env.Store, nil), parents[0].Tree, c, true); kerr == nil && k != c {
			if validateSteps(env, c, parents, true) == nil {
				return nil
			}
		}
	}
	return err
}

// validateSteps is validateCommit's steps; lenient: groups held in
// opaque subtrees this node may read neither on the first parent nor in
// c's tree count as withheld (checkable).
func validateSteps(env ValidateEnv, c *Commit, parents []*Commit, lenient bool) error {
	// 1. World and parents.
	if len(parents) != len(c.Parents) {
		return fmt.Errorf("%d parents given for %d", len(parents), len(c.Parents))
	}
	if c.IsGenesis() {
		if c.ID != env.World {
			return fmt.Errorf("a genesis commit that is not world %s", env.World)
		}
	} else if c.World != env.World {
		return fmt.Errorf("of world %s, not %s", c.World, env.World)
	}
	for i, p := range parents {
		if p.ID != c.Parents[i] {
			return fmt.Errorf("parent %d is %s, given %s", i, c.Parents[i], p.ID)
		}
		if p.World != env.World && p.ID != env.World {
			return fmt.Errorf("parent %s is of another world", p.ID)
		}
	}
	// 2. Time.
	var maxT hlc.Time
	for _, p := range parents {
		maxT = max(maxT, p.Time)
	}
	if c.IsMerge() {
		if c.Time != maxT {
			return fmt.Errorf("merge time %d, want the parents' greatest %d", c.Time, maxT)
		}
	} else if len(parents) > 0 && c.Time <= maxT {
		return fmt.Errorf("time %v is not after its parents' (%v)", c.Time, maxT)
	}
	if env.Now != 0 {
		skew := env.Skew
		if skew == 0 {
			skew = DefaultSkew
		}
		if c.Time > env.Now+hlc.Time(skew.Milliseconds())<<hlc.LogicalBits {
			return errs.E(errs.Unavailable, fmt.Errorf("commit %s at %v: %w", c.ID, c.Time, ErrHeld))
		}
	}
	st := newStaging(env.Store, nil)
	var (
		made     []coda.ID // the nodes step 4's replay made, if replayed
		replayed bool
	)
	// Groups held here that this node cannot check in c count as withheld
	// (docs/sync.md, "Opaque subtrees").
	signed := c
	if len(parents) > 0 {
		var err error
		if c, err = checkable(env, st, parents[0].Tree, c, lenient); err != nil {
			return err
		}
	}
	// 3. Signature, or recomputation of a merge.
	if c.IsMerge() {
		if env.MergeBase == nil {
			return fmt.Errorf("cannot check a merge commit without history")
		}
		probe := &missing{s: st}
		want, err := computeMerge(probe, env.MergeBase, env.World, parents, env.Derive)
		if (c.Opaque() || err != nil && probe.missed) && env.OpaquePaths != nil && len(env.OpaquePaths()) > 0 {
			// 3'. A merge over subtrees opaque here.
			return checkOpaqueMerge(env, st, c, parents)
		}
		if err != nil {
			return fmt.Errorf("recompute merge: %w", err)
		}
		cs, err := loadCommitSchemas()
		if err != nil {
			return err
		}
		got, err := cs.encode(c)
		if err != nil {
			return err
		}
		wb, err := cs.encode(want)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, wb) {
			return fmt.Errorf("merge commit differs from its recomputation %s (tree %s, want %s)", coda.Sum(wb), c.Tree, want.Tree)
		}
	} else {
		if len(parents) > 1 {
			return fmt.Errorf("a signed commit has at most one parent")
		}
		if !env.signedHere {
			if err := signed.Verify(); err != nil {
				return err
			}
		}
		// 4. Replay the ops.
		base := tree.EmptyRoot
		if len(parents) > 0 {
			base = parents[0].Tree
		}
		tr := tree.New(st)
		var root coda.ID
		var err error
		switch {
		case c.Opaque():
			// Written (to memory) for the comparison below to read.
			root, err = tr.Apply(base, replayTreeOps(c))
		case env.replayed != nil && c == signed:
			ops := replayBufs.Get().(*[]tree.Op)
			*ops = appendReplayOps((*ops)[:0], c)
			root, err = tr.ApplyDryNew(base, *ops, func(id coda.ID) { made = append(made, id) })
			clear(*ops) // no paths kept alive by the pool
			replayBufs.Put(ops)
			replayed = true
		default:
			root, err = replayOps(tr, base, c)
		}
		if err != nil {
			return err
		}
		if c.Opaque() {
			// 4'. Withheld op groups may change opaque subtrees only.
			if root, err = graftOpaque(st, env, base, root, c); err != nil {
				return err
			}
		}
		if root != c.Tree {
			return fmt.Errorf("replaying its ops gives tree %s, not %s", root, c.Tree)
		}
		// 4b. Derived leaves (indexes); those of a commit with withheld
		// op groups are left to the nodes that can read them.
		if env.Derive != nil && !c.Opaque() {
			if err := checkDerived(env.Derive, st, c, base); err != nil {
				return err
			}
		}
	}
	// 5. Rights (issue 5).
	if env.Rights != nil {
		if err := env.Rights(c, parents); err != nil {
			return err
		}
	}
	// 6. Calls (issue 8).
	if c.Call != nil {
		if env.Call == nil {
			return fmt.Errorf("commits with calls cannot be checked yet")
		}
		if err := env.Call(c, parents); err != nil {
			return err
		}
	}
	if replayed {
		env.replayed(c, made)
	}
	return nil
}

// graftOpaque checks that root (c's visible ops replayed on its first
// parent's tree base) differs from c.Tree only in opaque subtrees, and
// returns root with those subtrees grafted from c.Tree: equal to c.Tree
// iff c is canonical outside them. A difference elsewhere is one the
// withheld op groups would have to explain: invalid, naming the path.
//
// An opaque subtree is pruned (taken from c.Tree unchecked) where its
// node is not here on either side, or where this node may read it
// neither in base nor in c.Tree (env.MayRead): its nodes may be here
// because a later commit, which lets this node read there, was sent
// whole and its diff read them (docs/sync.md, "Opaque subtrees"). One
// this node may read on either side is checked like any other subtree.
func graftOpaque(st tree.Store, env ValidateEnv, base, root coda.ID, c *Commit) (coda.ID, error) {
	opaque := env.Opaque
	if opaque == nil {
		return coda.ID{}, fmt.Errorf("%d of its op groups are withheld (%s…) and nothing here is opaque: it cannot be checked", len(c.Hidden), c.Hidden[0].Short())
	}
	tr := tree.New(st)
	var grafts []tree.Op
	here := func(e tree.Entry) bool {
		_, err := st.Get(e.ID)
		return !errs.Is(err, errs.NotExist)
	}
	prune := func(p string, a, b tree.Entry) bool {
		if !opaque(p) || b.Kind != tree.KindDir {
			return false
		}
		if !here(b) || a.Kind == tree.KindDir && !here(a) {
			return true
		}
		return env.MayRead != nil && !env.MayRead(base, p) && !env.MayRead(c.Tree, p)
	}
	err := tr.DiffPruned(root, c.Tree, prune, func(ch tree.Change) error {
		return errs.E(errs.Invalid, errs.Path(metaPath(ch.Path, ch.Meta)),
			"its tree changes this readable path, which none of its visible ops does (its withheld op groups may change opaque subtrees only)")
	}, func(p string, _, e tree.Entry) error {
		if e.Kind != tree.KindDir {
			return errs.E(errs.Invalid, errs.Path(p), "its tree removes an opaque subtree")
		}
		grafts = append(grafts, tree.Op{Path: p, Entry: e, Raw: true})
		return nil
	})
	if err != nil {
		return coda.ID{}, err
	}
	if len(grafts) == 0 {
		return root, nil
	}
	return tr.Apply(root, grafts)
}

// checkable returns c as this node can check it on its first parent's
// tree base: the ops of each group held here whose directory is inside an
// opaque subtree this node cannot check in c (uncheckable; lenient: or
// may read on neither side) are taken out, their groups listed in Hidden,
// as if they had been withheld. The same group (the same ops in the same
// directory) may travel for another commit whose reader may read it
// there; here it cannot be replayed (its subtree's nodes are not here) or
// judged. c itself if none.
func checkable(env ValidateEnv, st tree.Store, base coda.ID, c *Commit, lenient bool) (*Commit, error) {
	if env.Opaque == nil || env.OpaquePaths == nil || len(c.Ops)+len(c.Conflicts) == 0 {
		return c, nil
	}
	cache := map[string]bool{}
	hidden := func(dir string) bool {
		for a := dir; a != "/" && a != ""; a = parentDir(a) {
			if !env.Opaque(a) {
				continue
			}
			u, ok := cache[a]
			if !ok {
				u = uncheckable(st, base, c.Tree, a) ||
					lenient && env.MayRead != nil && !env.MayRead(base, a) && !env.MayRead(c.Tree, a)
				cache[a] = u
			}
			if u {
				return true
			}
		}
		return false
	}
	moved := false
	for _, o := range c.Ops {
		if hidden(opDir(o.Path, o.Meta)) {
			moved = true
			break
		}
	}
	for _, k := range c.Conflicts {
		if !moved && hidden(opDir(k.Path, k.Meta)) {
			moved = true
		}
	}
	if !moved {
		return c, nil
	}
	dirs, err := c.GroupDirs()
	if err != nil {
		return nil, err
	}
	cp := *c
	cp.Ops, cp.Conflicts, cp.Hidden = nil, nil, slices.Clone(c.Hidden)
	for _, o := range c.Ops {
		if !hidden(opDir(o.Path, o.Meta)) {
			cp.Ops = append(cp.Ops, o)
		}
	}
	for _, k := range c.Conflicts {
		if !hidden(opDir(k.Path, k.Meta)) {
			cp.Conflicts = append(cp.Conflicts, k)
		}
	}
	for g, d := range dirs {
		if hidden(d) {
			cp.Hidden = append(cp.Hidden, g)
		}
	}
	slices.SortFunc(cp.Hidden, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
	return &cp, nil
}

// uncheckable reports whether this node cannot replay ops in the opaque
// subtree p in a commit of tree root on the first parent's tree base: its
// node (or one above it) is not here on either side. Where both are here,
// the ops held are replayed and their rights checked, whoever may read
// them (so a commit held with opaque parts that arrives whole is checked
// fully, TestOpaqueRevalidate). A subtree the commit removes is checkable
// (graftOpaque refuses that); one it makes is replayed on its parent.
func uncheckable(st tree.Store, base, root coda.ID, p string) bool {
	entry := func(r coda.ID) (tree.Entry, bool) {
		probe := &missing{s: st}
		e, err := tree.New(probe).Get(r, p)
		if err != nil {
			return tree.Entry{}, probe.missed
		}
		return e, false
	}
	here := func(e tree.Entry) bool {
		_, err := st.Get(e.ID)
		return !errs.Is(err, errs.NotExist)
	}
	b, lostB := entry(root)
	a, lostA := entry(base)
	if lostA || lostB {
		return true
	}
	if b.Kind != tree.KindDir {
		return false
	}
	if !here(b) {
		return true
	}
	if a.Kind != tree.KindDir {
		return false // made here: replayed on its parent, judged above it
	}
	return !here(a)
}

// lostOn reports whether the node of the directory p, or one above it, is
// not here in any of the trees roots (the zero id: none).
func lostOn(st tree.Store, p string, roots ...coda.ID) bool {
	for _, r := range roots {
		if r.IsZero() {
			continue
		}
		probe := &missing{s: st}
		e, err := tree.New(probe).Get(r, p)
		if err != nil {
			if probe.missed {
				return true
			}
			continue
		}
		if e.Kind == tree.KindDir {
			if _, err := st.Get(e.ID); errs.Is(err, errs.NotExist) {
				return true
			}
		}
	}
	return false
}

// checkOpaqueMerge is step 3' (docs/cdb.md): the merge commit c over
// subtrees opaque here is recomputed with each opaque subtree whose node
// is not here taken from c's tree on every side (base, both parents), so
// the merge never reads in them; the result must be c's tree, and the ops
// and conflicts outside them (c's visible groups) exactly those of the
// recomputation. What c's withheld groups hold is left to the nodes that
// may read them.
func checkOpaqueMerge(env ValidateEnv, st tree.Store, c *Commit, parents []*Commit) error {
	if len(parents) != 2 {
		return fmt.Errorf("merges of %d parents are not supported (only 2)", len(parents))
	}
	ps := slices.Clone(parents)
	slices.SortFunc(ps, func(a, b *Commit) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	if env.MergeBase == nil {
		return fmt.Errorf("cannot check a merge commit without history")
	}
	base, err := env.MergeBase(ps[0].ID, ps[1].ID)
	if err != nil {
		return err
	}
	tr := tree.New(st)
	missing := func(id coda.ID) bool {
		_, err := st.Get(id)
		return errs.Is(err, errs.NotExist)
	}
	var grafts []tree.Op
	grafted := map[string]bool{}
	for _, p := range env.OpaquePaths() {
		e, err := tr.Get(c.Tree, p)
		if err != nil || e.Kind != tree.KindDir {
			continue // absent, or under another opaque subtree
		}
		if !missing(e.ID) && !lostOn(st, p, base, ps[0].Tree, ps[1].Tree) &&
			(env.MayRead == nil || env.MayRead(parents[0].Tree, p) || env.MayRead(c.Tree, p)) {
			continue // here on every side, and this node may read it: checked
		}
		grafts = append(grafts, tree.Op{Path: p, Entry: e, Raw: true})
		grafted[p] = true
	}
	graft := func(root coda.ID) (coda.ID, error) {
		if len(grafts) == 0 || root.IsZero() {
			return root, nil
		}
		return tr.Apply(root, grafts)
	}
	a, err := graft(ps[0].Tree)
	if err != nil {
		return fmt.Errorf("recompute merge: %w", err)
	}
	b, err := graft(ps[1].Tree)
	if err != nil {
		return fmt.Errorf("recompute merge: %w", err)
	}
	if base, err = graft(base); err != nil {
		return fmt.Errorf("recompute merge: %w", err)
	}
	root, conflicts, err := tr.Merge(base, a, b)
	if err != nil {
		return fmt.Errorf("recompute merge (opaque subtrees taken from its tree): %w", err)
	}
	if root, err = mergeFix(env.Derive, st, a, b, root, uint64(max(ps[0].Time, ps[1].Time))); err != nil {
		return fmt.Errorf("recompute merge: %w", err)
	}
	if root != c.Tree {
		return fmt.Errorf("merge commit differs from its recomputation (opaque subtrees taken from its tree): tree %s, want %s", c.Tree, root)
	}
	var ops []Change
	err = tr.DiffPruned(ps[0].Tree, root, func(p string, _, e tree.Entry) bool {
		return grafted[p] || e.Kind == tree.KindDir && env.Opaque(p) && missing(e.ID)
	}, func(ch tree.Change) error {
		switch ch.B.Kind {
		case tree.KindValue:
			ops = append(ops, Change{Path: ch.Path, Meta: ch.Meta, ID: ch.B.ID})
		case tree.KindTombstone:
			ops = append(ops, Change{Path: ch.Path, Meta: ch.Meta, Delete: true})
		default:
			return errs.E(errs.Internal, errs.Path(ch.Path), "cdb: a leaf vanished from the tree")
		}
		return nil
	}, func(string, tree.Entry, tree.Entry) error { return nil })
	if err != nil {
		return fmt.Errorf("recompute merge: %w", err)
	}
	// c's ops and conflicts in the grafted subtrees (held here, as the
	// same group may travel for another commit) are not recomputed.
	inGrafted := func(dir string) bool {
		for a := dir; a != "/" && a != ""; a = parentDir(a) {
			if grafted[a] {
				return true
			}
		}
		return false
	}
	var wantOps []Change
	for _, o := range c.Ops {
		if !inGrafted(opDir(o.Path, o.Meta)) {
			wantOps = append(wantOps, o)
		}
	}
	var wantConfs []Conflict
	for _, k := range c.Conflicts {
		if !inGrafted(opDir(k.Path, k.Meta)) {
			wantConfs = append(wantConfs, k)
		}
	}
	if !slices.Equal(ops, wantOps) {
		return fmt.Errorf("merge commit's ops differ from its recomputation outside its opaque subtrees")
	}
	var confs []Conflict
	for _, k := range conflicts {
		confs = append(confs, Conflict{Path: k.Path, Meta: k.Meta,
			Winner: k.Winner.ID, Loser: k.Loser.ID, WinnerStamp: k.Winner.Stamp, LoserStamp: k.Loser.Stamp})
	}
	if !slices.EqualFunc(confs, wantConfs, func(x, y Conflict) bool {
		return x.Path == y.Path && x.Meta == y.Meta && x.Winner == y.Winner && x.Loser == y.Loser &&
			x.WinnerStamp == y.WinnerStamp && x.LoserStamp == y.LoserStamp
	}) {
		return fmt.Errorf("merge commit's conflicts differ from its recomputation outside its opaque subtrees")
	}
	if c.Message != "" || c.Call != nil || c.World != env.World {
		return fmt.Errorf("a merge commit has no message or call")
	}
	return nil
}

// replayOps applies c's ops to base, each leaf set exactly to a value or
// tombstone stamped with c's stamp.
func replayOps(tr *tree.Tree, base coda.ID, c *Commit) (coda.ID, error) {
	ops := replayBufs.Get().(*[]tree.Op)
	*ops = appendReplayOps((*ops)[:0], c)
	defer func() {
		clear(*ops)
		replayBufs.Put(ops)
	}()
	return tr.ApplyDry(base, *ops)
}

// replayBufs holds the op lists of finished replays, for the next (a
// replay keeps none of its ops).
var replayBufs = sync.Pool{New: func() any { return new([]tree.Op) }}

// replayTreeOps returns c's ops as raw tree ops stamped with c's stamp.
func replayTreeOps(c *Commit) []tree.Op { return appendReplayOps(nil, c) }

// appendReplayOps appends replayTreeOps(c) to dst.
func appendReplayOps(dst []tree.Op, c *Commit) []tree.Op {
	s := c.Stamp()
	dst = slices.Grow(dst, len(c.Ops))
	for _, o := range c.Ops {
		e := tree.Value(o.ID, s)
		if o.Delete {
			e = tree.Tombstone(s)
		}
		dst = append(dst, tree.Op{Path: o.Path, Meta: o.Meta, Entry: e, Raw: true})
	}
	return dst
}

// computeMerge builds the merge commit of parents (two, any order): the
// deterministic unsigned commit of docs/cdb.md.
func computeMerge(st tree.Store, mergeBase func(a, b coda.ID) (coda.ID, error), world coda.ID, parents []*Commit, derive Deriver) (*Commit, error) {
	if len(parents) != 2 {
		return nil, fmt.Errorf("merges of %d parents are not supported (only 2)", len(parents))
	}
	ps := slices.Clone(parents)
	slices.SortFunc(ps, func(a, b *Commit) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	if ps[0].ID == ps[1].ID {
		return nil, fmt.Errorf("a merge of a commit with itself")
	}
	base, err := mergeBase(ps[0].ID, ps[1].ID)
	if err != nil {
		return nil, err
	}
	tr := tree.New(st)
	root, conflicts, err := tr.Merge(base, ps[0].Tree, ps[1].Tree)
	if err != nil {
		return nil, err
	}
	if root, err = mergeFix(derive, st, ps[0].Tree, ps[1].Tree, root, uint64(max(ps[0].Time, ps[1].Time))); err != nil {
		return nil, err
	}
	ops, err := diffOps(tr, ps[0].Tree, root)
	if err != nil {
		return nil, err
	}
	c := &Commit{World: world, Parents: []coda.ID{ps[0].ID, ps[1].ID}, Tree: root, Ops: ops,
		Time: max(ps[0].Time, ps[1].Time)}
	for _, k := range conflicts {
		c.Conflicts = append(c.Conflicts, Conflict{Path: k.Path, Meta: k.Meta,
			Winner: k.Winner.ID, Loser: k.Loser.ID, WinnerStamp: k.Winner.Stamp, LoserStamp: k.Loser.Stamp})
	}
	cs, err := loadCommitSchemas()
	if err != nil {
		return nil, err
	}
	obj, err := cs.encode(c)
	if err != nil {
		return nil, err
	}
	c.ID = coda.Sum(obj)
	return c, nil
}

// mergeBaseRoot returns the tree of the merge base of a and b (the zero
// id if they have none).
func (w *World) mergeBaseRoot(a, b coda.ID) (coda.ID, error) {
	c, err := w.mergeBase(a, b)
	if err != nil || c == nil {
		return coda.ID{}, err
	}
	return c.Tree, nil
}

// mergeBase returns the merge base of a and b: of their common ancestors
// (a commit is its own ancestor), the greatest by (time, depth, id), where
// depth is the longest path from genesis. A descendant has a time at least
// as great and a greater depth, so no common ancestor descends from the
// one chosen, and every node chooses alike. Nil if there is none.
func (w *World) mergeBase(a, b coda.ID) (*Commit, error) {
	return mergeBaseWith(w.parentCommit, a, b)
}

// walkWith calls fn for every commit reachable from id not yet in seen,
// loading commits with load.
func walkWith(load func(coda.ID) (*Commit, error), id coda.ID, seen map[coda.ID]bool, fn func(*Commit) error) error {
	stack := []coda.ID{id}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		c, err := load(id)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		stack = append(stack, c.Parents...)
	}
	return nil
}

// mergeBaseWith is mergeBase over the history load reads.
func mergeBaseWith(load func(coda.ID) (*Commit, error), a, b coda.ID) (*Commit, error) {
	inA := map[coda.ID]*Commit{}
	if err := walkWith(load, a, map[coda.ID]bool{}, func(c *Commit) error { inA[c.ID] = c; return nil }); err != nil {
		return nil, err
	}
	var common []*Commit
	err := walkWith(load, b, map[coda.ID]bool{}, func(c *Commit) error {
		if inA[c.ID] != nil {
			common = append(common, c)
		}
		return nil
	})
	if err != nil || len(common) == 0 {
		return nil, err
	}
	depth := depths(inA)
	best := common[0]
	for _, c := range common[1:] {
		if cmp.Or(cmp.Compare(c.Time, best.Time), cmp.Compare(depth[c.ID], depth[best.ID]), bytes.Compare(c.ID[:], best.ID[:])) > 0 {
			best = c
		}
	}
	return best, nil
}

// depths returns the depth of every commit of a history closed under
// parents: 0 for genesis, else 1 + the greatest depth of its parents.
func depths(all map[coda.ID]*Commit) map[coda.ID]int {
	d := make(map[coda.ID]int, len(all))
	for id := range all {
		stack := []coda.ID{id}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			if _, ok := d[x]; ok {
				stack = stack[:len(stack)-1]
				continue
			}
			c := all[x]
			ready, m := true, -1
			for _, p := range c.Parents {
				if dp, ok := d[p]; ok {
					m = max(m, dp)
				} else if all[p] != nil {
					ready = false
					stack = append(stack, p)
				}
			}
			if ready {
				d[x] = m + 1
				stack = stack[:len(stack)-1]
			}
		}
	}
	return d
}

// isAncestor reports whether a is b or an ancestor of b.
func (w *World) isAncestor(a, b coda.ID) (bool, error) {
	return isAncestorWith(w.parentCommit, a, b)
}

func isAncestorWith(load func(coda.ID) (*Commit, error), a, b coda.ID) (bool, error) {
	found := false
	errFound := errs.E(errs.Other, "found")
	err := walkWith(load, b, map[coda.ID]bool{}, func(c *Commit) error {
		if c.ID == a {
			found = true
			return errFound
		}
		return nil
	})
	if err != nil && err != errFound {
		return false, err
	}
	return found, nil
}

func (w *World) validateEnv(st tree.Store, clock bool) ValidateEnv {
	env := ValidateEnv{Store: st, World: w.id, Skew: w.h.skew, MergeBase: w.mergeBaseRoot, Derive: w.h.derive}
	if p := w.h.policy; p != nil {
		env.Rights = func(c *Commit, parents []*Commit) error { return p.CheckCommit(st, c, parents) }
	}
	w.h.callHook(&env, st)
	// The opaque subtrees recorded here, read only if a commit opaque
	// here is validated (replay, a merge over one).
	var (
		opqOnce sync.Once
		opq     map[string]ed25519.PublicKey
	)
	env.Opaque = func(p string) bool {
		opqOnce.Do(func() { opq, _ = w.h.opaqueSubtrees(w.id) })
		_, ok := opq[p]
		return ok
	}
	env.OpaquePaths = func() []string {
		opqOnce.Do(func() { opq, _ = w.h.opaqueSubtrees(w.id) })
		return slices.Sorted(maps.Keys(opq))
	}
	if clock {
		env.Now = w.h.clock.Wall()
	}
	return env
}
