package cdb

import (
	"strings"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Branch tombstones (docs/sync.md, "Deletion"): DeleteBranch removes a
// branch's head ref and, in the same batch, records
//
//	deleted/WORLD/BRANCH → the head the branch had
//
// node-local like the head refs, never announced. Sync ignores a peer's
// head of a deleted branch while it is that head or an ancestor of it, and
// makes the branch again once it is not (someone wrote to the branch after
// the deletion). Making the branch here (CreateBranch, or sync making it)
// removes the tombstone in the batch that makes the head ref.

// deletedRef is the ref of branch's tombstone in world.
func deletedRef(world coda.ID, branch string) string {
	return deletedPrefix(world) + branch
}

func deletedPrefix(world coda.ID) string { return "deleted/" + world.String() + "/" }

// DeletedBranch returns the head the branch name had when it was deleted
// here, and whether it is deleted (a tombstone is recorded: the branch
// does not exist now and did once).
func (w *World) DeletedBranch(name string) (coda.ID, bool, error) {
	id, err := w.h.store.GetRef(deletedRef(w.id, name))
	if errs.Is(err, errs.NotExist) {
		return coda.ID{}, false, nil
	}
	if err != nil {
		return coda.ID{}, false, errs.E(errs.Op("cdb.DeletedBranch"), err)
	}
	return id, true, nil
}

// DeletedBranches returns the tombstones of the world's deleted branches:
// by name, the head each had when it was deleted.
func (w *World) DeletedBranches() (map[string]coda.ID, error) {
	prefix := deletedPrefix(w.id)
	refs, err := w.h.store.ListRefs(prefix)
	if err != nil {
		return nil, errs.E(errs.Op("cdb.DeletedBranches"), err)
	}
	out := make(map[string]coda.ID, len(refs))
	for _, r := range refs {
		out[strings.TrimPrefix(r.Name, prefix)] = r.ID
	}
	return out, nil
}
