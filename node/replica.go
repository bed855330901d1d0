package node

import (
	"github.com/coalescent/coal/ctp"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/replica"
)

// startReplica starts world sync (package replica, docs/sync.md) on the
// swarm's host, and the CTP server and client (package ctp) that move the
// large values sync leaves out of its answers; a peer that sends invalid
// data is punished by the swarm (disconnected, refused from then on).
// Without a swarm there is neither.
func (n *Node) startReplica() error {
	if n.swarm == nil {
		return nil
	}
	h := n.swarm.Host()
	n.ctp = ctp.NewServer(ctp.WorldSource(n.home), ctp.ServerOptions{OnInvalid: n.swarm.Punish, Logger: n.log.With("part", "ctp")})
	n.ctp.Register(h)
	fetch := ctp.NewClient(h, ctp.Options{OnInvalid: n.swarm.Punish, Logger: n.log.With("part", "ctp")})
	e, err := replica.New(n.home, h, replica.Options{
		OnInvalid: n.swarm.Punish,
		Logger:    n.log.With("part", "sync"),
		Fetcher:   fetch,
	})
	if err != nil {
		return errs.E(errs.Op("node: start sync"), err)
	}
	n.replica = e
	return nil
}

// stopReplica stops world sync and CTP, before the swarm and the home
// close.
func (n *Node) stopReplica() {
	if n.replica != nil {
		if err := n.replica.Close(); err != nil {
			n.log.Warn("closing sync", "err", err)
		}
	}
	if n.ctp != nil {
		n.swarm.Host().RemoveStreamHandler(ctp.Protocol)
		n.ctp.Close()
	}
}

// Replica returns the node's world sync engine; nil with Options.NoSwarm.
func (n *Node) Replica() *replica.Engine { return n.replica }
