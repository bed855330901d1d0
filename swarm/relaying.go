package swarm

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
)

// autorelayTag is the connection manager tag AutoRelay protects a relay's
// connections with while it holds a reservation there (go-libp2p
// p2p/host/autorelay/relay_finder.go: Protect after a reservation,
// Unprotect when a refresh fails).
const autorelayTag = "autorelay"

// The AutoRelay timings: how soon a relay that refused or failed a
// reservation is asked again (libp2p's default is an hour: too long for a
// handful of configured relays), and the least time between two rounds of
// looking for relays to reserve on (default 30 s).
const (
	relayBackoff     = time.Minute
	relayMinInterval = 10 * time.Second
)

// relayResources are the limits of the relay service: go-libp2p's
// defaults, written out here because docs/swarm.md promises them, with
// the connection limit l if not nil (both zero: none).
func relayResources(l *RelayLimit) relayv2.Resources {
	r := relayv2.DefaultResources()
	r.Limit = &relayv2.RelayLimit{Duration: 2 * time.Minute, Data: 128 << 10}
	switch {
	case l == nil:
	case l.Seconds == 0 && l.Bytes == 0:
		r.Limit = nil
	default:
		r.Limit = &relayv2.RelayLimit{Duration: time.Duration(l.Seconds) * time.Second, Data: l.Bytes}
	}
	r.ReservationTTL = time.Hour
	r.MaxReservations = 128
	r.MaxCircuits = 16
	r.BufferSize = 2048
	r.MaxReservationsPerIP = 8
	r.MaxReservationsPerASN = 32
	return r
}

// relayOptions returns the libp2p options for the static relays, the
// reachability and hole punching.
func (s *Swarm) relayOptions() []libp2p.Option {
	var opts []libp2p.Option
	if len(s.relays) > 0 {
		opts = append(opts, libp2p.EnableAutoRelayWithStaticRelays(slices.Clone(s.relays),
			autorelay.WithBackoff(relayBackoff), autorelay.WithMinInterval(relayMinInterval)))
	}
	switch s.reach {
	case ReachPrivate:
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	case ReachPublic:
		opts = append(opts, libp2p.ForceReachabilityPublic())
	}
	if !s.opts.punchLocal {
		opts = append(opts, libp2p.EnableHolePunching())
	}
	opts = append(opts, libp2p.AddrsFactory(s.advertise))
	return opts
}

// startRelaying starts what needs the host: the relay service, and the
// hole punching service that also punches with non-public addresses
// (Options.punchLocal, tests only).
func (s *Swarm) startRelaying() error {
	if s.relayService {
		r, err := relayv2.New(s.h, relayv2.WithResources(relayResources(s.relayLimit)), relayv2.WithACL(relayACL{s}))
		if err != nil {
			return errs.E(errs.Internal, fmt.Errorf("start the relay service: %w", err))
		}
		s.relaySvc = r
	}
	if s.opts.punchLocal {
		idh, ok := s.h.(interface{ IDService() identify.IDService })
		if !ok {
			return errs.E(errs.Internal, "hole punching: the host has no identify service")
		}
		hps, err := holepunch.NewService(s.h, idh.IDService(), s.directAddrs)
		if err != nil {
			return errs.E(errs.Internal, fmt.Errorf("start hole punching: %w", err))
		}
		s.punch = hps
	}
	return nil
}

// stopRelaying stops the services startRelaying started.
func (s *Swarm) stopRelaying() {
	if s.punch != nil {
		s.punch.Close()
	}
	if s.relaySvc != nil {
		s.relaySvc.Close()
	}
}

// directAddrs are the addresses the host listens on, without relay
// addresses (hole punching tells them to the peer).
func (s *Swarm) directAddrs() []ma.Multiaddr {
	all, ok := s.h.(interface{ AllAddrs() []ma.Multiaddr })
	if !ok {
		return slices.DeleteFunc(s.h.Addrs(), isCircuit)
	}
	return slices.DeleteFunc(all.AllAddrs(), isCircuit)
}

// Relays returns the configured relays this node holds a reservation on.
func (s *Swarm) Relays() []peer.ID {
	var out []peer.ID
	for _, r := range s.relays {
		if s.reserved(r.ID) {
			out = append(out, r.ID)
		}
	}
	return out
}

// reserved reports whether AutoRelay holds a reservation on relay r: it
// protects r's connection while it does, and a reservation lasts only as
// long as a connection to r.
func (s *Swarm) reserved(r peer.ID) bool {
	if !s.cm.IsProtected(r, autorelayTag) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns[r] {
		if !c.Stat().Limited {
			return true
		}
	}
	return false
}

// Reachability returns whether the node is reachable directly from
// outside, as AutoNAT (or the config's reachability) last said: unknown
// until it says.
func (s *Swarm) Reachability() network.Reachability {
	return network.Reachability(s.reachNow.Load())
}

// reachChanged follows the node's reachability.
func (s *Swarm) reachChanged(e any) {
	r := e.(event.EvtLocalReachabilityChanged).Reachability
	if old := network.Reachability(s.reachNow.Swap(int32(r))); old != r {
		s.log.Info("reachability", "now", r.String(), "was", old.String())
	}
}

// protocolsChanged redials, once this node serves DCUtR, the peers it
// reached only through a relay before it did (repunch).
func (s *Swarm) protocolsChanged(e any) {
	if slices.Contains(e.(event.EvtLocalProtocolsUpdated).Added, holepunch.Protocol) {
		s.repunch()
	}
}

// repunch gives hole punching a second chance with the peers this node
// dialed through a relay before it served DCUtR. The peer on the other end
// of a relayed connection starts hole punching when the connection
// opens, by asking the dialer, and does not ask again: go-libp2p's hole
// punching service answers only once the node knows a public address of
// its own, which a node that has just started may not yet. So for each
// peer whose connections are all relayed and one of them outbound, it
// closes them and dials the peer's relay addresses again; the peer then
// asks anew, and the two open a direct connection if their NATs allow.
func (s *Swarm) repunch() {
	for _, p := range s.h.Network().Peers() {
		conns := s.h.Network().ConnsToPeer(p)
		outbound := false
		for _, c := range conns {
			if !isCircuit(c.RemoteMultiaddr()) {
				outbound = false
				break
			}
			outbound = outbound || c.Stat().Direction == network.DirOutbound
		}
		if !outbound {
			continue
		}
		addrs := slices.DeleteFunc(slices.Clone(s.h.Peerstore().Addrs(p)), func(a ma.Multiaddr) bool { return !isCircuit(a) })
		if len(addrs) == 0 {
			continue
		}
		s.log.Debug("redialing a relayed peer for hole punching", "peer", p)
		for _, c := range conns {
			c.Close()
		}
		s.dialAsync(peer.AddrInfo{ID: p, Addrs: addrs}, s.source(p))
	}
}

// circuitAddrs are this node's relay addresses, without /p2p/ID: each
// configured address of each relay it holds a reservation on, followed by
// /p2p/RELAY/p2p-circuit. AutoRelay makes such addresses itself only from
// the relay's public addresses; the configured ones are what the user
// said reaches the relay, public or not (on a LAN, on loopback in tests).
// A node found public has none: AutoRelay stops then (without dropping
// the reservations it holds), and peers should dial it directly.
func (s *Swarm) circuitAddrs() []ma.Multiaddr {
	if s.Reachability() == network.ReachabilityPublic {
		return nil
	}
	var out []ma.Multiaddr
	for _, r := range s.relays {
		if !s.reserved(r.ID) {
			continue
		}
		circuit, err := ma.NewMultiaddr("/p2p/" + r.ID.String() + "/p2p-circuit")
		if err != nil {
			continue
		}
		for _, a := range r.Addrs {
			out = append(out, a.Encapsulate(circuit))
		}
	}
	return out
}

// advertise is the host's AddrsFactory: what identify, mDNS and the
// peerstore's own record say this node's addresses are. It adds the relay
// addresses; a node configured private keeps only them (its direct
// addresses are not reachable from outside, by its own account).
func (s *Swarm) advertise(addrs []ma.Multiaddr) []ma.Multiaddr {
	out := slices.Clone(addrs)
	if s.reach == ReachPrivate {
		out = slices.DeleteFunc(out, func(a ma.Multiaddr) bool { return !isCircuit(a) })
	}
	return append(out, s.circuitAddrs()...)
}

// isCircuit reports whether a is a relay address (has /p2p-circuit).
func isCircuit(a ma.Multiaddr) bool {
	for _, c := range a {
		if c.Protocol().Code == ma.P_CIRCUIT {
			return true
		}
	}
	return false
}

// relayACL lets only Options.RelayPeers (if any) reserve a slot, and
// relays no circuit from or to a bad peer (the gater refuses a bad
// peer's own connection already; this covers a reservation made before
// the peer was punished).
type relayACL struct{ s *Swarm }

func (a relayACL) AllowReserve(p peer.ID, _ ma.Multiaddr) bool {
	return (a.s.relayPeers == nil || a.s.relayPeers[p]) && !a.s.isBad(p)
}

func (a relayACL) AllowConnect(src peer.ID, _ ma.Multiaddr, dest peer.ID) bool {
	return !a.s.isBad(src) && !a.s.isBad(dest)
}

// limitedHost is the host the protocols get (Swarm.Host): it opens
// streams of the protocols allowed over limited connections (relayed
// ones, which a relay cuts after a time and an amount of data) with
// network.WithAllowLimitedConn, so that they run over a relayed
// connection; any other protocol's stream waits for a direct connection
// (hole punching), as libp2p does by default.
type limitedHost struct {
	host.Host
	limited map[protocol.ID]bool
}

// NewStream opens a stream as the host does, over a limited connection
// too if every protocol in pids may run over one.
func (h limitedHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	if len(pids) > 0 && !slices.ContainsFunc(pids, func(id protocol.ID) bool { return !h.limited[id] }) {
		ctx = network.WithAllowLimitedConn(ctx, "coal: "+string(pids[0]))
	}
	return h.Host.NewStream(ctx, p, pids...)
}

// limitedSet is the set of protocols allowed over limited connections:
// pex always (one small message each way), and opts.Limited.
func limitedSet(extra []protocol.ID) map[protocol.ID]bool {
	m := map[protocol.ID]bool{protocol.ID(relay.PEX): true}
	for _, p := range extra {
		m[p] = true
	}
	return m
}

// LimitedProtocols returns the protocols whose streams open over limited
// (relayed) connections, sorted.
func (s *Swarm) LimitedProtocols() []protocol.ID {
	var out []protocol.ID
	for p := range s.host.limited {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// connectedOrLimited reports whether p has a connection, direct or relayed.
func connectedOrLimited(c network.Connectedness) bool {
	return c == network.Connected || c == network.Limited
}
