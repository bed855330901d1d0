package node

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/coalescent/coal/relay"
)

// TestSwarm: Open starts the swarm with the node key as its identity;
// two nodes connect; Close stops it.
func TestSwarm(t *testing.T) {
	opts := Options{API: "127.0.0.1:0", NoMDNS: true, Listen: []string{"/ip4/127.0.0.1/tcp/0"}}
	a, err := Open(filepath.Join(t.TempDir(), "a"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(filepath.Join(t.TempDir(), "b"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	want, err := relay.PeerID(a.Home().NodeKey().Public)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Swarm().ID(); got != want {
		t.Fatalf("swarm id %s, want the node key's %s", got, want)
	}
	addrs := a.Swarm().Addrs()
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "/ip4/127.0.0.1/tcp/") || !strings.HasSuffix(addrs[0], "/p2p/"+want.String()) {
		t.Fatalf("Addrs() = %v, want one 127.0.0.1 TCP address ending in /p2p/%s", addrs, want)
	}
	events := make(chan bool, 8)
	bid := b.Swarm().ID()
	a.Swarm().Notify(func(p peer.ID, up bool) {
		if p == bid {
			events <- up
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := b.Swarm().Connect(ctx, addrs[0]); err != nil {
		t.Fatal(err)
	}
	next := func() bool {
		select {
		case up := <-events:
			return up
		case <-ctx.Done():
			t.Fatal("no connection event")
			return false
		}
	}
	if !next() {
		t.Fatal("first event of b at a is a disconnect")
	}
	// Closing b's node stops its swarm: a sees b leave.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if next() {
		t.Fatal("b connected again after its node closed")
	}
}

func TestNoSwarm(t *testing.T) {
	n, err := Open(filepath.Join(t.TempDir(), "h"), Options{NoSwarm: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Swarm() != nil {
		t.Error("Swarm() is not nil with NoSwarm")
	}
}
