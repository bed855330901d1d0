package node

import (
	"context"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
	"github.com/coalescent/coal/replica"
	"github.com/coalescent/coal/swarm"
)

// startSwarm starts the node's libp2p host (package swarm) with the node
// key as its identity, unless Options.NoSwarm.
func (n *Node) startSwarm() error {
	if n.opts.NoSwarm {
		return nil
	}
	key, err := relay.NodeKey(n.home)
	if err != nil {
		return err
	}
	s, err := swarm.New(context.Background(), swarm.Options{
		Key:       key,
		Listen:    n.opts.Listen,
		Bootstrap: n.opts.Bootstrap,
		MDNS:      !n.opts.NoMDNS,
		Dir:       n.home.Dir(),
		Logger:    n.log.With("part", "swarm"),

		Relays:       n.opts.Relays,
		RelayService: n.opts.RelayService,
		Reachability: n.opts.Reachability,
		// World sync runs over relayed connections (docs/swarm.md §8):
		// its messages are heads, commits and small values. CTP, which
		// moves the large ones, waits for a direct connection.
		Limited: []protocol.ID{protocol.ID(replica.Protocol)},
	})
	if err != nil {
		return errs.E(errs.Op("node: start the swarm"), err)
	}
	n.swarm = s
	return nil
}

// stopSwarm closes the swarm (every peer connection) and writes its peer
// book.
func (n *Node) stopSwarm() {
	if n.swarm == nil {
		return
	}
	if err := n.swarm.Close(); err != nil {
		n.log.Warn("closing the swarm", "err", err)
	}
}

// Swarm returns the node's swarm: its libp2p host, peers and discovery.
// It is nil with Options.NoSwarm; once the node has stopped it is closed.
func (n *Node) Swarm() *swarm.Swarm { return n.swarm }
