package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/replica"
)

// The sync routes' messages.
type (
	SyncReport = message.SyncReport
	SyncPeer   = message.SyncPeer
	PeerSync   = message.PeerSync
	BranchHead = message.BranchHead
	PeerBranch = message.PeerBranch
)

func init() {
	jsonTypes["SyncReport"] = reflect.TypeFor[SyncReport]()
	jsonTypes["PeerSync"] = reflect.TypeFor[PeerSync]()
}

// Syncer is the node's world sync, as the sync routes use it;
// *replica.Engine implements it.
type Syncer interface {
	SyncNow(ctx context.Context, world coda.ID) ([]replica.PeerReport, error)
	Status(world coda.ID) []replica.PeerStatus
}

// syncTimeout bounds POST .../sync.
const syncTimeout = 5 * time.Minute

// syncer returns the node's sync for a request acting as c: only the node
// key runs sync rounds and sees peers (they name other machines).
func (s *server) syncer(c *call, what string) (Syncer, error) {
	if err := s.nodeOnly(c, what+": only the node key syncs with peers"); err != nil {
		return nil, err
	}
	if s.opts.Sync == nil {
		return nil, errs.E(errs.Unavailable, fmt.Sprintf("%s: the node runs without a network", what))
	}
	return s.opts.Sync, nil
}

// sync runs one round of sync for the world now and reports per peer.
func (s *server) sync(w http.ResponseWriter, r *http.Request, c *call) error {
	sy, err := s.syncer(c, "sync")
	if err != nil {
		return err
	}
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), syncTimeout)
	defer cancel()
	reports, err := sy.SyncNow(ctx, wd.ID())
	if err != nil {
		return err
	}
	head, err := wd.Resolve(cdb.DefaultBranch)
	if err != nil {
		return err
	}
	bs, err := wd.Branches()
	if err != nil {
		return err
	}
	out := SyncReport{World: wd.ID(), Head: head, Peers: []SyncPeer{}, Branches: []BranchHead{}}
	for _, p := range reports {
		out.Peers = append(out.Peers, SyncPeer{Peer: p.Peer, Branch: p.Branch, Head: p.Head, InSync: p.InSync, Commits: p.Commits,
			Objects: p.Objects, Bytes: p.Bytes, Merged: p.Merged, Waiting: p.Waiting, Deleted: p.Deleted, Error: p.Error})
	}
	for _, b := range bs {
		out.Branches = append(out.Branches, BranchHead{Branch: b.Name, Head: b.Head})
	}
	return writeJSON(w, 0, out)
}

// peerSync returns the peers' heads of world for the status, nil unless
// the caller is the node key and the node syncs.
func (s *server) peerSync(c *call, world coda.ID) []PeerSync {
	sy, err := s.syncer(c, "status")
	if err != nil {
		return nil
	}
	out := []PeerSync{}
	for _, p := range sy.Status(world) {
		ps := PeerSync{Peer: p.Peer, Key: p.Key, Head: p.Head, InSync: p.InSync, Error: p.Error}
		for _, b := range p.Branches {
			ps.Branches = append(ps.Branches, PeerBranch{Branch: b.Branch, Head: b.Head, Ours: b.Ours, InSync: b.InSync})
		}
		if !p.Seen.IsZero() {
			ps.Seen = p.Seen.UTC().Format(time.RFC3339)
		}
		out = append(out, ps)
	}
	return out
}
