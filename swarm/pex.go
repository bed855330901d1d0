package swarm

// Peer exchange, /coal/pex/1.0.0, over a relay.Conn (docs/swarm.md):
//
//	asker → answerer   wire context [Ask]     frame(Ask{max})           end frame
//	answerer → asker   wire context [Peers]   frame(Peers{peers})       end frame
//
// Each direction is one CODA wire stream holding exactly one object. The
// answer holds at most min(max, MaxPexPeers) peers, each with a peer id
// and 1 to MaxPexAddrs binary multiaddrs; anything else is invalid, and the
// peer that sent it is punished.

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
)

// Bounds of a pex answer.
const (
	MaxPexPeers   = 64  // peers in one answer
	MaxPexAddrs   = 16  // addresses of one peer
	maxPexIDLen   = 128 // bytes of a peer id (an ed25519 one is 38)
	maxPexAddrLen = 256 // bytes of one binary multiaddr
	// pexMaxMessage bounds a pex frame: 64 peers × (16 × 256 + 128 + a
	// few) is under 300 KiB.
	pexMaxMessage = 512 << 10
	pexTimeout    = 15 * time.Second
)

//go:embed pex.coda
var pexCoda []byte

var pexOnce = sync.OnceValues(func() (*pexSchemas, error) {
	reg := coda.NewRegistry()
	if _, err := reg.Compile("pex.coda", pexCoda); err != nil {
		return nil, errs.E(errs.Internal, fmt.Errorf("swarm: compile pex.coda: %w", err))
	}
	ask, ok1 := reg.Lookup("Ask")
	peers, ok2 := reg.Lookup("Peers")
	if !ok1 || !ok2 {
		return nil, errs.E(errs.Internal, "swarm: pex.coda lacks Ask or Peers")
	}
	return &pexSchemas{reg: reg, ask: ask, peers: peers}, nil
})

type pexSchemas struct {
	reg   *coda.Registry
	ask   *coda.Schema
	peers *coda.Schema
}

// PexSchemaIDs returns the schema ids of Ask and Peers (docs/swarm.md
// pins them).
func PexSchemaIDs() (ask, peers coda.ID) {
	ps, err := pexOnce()
	if err != nil {
		return coda.ID{}, coda.ID{}
	}
	return ps.ask.ID, ps.peers.ID
}

func encodeAsk(max uint32) coda.Value { return coda.Struct(coda.U32(max)) }

// decodeAsk returns the max an Ask holds, capped at MaxPexPeers.
func decodeAsk(ps *pexSchemas, s *coda.Schema, v coda.Value) (int, error) {
	if s.ID != ps.ask.ID {
		return 0, errs.E(errs.Invalid, errs.Op("pex"), fmt.Sprintf("expected an Ask (schema %s), got schema %s", ps.ask.ID, s.ID))
	}
	return int(min(v.Index(0).AsUint(), MaxPexPeers)), nil
}

// encodePeers encodes infos, which must be within the bounds (sharePeers
// makes them so).
func encodePeers(infos []peer.AddrInfo) coda.Value {
	list := make([]coda.Value, 0, len(infos))
	for _, ai := range infos {
		addrs := make([]coda.Value, 0, len(ai.Addrs))
		for _, a := range ai.Addrs {
			addrs = append(addrs, coda.Bytes(a.Bytes()))
		}
		list = append(list, coda.Struct(coda.Bytes([]byte(ai.ID)), coda.List(addrs...)))
	}
	return coda.Struct(coda.List(list...))
}

// decodePeers checks a Peers value against the bounds (at most max
// peers) and returns its peers. Errors are errs.Invalid naming the field.
func decodePeers(ps *pexSchemas, s *coda.Schema, v coda.Value, max int) ([]peer.AddrInfo, error) {
	op := errs.Op("pex")
	if s.ID != ps.peers.ID {
		return nil, errs.E(errs.Invalid, op, fmt.Sprintf("expected Peers (schema %s), got schema %s", ps.peers.ID, s.ID))
	}
	list := v.Index(0)
	if n := list.Len(); n > max {
		return nil, errs.E(errs.Invalid, op, errs.Path("peers"), fmt.Sprintf("%d peers, at most %d asked", n, max))
	}
	out := make([]peer.AddrInfo, 0, list.Len())
	seen := make(map[peer.ID]bool, list.Len())
	for i := range list.Len() {
		pv := list.Index(i)
		idb := pv.Index(0).AsBytes()
		if len(idb) > maxPexIDLen {
			return nil, errs.E(errs.Invalid, op, errs.Path(fmt.Sprintf("peers[%d].id", i)), fmt.Sprintf("%d bytes, at most %d", len(idb), maxPexIDLen))
		}
		id, err := peer.IDFromBytes(idb)
		if err != nil {
			return nil, errs.E(errs.Invalid, op, errs.Path(fmt.Sprintf("peers[%d].id", i)), fmt.Errorf("not a peer id: %v", err))
		}
		if seen[id] {
			return nil, errs.E(errs.Invalid, op, errs.Path(fmt.Sprintf("peers[%d].id", i)), fmt.Sprintf("peer %s twice", id))
		}
		seen[id] = true
		av := pv.Index(1)
		if n := av.Len(); n == 0 || n > MaxPexAddrs {
			return nil, errs.E(errs.Invalid, op, errs.Path(fmt.Sprintf("peers[%d].addrs", i)), fmt.Sprintf("%d addresses, want 1 to %d", n, MaxPexAddrs))
		}
		ai := peer.AddrInfo{ID: id, Addrs: make([]ma.Multiaddr, 0, av.Len())}
		for j := range av.Len() {
			b := av.Index(j).AsBytes()
			path := errs.Path(fmt.Sprintf("peers[%d].addrs[%d]", i, j))
			if len(b) > maxPexAddrLen {
				return nil, errs.E(errs.Invalid, op, path, fmt.Sprintf("%d bytes, at most %d", len(b), maxPexAddrLen))
			}
			a, err := ma.NewMultiaddrBytes(b)
			if err != nil {
				return nil, errs.E(errs.Invalid, op, path, fmt.Errorf("not a multiaddr: %v", err))
			}
			// The decoder must not accept two spellings of one address:
			// the multiaddr's own encoding must give the bytes back.
			if !bytes.Equal(a.Bytes(), b) {
				return nil, errs.E(errs.Invalid, op, path, "non-canonical multiaddr bytes")
			}
			if _, last := ma.SplitLast(a); last != nil && last.Protocol().Code == ma.P_P2P {
				return nil, errs.E(errs.Invalid, op, path, fmt.Sprintf("address %s ends in /p2p/ID (the id goes in the id field)", a))
			}
			ai.Addrs = append(ai.Addrs, a)
		}
		out = append(out, ai)
	}
	return out, nil
}

// handlePex answers an Ask with the peers we know.
func (s *Swarm) handlePex(st network.Stream) {
	ps, err := pexOnce()
	if err != nil {
		st.Reset()
		return
	}
	remote := st.Conn().RemotePeer()
	ctx, cancel := context.WithTimeout(s.ctx, pexTimeout)
	defer cancel()
	c := relay.Accept(ctx, st, []coda.ID{ps.peers.ID}, ps.reg, relay.Options{MaxMessage: pexMaxMessage, IdleTimeout: pexTimeout})
	defer c.Close()
	max, err := recvAsk(ps, c)
	if err == nil {
		infos := s.sharePeers(remote, st.Conn().RemoteMultiaddr(), max)
		if err = c.Send(ps.peers, encodePeers(infos)); err == nil {
			err = c.CloseWrite()
		}
	}
	if err != nil {
		s.pexFailed(remote, err)
		c.Reset()
	}
}

// recvAsk reads the asker's side of an exchange: one Ask, then the end
// of its stream.
func recvAsk(ps *pexSchemas, c *relay.Conn) (int, error) {
	sch, v, err := c.Recv()
	if err == io.EOF {
		return 0, errs.E(errs.Invalid, errs.Op("pex"), "the request ended without Ask")
	}
	if err != nil {
		return 0, err
	}
	max, err := decodeAsk(ps, sch, v)
	if err != nil {
		return 0, err
	}
	if err := recvEnd(c, "Ask"); err != nil {
		return 0, err
	}
	return max, nil
}

// recvPeers reads the answerer's side: one Peers of at most max peers,
// then the end of its stream.
func recvPeers(ps *pexSchemas, c *relay.Conn, max int) ([]peer.AddrInfo, error) {
	sch, v, err := c.Recv()
	if err == io.EOF {
		return nil, errs.E(errs.Invalid, errs.Op("pex"), "the answer ended without Peers")
	}
	if err != nil {
		return nil, err
	}
	infos, err := decodePeers(ps, sch, v, max)
	if err != nil {
		return nil, err
	}
	if err := recvEnd(c, "Peers"); err != nil {
		return nil, err
	}
	return infos, nil
}

func recvEnd(c *relay.Conn, after string) error {
	_, _, err := c.Recv()
	switch {
	case err == io.EOF:
		return nil
	case err == nil:
		return errs.E(errs.Invalid, errs.Op("pex"), "a second object after "+after)
	}
	return err
}

// askPex asks p for its peers and returns them.
func (s *Swarm) askPex(ctx context.Context, p peer.ID) ([]peer.AddrInfo, error) {
	ps, err := pexOnce()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, pexTimeout)
	defer cancel()
	// Only over a connection we have: an exchange must not redial a peer
	// that was just disconnected.
	ctx = network.WithNoDial(ctx, "pex")
	// pex is one small message each way: it may run over a relayed
	// (limited) connection.
	ctx = network.WithAllowLimitedConn(ctx, "pex")
	c, _, err := relay.Dial(ctx, s.h, p, []protocol.ID{relay.PEX}, []coda.ID{ps.ask.ID}, ps.reg, relay.Options{MaxMessage: pexMaxMessage, IdleTimeout: pexTimeout})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Send(ps.ask, encodeAsk(MaxPexPeers)); err != nil {
		return nil, err
	}
	if err := c.CloseWrite(); err != nil {
		return nil, err
	}
	return recvPeers(ps, c, MaxPexPeers)
}

// pexFailed punishes a peer whose pex messages were invalid; transport
// failures are only logged.
func (s *Swarm) pexFailed(p peer.ID, err error) {
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Limit) || errs.Is(err, errs.NotExist) {
		s.Punish(p, err)
		return
	}
	s.log.Debug("pex failed", "peer", p, "err", err)
}

// exchange asks p for its peers, remembers them in the peerstore and,
// while we have fewer than Options.LowPeers, dials up to Options.PexDial
// of those we are not connected to.
func (s *Swarm) exchange(p peer.ID) {
	infos, err := s.askPex(s.ctx, p)
	if err != nil {
		s.pexFailed(p, err)
		return
	}
	dial := s.opts.PexDial
	if len(s.Connected()) >= s.opts.LowPeers {
		dial = 0 // enough peers: remember the addresses, dial none
	}
	for _, ai := range infos {
		if ai.ID == s.h.ID() || s.isBad(ai.ID) {
			continue
		}
		s.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, pexAddrTTL)
		if dial <= 0 || connectedOrLimited(s.h.Network().Connectedness(ai.ID)) {
			continue
		}
		dial--
		s.dialAsync(ai, "pex")
	}
	s.log.Debug("pex", "peer", p, "learned", len(infos))
}

// pexAddrTTL is how long addresses learned by pex stay in the peerstore.
const pexAddrTTL = 30 * time.Minute

// sharePeers returns what we tell asker: connected peers first, then the
// book's by last seen; never asker, us or a bad peer; loopback addresses
// only to an asker on loopback. Within the pex bounds.
func (s *Swarm) sharePeers(asker peer.ID, remote ma.Multiaddr, max int) []peer.AddrInfo {
	loop := remote != nil && manet.IsIPLoopback(remote)
	var out []peer.AddrInfo
	seen := map[peer.ID]bool{asker: true, s.h.ID(): true}
	add := func(id peer.ID, addrs []ma.Multiaddr) {
		if len(out) >= max || seen[id] || s.isBad(id) || len(id) > maxPexIDLen {
			return
		}
		ai := peer.AddrInfo{ID: id}
		have := map[string]bool{}
		for _, a := range addrs {
			if len(ai.Addrs) >= MaxPexAddrs {
				break
			}
			if rest, last := ma.SplitLast(a); last != nil && last.Protocol().Code == ma.P_P2P {
				a = rest
			}
			if a == nil || len(a.Bytes()) == 0 || len(a.Bytes()) > maxPexAddrLen || have[string(a.Bytes())] {
				continue
			}
			if !loop && manet.IsIPLoopback(a) {
				continue
			}
			have[string(a.Bytes())] = true
			ai.Addrs = append(ai.Addrs, a)
		}
		if len(ai.Addrs) > 0 {
			seen[id] = true
			out = append(out, ai)
		}
	}
	for _, p := range s.h.Network().Peers() {
		add(p, s.h.Peerstore().Addrs(p))
	}
	for _, e := range s.book.recent() {
		add(e.id, e.addrs)
	}
	return out
}
