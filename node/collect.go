package node

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/coalescent/coal/collect"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
	"github.com/coalescent/coal/trust"
)

// collectState is the node's trust table (HOME/trust) and its collect
// service (package collect, docs/protocols.md §7; nil without a swarm).
type collectState struct {
	trust   *trust.Store
	service *collect.Service
}

// learnTTL is how long addresses learned in a collect answer stay in the
// peerstore.
const learnTTL = 30 * time.Minute

// startCollect opens HOME/trust and, with a swarm, serves collect; a peer
// that sends invalid modules is punished by the swarm.
func (n *Node) startCollect() error {
	tr, err := trust.Open(filepath.Join(n.home.Dir(), trust.FileName), trust.Options{})
	if err != nil {
		return errs.E(errs.Op("node: open the trust table"), err)
	}
	n.coll = &collectState{trust: tr}
	if n.swarm == nil {
		return nil
	}
	sw := n.swarm
	s, err := collect.New(n.home, sw.Host(), tr, collect.Options{
		Catalog:   collect.Modules(),
		State:     filepath.Join(n.home.Dir(), collect.StateFile),
		OnInvalid: sw.Punish,
		Logger:    n.log.With("part", "collect"),
		Peers: func(asker peer.ID) []peer.AddrInfo {
			var out []peer.AddrInfo
			for _, p := range sw.Connected() {
				if p != asker && !sw.IsBad(p) {
					out = append(out, peer.AddrInfo{ID: p, Addrs: sw.Host().Peerstore().Addrs(p)})
				}
			}
			return out
		},
		Learn: func(ai peer.AddrInfo) {
			if !sw.IsBad(ai.ID) {
				sw.Host().Peerstore().AddAddrs(ai.ID, ai.Addrs, learnTTL)
			}
		},
	})
	if err != nil {
		return errs.E(errs.Op("node: start collect"), err)
	}
	n.coll.service = s
	if err := n.startAutoCollect(); err != nil { // node/autocollect.go
		s.Close()
		n.coll.service = nil
		return err
	}
	return nil
}

// stopCollect stops serving collect, before the swarm closes.
func (n *Node) stopCollect() {
	if n.coll != nil && n.coll.service != nil {
		n.coll.service.Close()
	}
}

// Trust returns the node's trust table.
func (n *Node) Trust() *trust.Store {
	if n.coll == nil {
		return nil
	}
	return n.coll.trust
}

// Collector returns the node's collect service; nil with Options.NoSwarm.
func (n *Node) Collector() *collect.Service {
	if n.coll == nil {
		return nil
	}
	return n.coll.service
}

// CollectNow runs collect sessions now: with the peer named by who (a
// peer id, a node key, or a full multiaddr to connect to first), or with
// every connected peer if who is ""; of one module (discover) or of all
// ("" module); into the catalog of world ("" the default world). It
// reports per peer; without a network it is errs.Unavailable.
func (n *Node) CollectNow(ctx context.Context, who, module, world string) ([]collect.Report, error) {
	s := n.Collector()
	if s == nil {
		return nil, errs.E(errs.Unavailable, "the node runs without a network")
	}
	if who == "" {
		return s.CollectAll(ctx, n.swarm.Connected(), module, world), nil
	}
	var p peer.ID
	switch {
	case strings.HasPrefix(who, "/"):
		id, err := n.swarm.Connect(ctx, who)
		if err != nil {
			return nil, err
		}
		p = id
	default:
		key, err := trust.ParsePeer(who)
		if err != nil {
			return nil, err
		}
		if p, err = relay.PeerID(key); err != nil {
			return nil, err
		}
		if n.swarm.Host().Network().Connectedness(p) != network.Connected {
			return nil, errs.E(errs.Unavailable, errs.Path(who), fmt.Sprintf("not connected to peer %s (coal peers add ADDR, or give its full multiaddr)", p))
		}
	}
	r, err := s.CollectInto(ctx, p, module, world)
	if err != nil {
		return nil, err
	}
	return []collect.Report{r}, nil
}
