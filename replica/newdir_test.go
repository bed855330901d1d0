package replica

import (
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
)

// TestReadRightsNewDir (issue 7): one commit of n0 makes /d (n1 may read
// it) with /d/x, and inside it /d/h with an .acl for n0 alone and
// /d/h/secret. n1 — whose key may read /d/h on that commit's parent, where
// the rules above it apply — takes /d/h as an opaque subtree: nothing
// under it is sent or named to it, and it converges; so it does after a
// later write in /d/h and after n0 grants it read there.
func TestReadRightsNewDir(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	world := n0.defaultWorld(t).ID()
	var only acl.ACL
	only.Grant(acl.Key(n0.h.NodeKey().Public32()), acl.All)
	b, err := only.Encode()
	must(t, err)
	n0.commit(t, n0.defaultWorld(t), putOp("/d/x", "everyone"),
		cdb.Op{Kind: cdb.Put, Path: "/d/h/.acl", Raw: b}, putOp("/d/h/secret", "n0 alone"))
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)
	n0.put(t, "/d/h/more", "n0 alone too")
	nw.converged(world, 15*time.Second)
	n0.mu.Lock()
	sent, held := n0.sent[n1.host.ID()], n0.held[n1.host.ID()]
	n0.mu.Unlock()
	for _, p := range append(sent, held...) {
		if strings.HasPrefix(p, "/d/h/") {
			t.Errorf("sent or named to n1: %s, inside /d/h", p)
		}
	}
	w1 := n1.world(world)
	opq, err := w1.OpaqueSubtrees()
	must(t, err)
	if _, ok := opq["/d/h"]; !ok {
		t.Errorf("n1's opaque subtrees: %v; want /d/h", opq)
	}
	if got, err := n1.text(t, world, "/d/x"); err != nil || got != "everyone" {
		t.Errorf("n1: /d/x = %q, %v", got, err)
	}
	if _, err := n1.text(t, world, "/d/h/secret"); err == nil {
		t.Errorf("n1 reads /d/h/secret")
	}
	if err := w1.Fsck(func(p string) { t.Errorf("n1 fsck: %s", p) }); err != nil {
		t.Errorf("n1 fsck: %v", err)
	}
	// n0 grants n1 read on /d/h: the grant travels whole, n1 follows.
	only.Grant(acl.Key(n1.h.NodeKey().Public32()), acl.Read)
	n0.putACL(t, "/d/h", only)
	nw.converged(world, 15*time.Second)
}
