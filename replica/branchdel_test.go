package replica

import (
	"testing"
	"time"

	"github.com/coalescent/coal/coda"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// heardHead waits until nd's engine has heard from's head of world's
// branch be want (docs/sync.md §3), so that a round after it sees it.
func (nd *node) heardHead(t testing.TB, from *node, world coda.ID, branch string, want coda.ID) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		nd.e.mu.Lock()
		var got coda.ID
		if ps := nd.e.peers[from.host.ID()]; ps != nil {
			got = ps.heads[world][branch]
		}
		nd.e.mu.Unlock()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s heard %s's %s at %s, want %s", nd.name, from.name, branch, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// deletedRound runs a sync round on nd and checks that branch stays
// deleted there and the round reports the peer's head of it as ignored.
func deletedRound(t *testing.T, nd *node, world coda.ID, branch string) {
	t.Helper()
	reports, err := nd.e.SyncNow(bg, world)
	must(t, err)
	found := false
	for _, r := range reports {
		if r.Branch != branch {
			continue
		}
		found = true
		if !r.Deleted || r.InSync || r.Error != "" || r.Commits != 0 {
			t.Errorf("%s: report of the deleted %s: %+v, want deleted, ignored", nd.name, branch, r)
		}
	}
	if !found {
		t.Errorf("%s: the round reports no %s: %+v", nd.name, branch, reports)
	}
	if h := nd.branchHead(world, branch); !h.IsZero() {
		t.Errorf("%s: deleted branch %s came back at %s", nd.name, branch, h)
	}
}

// TestBranchDeleteSync: node 1 (n1) deletes B while node 2 (n0, admin of
// /) still has it at the same head: B does not come back on n1 after sync
// rounds; nor when n0's head is an ancestor of the deleted head; once n0
// writes to B, B comes back on n1 at n0's head and the tombstone goes.
func TestBranchDeleteSync(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	world := n0.defaultWorld(t).ID()
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)

	n0.onBranch(t, "B", "/b/one", "one")
	h1 := branchConverged(t, world, "B", 15*time.Second, n0, n1)
	w1 := n1.world(world)
	got, err := w1.DeleteBranch("B")
	must(t, err)
	if got != h1 {
		t.Fatalf("DeleteBranch = %s, want the head %s", got, h1)
	}
	n1.heardHead(t, n0, world, "B", h1)
	deletedRound(t, n1, world, "B")
	deletedRound(t, n1, world, "B")
	if h := n0.branchHead(world, "B"); h != h1 {
		t.Errorf("n0's B at %s, want %s: a deletion is each node's own", h, h1)
	}

	// n0 writes to B: B comes back on n1 at n0's head.
	c := n0.onBranch(t, "B", "/b/two", "two")
	if h := branchConverged(t, world, "B", 15*time.Second, n0, n1); h != c.ID {
		t.Errorf("B back at %s, want n0's %s", h, c.ID)
	}
	if _, ok, err := w1.DeletedBranch("B"); ok || err != nil {
		t.Errorf("n1: tombstone of B after it came back: %v, %v", ok, err)
	}
	if got, err := n1.textOn(t, world, "B", "/b/two"); err != nil || got != "two" {
		t.Errorf("n1: B:/b/two = %q, %v; want two", got, err)
	}

	// Cut off, n1 writes to B and deletes it there: n0's older head,
	// an ancestor of the deleted one, does not bring it back.
	nw.cut(n1)
	mine := n1.onBranch(t, "B", "/b/three", "n1's")
	if _, err := w1.DeleteBranch("B"); err != nil {
		t.Fatal(err)
	}
	nw.heal(n1)
	n1.heardHead(t, n0, world, "B", c.ID)
	deletedRound(t, n1, world, "B")
	if h := n0.branchHead(world, "B"); h != c.ID {
		t.Errorf("n0's B at %s, want %s (n1 no longer shows B)", h, c.ID)
	}
	// n0 writes again: a head diverged from the deleted one brings B
	// back at n0's head, without n1's deleted commit.
	d := n0.onBranch(t, "B", "/b/four", "four")
	if h := branchConverged(t, world, "B", 15*time.Second, n0, n1); h != d.ID {
		t.Errorf("B back at %s, want n0's %s", h, d.ID)
	}
	if n1.inHistory(t, world, mine.ID) && isIn(t, n1, world, "B", mine.ID) {
		t.Errorf("n1: B came back holding n1's commit made before the delete")
	}
}

// isIn reports whether c is in the history of nd's branch.
func isIn(t *testing.T, nd *node, world coda.ID, branch string, c coda.ID) bool {
	t.Helper()
	ok, err := isAncestor(nd.world(world), c, nd.branchHead(world, branch))
	must(t, err)
	return ok
}

// TestStaleDeleted: the rule of docs/sync.md, "Deletion", on one node's
// DAG: the tombstone's head and its ancestors are stale; a descendant, a
// diverged head and an unknown commit are not; no tombstone, nothing is.
func TestStaleDeleted(t *testing.T) {
	nw := newNetwork(t, 1)
	n0 := nw.nodes[0]
	w := n0.defaultWorld(t)
	base := n0.onBranch(t, "B", "/b/1", "1")
	dead := n0.onBranch(t, "B", "/b/2", "2")
	if stale, err := staleDeleted(w, "B", base.ID); stale || err != nil {
		t.Errorf("no tombstone: stale = %v, %v", stale, err)
	}
	_, err := w.DeleteBranch("B")
	must(t, err)
	other := n0.onBranch(t, "C", "/c", "c") // C at main's head: diverged from B
	must(t, w.CreateBranch("D", dead.ID))
	after := n0.onBranch(t, "D", "/d", "d") // descends from the deleted head
	for _, tc := range []struct {
		name string
		head coda.ID
		want bool
	}{
		{"the deleted head", dead.ID, true},
		{"its parent", base.ID, true},
		{"the genesis", w.ID(), true},
		{"a descendant", after.ID, false},
		{"a diverged head", other.ID, false},
		{"an unknown commit", coda.Sum([]byte("not a commit here")), false},
	} {
		stale, err := staleDeleted(w, "B", tc.head)
		if err != nil || stale != tc.want {
			t.Errorf("%s: stale = %v, %v; want %v", tc.name, stale, err, tc.want)
		}
	}
}

// limitedNet is a network where every peer is connected only through a
// relay.
type limitedNet struct{ network.Network }

func (limitedNet) Connectedness(peer.ID) network.Connectedness { return network.Limited }

type goneNet struct{ network.Network }

func (goneNet) Connectedness(peer.ID) network.Connectedness { return network.NotConnected }

// TestDisconnectKeepsRelayed: a peer whose direct connection closed while
// a relayed one is left (network.Limited) keeps its state; one with no
// connection left loses it.
func TestDisconnectKeepsRelayed(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	nw.start()
	nw.connect()
	nw.converged(n0.defaultWorld(t).ID(), 15*time.Second)
	p := n1.host.ID()
	has := func() bool {
		n0.e.mu.Lock()
		defer n0.e.mu.Unlock()
		return n0.e.peers[p] != nil
	}
	if !has() {
		t.Fatal("n0 has no state of n1 after converging")
	}
	n0.e.disconnected(limitedNet{}, p)
	if !has() {
		t.Errorf("the state of a peer still reached through a relay was dropped")
	}
	n0.e.disconnected(goneNet{}, p)
	if has() {
		t.Errorf("the state of a peer with no connection left was kept")
	}
	if !linked(network.Connected) || !linked(network.Limited) || linked(network.NotConnected) {
		t.Errorf("linked: want Connected and Limited, not NotConnected")
	}
}
