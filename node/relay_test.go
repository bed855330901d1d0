package node

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/swarm"
)

// TestReplicaOverRelay: three nodes on 127.0.0.1. R is a relay; A and B
// are private (forced: on loopback AutoNAT cannot tell) and know only R.
// B dials A through R/p2p-circuit/p2p/A, and A's world, shared with B,
// syncs over that relayed (limited) connection: world sync is one of the
// protocols allowed over limited connections.
func TestReplicaOverRelay(t *testing.T) {
	open := func(name string, o Options) *Node {
		t.Helper()
		o.API, o.NoMDNS, o.Listen = "127.0.0.1:0", true, []string{"/ip4/127.0.0.1/tcp/0"}
		n, err := Open(filepath.Join(t.TempDir(), name), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	r := open("r", Options{RelayService: true})
	raddr := r.Swarm().Addrs()[0]
	a := open("a", Options{Relays: []string{raddr}, Reachability: swarm.ReachPrivate})
	b := open("b", Options{Relays: []string{raddr}, Reachability: swarm.ReachPrivate})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	poll := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("%s: not within the test's time", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var circuit string
	poll("A advertises a relay address", func() bool {
		for _, x := range a.Swarm().Addrs() {
			if strings.Contains(x, "/p2p-circuit/p2p/"+a.Swarm().ID().String()) {
				circuit = x
				return true
			}
		}
		return false
	})
	if !strings.HasPrefix(circuit, strings.TrimSuffix(raddr, "/p2p/"+r.Swarm().ID().String())) {
		t.Fatalf("A's relay address %s is not through R (%s)", circuit, raddr)
	}

	w, err := a.Home().World("")
	if err != nil {
		t.Fatal(err)
	}
	var share acl.ACL
	share.Grant(acl.Key(a.Home().NodeKey().Public32()), acl.All)
	share.Grant(acl.Key(b.Home().NodeKey().Public32()), acl.Read|acl.Write)
	raw, err := share.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, a.Home().NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: "/.acl", Raw: raw}}, "share"); err != nil {
		t.Fatal(err)
	}
	text := "over the relay"
	ci, err := w.Commit(ctx, a.Home().NodeKey(), []cdb.Op{{Kind: cdb.PutBlob, Path: "/hello", Blob: strings.NewReader(text), Size: int64(len(text))}}, "hello")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := b.Swarm().Connect(ctx, circuit); err != nil {
		t.Fatal(err)
	}
	holds := func(commit [32]byte) bool {
		bw, err := b.Home().World(w.ID().String())
		if err != nil {
			return false
		}
		_, err = bw.LoadCommit(commit)
		return err == nil
	}
	poll("B holds A's world", func() bool { return holds(ci.ID) })
	// A write on B goes back to A over the same circuit.
	bw, err := b.Home().World(w.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	back := "from b"
	ci2, err := bw.Commit(ctx, b.Home().NodeKey(), []cdb.Op{{Kind: cdb.PutBlob, Path: "/back", Blob: strings.NewReader(back), Size: int64(len(back))}}, "back")
	if err != nil {
		t.Fatal(err)
	}
	poll("A holds B's write", func() bool { _, err := w.LoadCommit(ci2.ID); return err == nil })

	// Every connection between A and B is relayed: the world came
	// through R.
	conns := b.Swarm().Host().Network().ConnsToPeer(a.Swarm().ID())
	if len(conns) == 0 {
		t.Fatal("B has no connection to A")
	}
	for _, c := range conns {
		if !strings.Contains(c.RemoteMultiaddr().String(), "/p2p-circuit") || !c.Stat().Limited {
			t.Fatalf("B's connection to A over %s (limited %v): want only relayed ones", c.RemoteMultiaddr(), c.Stat().Limited)
		}
	}
	if !slices.Contains(b.Swarm().Relays(), r.Swarm().ID()) {
		t.Errorf("B holds no reservation on R: %v", b.Swarm().Relays())
	}
}
