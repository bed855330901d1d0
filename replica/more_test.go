package replica

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/bundle"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
)

// TestPartition: a node cut off keeps writing, as do the others; healed,
// all converge with every acknowledged commit, and the concurrent writes
// to one path are listed as a conflict.
func TestPartition(t *testing.T) {
	nw := newNetwork(t, 3)
	n0, n2 := nw.nodes[0], nw.nodes[2]
	world := n0.defaultWorld(t).ID()
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)
	nw.cut(n2)
	var acked []coda.ID
	for i := range 3 {
		acked = append(acked, n2.put(t, fmt.Sprintf("/n2/%d", i), "cut off").ID)
		acked = append(acked, n0.put(t, fmt.Sprintf("/n0/%d", i), "connected").ID)
	}
	acked = append(acked, n0.put(t, "/x", "from n0").ID, n2.put(t, "/x", "from n2").ID)
	nw.converged(world, 15*time.Second, nw.nodes[0], nw.nodes[1])
	if h, _ := n2.state(world); n2.inHistory(t, world, acked[1]) {
		t.Fatalf("the cut-off node %s holds n0's commit %s at %s", n2.name, acked[1], h)
	}
	nw.heal(n2)
	head, _ := nw.converged(world, 20*time.Second)
	for _, nd := range nw.nodes {
		for _, c := range acked {
			if !nd.inHistory(t, world, c) {
				t.Errorf("%s: acknowledged commit %s missing", nd.name, c)
			}
		}
	}
	// The conflict on /x is listed by a merge in the history.
	w := n0.world(world)
	found := false
	stack, seen := []coda.ID{head}, map[coda.ID]bool{}
	for len(stack) > 0 && !found {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		c, err := w.LoadCommit(id)
		must(t, err)
		for _, k := range c.Conflicts {
			found = found || k.Path == "/x"
		}
		stack = append(stack, c.Parents...)
	}
	if !found {
		t.Errorf("no merge lists the conflict on /x")
	}
	want, err := n0.text(t, world, "/x")
	must(t, err)
	for _, nd := range nw.nodes {
		if got, _ := nd.text(t, world, "/x"); got != want {
			t.Errorf("%s: /x = %q, want %q everywhere", nd.name, got, want)
		}
	}
}

// TestLateJoiner: a node that connects after a history was written gets
// all of it.
func TestLateJoiner(t *testing.T) {
	nw := newNetwork(t, 3)
	n0, n1, late := nw.nodes[0], nw.nodes[1], nw.nodes[2]
	world := n0.defaultWorld(t).ID()
	nw.start()
	nw.connect(n0, n1)
	nw.converged(world, 15*time.Second, n0, n1)
	for i := range 10 {
		n0.put(t, fmt.Sprintf("/a/%d", i), "a")
		n1.put(t, fmt.Sprintf("/b/%d", i), "b")
	}
	nw.converged(world, 15*time.Second, n0, n1)
	if late.world(world) != nil {
		t.Fatalf("the late node holds the world before it connects")
	}
	nw.connect()
	head, _ := nw.converged(world, 15*time.Second)
	count := func(nd *node) int {
		w := nd.world(world)
		n, stack, seen := 0, []coda.ID{head}, map[coda.ID]bool{}
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[id] {
				continue
			}
			seen[id] = true
			c, err := w.LoadCommit(id)
			if err != nil {
				t.Fatalf("%s: commit %s: %v", nd.name, id, err)
			}
			n++
			stack = append(stack, c.Parents...)
		}
		return n
	}
	if a, b := count(n0), count(late); a != b || a < 21 {
		t.Errorf("history: %d commits on n0, %d on the late node; want equal, at least 21", a, b)
	}
}

// TestReadRights: a peer that may not read /p gets no value under /p
// (counted at the sender), only /p's .acl, which validation needs; it
// still syncs the rest.
func TestReadRights(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	world := n0.defaultWorld(t).ID()
	var only acl.ACL
	only.Grant(acl.Key(n0.h.NodeKey().Public32()), acl.All)
	n0.putACL(t, "/p", only)
	n0.put(t, "/p/secret", "n0 only")
	n0.put(t, "/p/deep/secret", "n0 only")
	n0.put(t, "/pub/hello", "everyone")
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)
	n0.put(t, "/p/later", "n0 only")
	n1.put(t, "/pub/fromn1", "n1")
	nw.converged(world, 15*time.Second)
	n0.mu.Lock()
	sent, held := n0.sent[n1.host.ID()], n0.held[n1.host.ID()]
	n0.mu.Unlock()
	var under []string
	for _, p := range sent {
		if strings.HasPrefix(p, "/p/") && p != "/p/.acl" {
			under = append(under, p)
		}
	}
	if len(under) != 0 {
		t.Errorf("sent to n1 under /p: %v; want none", under)
	}
	// /p is opaque to n1: its values are not even named to it (the diffs
	// do not enter /p), so nothing under /p is listed as withheld either.
	if strings.Contains(strings.Join(held, " "), "/p/") {
		t.Errorf("named to n1 as withheld: %v; want nothing under /p", held)
	}
	// n1 holds /p as an opaque subtree: its entry in /'s node, not its node.
	w1 := n1.world(world)
	opq, err := w1.OpaqueSubtrees()
	must(t, err)
	if _, ok := opq["/p"]; !ok || len(opq) != 1 {
		t.Errorf("n1's opaque subtrees: %v; want /p", opq)
	}
	head1, err := w1.Resolve(cdb.DefaultBranch)
	must(t, err)
	c1, err := w1.LoadCommit(head1)
	must(t, err)
	e, err := tree.New(n1.h.Store()).Get(c1.Tree, "/p")
	must(t, err)
	if ok, err := n1.h.Store().Has(e.ID); e.Kind != tree.KindDir || err != nil || ok {
		t.Errorf("n1: /p is %+v, its node held %v (%v); want a directory whose node n1 lacks", e, ok, err)
	}
	if fsckErr := w1.Fsck(func(p string) { t.Errorf("n1 fsck: %s", p) }); fsckErr != nil {
		t.Errorf("n1 fsck: %v", fsckErr)
	}
	// What sync sends n1 (a bundle made as n1, from nothing): no tree node,
	// no op group, no name from inside /p.
	var answer bytes.Buffer
	_, err = bundle.Create(n0.defaultWorld(t), n0.h.NodeKey(), &answer, bundle.CreateOptions{Reader: n1.h.NodeKey().Public})
	must(t, err)
	for _, name := range []string{"secret", "deep", "later", "n0 only"} {
		if bytes.Contains(answer.Bytes(), []byte(name)) {
			t.Errorf("the bundle for n1 holds %q, from inside /p", name)
		}
	}
	hdr, objs, err := bundle.Read(bytes.NewReader(answer.Bytes()))
	must(t, err)
	if !slices.Equal(hdr.Opaque, []string{"/p"}) {
		t.Errorf("the bundle for n1: opaque %v, want [/p]", hdr.Opaque)
	}
	// No tree node of /p is among its objects, but that of the commit
	// that made /p with its .acl (judged on its parent, where /p did not
	// exist and n1 could read there: it holds /p/.acl alone).
	w0 := n0.defaultWorld(t)
	log, err := w0.Log(coda.ID{}, "", 0)
	must(t, err)
	var versions []coda.ID // /p's node, oldest first
	for _, ci := range slices.Backward(log) {
		c, err := w0.LoadCommit(ci.ID)
		must(t, err)
		if e, err := tree.New(n0.h.Store()).Get(c.Tree, "/p"); err == nil && e.Kind == tree.KindDir && !slices.Contains(versions, e.ID) {
			versions = append(versions, e.ID)
		}
	}
	if len(versions) < 3 {
		t.Fatalf("/p has %d versions at n0, want at least 3", len(versions))
	}
	for i, id := range versions {
		if _, ok := objs[id]; ok != (i == 0) {
			t.Errorf("the bundle for n1: /p's version %d (node %s) sent %v", i, id, ok)
		}
	}
	// A reader (n0 as itself) gets all of it.
	answer.Reset()
	_, err = bundle.Create(n0.defaultWorld(t), n0.h.NodeKey(), &answer, bundle.CreateOptions{})
	must(t, err)
	if !bytes.Contains(answer.Bytes(), []byte("deep")) {
		t.Errorf("the bundle for n0 lacks /p/deep")
	}
	if !strings.Contains(strings.Join(sent, " "), "/pub/hello") {
		t.Errorf("sent to n1: %v; want /pub/hello", sent)
	}
	if _, err := n1.text(t, world, "/p/secret"); err == nil {
		t.Errorf("n1 reads /p/secret")
	}
	if got, err := n1.text(t, world, "/pub/hello"); err != nil || got != "everyone" {
		t.Errorf("n1: /pub/hello = %q, %v", got, err)
	}
	if got, err := n0.text(t, world, "/pub/fromn1"); err != nil || got != "n1" {
		t.Errorf("n0: /pub/fromn1 = %q, %v", got, err)
	}
}

// TestNotShown: a world a peer may read nothing of is not announced to
// it, and a Pull of it is refused as for a world that does not exist.
func TestNotShown(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	w, err := n0.h.NewWorld("private")
	must(t, err)
	n0.commit(t, w, putOp("/secret", "s"))
	nw.start()
	nw.connect()
	nw.converged(n0.defaultWorld(t).ID(), 15*time.Second)
	reports, err := n1.e.SyncNow(bg, coda.ID{})
	must(t, err)
	if n1.world(w.ID()) != nil {
		t.Errorf("n1 holds the private world")
	}
	for _, r := range reports {
		if r.World == w.ID() {
			t.Errorf("n1's round reports the private world: %+v", r)
		}
	}
	head, err := w.Resolve(cdb.DefaultBranch)
	must(t, err)
	var r PeerReport
	err = n1.e.pull(bg, n0.host.ID(), nil, w.ID(), cdb.DefaultBranch, head, &r)
	if err == nil || !strings.Contains(err.Error(), "no world") {
		t.Errorf("pull of the private world: %v; want refused as not existing", err)
	}
}

// TestMerkleTransfer: after one change in a world of 10,000 entries, a
// sync moves tens of objects, not thousands.
func TestMerkleTransfer(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	w := n0.defaultWorld(t)
	const n = 10000
	for batch := range 10 {
		ops := make([]cdb.Op, 0, n/10)
		for i := range n / 10 {
			ops = append(ops, putOp(fmt.Sprintf("/d%d/e%05d", i%7, batch*n/10+i), fmt.Sprintf("v%d", batch*n/10+i)))
		}
		n0.commit(t, w, ops...)
	}
	nw.start()
	nw.connect()
	nw.converged(w.ID(), 20*time.Second)
	var before PeerStats
	waitFor(t, 15*time.Second, "n1 counts the clone", func() bool {
		before = n1.e.Stats(n0.host.ID())
		return before.Pulls > 0
	})
	n0.put(t, "/d3/e04242", "changed")
	nw.converged(w.ID(), 15*time.Second)
	var after PeerStats
	waitFor(t, 15*time.Second, "n1 counts the pull", func() bool { // counted just after Receive
		after = n1.e.Stats(n0.host.ID())
		return after.Pulls > before.Pulls
	})
	objs, bytes := after.ObjectsRecv-before.ObjectsRecv, after.BytesRecv-before.BytesRecv
	t.Logf("clone: %d objects, %d bytes; one change: %d objects, %d bytes", before.ObjectsRecv, before.BytesRecv, objs, bytes)
	if before.ObjectsRecv < n {
		t.Errorf("clone moved %d objects, want at least %d", before.ObjectsRecv, n)
	}
	if objs == 0 || objs >= 60 {
		t.Errorf("one change moved %d objects, want 1..59", objs)
	}
}

// TestOpaqueConverge: /p is n0's and n2's alone (opaque to n1). n0 and n2
// change /p while cut apart; healed, n1 cannot merge their heads (both
// changed /p), keeps its head, and follows the merge a reader makes: all
// three converge on one head and root, n1 still without /p's node, its
// fsck clean, the readers holding both writes.
func TestOpaqueConverge(t *testing.T) {
	nw := newNetwork(t, 3)
	n0, n1, n2 := nw.nodes[0], nw.nodes[1], nw.nodes[2]
	world := n0.defaultWorld(t).ID()
	var two acl.ACL
	two.Grant(acl.Key(n0.h.NodeKey().Public32()), acl.All)
	two.Grant(acl.Key(n2.h.NodeKey().Public32()), acl.All)
	n0.putACL(t, "/p", two)
	n0.put(t, "/p/base", "readers only")
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)
	nw.cut(n2)
	a := n0.put(t, "/p/a", "from n0").ID
	b := n2.put(t, "/p/b", "from n2").ID
	n1.put(t, "/pub/n1", "n1")
	nw.converged(world, 15*time.Second, n0, n1)
	nw.heal(n2)
	head, _ := nw.converged(world, 20*time.Second)
	for _, nd := range nw.nodes {
		for _, c := range []coda.ID{a, b} {
			if !nd.inHistory(t, world, c) {
				t.Errorf("%s: commit %s missing", nd.name, c)
			}
		}
	}
	for _, nd := range []*node{n0, n2} {
		for p, want := range map[string]string{"/p/a": "from n0", "/p/b": "from n2", "/pub/n1": "n1"} {
			if got, err := nd.text(t, world, p); err != nil || got != want {
				t.Errorf("%s: %s = %q, %v", nd.name, p, got, err)
			}
		}
	}
	w1 := n1.world(world)
	c1, err := w1.LoadCommit(head)
	must(t, err)
	e, err := tree.New(n1.h.Store()).Get(c1.Tree, "/p")
	must(t, err)
	if ok, _ := n1.h.Store().Has(e.ID); ok {
		t.Errorf("n1 holds /p's node")
	}
	if err := w1.Fsck(func(p string) { t.Errorf("n1 fsck: %s", p) }); err != nil {
		t.Errorf("n1 fsck: %v", err)
	}
}
