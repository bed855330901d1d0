// Package swarm is a coal node's place in the peer-to-peer network: the
// go-libp2p host (TCP and QUIC, Noise, Yamux, identify, ping, AutoNAT,
// hole punching, circuit relay client, and optionally static relays and
// a relay service) whose identity is the node key, its configuration in
// the home, discovery (mDNS on the LAN, bootstrap
// peers, and peer exchange over /coal/pex/1.0.0), the peer book it
// reconnects from at start, and the bad-peer list whose members it
// refuses. Other protocols (ctp, replica) run over its Host and learn of
// connections through Notify (docs/swarm.md).
package swarm

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	yamux "github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	noise "github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
)

// pexEvery is the least time between two exchanges with one peer.
const pexEvery = 30 * time.Second

// DefaultMDNSService is the mDNS service name coal nodes advertise and
// look for: coal nodes find each other, not every libp2p node on the LAN.
const DefaultMDNSService = "_coal._udp"

// Options configures New. Only Key is required.
type Options struct {
	// Key is the node key: the host's identity (its peer id names it).
	Key ed25519.PrivateKey
	// Listen are the multiaddrs to listen on. Empty: the config's (in
	// Dir/swarm.json), or, without a Dir, 127.0.0.1 on a free TCP port.
	Listen []string
	// Bootstrap are full multiaddrs (with /p2p/ID) dialed at start and
	// whenever the node has no peers, besides the config's.
	Bootstrap []string
	// MDNS turns mDNS discovery on (unless the config's no_mdns is set).
	MDNS bool
	// MDNSService is the mDNS service name; "" is DefaultMDNSService.
	// Tests give each run its own, so that other runs can't join.
	MDNSService string
	// Dir is the home: swarm.json (the config) and peers.json (the peer
	// book and bad peers) live there. "": no config, nothing persisted.
	Dir string
	// Logger receives the swarm's logs; nil discards them.
	Logger *slog.Logger
	// PexDial is how many peers learned in one exchange are dialed; 0 is
	// 8, negative none.
	PexDial int
	// Maintain is the interval at which the swarm redials its book and
	// bootstrap peers when it has fewer than LowPeers, and exchanges
	// peers with one connected peer; 0 is one minute.
	Maintain time.Duration
	// LowPeers and HighPeers are the connection manager's watermarks; 0
	// is 32 and 96.
	LowPeers, HighPeers int
	// Relays are full multiaddrs (with /p2p/ID) of circuit relays: the
	// node reserves a slot on them while it is not publicly reachable
	// and advertises its /p2p-circuit addresses through them. Added to
	// the config's.
	Relays []string
	// RelayService makes the node a circuit relay v2 for others (as does
	// the config's relay_service).
	RelayService bool
	// RelayLimit and RelayPeers are the relay service's limit and the
	// peers that may reserve on it (Config's fields; these win if set).
	RelayLimit *RelayLimit
	RelayPeers []peer.ID
	// Reachability overrides AutoNAT: ReachPrivate or ReachPublic; ""
	// is the config's, and ReachAuto lets AutoNAT decide.
	Reachability string
	// Limited are the protocols whose streams, opened through Host, may
	// run over a limited (relayed) connection; besides them only pex,
	// identify, ping and libp2p's own do (docs/swarm.md).
	Limited []protocol.ID

	// punchLocal runs hole punching with every address, loopback and
	// private ones too (libp2p's punches only with public ones, which a
	// test on one machine has none of). Tests only.
	punchLocal bool
}

// PeerInfo describes a known, connected or bad peer.
type PeerInfo struct {
	ID peer.ID
	// Key is the peer's ed25519 node key (nil if its id holds none).
	Key ed25519.PublicKey
	// Addrs are its addresses: the connections' remote addresses while
	// connected, then those it listens on as far as we know.
	Addrs     []ma.Multiaddr
	Connected bool
	// Source says how we first learned of it: "dial", "inbound", "mdns",
	// "pex", "bootstrap".
	Source   string
	LastSeen time.Time
	// Latency is ping's moving average (0 if unknown).
	Latency time.Duration
	// Bad is why the peer was punished ("" if it was not).
	Bad      string
	BadSince time.Time
}

// Swarm is a running libp2p host with coal's discovery and peer book.
// It is safe for concurrent use. Close it when done.
type Swarm struct {
	opts Options
	log  *slog.Logger
	h    host.Host
	host limitedHost // h as the protocols get it
	book *book
	cm   *connmgr.BasicConnMgr
	mdns mdns.Service

	bootstrap    []peer.AddrInfo
	relays       []peer.AddrInfo // static relays
	relayService bool
	relayLimit   *RelayLimit
	relayPeers   map[peer.ID]bool // nil: any peer
	reach        string
	reachNow     atomic.Int32       // a network.Reachability, as AutoNAT (or the config) says
	relaySvc     *relayv2.Relay     // nil unless relayService
	punch        *holepunch.Service // nil unless opts.punchLocal

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	conns   map[peer.ID]map[network.Conn]bool // open connections per peer
	sources map[peer.ID]string                // how a dial started, for the book
	lastPex map[peer.ID]time.Time
	notify  []notifier
	seq     uint64      // events queued so far
	events  []connEvent // queued for the event loop
	wake    chan struct{}
	closed  bool
}

type connEvent struct {
	id        peer.ID
	connected bool
	seq       uint64    // its place in the queue
	only      *notifier // a replay for one new callback; nil: for all
}

// notifier is a Notify callback and the first event it is due.
type notifier struct {
	f    func(peer.ID, bool)
	from uint64
}

// queue adds an event under s.mu.
func (s *Swarm) queue(ev connEvent) {
	s.seq++
	ev.seq = s.seq
	s.events = append(s.events, ev)
}

// New starts a host as opts says: listening, with its protocols, mDNS if
// on, and dialing the book's and bootstrap peers in the background.
func New(ctx context.Context, opts Options) (*Swarm, error) {
	op := errs.Op("swarm.New")
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key, err := relay.HostKey(opts.Key)
	if err != nil {
		return nil, errs.E(op, err)
	}
	listen := opts.Listen
	bootstrap := slices.Clone(opts.Bootstrap)
	relays := slices.Clone(opts.Relays)
	relayService := opts.RelayService
	relayLimit, relayPeers := opts.RelayLimit, slices.Clone(opts.RelayPeers)
	reach := opts.Reachability
	mdnsOn := opts.MDNS
	if opts.Dir != "" {
		cfg, err := LoadConfig(opts.Dir)
		if err != nil {
			return nil, errs.E(op, err)
		}
		if len(listen) == 0 {
			listen = cfg.Listen
		}
		bootstrap = append(bootstrap, cfg.Bootstrap...)
		relays = append(relays, cfg.Relays...)
		relayService = relayService || cfg.RelayService
		if relayLimit == nil {
			relayLimit = cfg.RelayLimit
		}
		if len(relayPeers) == 0 {
			for _, p := range cfg.RelayPeers {
				id, _ := peer.Decode(p) // checked by LoadConfig
				relayPeers = append(relayPeers, id)
			}
		}
		if reach == "" {
			reach = cfg.Reachability
		}
		if cfg.NoMDNS {
			mdnsOn = false
		}
	}
	if len(listen) == 0 {
		listen = []string{"/ip4/127.0.0.1/tcp/0"}
	}
	var boot []peer.AddrInfo
	for _, a := range bootstrap {
		ai, err := parsePeerAddr(a)
		if err != nil {
			return nil, errs.E(op, fmt.Errorf("bootstrap: %w", err))
		}
		boot = append(boot, ai)
	}
	if !validReach(reach) {
		return nil, errs.E(op, errs.Invalid, fmt.Sprintf("reachability %q is none of auto, private, public", reach))
	}
	if err := relayLimit.check(); err != nil {
		return nil, errs.E(op, errs.Invalid, err)
	}
	var static []peer.AddrInfo
	for _, a := range relays {
		ai, err := parsePeerAddr(a)
		if err != nil {
			return nil, errs.E(op, fmt.Errorf("relay: %w", err))
		}
		if i := slices.IndexFunc(static, func(x peer.AddrInfo) bool { return x.ID == ai.ID }); i >= 0 {
			static[i].Addrs = append(static[i].Addrs, ai.Addrs...)
			continue
		}
		static = append(static, ai)
	}
	for _, a := range listen {
		if _, err := ma.NewMultiaddr(a); err != nil {
			return nil, errs.E(op, errs.Invalid, fmt.Errorf("listen address %q: %v", a, err))
		}
	}
	if err := portsFree(listen); err != nil {
		return nil, errs.E(op, err)
	}
	if opts.PexDial == 0 {
		opts.PexDial = 8
	}
	if opts.Maintain <= 0 {
		opts.Maintain = time.Minute
	}
	if opts.LowPeers <= 0 {
		opts.LowPeers = 32
	}
	if opts.HighPeers <= opts.LowPeers {
		opts.HighPeers = max(96, opts.LowPeers*2)
	}
	if opts.MDNSService == "" {
		opts.MDNSService = DefaultMDNSService
	}
	bk, err := openBook(opts.Dir)
	if err != nil {
		return nil, errs.E(op, err)
	}
	cm, err := connmgr.NewConnManager(opts.LowPeers, opts.HighPeers)
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	s := &Swarm{
		opts:      opts,
		log:       log,
		book:      bk,
		cm:        cm,
		bootstrap: boot,
		relays:    static,
		reach:     reach,

		relayService: relayService,
		relayLimit:   relayLimit,
		conns:        map[peer.ID]map[network.Conn]bool{},
		sources:      map[peer.ID]string{},
		lastPex:      map[peer.ID]time.Time{},
		wake:         make(chan struct{}, 1),
	}
	if len(relayPeers) > 0 {
		s.relayPeers = map[peer.ID]bool{}
		for _, p := range relayPeers {
			s.relayPeers[p] = true
		}
	}
	lopts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		// TLS 1.3 first (AES-GCM where the CPU has AES instructions:
		// 2-3x cheaper per byte than Noise's ChaCha20-Poly1305 here),
		// then Noise for peers that speak only Noise (docs/swarm.md §1).
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.Ping(true),
		libp2p.EnableRelay(),
		libp2p.EnableNATService(),
		libp2p.EnableAutoNATv2(),
		libp2p.ConnectionGater(gater{s}),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent("coal"),
		libp2p.DisableMetrics(),
	}
	h, err := libp2p.New(append(lopts, s.relayOptions()...)...)
	if err != nil {
		cm.Close()
		return nil, errs.E(op, errs.Unavailable, fmt.Errorf("start the libp2p host listening on %v: %w", listen, err))
	}
	s.h = h
	s.host = limitedHost{Host: h, limited: limitedSet(opts.Limited)}
	if err := s.startRelaying(); err != nil {
		h.Close()
		cm.Close()
		return nil, errs.E(op, err)
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))

	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		s.stopRelaying()
		h.Close()
		return nil, errs.E(op, errs.Internal, err)
	}
	// The emitter is stateful: the subscription starts with the current
	// reachability (a forced one was emitted in libp2p.New).
	rsub, err := h.EventBus().Subscribe(new(event.EvtLocalReachabilityChanged))
	if err != nil {
		sub.Close()
		s.stopRelaying()
		h.Close()
		return nil, errs.E(op, errs.Internal, err)
	}
	psub, err := h.EventBus().Subscribe(new(event.EvtLocalProtocolsUpdated))
	if err != nil {
		rsub.Close()
		sub.Close()
		s.stopRelaying()
		h.Close()
		return nil, errs.E(op, errs.Internal, err)
	}
	h.Network().Notify(&network.NotifyBundle{
		ConnectedF:    func(_ network.Network, c network.Conn) { s.connChanged(c, +1) },
		DisconnectedF: func(_ network.Network, c network.Conn) { s.connChanged(c, -1) },
	})
	// A peer that knew our address may have connected before the line
	// above; count it (a connection seen twice counts once).
	for _, c := range h.Network().Conns() {
		if !c.IsClosed() {
			s.connChanged(c, +1)
		}
	}
	h.SetStreamHandler(protocol.ID(relay.PEX), s.handlePex)

	s.wg.Add(5)
	go s.eventLoop()
	go s.consume(sub, s.identified)
	go s.maintain()
	go s.consume(rsub, s.reachChanged)
	go s.consume(psub, s.protocolsChanged)

	if mdnsOn {
		m := mdns.NewMdnsService(h, opts.MDNSService, mdnsNotifee{s})
		if err := m.Start(); err != nil {
			// No multicast here (a container, no interface up): the node
			// still works with bootstrap peers and pex.
			s.log.Warn("mDNS discovery is off: it did not start", "err", err)
		} else {
			s.mdns = m
		}
	}
	s.log.Info("swarm listening", "peer", h.ID(), "addrs", s.Addrs(), "mdns", s.mdns != nil,
		"relays", len(s.relays), "relay_service", s.relayService, "reachability", cmp.Or(s.reach, ReachAuto))
	s.redial()
	return s, nil
}

// Host returns the libp2p host, for the protocols that run over it. Its
// NewStream opens streams of the Options.Limited protocols (and pex) over
// relayed connections too; others wait for a direct one.
func (s *Swarm) Host() host.Host { return s.host }

// ID returns the host's peer id.
func (s *Swarm) ID() peer.ID { return s.h.ID() }

// Addrs returns the host's full multiaddrs, each ending in /p2p/ID: what
// another node passes to Connect (coal peer add). Addresses on every
// interface are expanded to each interface's. They include the relay
// addresses (RELAY-ADDR/p2p/RELAY/p2p-circuit/p2p/ID) of the relays the
// node holds a reservation on, and, for a node configured private, its
// direct addresses too (which it does not advertise to peers).
func (s *Swarm) Addrs() []string {
	suffix := "/p2p/" + s.h.ID().String()
	addrs := s.h.Addrs()
	if s.reach == ReachPrivate {
		addrs = append(addrs, s.directAddrs()...)
	}
	addrs = append(addrs, s.circuitAddrs()...)
	var out []string
	for _, a := range addrs {
		out = append(out, a.String()+suffix)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Notify registers f to be called with each peer as it becomes connected
// (its first connection opens) and disconnected (its last one closes),
// first with every peer connected when Notify is called: f sees each
// peer's events from its connection on, none twice. Calls are made one at
// a time, in order, from the swarm's event goroutine: f must not block
// for long (start a goroutine for long work).
func (s *Swarm) Notify(f func(p peer.ID, connected bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := &notifier{f: f, from: s.seq + 1}
	s.notify = append(s.notify, *n)
	for p := range s.conns {
		s.queue(connEvent{id: p, connected: true, only: n})
	}
	s.wakeUp()
}

// Connect dials a full multiaddr (with /p2p/ID) and returns the peer's id
// once connected. A bad peer or our own address is refused.
func (s *Swarm) Connect(ctx context.Context, addr string) (peer.ID, error) {
	op := errs.Op("swarm.Connect")
	ai, err := parsePeerAddr(addr)
	if err != nil {
		return "", errs.E(op, err)
	}
	if ai.ID == s.h.ID() {
		return "", errs.E(op, errs.Invalid, fmt.Sprintf("%s is this node's own address", addr))
	}
	if why, ok := s.book.badReason(ai.ID); ok {
		return "", errs.E(op, errs.Permission, fmt.Sprintf("peer %s is on the bad-peer list (%s)", ai.ID, why.reason))
	}
	s.setSource(ai.ID, "dial")
	// A relayed connection counts: through a relay is how a node that is
	// not reachable directly is reached.
	if err := s.h.Connect(network.WithAllowLimitedConn(ctx, "coal connect"), ai); err != nil {
		kind := errs.Unavailable
		if ctx.Err() != nil {
			kind = errs.Canceled
		}
		return "", errs.E(op, kind, fmt.Errorf("connect to %s: %w", addr, err))
	}
	s.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.RecentlyConnectedAddrTTL)
	return ai.ID, nil
}

// Disconnect closes every connection to p. It may connect again (or be
// dialed by discovery); Forget it too to drop it from the book.
func (s *Swarm) Disconnect(p peer.ID) {
	s.h.Network().ClosePeer(p)
}

// Forget drops p from the peer book and the peerstore's addresses, so
// the node does not redial it. It reports whether the book held p.
func (s *Swarm) Forget(p peer.ID) bool {
	s.h.Peerstore().ClearAddrs(p)
	return s.book.forget(p)
}

// Punish puts p on the bad-peer list with err as the reason, closes its
// connections and refuses every later connection from or to it (the
// list is kept in the home). Protocols call it (their OnInvalid) when a
// peer sends invalid data.
func (s *Swarm) Punish(p peer.ID, err error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if p == "" || p == s.h.ID() || closed {
		// After Close the home may be closed too: a protocol handler
		// still winding down must not write to it.
		return
	}
	reason := "punished"
	if err != nil {
		reason = err.Error()
	}
	if len(reason) > 500 {
		reason = reason[:500] + "…"
	}
	s.log.Warn("bad peer: disconnected and refused from now on", "peer", p, "reason", reason)
	s.book.punish(p, reason, time.Now())
	s.h.Peerstore().ClearAddrs(p)
	s.h.Network().ClosePeer(p)
}

// Forgive takes p off the bad-peer list. It reports whether p was on it.
func (s *Swarm) Forgive(p peer.ID) bool { return s.book.forgive(p) }

// IsBad reports whether p is on the bad-peer list.
func (s *Swarm) IsBad(p peer.ID) bool { return s.book.isBad(p) }

func (s *Swarm) isBad(p peer.ID) bool { return s.book.isBad(p) }

// Connected returns the peers with an open connection.
func (s *Swarm) Connected() []peer.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]peer.ID, 0, len(s.conns))
	for p := range s.conns {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Peers returns the connected peers, then the book's and the bad ones,
// each once, sorted by id within each group.
func (s *Swarm) Peers() []PeerInfo {
	var out []PeerInfo
	seen := map[peer.ID]bool{}
	book := map[peer.ID]known{}
	for _, k := range s.book.recent() {
		book[k.id] = k
	}
	info := func(p peer.ID) PeerInfo {
		pi := PeerInfo{ID: p, Latency: s.h.Peerstore().LatencyEWMA(p)}
		pi.Key, _ = relay.PeerKey(p)
		if k, ok := book[p]; ok {
			pi.Source, pi.LastSeen, pi.Addrs = k.source, k.lastSeen, k.addrs
		}
		return pi
	}
	for _, p := range s.Connected() {
		pi := info(p)
		pi.Connected = true
		pi.Addrs = nil
		for _, c := range s.h.Network().ConnsToPeer(p) {
			pi.Addrs = append(pi.Addrs, c.RemoteMultiaddr())
		}
		if pi.Source == "" {
			pi.Source = s.source(p)
		}
		out = append(out, pi)
		seen[p] = true
	}
	var rest []PeerInfo
	for p := range book {
		if !seen[p] {
			rest = append(rest, info(p))
			seen[p] = true
		}
	}
	for p, b := range s.book.badPeers() {
		if !seen[p] {
			pi := info(p)
			pi.Bad, pi.BadSince = b.reason, b.since
			rest = append(rest, pi)
		}
	}
	slices.SortFunc(rest, func(a, b PeerInfo) int {
		if (a.Bad == "") != (b.Bad == "") {
			if a.Bad == "" {
				return -1
			}
			return 1
		}
		return cmp.Compare(string(a.ID), string(b.ID))
	})
	return append(out, rest...)
}

// Close stops discovery, closes the host (and every connection) and
// writes the peer book.
func (s *Swarm) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.mdns != nil {
		s.mdns.Close()
	}
	s.cancel()
	s.stopRelaying()
	err := s.h.Close()
	s.cm.Close()
	s.wakeUp()
	s.wg.Wait()
	if berr := s.book.save(); err == nil {
		err = berr
	}
	return err
}

func (s *Swarm) setSource(p peer.ID, src string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sources[p]; !ok {
		s.sources[p] = src
	}
}

func (s *Swarm) source(p peer.ID) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sources[p]
}

// connChanged records that c opened (delta > 0) or closed and queues an
// event when p's first connection opens or its last closes. A connection
// seen twice counts once. It runs in libp2p's notifier: it must not block.
func (s *Swarm) connChanged(c network.Conn, delta int) {
	p := c.RemotePeer()
	s.mu.Lock()
	cs := s.conns[p]
	had := len(cs)
	if delta > 0 {
		if cs == nil {
			cs = map[network.Conn]bool{}
			s.conns[p] = cs
		}
		cs[c] = true
	} else {
		delete(cs, c)
		if len(cs) == 0 {
			delete(s.conns, p)
		}
	}
	switch n := len(s.conns[p]); {
	case had == 0 && n > 0:
		if _, ok := s.sources[p]; !ok {
			s.sources[p] = "dial"
			if c.Stat().Direction == network.DirInbound {
				s.sources[p] = "inbound"
			}
		}
		s.queue(connEvent{id: p, connected: true})
	case had > 0 && n == 0:
		s.queue(connEvent{id: p, connected: false})
	}
	s.mu.Unlock()
	s.wakeUp()
}

func (s *Swarm) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// eventLoop delivers connection events to the Notify callbacks, in order.
func (s *Swarm) eventLoop() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		evs := s.events
		s.events = nil
		fs := slices.Clone(s.notify)
		s.mu.Unlock()
		for _, ev := range evs {
			if ev.only != nil {
				ev.only.f(ev.id, ev.connected)
				continue
			}
			if ev.connected {
				s.log.Debug("peer connected", "peer", ev.id, "source", s.source(ev.id))
			} else {
				s.log.Debug("peer disconnected", "peer", ev.id)
				s.mu.Lock()
				if len(s.conns[ev.id]) == 0 {
					delete(s.sources, ev.id)
				}
				s.mu.Unlock()
			}
			for _, n := range fs {
				if ev.seq >= n.from {
					n.f(ev.id, ev.connected)
				}
			}
		}
		if len(evs) > 0 {
			continue
		}
		select {
		case <-s.wake:
		case <-s.ctx.Done():
			return
		}
	}
}

// consume calls fn with each event of sub, one at a time, until the
// swarm closes.
func (s *Swarm) consume(sub event.Subscription, fn func(any)) {
	defer s.wg.Done()
	defer sub.Close()
	for {
		select {
		case <-s.ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			fn(e)
		}
	}
}

// identified records each peer's listen addresses in the book once
// identify has them, and exchanges peers with it if it speaks pex.
func (s *Swarm) identified(e any) {
	ev := e.(event.EvtPeerIdentificationCompleted)
	p := ev.Peer
	if !connectedOrLimited(s.h.Network().Connectedness(p)) || s.isBad(p) {
		return
	}
	addrs := ev.ListenAddrs
	if len(addrs) == 0 {
		for _, c := range s.h.Network().ConnsToPeer(p) {
			if c.Stat().Direction == network.DirOutbound {
				addrs = append(addrs, c.RemoteMultiaddr())
			}
		}
	}
	s.book.seen(p, addrs, s.source(p), time.Now())
	if slices.Contains(ev.Protocols, protocol.ID(relay.PEX)) {
		s.goPex(p)
	}
}

// goPex exchanges peers with p in the background, at most once per
// pexEvery with each peer.
func (s *Swarm) goPex(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.closed || now.Sub(s.lastPex[p]) < pexEvery {
		return
	}
	s.lastPex[p] = now
	if len(s.lastPex) > 4*maxBook {
		for q, t := range s.lastPex {
			if now.Sub(t) >= pexEvery {
				delete(s.lastPex, q)
			}
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.exchange(p)
	}()
}

// dialAsync connects to ai in the background.
func (s *Swarm) dialAsync(ai peer.AddrInfo, source string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if _, ok := s.sources[ai.ID]; !ok {
		s.sources[ai.ID] = source
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		defer cancel()
		if err := s.h.Connect(ctx, ai); err != nil {
			s.log.Debug("dial failed", "peer", ai.ID, "source", source, "err", err)
			s.mu.Lock()
			if len(s.conns[ai.ID]) == 0 {
				delete(s.sources, ai.ID)
			}
			s.mu.Unlock()
		}
	}()
}

// redial dials the bootstrap peers and the book's most recent peers that
// are not connected, up to LowPeers in all.
func (s *Swarm) redial() {
	n := len(s.Connected())
	for _, ai := range s.bootstrap {
		if n >= s.opts.LowPeers {
			return
		}
		if ai.ID == s.h.ID() || s.isBad(ai.ID) || connectedOrLimited(s.h.Network().Connectedness(ai.ID)) {
			continue
		}
		s.dialAsync(ai, "bootstrap")
		n++
	}
	for _, k := range s.book.recent() {
		if n >= s.opts.LowPeers {
			return
		}
		if k.id == s.h.ID() || len(k.addrs) == 0 || connectedOrLimited(s.h.Network().Connectedness(k.id)) {
			continue
		}
		s.dialAsync(peer.AddrInfo{ID: k.id, Addrs: k.addrs}, k.source)
		n++
	}
}

// maintain redials when the node has few peers and exchanges peers with
// a random connected one, every Options.Maintain.
func (s *Swarm) maintain() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.Maintain)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.redial()
		if ps := s.Connected(); len(ps) > 0 {
			s.goPex(ps[rand.IntN(len(ps))])
		}
	}
}

// parsePeerAddr parses a full multiaddr, which must end in /p2p/ID.
func parsePeerAddr(s string) (peer.AddrInfo, error) {
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		return peer.AddrInfo{}, errs.E(errs.Invalid, fmt.Errorf("bad multiaddr %q: %v", s, err))
	}
	ai, err := peer.AddrInfoFromP2pAddr(a)
	if err != nil {
		return peer.AddrInfo{}, errs.E(errs.Invalid, fmt.Sprintf("multiaddr %q does not end in /p2p/PEER-ID: the peer's id is needed (coal id, on that node, prints its full addresses)", s))
	}
	return *ai, nil
}

// gater refuses connections to and from bad peers.
type gater struct{ s *Swarm }

func (g gater) InterceptPeerDial(p peer.ID) bool { return !g.s.book.isBad(p) }

func (g gater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return !g.s.book.isBad(p) }

func (g gater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (g gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !g.s.book.isBad(p)
}

func (g gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// mdnsNotifee dials the peers mDNS finds.
type mdnsNotifee struct{ s *Swarm }

func (n mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	s := n.s
	if ai.ID == s.h.ID() || s.isBad(ai.ID) || connectedOrLimited(s.h.Network().Connectedness(ai.ID)) {
		return
	}
	s.log.Debug("mDNS found a peer", "peer", ai.ID)
	s.dialAsync(ai, "mdns")
}
