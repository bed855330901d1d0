package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/swarm"
)

// The peers routes' messages.
type (
	Peer           = message.Peer
	ConnectRequest = message.ConnectRequest
	PeerRemoved    = message.PeerRemoved
)

func init() {
	jsonTypes["Peer"] = reflect.TypeFor[Peer]()
	jsonTypes["ConnectRequest"] = reflect.TypeFor[ConnectRequest]()
	jsonTypes["PeerRemoved"] = reflect.TypeFor[PeerRemoved]()
}

// Network is the node's place in the peer-to-peer network, as the peers
// routes use it; *swarm.Swarm implements it.
type Network interface {
	ID() peer.ID
	Addrs() []string
	Peers() []swarm.PeerInfo
	Connect(ctx context.Context, addr string) (peer.ID, error)
	Disconnect(p peer.ID)
	Forget(p peer.ID) bool
	Forgive(p peer.ID) bool
}

// connectTimeout bounds POST /v1/peers.
const connectTimeout = 30 * time.Second

// network returns the node's network for a request acting as c: only
// the node key manages peers (they hold the addresses of other machines).
func (s *server) network(c *call, what string) (Network, error) {
	if err := s.nodeOnly(c, what+": only the node key manages peers"); err != nil {
		return nil, err
	}
	if s.opts.Network == nil {
		return nil, errs.E(errs.Unavailable, fmt.Sprintf("%s: the node runs without a network", what))
	}
	return s.opts.Network, nil
}

// netInfo adds the peer id and listen addresses to info.
func (s *server) netInfo(info *Info) {
	if s.opts.Network == nil {
		return
	}
	info.PeerID = s.opts.Network.ID().String()
	info.Addrs = s.opts.Network.Addrs()
}

func (s *server) peers(w http.ResponseWriter, r *http.Request, c *call) error {
	n, err := s.network(c, "peers")
	if err != nil {
		return err
	}
	out := []Peer{}
	for _, pi := range n.Peers() {
		out = append(out, peerMessage(pi))
	}
	return writeJSON(w, 0, out)
}

func (s *server) connectPeer(w http.ResponseWriter, r *http.Request, c *call) error {
	n, err := s.network(c, "peer add")
	if err != nil {
		return err
	}
	var req ConnectRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Addr == "" {
		return errs.E(errs.Invalid, errs.Path("body.addr"), "no address given: want a multiaddr ending in /p2p/PEER-ID")
	}
	ctx, cancel := context.WithTimeout(r.Context(), connectTimeout)
	defer cancel()
	id, err := n.Connect(ctx, req.Addr)
	if err != nil {
		return err
	}
	for _, pi := range n.Peers() {
		if pi.ID == id {
			return writeJSON(w, 0, peerMessage(pi))
		}
	}
	// It left as soon as it came.
	return writeJSON(w, 0, Peer{ID: id.String(), Addrs: []string{}})
}

func (s *server) removePeer(w http.ResponseWriter, r *http.Request, c *call) error {
	n, err := s.network(c, "peer rm")
	if err != nil {
		return err
	}
	id, err := peer.Decode(r.PathValue("id"))
	if err != nil {
		return errs.E(errs.Invalid, errs.Path("id"), fmt.Errorf("bad peer id %q: %v", r.PathValue("id"), err))
	}
	res := PeerRemoved{ID: id.String()}
	for _, pi := range n.Peers() {
		if pi.ID == id {
			res.Disconnected = pi.Connected
		}
	}
	n.Disconnect(id)
	res.Forgotten = n.Forget(id)
	res.Forgiven = n.Forgive(id)
	if !res.Disconnected && !res.Forgotten && !res.Forgiven {
		return errs.E(errs.NotExist, errs.Path(id.String()), "no such peer: not connected, not in the peer book, not bad")
	}
	return writeJSON(w, 0, res)
}

func peerMessage(pi swarm.PeerInfo) Peer {
	p := Peer{ID: pi.ID.String(), Addrs: []string{}, Connected: pi.Connected, Source: pi.Source, Bad: pi.Bad}
	if pi.Key != nil {
		p.Key = cdb.KeyString(pi.Key)
	}
	for _, a := range pi.Addrs {
		p.Addrs = append(p.Addrs, a.String())
	}
	if !pi.LastSeen.IsZero() {
		p.LastSeen = pi.LastSeen.UTC().Format(time.RFC3339)
	}
	if pi.Latency > 0 {
		p.LatencyMS = float64(pi.Latency.Microseconds()) / 1000
	}
	if !pi.BadSince.IsZero() {
		p.BadSince = pi.BadSince.UTC().Format(time.RFC3339)
	}
	return p
}
