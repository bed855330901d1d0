package replica

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// branchHead returns nd's head of branch in world (zero if it lacks
// either).
func (nd *node) branchHead(world coda.ID, branch string) coda.ID {
	w := nd.world(world)
	if w == nil {
		return coda.ID{}
	}
	hs, err := branchHeads(w)
	if err != nil {
		return coda.ID{}
	}
	return hs[branch]
}

// onBranch writes text at path on branch of nd's default world (made at
// main's head if missing), again if a sync moved the branch meanwhile.
func (nd *node) onBranch(t testing.TB, branch, path, text string) cdb.CommitInfo {
	t.Helper()
	w := nd.defaultWorld(t)
	if err := w.CreateBranch(branch, coda.ID{}); err != nil && !errs.Is(err, errs.Exist) {
		t.Fatal(err)
	}
	must(t, w.Switch(branch))
	defer func() { must(t, w.Switch(cdb.DefaultBranch)) }()
	for {
		ci, err := w.Commit(bg, nd.h.NodeKey(), []cdb.Op{putOp(path, text)}, "on "+branch)
		if errs.Is(err, errs.Conflict) {
			continue
		}
		must(t, err)
		return ci
	}
}

// branchConverged waits until the nodes hold world's branch at one head,
// and returns it.
func branchConverged(t testing.TB, world coda.ID, branch string, d time.Duration, nodes ...*node) coda.ID {
	t.Helper()
	var last []string
	deadline := time.Now().Add(d)
	for {
		last = last[:0]
		h0 := nodes[0].branchHead(world, branch)
		same := !h0.IsZero()
		for _, nd := range nodes {
			h := nd.branchHead(world, branch)
			last = append(last, fmt.Sprintf("%s: %s", nd.name, h))
			same = same && h == h0
		}
		if same {
			return h0
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: branch %s not converged: %s", d, branch, strings.Join(last, "; "))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// textOn reads path at the head of branch on nd.
func (nd *node) textOn(t testing.TB, world coda.ID, branch, path string) (string, error) {
	w := nd.world(world)
	if w == nil {
		return "", fmt.Errorf("%s: no world", nd.name)
	}
	h := nd.branchHead(world, branch)
	if h.IsZero() {
		return "", fmt.Errorf("%s: no branch %s", nd.name, branch)
	}
	b, err := w.OpenBlob(h, path)
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
			return sb.String(), nil
		}
	}
}

// TestBranchSync: a branch made and written on one node of three appears
// on the others at the same head, main untouched; a write to it on
// another node reaches all; SyncNow and Status report it per branch.
func TestBranchSync(t *testing.T) {
	nw := newNetwork(t, 3)
	n0, n1, n2 := nw.nodes[0], nw.nodes[1], nw.nodes[2]
	world := n0.defaultWorld(t).ID()
	nw.start()
	nw.connect()
	main0, _ := nw.converged(world, 15*time.Second)

	f1 := n0.onBranch(t, "feature", "/f/one", "one")
	head := branchConverged(t, world, "feature", 15*time.Second, n0, n1, n2)
	if head != f1.ID {
		t.Errorf("feature converged on %s, want n0's commit %s", head, f1.ID)
	}
	if got, _ := nw.converged(world, 15*time.Second); got != main0 {
		t.Errorf("main moved to %s (was %s): a branch's commit leaked into main", got, main0)
	}
	if got, err := n2.textOn(t, world, "feature", "/f/one"); err != nil || got != "one" {
		t.Errorf("n2: feature:/f/one = %q, %v; want %q", got, err, "one")
	}
	if _, err := n2.text(t, world, "/f/one"); err == nil {
		t.Errorf("n2: /f/one is on main")
	}

	// A write on another node's copy reaches every node.
	f2 := n2.onBranch(t, "feature", "/f/two", "two")
	if head := branchConverged(t, world, "feature", 15*time.Second, n0, n1, n2); head != f2.ID {
		t.Errorf("feature converged on %s, want n2's fast-forward %s", head, f2.ID)
	}

	reports, err := n1.e.SyncNow(bg, world)
	must(t, err)
	var branches []string
	for _, r := range reports {
		if r.Error != "" {
			t.Errorf("report: %+v", r)
		}
		if !r.InSync {
			t.Errorf("report not in sync after convergence: %+v", r)
		}
		branches = append(branches, r.Branch)
	}
	if !slices.Contains(branches, "feature") || !slices.Contains(branches, cdb.DefaultBranch) {
		t.Errorf("reports name branches %v, want main and feature", branches)
	}
	st := n1.e.Status(world)
	if len(st) != 2 {
		t.Fatalf("status lists %d peers, want 2", len(st))
	}
	for _, p := range st {
		if len(p.Branches) != 2 || p.Branches[0].Branch != "feature" || p.Branches[1].Branch != cdb.DefaultBranch {
			t.Errorf("status of %s: branches %+v, want feature and main", p.Peer, p.Branches)
			continue
		}
		if b := p.Branches[0]; !b.InSync || b.Head != f2.ID || b.Ours != f2.ID {
			t.Errorf("status of %s: feature %+v, want in sync at %s", p.Peer, b, f2.ID)
		}
	}
}

// TestBranchLateJoiner: a node that connects after a branch was made gets
// the world and the branch in one go.
func TestBranchLateJoiner(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	world := n0.defaultWorld(t).ID()
	f := n0.onBranch(t, "topic", "/t", "t")
	n0.put(t, "/m", "m") // main moves on past the branch point
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)
	if h := branchConverged(t, world, "topic", 15*time.Second, n0, n1); h != f.ID {
		t.Errorf("topic at %s, want %s", h, f.ID)
	}
	if _, err := n1.textOn(t, world, "topic", "/m"); err == nil {
		t.Errorf("n1: topic holds main's later /m")
	}
}

// TestBranchConcurrent: two nodes cut apart write to the same branch
// (not main); healed, both end on one head holding both writes, while
// main stays where it was.
func TestBranchConcurrent(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	world := n0.defaultWorld(t).ID()
	nw.start()
	nw.connect()
	main0, _ := nw.converged(world, 15*time.Second)
	n0.onBranch(t, "dev", "/base", "base")
	branchConverged(t, world, "dev", 15*time.Second, n0, n1)

	nw.cut(n1)
	a := n0.onBranch(t, "dev", "/a", "from n0")
	b := n1.onBranch(t, "dev", "/b", "from n1")
	c := n1.onBranch(t, "dev", "/a", "n1 too")
	nw.heal(n1)
	head := branchConverged(t, world, "dev", 20*time.Second, n0, n1)
	for _, nd := range []*node{n0, n1} {
		w := nd.world(world)
		for _, id := range []coda.ID{a.ID, b.ID, c.ID} {
			if ok, err := isAncestor(w, id, head); err != nil || !ok {
				t.Errorf("%s: commit %s not in dev's history at %s (%v)", nd.name, id, head, err)
			}
		}
		if got, err := nd.textOn(t, world, "dev", "/b"); err != nil || got != "from n1" {
			t.Errorf("%s: dev:/b = %q, %v", nd.name, got, err)
		}
		if h, _ := nd.state(world); h != main0 {
			t.Errorf("%s: main moved to %s (was %s)", nd.name, h, main0)
		}
	}
	hc, err := n0.world(world).LoadCommit(head)
	must(t, err)
	if len(hc.Parents) != 2 {
		t.Errorf("dev's head %s has %d parents, want a merge of 2", head, len(hc.Parents))
	}
}

// TestBranchNotShown: a branch of a world a peer may not see is never
// announced to it nor stored there, nor is a branch whose head hides every
// top-level entry from it; a branch it may see arrives.
func TestBranchNotShown(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	priv, err := n0.h.NewWorld("private")
	must(t, err)
	n0.commit(t, priv, putOp("/secret", "s"))
	must(t, priv.CreateBranch("hush", coda.ID{}))

	// On the shared world, branch "closed" shuts n1 out at the root.
	var only acl.ACL
	only.Grant(acl.Key(n0.h.NodeKey().Public32()), acl.All)
	ob, err := only.Encode()
	must(t, err)
	w := n0.defaultWorld(t)
	must(t, w.CreateBranch("closed", coda.ID{}))
	must(t, w.Switch("closed"))
	n0.commit(t, w, cdb.Op{Kind: cdb.Put, Path: "/.acl", Raw: ob}, putOp("/x", "closed"))
	must(t, w.Switch(cdb.DefaultBranch))
	n0.onBranch(t, "open", "/o", "open")

	nw.start()
	nw.connect()
	world := w.ID()
	branchConverged(t, world, "open", 15*time.Second, n0, n1)
	_, err = n1.e.SyncNow(bg, coda.ID{})
	must(t, err)
	if n1.world(priv.ID()) != nil {
		t.Errorf("n1 holds the private world")
	}
	if h := n1.branchHead(world, "closed"); !h.IsZero() {
		t.Errorf("n1 holds branch closed at %s", h)
	}
	for _, h := range n0.e.headsFor(n1.h.NodeKey().Public).Heads {
		if h.World == priv.ID() || h.Branch == "closed" {
			t.Errorf("n0 shows n1 %+v", h)
		}
	}
	for _, p := range n1.e.Status(world) {
		for _, b := range p.Branches {
			if b.Branch == "closed" {
				t.Errorf("n1's status shows %+v", b)
			}
		}
	}
}

// TestHeadsBounds: a Heads of more than MaxBranches heads of one world,
// or of 10,000 heads, is refused naming the bound, as is a bad branch
// name; a peer that answers with one is reported and nothing of it is
// kept.
func TestHeadsBounds(t *testing.T) {
	many := func(n int, world coda.ID) Heads {
		var m Heads
		for i := range n {
			m.Heads = append(m.Heads, Head{World: world, Branch: fmt.Sprintf("b%05d", i), Head: idOf(9)})
		}
		return m
	}
	for _, tt := range []struct {
		name string
		m    Heads
		kind errs.Kind
		says string
	}{
		{"10,000 branches", many(10000, idOf(1)), errs.Limit, fmt.Sprintf("at most %d", MaxHeads)},
		{"a world's branches", many(MaxBranches+1, idOf(1)), errs.Limit, "MaxBranches"},
		{"HEAD", Heads{Heads: []Head{{World: idOf(1), Branch: "HEAD", Head: idOf(2)}}}, errs.Invalid, "bad branch name"},
		{"slash", Heads{Heads: []Head{{World: idOf(1), Branch: "a/b", Head: idOf(2)}}}, errs.Invalid, "bad branch name"},
		{"space", Heads{Heads: []Head{{World: idOf(1), Branch: "a b", Head: idOf(2)}}}, errs.Invalid, "bad branch name"},
		{"empty", Heads{Heads: []Head{{World: idOf(1), Branch: "", Head: idOf(2)}}}, errs.Invalid, "bad branch name"},
		{"long", Heads{Heads: []Head{{World: idOf(1), Branch: strings.Repeat("x", MaxBranchLen+1), Head: idOf(2)}}}, errs.Invalid, "branch name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Encode(tt.m)
			must(t, err)
			_, err = Decode(b)
			if !errs.Is(err, tt.kind) || err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Decode: %v; want %v naming %q", err, tt.kind, tt.says)
			}
		})
	}
	// MaxBranches heads of each of two worlds are fine.
	two := many(MaxBranches, idOf(1))
	two.Heads = append(two.Heads, many(MaxBranches, idOf(2)).Heads...)
	if b, err := Encode(two); err != nil {
		t.Fatal(err)
	} else if _, err := Decode(b); err != nil {
		t.Errorf("Decode of %d heads in two worlds: %v", len(two.Heads), err)
	}

	// Over the wire: a peer answering with 10,000 branches of the world.
	nw := newNetwork(t, 1)
	n0 := nw.nodes[0]
	world := n0.defaultWorld(t).ID()
	flood := nw.add("flood", secured(true))
	flood.host.SetStreamHandler(protocol.ID(Protocol), func(s network.Stream) {
		c := relay.Accept(bg, s, sendSchemas(), schemaReg, relay.Options{})
		defer c.Close()
		if _, err := recv(c); err != nil {
			return
		}
		if _, err := recv(c); err == nil {
			return
		}
		_ = send(c, many(10000, world))
		_ = c.CloseWrite()
	})
	must(t, nw.mn.LinkAll())
	nw.start(n0)
	nw.connect()
	waitFor(t, 15*time.Second, "the flooding peer reported", func() bool {
		return slices.Contains(n0.invalidPeers(), flood.host.ID())
	})
	bs, err := n0.defaultWorld(t).Branches()
	must(t, err)
	if len(bs) != 1 {
		t.Errorf("n0 has %d branches after the flood, want main alone", len(bs))
	}
	for _, p := range n0.e.Status(world) {
		if len(p.Branches) > 1 {
			t.Errorf("n0 keeps %d branches of the flooding peer", len(p.Branches))
		}
	}
}

// TestBranchNeedsAdmin: a branch reaches a node only from a peer whose key
// may change the world's branches there (admin of /, as a local caller
// needs): a writer's new branch stays its own, and a round reports why;
// an admin's arrives; the writer's commits to a branch both have arrive.
func TestBranchNeedsAdmin(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1] // n0 is admin of /, n1 may read and write
	world := n0.defaultWorld(t).ID()
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)

	n1.onBranch(t, "mine", "/m", "n1's") // cdb makes it: the rule is the API's and sync's
	n0.onBranch(t, "shared", "/s", "n0's")
	branchConverged(t, world, "shared", 15*time.Second, n0, n1)
	w1 := n1.onBranch(t, "shared", "/s1", "n1 writes to shared")
	if h := branchConverged(t, world, "shared", 15*time.Second, n0, n1); h != w1.ID {
		t.Errorf("shared at %s, want n1's commit %s", h, w1.ID)
	}
	reports, err := n0.e.SyncNow(bg, world)
	must(t, err)
	found := false
	for _, r := range reports {
		if r.Branch == "mine" {
			found = true
			if r.InSync || !strings.Contains(r.Error, "needs admin of /") {
				t.Errorf("n0's report of n1's branch: %+v, want not made, needing admin", r)
			}
		}
	}
	if !found {
		t.Errorf("n0's round reports no branch mine: %+v", reports)
	}
	if h := n0.branchHead(world, "mine"); !h.IsZero() {
		t.Errorf("n0 made n1's branch mine at %s", h)
	}
	// A world with MaxBranches branches gets no more by sync, whoever
	// announces them.
	err = n1.e.mayMake(n1.world(world), n0.host.ID(), "more", MaxBranches)
	if !errs.Is(err, errs.Limit) || !strings.Contains(err.Error(), "MaxBranches") {
		t.Errorf("mayMake at MaxBranches: %v, want a limit naming MaxBranches", err)
	}
	if err := n1.e.mayMake(n1.world(world), n0.host.ID(), "more", 3); err != nil {
		t.Errorf("mayMake of the admin's branch: %v", err)
	}
}
