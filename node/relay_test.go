package node

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/swarm"
)

// TestReplicaOverRelay: three nodes on 127.0.0.1. R is a relay; A and B
// are private (forced: on loopback AutoNAT cannot tell) and know only R.
// B dials A through R/p2p-circuit/p2p/A, and A's world, shared with B,
// syncs over that relayed (limited) connection: world sync is one of the
// protocols allowed over limited connections.
func TestReplicaOverRelay(t *testing.T) {
	r, a, b := relayNodes(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	poll := func(what string, cond func() bool) { t.Helper(); pollUntil(t, ctx, what, cond) }
	circuit := relayAddr(t, ctx, r, a)
	w := shareWorld(t, ctx, a, b)
	text := "over the relay"
	ci, err := w.Commit(ctx, a.Home().NodeKey(), []cdb.Op{{Kind: cdb.PutBlob, Path: "/hello", Blob: strings.NewReader(text), Size: int64(len(text))}}, "hello")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := b.Swarm().Connect(ctx, circuit); err != nil {
		t.Fatal(err)
	}
	poll("B holds A's world", func() bool { return holdsCommit(b, w.ID(), ci.ID) })
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
	onlyRelayed(t, b, a, true)
	if !slices.Contains(b.Swarm().Relays(), r.Swarm().ID()) {
		t.Errorf("B holds no reservation on R: %v", b.Swarm().Relays())
	}
}

// TestLargeValueOverUnlimitedRelay: through a relay without limits
// (relay_limit {0, 0}), relayed connections are not limited, so CTP runs
// over them too and a large value syncs. (Through a limited relay CTP
// waits for a direct connection, and the commit holding the value waits
// with it: docs/swarm.md §8.)
func TestLargeValueOverUnlimitedRelay(t *testing.T) {
	r, a, b := relayNodes(t, `{"version":1,"listen":[],"bootstrap":[],"relay_limit":{"seconds":0,"bytes":0}}`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	circuit := relayAddr(t, ctx, r, a)
	w := shareWorld(t, ctx, a, b)
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	for i := range big {
		big[i] ^= byte(i * 7 / 5)
	}
	ci, err := w.Commit(ctx, a.Home().NodeKey(), []cdb.Op{{Kind: cdb.PutBlob, Path: "/big", Blob: bytes.NewReader(big), Size: int64(len(big))}}, "big")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Swarm().Connect(ctx, circuit); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, ctx, "B holds the commit with the large value", func() bool { return holdsCommit(b, w.ID(), ci.ID) })
	bw, err := b.Home().World(w.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	blob, err := bw.OpenBlob(coda.ID{}, "/big")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(blob)
	blob.Close()
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("B's /big: %d bytes (%v), want the 1 MiB written", len(got), err)
	}
	onlyRelayed(t, b, a, false)
}

// relayNodes opens R, a relay (with rconf as its swarm.json if not ""),
// and A and B, private, whose only relay is R.
func relayNodes(t *testing.T, rconf string) (r, a, b *Node) {
	t.Helper()
	open := func(name string, o Options, conf string) *Node {
		t.Helper()
		dir := filepath.Join(t.TempDir(), name)
		o.API, o.NoMDNS, o.Listen = "127.0.0.1:0", true, []string{"/ip4/127.0.0.1/tcp/0"}
		n, err := Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		if conf != "" {
			// The home exists now: give it conf, and open it again.
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, swarm.ConfigFile), []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			if n, err = Open(dir, o); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	r = open("r", Options{RelayService: true}, rconf)
	raddr := r.Swarm().Addrs()[0]
	a = open("a", Options{Relays: []string{raddr}, Reachability: swarm.ReachPrivate}, "")
	b = open("b", Options{Relays: []string{raddr}, Reachability: swarm.ReachPrivate}, "")
	return r, a, b
}

func pollUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatalf("%s: not within the test's time", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// relayAddr waits until a advertises a relay address through r and
// returns it.
func relayAddr(t *testing.T, ctx context.Context, r, a *Node) string {
	t.Helper()
	var circuit string
	pollUntil(t, ctx, "A advertises a relay address", func() bool {
		for _, x := range a.Swarm().Addrs() {
			if strings.Contains(x, "/p2p-circuit/p2p/"+a.Swarm().ID().String()) {
				circuit = x
				return true
			}
		}
		return false
	})
	raddr := r.Swarm().Addrs()[0]
	if !strings.HasPrefix(circuit, raddr+"/p2p-circuit/") {
		t.Fatalf("A's relay address %s is not through R (%s)", circuit, raddr)
	}
	return circuit
}

// shareWorld shares a's default world with b (read and write) and
// returns it.
func shareWorld(t *testing.T, ctx context.Context, a, b *Node) *cdb.World {
	t.Helper()
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
	return w
}

func holdsCommit(n *Node, world, commit [32]byte) bool {
	w, err := n.Home().World(coda.ID(world).String())
	if err != nil {
		return false
	}
	_, err = w.LoadCommit(commit)
	return err == nil
}

// onlyRelayed fails unless every connection from b to a is relayed, and
// limited as said.
func onlyRelayed(t *testing.T, b, a *Node, limited bool) {
	t.Helper()
	conns := b.Swarm().Host().Network().ConnsToPeer(a.Swarm().ID())
	if len(conns) == 0 {
		t.Fatal("B has no connection to A")
	}
	for _, c := range conns {
		if !strings.Contains(c.RemoteMultiaddr().String(), "/p2p-circuit") || c.Stat().Limited != limited {
			t.Fatalf("B's connection to A over %s (limited %v): want only relayed ones, limited %v", c.RemoteMultiaddr(), c.Stat().Limited, limited)
		}
	}
}
