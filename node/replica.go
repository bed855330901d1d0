package node

import (
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/replica"
)

// startReplica starts world sync (package replica, docs/sync.md) on the
// swarm's host; a peer that sends invalid data is punished by the swarm
// (disconnected, refused from then on). Without a swarm there is no sync.
func (n *Node) startReplica() error {
	if n.swarm == nil {
		return nil
	}
	e, err := replica.New(n.home, n.swarm.Host(), replica.Options{
		OnInvalid: n.swarm.Punish,
		Logger:    n.log.With("part", "sync"),
	})
	if err != nil {
		return errs.E(errs.Op("node: start sync"), err)
	}
	n.replica = e
	return nil
}

// stopReplica stops world sync, before the swarm and the home close.
func (n *Node) stopReplica() {
	if n.replica == nil {
		return
	}
	if err := n.replica.Close(); err != nil {
		n.log.Warn("closing sync", "err", err)
	}
}

// Replica returns the node's world sync engine; nil with Options.NoSwarm.
func (n *Node) Replica() *replica.Engine { return n.replica }
