package cdb

import (
	"context"

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
	return ReceiveResult{}, errs.E(errs.Op("cdb.Receive"), errs.Internal, "not implemented")
}

// ReceiveWorld is Receive for a world the home does not hold: the genesis
// commit of head's history must be in objs; the world is created under
// name, its branch main at head.
func (h *Home) ReceiveWorld(ctx context.Context, name string, objs map[coda.ID][]byte, head coda.ID) (*World, ReceiveResult, error) {
	return nil, ReceiveResult{}, errs.E(errs.Op("cdb.ReceiveWorld"), errs.Internal, "not implemented")
}

// SetDefaultWorld makes the world named name the home's default.
func (h *Home) SetDefaultWorld(name string) error {
	if _, err := h.store.GetRef(worldRef(name)); err != nil {
		return errs.E(errs.Op("cdb.SetDefaultWorld"), err)
	}
	return h.setConfig(func(c *config) { c.DefaultWorld = name })
}
