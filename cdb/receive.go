package cdb

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// ReceiveResult says what Receive did.
type ReceiveResult struct {
	Commits     int             `json:"commits"`      // new commits validated and stored
	Objects     int             `json:"objects"`      // objects stored
	Head        coda.ID         `json:"head"`         // the branch head after
	FastForward bool            `json:"fast_forward"` // the branch moved to the received head
	Merge       *CommitInfo     `json:"merge,omitempty"`
	Conflicts   []tree.Conflict `json:"-"`
}

// Receive takes commits made elsewhere (a bundle, later sync): objs holds
// every object received — commits, tree nodes, values — by id, and head is
// the received branch head. Every commit reachable from head that the home
// does not hold is validated, parents first, by ValidateCommit with the
// home's Policy, reading objs over the store, before anything is stored;
// the first invalid commit fails the whole call, naming it, and nothing is
// stored. Then, in one atomic batch, the objects are stored and branch
// ("" : the current branch) moves to head (fast-forward), or to the
// deterministic merge of its head and head if they diverged.
func (w *World) Receive(ctx context.Context, objs map[coda.ID][]byte, head coda.ID, branch string) (ReceiveResult, error) {
	op := errs.Op("cdb.Receive")
	if branch == "" {
		branch = w.Branch()
	}
	res, err := w.h.receive(ctx, w, "", objs, head, branch)
	if err != nil {
		return ReceiveResult{}, w.h.recordWrite(nil, "receive", w.id, head, errs.E(op, err))
	}
	return res, w.h.recordWrite(nil, "receive", w.id, head, nil)
}

// ReceiveWorld is Receive for a world the home does not hold: the genesis
// commit of head's history must be in objs; the world is created under
// name, its branch main at head. errs.Exist if the name is taken or the
// home holds the world already.
func (h *Home) ReceiveWorld(ctx context.Context, name string, objs map[coda.ID][]byte, head coda.ID) (*World, ReceiveResult, error) {
	op := errs.Op("cdb.ReceiveWorld")
	if err := validWorldName(name); err != nil {
		return nil, ReceiveResult{}, errs.E(op, err)
	}
	res, err := h.receive(ctx, nil, name, objs, head, DefaultBranch)
	if err != nil {
		return nil, ReceiveResult{}, h.recordWrite(nil, "receive", coda.ID{}, head, errs.E(op, err))
	}
	w, err := h.World(name)
	if err != nil {
		return nil, ReceiveResult{}, errs.E(op, err)
	}
	return w, res, h.recordWrite(nil, "receive", w.id, head, nil)
}

// receive validates and stores objs up to head into w's branch, or (w nil)
// into a new world named name.
func (h *Home) receive(ctx context.Context, w *World, name string, objs map[coda.ID][]byte, head coda.ID, branch string) (ReceiveResult, error) {
	for id, b := range objs {
		if coda.Sum(b) != id {
			return ReceiveResult{}, errs.E(errs.Invalid, fmt.Sprintf("object %s: its bytes hash to %s", id, coda.Sum(b)))
		}
	}
	// The commits received, decoded on demand; commits the home holds are
	// read from the store.
	decoded := map[coda.ID]*Commit{}
	load := func(id coda.ID) (*Commit, error) {
		if c, ok := decoded[id]; ok {
			return c, nil
		}
		if b, ok := objs[id]; ok {
			c, err := h.schema.decode(b)
			if err != nil {
				return nil, errs.E(errs.Invalid, fmt.Errorf("commit %s: %w", id, err))
			}
			decoded[id] = c
			return c, nil
		}
		if w == nil {
			return nil, errs.E(errs.Invalid, fmt.Sprintf("commit %s is missing", id))
		}
		c, err := w.commit(id)
		if errs.Is(err, errs.NotExist) {
			return nil, errs.E(errs.Invalid, fmt.Sprintf("commit %s is missing: %v", id, err))
		}
		return c, err
	}
	known := func(id coda.ID) (bool, error) {
		if w == nil {
			return false, nil
		}
		if _, err := w.commit(id); err == nil {
			return true, nil
		} else if !errs.Is(err, errs.NotExist) {
			return false, err
		}
		return false, nil
	}
	// The new commits: reachable from head, not held.
	var fresh []*Commit
	seen := map[coda.ID]bool{}
	stack := []coda.ID{head}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		k, err := known(id)
		if err != nil {
			return ReceiveResult{}, err
		}
		if k {
			continue
		}
		c, err := load(id)
		if err != nil {
			return ReceiveResult{}, err
		}
		fresh = append(fresh, c)
		stack = append(stack, c.Parents...)
	}
	world := coda.ID{}
	if w != nil {
		world = w.id
	} else {
		for _, c := range fresh {
			if c.IsGenesis() {
				world = c.ID
			}
		}
		if world.IsZero() {
			return ReceiveResult{}, errs.E(errs.Invalid, "no genesis commit in what was received")
		}
		if _, err := h.store.GetRef(worldRef(name)); err == nil {
			return ReceiveResult{}, errs.E(errs.Exist, fmt.Sprintf("world %q already exists", name))
		}
		if infos, err := h.Worlds(); err == nil {
			for _, i := range infos {
				if i.ID == world {
					return ReceiveResult{}, errs.E(errs.Exist, fmt.Sprintf("the home holds world %s already, as %q", world, i.Name))
				}
			}
		}
	}
	order := topoOrder(fresh)
	// Validate every commit, parents first, reading objs over the store;
	// trees recomputed go to memory only.
	vs := &staging{s: h.store, mem: maps.Clone(objs)}
	env := ValidateEnv{Store: vs, World: world, Now: h.clock.Wall(), Skew: h.skew,
		MergeBase: func(a, b coda.ID) (coda.ID, error) {
			c, err := mergeBaseWith(load, a, b)
			if err != nil || c == nil {
				return coda.ID{}, err
			}
			return c.Tree, nil
		}}
	if p := h.policy; p != nil {
		env.Rights = func(c *Commit, parents []*Commit) error { return p.CheckCommit(vs, c, parents) }
	}
	var maxT hlc.Time
	for _, c := range order {
		if err := ctx.Err(); err != nil {
			return ReceiveResult{}, errs.E(errs.Canceled, err)
		}
		parents := make([]*Commit, len(c.Parents))
		for i, p := range c.Parents {
			pc, err := load(p)
			if err != nil {
				return ReceiveResult{}, errs.E(errs.Invalid, fmt.Errorf("commit %s: parent: %w", c.ID, err))
			}
			parents[i] = pc
		}
		if err := ValidateCommit(env, c, parents); err != nil {
			return ReceiveResult{}, err
		}
		maxT = max(maxT, c.Time)
	}
	// Store everything and move the branch, in one batch.
	b := h.store.NewBatch()
	defer b.Discard()
	ids := slices.SortedFunc(maps.Keys(objs), func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range ids {
		if _, err := b.Put(objs[id]); err != nil {
			return ReceiveResult{}, err
		}
	}
	res := ReceiveResult{Commits: len(fresh), Objects: len(objs), Head: head}
	if w == nil {
		if err := b.SwapRef(worldRef(name), coda.ID{}, world); err != nil {
			return ReceiveResult{}, err
		}
		if err := b.SwapRef(headRef(world, branch), coda.ID{}, head); err != nil {
			return ReceiveResult{}, err
		}
		res.FastForward = true
	} else {
		cur, err := w.branchHead(branch)
		if err != nil {
			return ReceiveResult{}, err
		}
		res.Head = cur
		done, err := isAncestorWith(load, head, cur)
		if err != nil {
			return ReceiveResult{}, err
		}
		ff, err := isAncestorWith(load, cur, head)
		if err != nil {
			return ReceiveResult{}, err
		}
		switch {
		case done:
		case ff:
			res.Head, res.FastForward = head, true
		default:
			hc, err := load(cur)
			if err != nil {
				return ReceiveResult{}, err
			}
			oc, err := load(head)
			if err != nil {
				return ReceiveResult{}, err
			}
			st := newStaging(vs, b)
			mc, err := computeMerge(st, env.MergeBase, world, []*Commit{hc, oc})
			if err != nil {
				return ReceiveResult{}, err
			}
			menv := env
			menv.Store = st
			if err := ValidateCommit(menv, mc, w.parentsOf(mc, hc, oc)); err != nil {
				return ReceiveResult{}, errs.E(errs.Internal, fmt.Errorf("cdb: a merge built here fails validation: %w", err))
			}
			obj, err := h.schema.encode(mc)
			if err != nil {
				return ReceiveResult{}, err
			}
			if _, err := b.Put(obj); err != nil {
				return ReceiveResult{}, err
			}
			info := mc.Info()
			res.Head, res.Merge = mc.ID, &info
			for _, k := range mc.Conflicts {
				res.Conflicts = append(res.Conflicts, tree.Conflict{Path: k.Path, Meta: k.Meta,
					Winner: entryOf(k.Winner, k.WinnerStamp), Loser: entryOf(k.Loser, k.LoserStamp)})
			}
		}
		if res.Head != cur {
			if err := b.SwapRef(headRef(world, branch), cur, res.Head); err != nil {
				return ReceiveResult{}, err
			}
		}
	}
	h.clock.Observe(maxT)
	if err := b.SetRef(clockRef, clockID(h.clock.Last())); err != nil {
		return ReceiveResult{}, err
	}
	if err := b.Commit(true); err != nil {
		return ReceiveResult{}, err
	}
	return res, nil
}

// topoOrder returns cs parents first (among cs), ties by (time, id).
func topoOrder(cs []*Commit) []*Commit {
	in := map[coda.ID]*Commit{}
	for _, c := range cs {
		in[c.ID] = c
	}
	children := map[coda.ID][]*Commit{}
	waiting := map[coda.ID]int{}
	var ready []*Commit
	for _, c := range cs {
		for _, p := range c.Parents {
			if in[p] != nil {
				waiting[c.ID]++
				children[p] = append(children[p], c)
			}
		}
		if waiting[c.ID] == 0 {
			ready = append(ready, c)
		}
	}
	order := func(a, b *Commit) int {
		return cmp.Or(cmp.Compare(b.Time, a.Time), bytes.Compare(b.ID[:], a.ID[:]))
	}
	out := make([]*Commit, 0, len(cs))
	for len(ready) > 0 {
		slices.SortFunc(ready, order)
		c := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		out = append(out, c)
		for _, k := range children[c.ID] {
			waiting[k.ID]--
			if waiting[k.ID] == 0 {
				ready = append(ready, k)
			}
		}
	}
	return out
}

// SetDefaultWorld makes the world named name the home's default.
func (h *Home) SetDefaultWorld(name string) error {
	if _, err := h.store.GetRef(worldRef(name)); err != nil {
		return errs.E(errs.Op("cdb.SetDefaultWorld"), err)
	}
	return h.setConfig(func(c *config) { c.DefaultWorld = name })
}
