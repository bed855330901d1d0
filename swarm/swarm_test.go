package swarm

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
)

// wait bounds every wait on an event in these tests.
const wait = 20 * time.Second

// node is a swarm under test with a signal of its connection events.
type node struct {
	*Swarm
	key     ed25519.PrivateKey
	dir     string
	changed chan struct{}
}

func loopback() []string {
	return []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
}

// start runs a swarm on 127.0.0.1 (port 0) in dir (a new temporary one if
// "") with key (a new one if nil).
func start(t *testing.T, key ed25519.PrivateKey, dir string, edit func(*Options)) *node {
	t.Helper()
	if key == nil {
		_, key, _ = ed25519.GenerateKey(rand.Reader)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	opts := Options{Key: key, Listen: loopback(), Dir: dir}
	if edit != nil {
		edit(&opts)
	}
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{Swarm: s, key: key, dir: dir, changed: make(chan struct{}, 1)}
	s.Notify(func(peer.ID, bool) {
		select {
		case n.changed <- struct{}{}:
		default:
		}
	})
	t.Cleanup(func() { s.Close() })
	return n
}

// until waits for cond, re-checking it at each connection event of n (and
// at least every 100 ms, for conditions events don't signal).
func (n *node) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(wait)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-n.changed:
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: not after %v", what, wait)
		}
	}
}

func (n *node) connectedTo(p peer.ID) bool { return slices.Contains(n.Connected(), p) }

func (n *node) addr(t *testing.T) string {
	t.Helper()
	for _, a := range n.Addrs() {
		if strings.Contains(a, "/tcp/") {
			return a
		}
	}
	t.Fatalf("no TCP address in %v", n.Addrs())
	return ""
}

func TestConnectAndDisconnect(t *testing.T) {
	a := start(t, nil, "", nil)
	b := start(t, nil, "", nil)
	var mu sync.Mutex
	var events []string
	a.Notify(func(p peer.ID, up bool) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, fmt.Sprintf("%s %v", p, up))
	})
	for _, addr := range a.Addrs() {
		if !strings.HasSuffix(addr, "/p2p/"+a.ID().String()) {
			t.Errorf("Addrs: %s does not end in /p2p/%s", addr, a.ID())
		}
	}
	id, err := b.Connect(context.Background(), a.addr(t))
	if err != nil {
		t.Fatal(err)
	}
	if id != a.ID() {
		t.Fatalf("Connect returned %s, want %s", id, a.ID())
	}
	a.until(t, "a sees b", func() bool { return a.connectedTo(b.ID()) })
	b.until(t, "b sees a", func() bool { return b.connectedTo(a.ID()) })

	ps := a.Peers()
	if len(ps) != 1 || ps[0].ID != b.ID() || !ps[0].Connected || ps[0].Source != "inbound" {
		t.Fatalf("a.Peers() = %+v, want b connected, inbound", ps)
	}
	if pub := b.key.Public().(ed25519.PublicKey); !ps[0].Key.Equal(pub) {
		t.Errorf("peer key %x, want %x", ps[0].Key, pub)
	}
	// b learns a's listen addresses from identify, and keeps them.
	b.until(t, "b's book holds a's addresses", func() bool {
		for _, k := range b.book.recent() {
			if k.id == a.ID() && len(k.addrs) > 0 {
				return true
			}
		}
		return false
	})

	b.Disconnect(a.ID())
	a.until(t, "a sees b leave", func() bool { return !a.connectedTo(b.ID()) })
	b.until(t, "b sees a leave", func() bool { return !b.connectedTo(a.ID()) })
	mu.Lock()
	want := []string{fmt.Sprintf("%s true", b.ID()), fmt.Sprintf("%s false", b.ID())}
	if !slices.Equal(events, want) {
		t.Errorf("a's Notify events %q, want %q", events, want)
	}
	mu.Unlock()
	ps = b.Peers()
	if len(ps) != 1 || ps[0].Connected || ps[0].ID != a.ID() || ps[0].Source != "dial" {
		t.Errorf("b.Peers() after disconnect = %+v, want a, known, not connected, source dial", ps)
	}
	if !b.Forget(a.ID()) {
		t.Error("Forget(a) = false, want true")
	}
	if ps := b.Peers(); len(ps) != 0 {
		t.Errorf("b.Peers() after Forget = %+v, want none", ps)
	}
}

func TestConnectErrors(t *testing.T) {
	a := start(t, nil, "", nil)
	ctx := context.Background()
	tcp := strings.Split(a.addr(t), "/p2p/")[0]
	for _, tc := range []struct {
		addr string
		kind errs.Kind
		msg  string
	}{
		{"nonsense", errs.Invalid, "bad multiaddr"},
		{tcp, errs.Invalid, "does not end in /p2p/PEER-ID"},
		{a.addr(t), errs.Invalid, "own address"},
	} {
		_, err := a.Connect(ctx, tc.addr)
		if !errs.Is(err, tc.kind) || err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Connect(%q) = %v, want %v containing %q", tc.addr, err, tc.kind, tc.msg)
		}
	}
	// A peer that isn't there: unavailable, quickly.
	b := start(t, nil, "", nil)
	baddr := b.addr(t)
	b.Close()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := a.Connect(cctx, baddr); !errs.Is(err, errs.Unavailable) && !errs.Is(err, errs.Canceled) {
		t.Errorf("Connect to a closed node = %v, want unavailable", err)
	}
}

// TestPex: c, connecting to b only, learns of a by peer exchange and
// connects to it.
func TestPex(t *testing.T) {
	a := start(t, nil, "", nil)
	b := start(t, nil, "", nil)
	c := start(t, nil, "", nil)
	ctx := context.Background()
	if _, err := b.Connect(ctx, a.addr(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connect(ctx, b.addr(t)); err != nil {
		t.Fatal(err)
	}
	c.until(t, "c connects to a, learned from b", func() bool { return c.connectedTo(a.ID()) })
	a.until(t, "a sees c", func() bool { return a.connectedTo(c.ID()) })
	// Whichever dialed, it learned of the other by pex.
	src := func(n *node, p peer.ID) string {
		for _, pi := range n.Peers() {
			if pi.ID == p {
				return pi.Source
			}
		}
		return ""
	}
	if sc, sa := src(c, a.ID()), src(a, c.ID()); sc != "pex" && sa != "pex" {
		t.Errorf("c learned a from %q and a learned c from %q; want pex on one side", sc, sa)
	}
}

// TestPexAnswer checks what a node tells an asker: its other peers with
// their addresses, not the asker, not itself.
func TestPexAnswer(t *testing.T) {
	a := start(t, nil, "", nil)
	b := start(t, nil, "", nil)
	c := start(t, nil, "", func(o *Options) { o.PexDial = -1 })
	ctx := context.Background()
	if _, err := a.Connect(ctx, b.addr(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connect(ctx, b.addr(t)); err != nil {
		t.Fatal(err)
	}
	// b knows a's listen addresses once identify has run.
	b.until(t, "b has a's addresses", func() bool { return len(b.h.Peerstore().Addrs(a.ID())) > 0 })
	infos, err := c.askPex(ctx, b.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].ID != a.ID() || len(infos[0].Addrs) == 0 {
		t.Fatalf("b answered %v, want a with its addresses", infos)
	}
	for _, ad := range infos[0].Addrs {
		if !slices.ContainsFunc(a.h.Addrs(), ad.Equal) {
			t.Errorf("b told c address %s of a; a listens on %v", ad, a.h.Addrs())
		}
	}
}

// TestPunish: a punished peer is disconnected, refused both ways, and
// stays refused after a restart.
func TestPunish(t *testing.T) {
	a := start(t, nil, "", nil)
	b := start(t, nil, "", nil)
	ctx := context.Background()
	if _, err := b.Connect(ctx, a.addr(t)); err != nil {
		t.Fatal(err)
	}
	a.until(t, "a sees b", func() bool { return a.connectedTo(b.ID()) })
	a.Punish(b.ID(), errs.E(errs.Invalid, "forged commit"))
	a.until(t, "a drops b", func() bool { return !a.connectedTo(b.ID()) })
	if !a.IsBad(b.ID()) {
		t.Fatal("IsBad(b) = false after Punish")
	}
	if _, err := a.Connect(ctx, b.addr(t)); !errs.Is(err, errs.Permission) || !strings.Contains(err.Error(), "forged commit") {
		t.Errorf("a.Connect(b) = %v, want permission naming the reason", err)
	}
	// b's side of the handshake may finish before a's gater refuses it,
	// so b's Connect may even succeed; but a never counts b as connected,
	// and b is dropped at once.
	var mu sync.Mutex
	sawB := false
	a.Notify(func(p peer.ID, up bool) {
		mu.Lock()
		defer mu.Unlock()
		sawB = sawB || (p == b.ID() && up)
	})
	refused := func(a *node) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		b.Connect(cctx, a.addr(t))
		b.until(t, "b is dropped", func() bool { return !b.connectedTo(a.ID()) })
		mu.Lock()
		defer mu.Unlock()
		if sawB || a.connectedTo(b.ID()) {
			t.Error("a accepted a connection from b after punishing it")
		}
	}
	refused(a)
	ps := a.Peers()
	if len(ps) != 1 || ps[0].ID != b.ID() || ps[0].Bad == "" || ps[0].Connected {
		t.Errorf("a.Peers() = %+v, want b, bad", ps)
	}

	// After a restart (same key, same home) b is still refused.
	dir, key := a.dir, a.key
	a.Close()
	a2 := start(t, key, dir, nil)
	if !a2.IsBad(b.ID()) {
		t.Fatal("b is not bad after a restarted")
	}
	a2.Notify(func(p peer.ID, up bool) {
		mu.Lock()
		defer mu.Unlock()
		sawB = sawB || (p == b.ID() && up)
	})
	refused(a2)
	if !a2.Forgive(b.ID()) {
		t.Fatal("Forgive(b) = false")
	}
	if _, err := b.Connect(ctx, a2.addr(t)); err != nil {
		t.Errorf("b can't connect after a forgave it: %v", err)
	}
}

// TestHostilePex: a peer answering pex with too many peers is punished.
func TestHostilePex(t *testing.T) {
	a := start(t, nil, "", nil)
	evil := start(t, nil, "", nil)
	ps, err := pexOnce()
	if err != nil {
		t.Fatal(err)
	}
	evil.h.SetStreamHandler(protocol.ID(relay.PEX), func(st network.Stream) {
		c := relay.Accept(context.Background(), st, []coda.ID{ps.peers.ID}, ps.reg, relay.Options{})
		defer c.Close()
		c.Recv()
		var many []peer.AddrInfo
		for range MaxPexPeers + 1 {
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			id, _ := relay.PeerID(k.Public().(ed25519.PublicKey))
			many = append(many, peer.AddrInfo{ID: id, Addrs: evil.h.Addrs()[:1]})
		}
		c.Send(ps.peers, encodePeers(many))
		c.CloseWrite()
	})
	if _, err := a.Connect(context.Background(), evil.addr(t)); err != nil {
		t.Fatal(err)
	}
	a.until(t, "a punishes evil", func() bool { return a.IsBad(evil.ID()) })
	a.until(t, "a drops evil", func() bool { return !a.connectedTo(evil.ID()) })
	var reason string
	for _, p := range a.Peers() {
		if p.ID == evil.ID() {
			reason = p.Bad
		}
	}
	if !strings.Contains(reason, "65 peers, at most 64") {
		t.Errorf("evil punished for %q, want the count", reason)
	}
}

// TestReconnectFromBook: a restarted node dials the peers in its book.
func TestReconnectFromBook(t *testing.T) {
	a := start(t, nil, "", nil)
	b := start(t, nil, "", nil)
	if _, err := a.Connect(context.Background(), b.addr(t)); err != nil {
		t.Fatal(err)
	}
	a.until(t, "a's book holds b", func() bool {
		_, err := os.Stat(filepath.Join(a.dir, PeersFile))
		return err == nil && len(a.book.recent()) == 1 && len(a.book.recent()[0].addrs) > 0
	})
	dir, key := a.dir, a.key
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b.until(t, "b sees a leave", func() bool { return !b.connectedTo(a.ID()) })
	a2 := start(t, key, dir, nil)
	a2.until(t, "restarted a reconnects to b", func() bool { return a2.connectedTo(b.ID()) })
}

// TestBootstrap: a node dials its bootstrap peers at start.
func TestBootstrap(t *testing.T) {
	a := start(t, nil, "", nil)
	b := start(t, nil, "", func(o *Options) { o.Bootstrap = []string{a.addr(t)} })
	b.until(t, "b dials its bootstrap peer", func() bool { return b.connectedTo(a.ID()) })
	for _, p := range b.Peers() {
		if p.ID == a.ID() && p.Source != "bootstrap" {
			t.Errorf("source %q, want bootstrap", p.Source)
		}
	}
	if _, err := New(context.Background(), Options{Key: b.key, Listen: loopback(), Bootstrap: []string{"/ip4/127.0.0.1/tcp/1"}}); !errs.Is(err, errs.Invalid) {
		t.Errorf("a bootstrap address without /p2p: %v, want invalid", err)
	}
}

// TestMDNS: nodes with mDNS on find each other on the LAN; a node with
// it off is never found (it does not answer).
func TestMDNS(t *testing.T) {
	svc := fmt.Sprintf("_coaltest%d._udp", time.Now().UnixNano()%1e9)
	on := func(o *Options) { o.MDNS, o.MDNSService = true, svc }
	a := start(t, nil, "", on)
	if a.mdns == nil {
		t.Skip("mDNS did not start here (no multicast interface)")
	}
	off := start(t, nil, "", func(o *Options) { o.MDNSService = svc })
	if off.mdns != nil {
		t.Fatal("mDNS runs with Options.MDNS false")
	}
	b := start(t, nil, "", on)
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) && !a.connectedTo(b.ID()) {
			select {
			case <-a.changed:
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	<-done
	if !a.connectedTo(b.ID()) {
		t.Skip("mDNS on both: no discovery within 20 s (multicast not delivered here)")
	}
	// a and b found each other by now, having each queried; the node with
	// mDNS off got the same queries and answered none.
	if len(off.Connected()) != 0 {
		t.Errorf("the node with mDNS off is connected to %v", off.Connected())
	}
	if p := a.Peers(); p[0].Source != "mdns" && p[0].Source != "inbound" {
		t.Errorf("a learned b from %q, want mdns", p[0].Source)
	}
}

// TestMDNSOffNoDiscovery: without mDNS (and no bootstrap or book), two
// nodes on one host never meet.
func TestMDNSOffNoDiscovery(t *testing.T) {
	a := start(t, nil, "", nil)
	b := start(t, nil, "", nil)
	if a.mdns != nil || b.mdns != nil {
		t.Fatal("mDNS runs with Options.MDNS false")
	}
	// A pex round with a third node shows that discovery has run (and
	// would have found b by now had it been on).
	c := start(t, nil, "", nil)
	if _, err := a.Connect(context.Background(), c.addr(t)); err != nil {
		t.Fatal(err)
	}
	a.until(t, "a and c exchanged peers", func() bool { return len(c.h.Peerstore().Addrs(a.ID())) > 0 })
	if a.connectedTo(b.ID()) || len(b.Connected()) != 0 {
		t.Errorf("a and b met without discovery: a %v, b %v", a.Connected(), b.Connected())
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 1 || len(c.Listen) != 4 || !strings.HasPrefix(c.Listen[0], "/ip4/0.0.0.0/tcp/") {
		t.Fatalf("new config %+v, want version 1 and 4 listen addresses on all interfaces", c)
	}
	c2, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Listen, c2.Listen) {
		t.Errorf("config changed on reload: %v, then %v", c.Listen, c2.Listen)
	}
	for _, tc := range []struct{ text, msg string }{
		{`{"version":1,"listen":[],"bootstrap":[],"extra":1}`, "unknown field"},
		{`{"version":2,"listen":[],"bootstrap":[]}`, "unknown swarm config version 2"},
		{`{"version":1,"listen":["bogus"],"bootstrap":[]}`, "listen[0]"},
		{`{"version":1,"listen":[],"bootstrap":["/ip4/1.2.3.4/tcp/1"]}`, "bootstrap[0]"},
	} {
		if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(tc.text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(dir)
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("LoadConfig(%s) = %v, want invalid naming %q", tc.text, err, tc.msg)
		}
	}
}

func TestBadBook(t *testing.T) {
	dir := t.TempDir()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	if err := os.WriteFile(filepath.Join(dir, PeersFile), []byte(`{"version":1,"peers":[{"id":"nope","addrs":[],"source":"","last_seen":"2026-01-01T00:00:00Z"}],"bad":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(context.Background(), Options{Key: key, Listen: loopback(), Dir: dir})
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "peers[0].id") {
		t.Errorf("New with a bad peers.json = %v, want invalid naming peers[0].id", err)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Errorf("%v is not an *errs.Error", err)
	}
}

// TestPortInUse: a fixed port another node listens on is refused, not
// shared (libp2p binds TCP with SO_REUSEPORT).
func TestPortInUse(t *testing.T) {
	a := start(t, nil, "", func(o *Options) { o.Listen = []string{"/ip4/127.0.0.1/tcp/0"} })
	addr := strings.Split(a.addr(t), "/p2p/")[0]
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	_, err := New(context.Background(), Options{Key: key, Listen: []string{addr}})
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), addr+" is in use") {
		t.Errorf("New on a taken port: %v, want unavailable naming %s", err, addr)
	}
}

// TestNotifyReplay: a callback registered while peers are connected hears
// of them first, then of their changes, each once.
func TestNotifyReplay(t *testing.T) {
	a := start(t, nil, "", nil)
	b := start(t, nil, "", nil)
	if _, err := b.Connect(context.Background(), a.addr(t)); err != nil {
		t.Fatal(err)
	}
	a.until(t, "a sees b", func() bool { return a.connectedTo(b.ID()) })
	events := make(chan string, 10)
	a.Notify(func(p peer.ID, up bool) { events <- fmt.Sprintf("%s %v", p, up) })
	next := func() string {
		select {
		case e := <-events:
			return e
		case <-time.After(wait):
			t.Fatal("no event")
			return ""
		}
	}
	if got, want := next(), fmt.Sprintf("%s true", b.ID()); got != want {
		t.Fatalf("first event %q, want %q (the replay)", got, want)
	}
	b.Disconnect(a.ID())
	if got, want := next(), fmt.Sprintf("%s false", b.ID()); got != want {
		t.Fatalf("second event %q, want %q", got, want)
	}
	select {
	case e := <-events:
		t.Errorf("an extra event %q", e)
	default:
	}
}

// TestPexEnoughPeers: a node with LowPeers connections remembers what pex
// tells it and dials none of it.
func TestPexEnoughPeers(t *testing.T) {
	a := start(t, nil, "", nil)
	b := start(t, nil, "", nil)
	c := start(t, nil, "", func(o *Options) { o.LowPeers = 1 })
	ctx := context.Background()
	if _, err := a.Connect(ctx, b.addr(t)); err != nil {
		t.Fatal(err)
	}
	b.until(t, "b has a's addresses", func() bool { return len(b.h.Peerstore().Addrs(a.ID())) > 0 })
	if _, err := c.Connect(ctx, b.addr(t)); err != nil {
		t.Fatal(err)
	}
	c.until(t, "c sees b", func() bool { return c.connectedTo(b.ID()) })
	c.exchange(b.ID())
	if len(c.h.Peerstore().Addrs(a.ID())) == 0 {
		t.Error("c did not keep a's addresses")
	}
	if src := c.source(a.ID()); src != "" || c.connectedTo(a.ID()) {
		t.Errorf("c dialed a (source %q) with LowPeers connections", src)
	}
}
