package swarm

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/autonatv2"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/coalescent/coal/errs"
)

// relayed3 starts R (a relay service) and A and B, private, each knowing
// only R as its static relay and dialing no peer pex tells of (so that
// nothing but the test connects A and B). It waits until A holds a
// reservation on R and advertises its relay address.
func relayed3(t *testing.T, edit func(*Options)) (r, a, b *node) {
	t.Helper()
	r = start(t, nil, "", func(o *Options) { o.RelayService = true })
	private := func(o *Options) {
		o.Relays = []string{r.addr(t)}
		o.Reachability = ReachPrivate
		o.PexDial = -1
		if edit != nil {
			edit(o)
		}
	}
	a = start(t, nil, "", private)
	b = start(t, nil, "", private)
	a.until(t, "A holds a reservation on R", func() bool { return slices.Contains(a.Relays(), r.ID()) })
	return r, a, b
}

// circuitAddr returns n's TCP relay address.
func (n *node) circuitAddr(t *testing.T) string {
	t.Helper()
	for _, a := range n.Addrs() {
		if strings.Contains(a, "/p2p-circuit/p2p/"+n.ID().String()) && strings.Contains(a, "/tcp/") {
			return a
		}
	}
	t.Fatalf("no relay address in %v", n.Addrs())
	return ""
}

// conns says which kinds of connection n has to p.
func (n *node) conns(p peer.ID) (relayed, direct int) {
	for _, c := range n.Host().Network().ConnsToPeer(p) {
		if isCircuit(c.RemoteMultiaddr()) {
			relayed++
		} else {
			direct++
		}
	}
	return relayed, direct
}

// echo serves proto on n: it copies the stream back.
func (n *node) echo(proto protocol.ID) {
	n.Host().SetStreamHandler(proto, func(s network.Stream) {
		defer s.Close()
		io.Copy(s, s)
	})
}

func roundTrip(ctx context.Context, n *node, p peer.ID, proto protocol.ID) error {
	s, err := n.Host().NewStream(ctx, p, proto)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Write([]byte("ping")); err != nil {
		return err
	}
	if err := s.CloseWrite(); err != nil {
		return err
	}
	b, err := io.ReadAll(s)
	if err != nil {
		return err
	}
	if string(b) != "ping" {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// TestRelayCircuit: A, private, reserves a slot on R (a static relay) and
// advertises R-ADDR/p2p/R/p2p-circuit/p2p/A; B, which knows only R, dials
// A through it. The connection is relayed and limited: the protocols
// allowed over limited connections run on it, others wait for a direct
// connection, and identify tells B only A's relay addresses.
func TestRelayCircuit(t *testing.T) {
	const allowed, other = protocol.ID("/coal/test-limited/1.0.0"), protocol.ID("/coal/test-direct/1.0.0")
	r, a, b := relayed3(t, func(o *Options) { o.Limited = []protocol.ID{allowed} })
	if got := r.Relays(); len(got) != 0 {
		t.Errorf("R (no static relays) holds reservations on %v", got)
	}
	if got := a.Reachability(); got != network.ReachabilityPrivate {
		t.Errorf("A's reachability %v, want private (forced)", got)
	}
	if got := r.Reachability(); got != network.ReachabilityUnknown {
		t.Errorf("R's reachability %v, want unknown (AutoNAT cannot tell on loopback)", got)
	}
	circ := a.circuitAddr(t)
	if want := r.addr(t)[:strings.LastIndex(r.addr(t), "/p2p/")] + "/p2p/" + r.ID().String() + "/p2p-circuit/p2p/" + a.ID().String(); circ != want {
		t.Fatalf("A's relay address %s, want %s", circ, want)
	}
	a.echo(allowed)
	a.echo(other)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	id, err := b.Connect(ctx, circ)
	if err != nil {
		t.Fatal(err)
	}
	if id != a.ID() {
		t.Fatalf("Connect returned %s, want %s", id, a.ID())
	}
	a.until(t, "A sees B", func() bool { return a.connectedTo(b.ID()) })
	if rel, dir := b.conns(a.ID()); rel == 0 || dir != 0 {
		t.Fatalf("B's connections to A: %d relayed, %d direct; want only relayed", rel, dir)
	}
	for _, c := range b.Host().Network().ConnsToPeer(a.ID()) {
		if !c.Stat().Limited {
			t.Errorf("relayed connection %s is not limited", c.RemoteMultiaddr())
		}
	}
	if got := b.Host().Network().Connectedness(a.ID()); got != network.Limited {
		t.Errorf("B's connectedness to A %v, want Limited", got)
	}

	if err := roundTrip(ctx, b, a.ID(), allowed); err != nil {
		t.Fatalf("a protocol allowed over limited connections: %v", err)
	}
	short, cancel2 := context.WithTimeout(ctx, 2*time.Second)
	defer cancel2()
	if err := roundTrip(short, b, a.ID(), other); err == nil {
		t.Fatal("a protocol not allowed over limited connections ran over the relayed one")
	}
	if got, want := b.LimitedProtocols(), []protocol.ID{"/coal/pex/1.0.0", allowed}; !slices.Equal(got, want) {
		t.Errorf("LimitedProtocols() = %v, want %v", got, want)
	}

	// B learned A's addresses from identify, over the relayed connection:
	// only relay ones, since A is private.
	b.until(t, "B's book holds A", func() bool {
		for _, k := range b.book.recent() {
			if k.id == a.ID() && len(k.addrs) > 0 {
				for _, x := range k.addrs {
					if !isCircuit(x) {
						t.Fatalf("B's book holds A's direct address %s: a private node advertises only relay addresses", x)
					}
				}
				return true
			}
		}
		return false
	})
	// A private node's own Addrs still list its direct addresses.
	if !slices.ContainsFunc(a.Addrs(), func(s string) bool { return !strings.Contains(s, "p2p-circuit") }) {
		t.Errorf("A's Addrs() %v lack its direct addresses", a.Addrs())
	}
}

// TestRelayRefusesBadPeers: a relay does not relay for a peer on its
// bad-peer list: its connection gater refuses the peer's connection to
// the relay, before any circuit is asked for.
func TestRelayRefusesBadPeers(t *testing.T) {
	r, a, b := relayed3(t, nil)
	r.Punish(b.ID(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.Connect(ctx, a.circuitAddr(t)); err == nil {
		t.Fatal("B reached A through R, which punished B")
	}
	if a.connectedTo(b.ID()) {
		t.Fatal("A is connected to B")
	}
}

// TestHolePunchLoopback: after B reaches A through R, DCUtR replaces the
// relayed connection with a direct one. libp2p's hole punching service
// runs only with public addresses (see TestHolePunchNeedsPublicAddrs); on
// 127.0.0.1 the test runs the same service given the loopback ones.
func TestHolePunchLoopback(t *testing.T) {
	_, a, b := relayed3(t, func(o *Options) { o.punchLocal = true })
	for _, n := range []*node{a, b} {
		n.until(t, "DCUtR is served", func() bool { return slices.Contains(n.Host().Mux().Protocols(), holepunch.Protocol) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := b.Connect(ctx, a.circuitAddr(t)); err != nil {
		t.Fatal(err)
	}
	// B knows no direct address of A (A is private: identify gave only
	// its relay addresses, and B dials no pex peers): a direct connection
	// can come only from the addresses DCUtR exchanges.
	if rel, _ := b.conns(a.ID()); rel == 0 {
		t.Fatal("B's first connection to A is not relayed")
	}
	b.until(t, "B has a direct connection to A", func() bool { _, dir := b.conns(a.ID()); return dir > 0 })
	a.until(t, "A has a direct connection to B", func() bool { _, dir := a.conns(b.ID()); return dir > 0 })
	// The direct connection is the one streams now take, for every
	// protocol.
	const proto = protocol.ID("/coal/test-direct/1.0.0")
	a.echo(proto)
	s, err := b.Host().NewStream(ctx, a.ID(), proto)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Conn().Stat().Limited || isCircuit(s.Conn().RemoteMultiaddr()) {
		t.Fatalf("stream over %s, limited %v; want the direct connection", s.Conn().RemoteMultiaddr(), s.Conn().Stat().Limited)
	}
}

// TestHolePunchNeedsPublicAddrs pins why hole punching as configured does
// nothing on one machine: go-libp2p's holepunch.Service serves
// /libp2p/dcutr and starts its hole puncher only once the host has a
// public address (Service.waitForPublicAddr over
// addrsManager.HolePunchAddrs, which drops every address that
// manet.IsPublicAddr refuses), and 127.0.0.1 is not one.
func TestHolePunchNeedsPublicAddrs(t *testing.T) {
	local := start(t, nil, "", func(o *Options) { o.punchLocal = true })
	stock := start(t, nil, "", nil)
	for _, a := range stock.Host().Addrs() {
		if manet.IsPublicAddr(a) {
			t.Fatalf("%s is public: this test needs a machine whose addresses are not", a)
		}
	}
	// The same service given the loopback addresses serves DCUtR within
	// its first checks (250 ms, then doubling); by then the stock one has
	// made the same checks and found no public address.
	local.until(t, "DCUtR is served with loopback addresses", func() bool {
		return slices.Contains(local.Host().Mux().Protocols(), holepunch.Protocol)
	})
	if slices.Contains(stock.Host().Mux().Protocols(), holepunch.Protocol) {
		t.Fatal("the stock host serves DCUtR without a public address")
	}
}

// TestAutoNATv2Loopback: every node serves AutoNAT v2, and refuses to dial
// back a loopback address (it dials back only public ones), so on one
// machine a node learns nothing of its reachability from its peers. The
// asker is a plain libp2p host whose AutoNAT v2 client is allowed to ask
// about private addresses (autonatv2.AllowPrivateAddrs, a testing option).
func TestAutoNATv2Loopback(t *testing.T) {
	server := start(t, nil, "", nil)
	if !slices.Contains(server.Host().Mux().Protocols(), protocol.ID(autonatv2.DialProtocol)) {
		t.Fatalf("the node does not serve %s", autonatv2.DialProtocol)
	}
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	an, err := autonatv2.New(h, autonatv2.AllowPrivateAddrs)
	if err != nil {
		t.Fatal(err)
	}
	if err := an.Start(h); err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ai, err := peer.AddrInfoFromString(server.addr(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Connect(ctx, *ai); err != nil {
		t.Fatal(err)
	}
	req := []autonatv2.Request{{Addr: h.Addrs()[0], SendDialData: true}}
	var res autonatv2.Result
	for {
		res, err = an.GetReachability(ctx, req)
		if err == nil || ctx.Err() != nil {
			break
		}
		// ErrNoPeers until identify has told the client that the node
		// serves AutoNAT v2.
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err != nil {
		t.Fatalf("AutoNAT v2 request to the node: %v", err)
	}
	if !res.AllAddrsRefused {
		t.Fatalf("the node answered %+v for %s; want every address refused (not public)", res, req[0].Addr)
	}
	if _, err := ma.NewMultiaddr(req[0].Addr.String()); err != nil || manet.IsPublicAddr(req[0].Addr) {
		t.Fatalf("asked about %s, which should be a loopback address", req[0].Addr)
	}
}

// TestRelayConfig: the relay fields of swarm.json are read, and bad ones
// are invalid naming the field.
func TestRelayConfig(t *testing.T) {
	const id = "12D3KooWDQuLUKvbBg9rKGwyWaTWneAXP99y3CgnkmhkLrigvk5R"
	c, err := parseConfig("swarm.json", []byte(`{"version":1,"listen":[],"bootstrap":[],"relays":["/ip4/127.0.0.1/tcp/1/p2p/`+id+`"],
		"relay_service":true,"relay_limit":{"seconds":60,"bytes":1024},"relay_peers":["`+id+`"],"reachability":"private"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Relays) != 1 || !c.RelayService || *c.RelayLimit != (RelayLimit{60, 1024}) || len(c.RelayPeers) != 1 || c.Reachability != ReachPrivate {
		t.Fatalf("config %+v: relay fields not read", c)
	}
	for _, tc := range []struct{ text, msg string }{
		{`{"version":1,"relays":["/ip4/1.2.3.4/tcp/1"]}`, "relays[0]"},
		{`{"version":1,"reachability":"sometimes"}`, "reachability"},
		{`{"version":1,"relay_limit":{"seconds":-1,"bytes":5}}`, "relay_limit"},
		{`{"version":1,"relay_limit":{"seconds":0,"bytes":5}}`, "relay_limit"},
		{`{"version":1,"relay_peers":["nobody"]}`, "relay_peers[0]"},
	} {
		_, err := parseConfig("swarm.json", []byte(tc.text))
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parseConfig(%s) = %v, want invalid naming %q", tc.text, err, tc.msg)
		}
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := New(context.Background(), Options{Key: key, Reachability: "sometimes"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("New with reachability %q: %v, want invalid", "sometimes", err)
	}
}

// TestRelayPeers: a relay with relay_peers lets only them reserve.
func TestRelayPeers(t *testing.T) {
	a := start(t, nil, "", func(o *Options) { o.Reachability = ReachPrivate })
	r := start(t, nil, "", func(o *Options) {
		o.RelayService = true
		o.RelayPeers = []peer.ID{a.ID()}
	})
	b := start(t, nil, "", func(o *Options) { o.Reachability = ReachPrivate })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ai, err := peer.AddrInfoFromString(r.addr(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{a, b} {
		if err := n.Host().Connect(ctx, *ai); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.Reserve(ctx, a.Host(), *ai); err != nil {
		t.Fatalf("A, in relay_peers, could not reserve: %v", err)
	}
	if _, err := client.Reserve(ctx, b.Host(), *ai); err == nil {
		t.Fatal("B, not in relay_peers, reserved a slot")
	}
}

// TestRelayUnlimited: a relay without limits relays connections that are
// not limited: every protocol runs over them.
func TestRelayUnlimited(t *testing.T) {
	r := start(t, nil, "", func(o *Options) {
		o.RelayService = true
		o.RelayLimit = &RelayLimit{}
	})
	private := func(o *Options) {
		o.Relays = []string{r.addr(t)}
		o.Reachability = ReachPrivate
		o.PexDial = -1
	}
	a := start(t, nil, "", private)
	b := start(t, nil, "", private)
	a.until(t, "A holds a reservation on R", func() bool { return slices.Contains(a.Relays(), r.ID()) })
	const proto = protocol.ID("/coal/test-direct/1.0.0")
	a.echo(proto)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := b.Connect(ctx, a.circuitAddr(t)); err != nil {
		t.Fatal(err)
	}
	for _, c := range b.Host().Network().ConnsToPeer(a.ID()) {
		if !isCircuit(c.RemoteMultiaddr()) || c.Stat().Limited {
			t.Fatalf("B's connection to A over %s, limited %v: want relayed and not limited", c.RemoteMultiaddr(), c.Stat().Limited)
		}
	}
	if err := roundTrip(ctx, b, a.ID(), proto); err != nil {
		t.Fatalf("a protocol outside Limited over an unlimited relayed connection: %v", err)
	}
}

// TestPexSpreadsRelayAddrs: a private node's relay addresses spread by
// peer exchange, so two private nodes meet through their relay: R tells
// B of A at A's relay address, and B dials it.
func TestPexSpreadsRelayAddrs(t *testing.T) {
	r := start(t, nil, "", func(o *Options) { o.RelayService = true })
	a := start(t, nil, "", func(o *Options) {
		o.Relays = []string{r.addr(t)}
		o.Reachability = ReachPrivate
		o.PexDial = -1
	})
	// R learns A's relay address from identify (pushed when A's addresses
	// change, within the host's 5 s address tick).
	r.until(t, "R knows A's relay address", func() bool {
		return slices.ContainsFunc(r.Host().Peerstore().Addrs(a.ID()), isCircuit)
	})
	for _, x := range r.Host().Peerstore().Addrs(a.ID()) {
		if !isCircuit(x) {
			t.Fatalf("R holds A's direct address %s", x)
		}
	}
	b := start(t, nil, "", func(o *Options) {
		o.Relays = []string{r.addr(t)}
		o.Reachability = ReachPrivate
	})
	b.until(t, "B meets A through pex", func() bool { return b.connectedTo(a.ID()) })
	if rel, dir := b.conns(a.ID()); rel == 0 || dir != 0 {
		t.Fatalf("B's connections to A: %d relayed, %d direct; want only relayed", rel, dir)
	}
	if got := b.source(a.ID()); got != "pex" {
		t.Errorf("B learned of A by %q, want pex", got)
	}
}
