package replica

import (
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/relay"
)

// TestAnnounce: a write on one node reaches a connected peer within a
// second (announced, pulled, stored).
func TestAnnounce(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	world := n0.defaultWorld(t).ID()
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)
	for range 5 {
		start := time.Now()
		ci := n0.put(t, "/latency", start.String())
		waitFor(t, time.Second, "the write reaches n1 within a second", func() bool { return n1.inHistory(t, world, ci.ID) })
		t.Logf("write to peer: %v", time.Since(start))
	}
}

// TestSyncNowStatus: a round reports per peer, and the status says who is
// in sync.
func TestSyncNowStatus(t *testing.T) {
	nw := newNetwork(t, 3)
	n0, n1, n2 := nw.nodes[0], nw.nodes[1], nw.nodes[2]
	world := n0.defaultWorld(t).ID()
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)
	reports, err := n1.e.SyncNow(bg, world)
	must(t, err)
	if len(reports) != 2 {
		t.Fatalf("round with 2 peers: %d reports: %+v", len(reports), reports)
	}
	for _, r := range reports {
		if !r.InSync || r.Error != "" || r.World != world {
			t.Errorf("report %+v, want in sync, no error, world %s", r, world)
		}
	}
	waitFor(t, 15*time.Second, "every peer in sync in n1's status", func() bool {
		st := n1.e.Status(world)
		if len(st) != 2 {
			return false
		}
		for _, s := range st {
			if !s.InSync || s.Key == "" {
				return false
			}
		}
		return true
	})
	// n2 cut off writes: n0 sees it behind until it heals.
	nw.cut(n2)
	n2.put(t, "/offline", "x")
	n0.put(t, "/online", "y")
	waitFor(t, 15*time.Second, "n0's status leaves out the disconnected n2", func() bool {
		for _, s := range n0.e.Status(world) {
			if s.Peer == n2.host.ID().String() {
				return false
			}
		}
		return true
	})
	nw.heal(n2)
	nw.converged(world, 15*time.Second)
	reports, err = n0.e.SyncNow(bg, world)
	must(t, err)
	for _, r := range reports {
		if !r.InSync {
			t.Errorf("after healing: %+v, want in sync", r)
		}
	}
}

// TestKeepAlive: an answer whose first Part comes later than the idle
// timeout still arrives: the sender keeps the stream alive with empty
// Parts while it reads.
func TestKeepAlive(t *testing.T) {
	nw := newNetworkOf(t, 2, true) // mocknet streams have no deadlines
	n0 := nw.nodes[0]
	world := n0.defaultWorld(t).ID()
	n0.put(t, "/a", "a")
	for _, nd := range nw.nodes {
		nd.relay = relay.Options{IdleTimeout: 150 * time.Millisecond}
	}
	n0.slow = 400 * time.Millisecond
	nw.start()
	nw.connect()
	nw.converged(world, 20*time.Second)
}

// TestMaxPull: an answer over the puller's MaxPull fails that pull without
// reporting the peer, which was honest.
func TestMaxPull(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	world := n0.defaultWorld(t).ID()
	n0.put(t, "/a", strings.Repeat("x", 4096))
	n1.maxPull = 1024
	nw.start()
	nw.connect()
	reports, err := n1.e.SyncNow(bg, world)
	must(t, err)
	failed := false
	for _, r := range reports {
		failed = failed || strings.Contains(r.Error, "MaxPull")
	}
	if !failed || n1.world(world) != nil {
		t.Errorf("pull over MaxPull: reports %+v, world held %v; want it refused", reports, n1.world(world) != nil)
	}
	if bad := n1.invalidPeers(); len(bad) != 0 {
		t.Errorf("n1 reported %v for an answer over its own bound", bad)
	}
}
