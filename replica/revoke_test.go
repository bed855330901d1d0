package replica

import (
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
)

// TestRevokedPeer (issue 7): n1 may read /pub, syncs it, then n0 revokes
// its read and writes there and elsewhere. n1 keeps syncing the rest of
// the world both ways (it does not get stuck refusing n0's answers), gets
// nothing written under /pub while revoked (counted at the sender), also
// when a grant, writes and a revocation again arrive in one pull.
func TestRevokedPeer(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	world := n0.defaultWorld(t).ID()
	var both, only acl.ACL
	both.Grant(acl.Key(n0.h.NodeKey().Public32()), acl.All)
	both.Grant(acl.Key(n1.h.NodeKey().Public32()), acl.Read|acl.Write)
	only.Grant(acl.Key(n0.h.NodeKey().Public32()), acl.All)
	n0.putACL(t, "/pub", both)
	n0.put(t, "/pub/hello", "n1 may read this")
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)
	if got, err := n1.text(t, world, "/pub/hello"); err != nil || got != "n1 may read this" {
		t.Fatalf("n1: /pub/hello = %q, %v", got, err)
	}
	// Revoked: n0 writes inside /pub and elsewhere, n1 elsewhere.
	n0.putACL(t, "/pub", only)
	n0.put(t, "/pub/secret", "after the revocation")
	n0.put(t, "/pub/deep/secret", "after the revocation too")
	n0.put(t, "/else", "everyone")
	n1.put(t, "/fromn1", "n1")
	nw.converged(world, 20*time.Second)
	n0.put(t, "/else2", "everyone again")
	nw.converged(world, 20*time.Second)
	for p, want := range map[string]string{"/else": "everyone", "/else2": "everyone again"} {
		if got, err := n1.text(t, world, p); err != nil || got != want {
			t.Errorf("n1: %s = %q, %v", p, got, err)
		}
	}
	if got, err := n0.text(t, world, "/fromn1"); err != nil || got != "n1" {
		t.Errorf("n0: /fromn1 = %q, %v", got, err)
	}
	for _, p := range []string{"/pub/secret", "/pub/deep/secret"} {
		if _, err := n1.text(t, world, p); err == nil {
			t.Errorf("n1 reads %s", p)
		}
	}
	n0.mu.Lock()
	sent := strings.Join(n0.sent[n1.host.ID()], " ")
	n0.mu.Unlock()
	if strings.Contains(sent, "secret") {
		t.Errorf("sent to n1: %s; want nothing written under /pub while revoked", sent)
	}
	if err := n1.world(world).Fsck(func(p string) { t.Errorf("n1 fsck: %s", p) }); err != nil {
		t.Errorf("n1 fsck: %v", err)
	}
	// Cut apart, n0 grants again (the same .acl bytes), writes, revokes
	// again and writes: n1 gets it all in one pull, and may read what was
	// written while granted.
	nw.cut(n1)
	n0.putACL(t, "/pub", both)
	n0.put(t, "/pub/again", "n1 may read this again")
	n0.putACL(t, "/pub", only)
	n0.put(t, "/pub/secret2", "revoked again")
	n0.put(t, "/else3", "everyone, last")
	nw.heal(n1)
	nw.converged(world, 20*time.Second)
	if got, err := n1.text(t, world, "/else3"); err != nil || got != "everyone, last" {
		t.Errorf("n1: /else3 = %q, %v", got, err)
	}
	if _, err := n1.text(t, world, "/pub/secret2"); err == nil {
		t.Errorf("n1 reads /pub/secret2")
	}
	n0.mu.Lock()
	sent = strings.Join(n0.sent[n1.host.ID()], " ")
	n0.mu.Unlock()
	if strings.Contains(sent, "secret") {
		t.Errorf("sent to n1: %s; want nothing written under /pub while revoked", sent)
	}
}
