package replica

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/ctp"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
)

var bg = context.Background()

var verbose = flag.Bool("synclog", false, "log the engines' diagnostics")

type tlog struct {
	t    testing.TB
	name string
}

func (l tlog) Write(p []byte) (int, error) {
	l.t.Logf("%s: %s", l.name, strings.TrimSpace(string(p)))
	return len(p), nil
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// node is one home with its host and engine.
type node struct {
	name string
	h    *cdb.Home
	host host.Host
	e    *Engine

	ctp     *ctp.Server // with ctp: true
	fetcher *ctp.Client
	relay   relay.Options // the engine's streams
	slow    time.Duration // each value a pull's answer shows waits this long (tests of timeouts)
	maxPull int64         // Options.MaxPull

	mu      sync.Mutex
	invalid []peer.ID
	sent    map[peer.ID][]string // value paths sent, per peer (Options.OnValue)
	held    map[peer.ID][]string // value paths withheld, per peer
}

// network is a mocknet of nodes, linked but not connected.
type testNet struct {
	t     testing.TB
	mn    mocknet.Mocknet
	nodes []*node
	real  bool // real libp2p hosts on 127.0.0.1 TCP, not the mocknet
}

func secured(noWorld bool) cdb.Options {
	return acl.With(cdb.Options{Store: memstore.New(), NoAudit: true, NoWorld: noWorld})
}

// newNetwork makes n homes; the first holds the default world, whose root
// ACL lets every node read and write; the others hold none.
func newNetwork(t testing.TB, n int) *testNet {
	return newNetworkOf(t, n, false)
}

// newNetworkOf is newNetwork on real hosts if real.
func newNetworkOf(t testing.TB, n int, real bool) *testNet {
	t.Helper()
	nw := &testNet{t: t, mn: mocknet.New(), real: real}
	t.Cleanup(func() { nw.mn.Close() })
	for i := range n {
		nw.add(fmt.Sprintf("n%d", i), secured(i > 0))
	}
	if n > 0 {
		var a acl.ACL
		for _, nd := range nw.nodes {
			a.Grant(acl.Key(nd.h.NodeKey().Public32()), acl.Read|acl.Write)
		}
		a.Grant(acl.Key(nw.nodes[0].h.NodeKey().Public32()), acl.All)
		nw.nodes[0].putACL(t, "/", a)
	}
	must(t, nw.mn.LinkAll())
	return nw
}

// add makes a node with a new home of opts (not linked yet).
func (nw *testNet) add(name string, opts cdb.Options) *node {
	t := nw.t
	h, err := cdb.Init(t.TempDir()+"/"+name, opts)
	must(t, err)
	t.Cleanup(func() { h.Close() })
	priv, err := relay.NodeKey(h)
	must(t, err)
	k, err := relay.HostKey(priv)
	must(t, err)
	if nw.real {
		hst, err := libp2p.New(libp2p.Identity(k), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
		must(t, err)
		t.Cleanup(func() { hst.Close() })
		nd := &node{name: name, h: h, host: hst, sent: map[peer.ID][]string{}, held: map[peer.ID][]string{}}
		nw.nodes = append(nw.nodes, nd)
		return nd
	}
	i := len(nw.nodes)
	addr, err := ma.NewMultiaddr(fmt.Sprintf("/ip4/10.1.%d.%d/tcp/4001", i/250, i%250+1))
	must(t, err)
	hst, err := nw.mn.AddPeer(k, addr)
	must(t, err)
	nd := &node{name: name, h: h, host: hst, sent: map[peer.ID][]string{}, held: map[peer.ID][]string{}}
	nw.nodes = append(nw.nodes, nd)
	return nd
}

// start starts the engines of the nodes given (all if none).
func (nw *testNet) start(nodes ...*node) {
	if len(nodes) == 0 {
		nodes = nw.nodes
	}
	for _, nd := range nodes {
		nd.start(nw.t)
	}
}

// startCTP serves CTP on nd's host and makes its engine fetch large
// values over it (call before start).
func (nd *node) startCTP(t testing.TB) {
	nd.ctp = ctp.NewServer(ctp.WorldSource(nd.h), ctp.ServerOptions{})
	nd.ctp.Register(nd.host)
	t.Cleanup(func() { nd.ctp.Close() })
	nd.fetcher = ctp.NewClient(nd.host, ctp.Options{})
}

func (nd *node) start(t testing.TB) {
	var log *slog.Logger
	if *verbose {
		log = slog.New(slog.NewTextHandler(tlog{t, nd.name}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e, err := New(nd.h, nd.host, Options{
		Logger:     log,
		MergeDelay: 300 * time.Millisecond,
		Fetcher:    nd.fetcherOrNil(),
		OnInvalid: func(p peer.ID, err error) {
			nd.mu.Lock()
			nd.invalid = append(nd.invalid, p)
			nd.mu.Unlock()
			t.Logf("%s: invalid peer %s: %v", nd.name, p, err)
			_ = nd.host.Network().ClosePeer(p)
		},
		Relay:   nd.relay,
		MaxPull: nd.maxPull,
		OnValue: func(p peer.ID, _ coda.ID, path string, sent bool) {
			time.Sleep(nd.slow)
			nd.mu.Lock()
			if sent {
				nd.sent[p] = append(nd.sent[p], path)
			} else {
				nd.held[p] = append(nd.held[p], path)
			}
			nd.mu.Unlock()
		},
	})
	must(t, err)
	nd.e = e
	t.Cleanup(func() { e.Close() })
}

func (nd *node) fetcherOrNil() Fetcher {
	if nd.fetcher == nil {
		return nil
	}
	return nd.fetcher
}

// connect connects every pair of nodes given (all if none).
func (nw *testNet) connect(nodes ...*node) {
	if len(nodes) == 0 {
		nodes = nw.nodes
	}
	for i, a := range nodes {
		for _, b := range nodes[i+1:] {
			if nw.real {
				must(nw.t, a.host.Connect(context.Background(), peer.AddrInfo{ID: b.host.ID(), Addrs: b.host.Addrs()}))
				continue
			}
			_, err := nw.mn.ConnectPeers(a.host.ID(), b.host.ID())
			must(nw.t, err)
		}
	}
}

// cut partitions nd away from every other node.
func (nw *testNet) cut(nd *node) {
	for _, o := range nw.nodes {
		if o != nd {
			must(nw.t, nw.mn.UnlinkPeers(nd.host.ID(), o.host.ID()))
			must(nw.t, nw.mn.DisconnectPeers(nd.host.ID(), o.host.ID()))
		}
	}
}

// heal links nd to every other node again and connects them.
func (nw *testNet) heal(nd *node) {
	for _, o := range nw.nodes {
		if o != nd {
			_, err := nw.mn.LinkPeers(nd.host.ID(), o.host.ID())
			must(nw.t, err)
			_, err = nw.mn.ConnectPeers(nd.host.ID(), o.host.ID())
			must(nw.t, err)
		}
	}
}

// world returns nd's world id (the first node's default world), nil if it
// holds none yet.
func (nd *node) world(id coda.ID) *cdb.World {
	infos, err := nd.h.Worlds()
	if err != nil {
		return nil
	}
	for _, i := range infos {
		if i.ID == id {
			w, err := nd.h.World(i.Name)
			if err == nil {
				return w
			}
		}
	}
	return nil
}

func (nd *node) defaultWorld(t testing.TB) *cdb.World {
	w, err := nd.h.World("")
	must(t, err)
	return w
}

func (nd *node) commit(t testing.TB, w *cdb.World, ops ...cdb.Op) cdb.CommitInfo { // before the engines start
	t.Helper()
	ci, err := w.Commit(bg, nd.h.NodeKey(), ops, "test")
	must(t, err)
	return ci
}

func putOp(path, text string) cdb.Op {
	return cdb.Op{Kind: cdb.PutBlob, Path: path, Blob: strings.NewReader(text), Size: int64(len(text))}
}

// put writes text at path, again if a sync moved the branch meanwhile
// (cdb does not retry commits of blobs: their readers are consumed).
func (nd *node) put(t testing.TB, path, text string) cdb.CommitInfo {
	t.Helper()
	w := nd.defaultWorld(t)
	for {
		ci, err := w.Commit(bg, nd.h.NodeKey(), []cdb.Op{putOp(path, text)}, "test")
		if errs.Is(err, errs.Conflict) {
			continue
		}
		must(t, err)
		return ci
	}
}

func (nd *node) putACL(t testing.TB, dir string, a acl.ACL) {
	t.Helper()
	b, err := a.Encode()
	must(t, err)
	p := strings.TrimSuffix(dir, "/") + "/.acl"
	nd.commit(t, nd.defaultWorld(t), cdb.Op{Kind: cdb.Put, Path: p, Raw: b})
}

// state returns nd's head and root of world (zeros if it lacks it).
func (nd *node) state(world coda.ID) (head, root coda.ID) {
	w := nd.world(world)
	if w == nil {
		return
	}
	head, err := w.Resolve(cdb.DefaultBranch)
	if err != nil {
		return
	}
	c, err := w.LoadCommit(head)
	if err != nil {
		return
	}
	return head, c.Tree
}

func (nd *node) text(t testing.TB, world coda.ID, path string) (string, error) {
	w := nd.world(world)
	if w == nil {
		return "", fmt.Errorf("%s: no world %s", nd.name, world)
	}
	b, err := w.OpenBlob(coda.ID{}, path)
	if err != nil {
		return "", err
	}
	defer b.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := b.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String(), nil
}

// waitFor waits until cond holds, failing the test after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// converged waits until the nodes given hold world at one head and root,
// and returns them.
func (nw *testNet) converged(world coda.ID, d time.Duration, nodes ...*node) (head, root coda.ID) {
	nw.t.Helper()
	if len(nodes) == 0 {
		nodes = nw.nodes
	}
	var last []string
	deadline := time.Now().Add(d)
	for {
		ok := func() bool {
			last = last[:0]
			h0, r0 := nodes[0].state(world)
			same := !h0.IsZero()
			for _, nd := range nodes {
				h, r := nd.state(world)
				last = append(last, fmt.Sprintf("%s: head %s root %s", nd.name, h, r))
				same = same && h == h0 && r == r0
			}
			head, root = h0, r0
			return same
		}()
		if ok {
			return head, root
		}
		if time.Now().After(deadline) {
			nw.t.Fatalf("after %v: not converged: %s", d, strings.Join(last, "; "))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// inHistory reports whether c is in the history of nd's main of world.
func (nd *node) inHistory(t testing.TB, world, c coda.ID) bool {
	w := nd.world(world)
	if w == nil {
		return false
	}
	head, err := w.Resolve(cdb.DefaultBranch)
	must(t, err)
	ok, err := isAncestor(w, c, head)
	if err != nil {
		return false
	}
	return ok
}

func (nd *node) invalidPeers() []peer.ID {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return slices.Clone(nd.invalid)
}
