package bundle

import (
	"bytes"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/coda"
)

// TestRelayBackToWriter (replica TestRevokedPeer's rare failure, made
// deterministic): bob's node M loses read on /pub. It writes in /bob,
// merges alice's revocation, then receives her later writes to /pub, in
// a subtree now opaque to it (it keeps both heads: a reader merges). The
// bundle M makes for alice's node holds its own commit and its merge,
// whose diff crosses /pub: M lists /pub as opaque, because it lacks the
// subtree by design. Alice holds it whole and may read it, so her node
// takes the bundle (before, it refused the honest M: "listed as an opaque
// subtree but no received commit's tree changes it", then "value … is
// listed as withheld but no received commit's tree holds it").
//
// The merge's diff crosses /pub only if its first parent is M's own
// commit: a merge orders its parents by id, so the case arises in about
// half of the worlds; the test makes new ones until it does (16 at most).
func TestRelayBackToWriter(t *testing.T) {
	for range 16 {
		if relayBack(t) {
			return
		}
	}
	t.Fatal("in 16 worlds, no merge of M's had its own commit first: the case this test is for did not arise")
}

// relayBack runs TestRelayBackToWriter's story in a new world and reports
// whether M's merge had M's commit as its first parent.
func relayBack(t *testing.T) bool {
	a := origin(t)
	bob := a.key(t, "bob")
	var bobs acl.ACL
	bobs.Grant(acl.Key(a.key(t, "alice").Public32()), acl.All)
	bobs.Grant(acl.Key(bob.Public32()), acl.Read|acl.Write)
	a.putACL(t, "alice", "/bob", bobs)
	m := clone(t, a.bundle(t, "bob", CreateOptions{}), secured())
	_, err := m.h.ImportKey("bob", mustExport(t, a.h, "bob"))
	must(t, err)
	seen := a.head(t)

	// Alice revokes bob's read on /pub; M writes in /bob and merges the
	// revocation.
	a.putACL(t, "alice", "/pub", grant(a.key(t, "alice"), acl.All))
	revoked := a.head(t)
	m.put(t, "bob", "/bob/note", "from M")
	own := m.head(t)
	res, err := Apply(ctx, m.w, bytes.NewReader(a.bundle(t, "alice", CreateOptions{Reader: bob.Public, Haves: []coda.ID{seen}})), "")
	must(t, err)
	if res.Merge == nil {
		t.Fatalf("M did not merge the revocation: %+v", res)
	}
	mine := m.head(t)
	mc, err := m.w.LoadCommit(mine)
	must(t, err)
	if mc.Parents[0] != own {
		return false
	}

	// Alice writes in /pub and elsewhere; M gets it with /pub opaque.
	a.put(t, "alice", "/pub/secret", "after the revocation")
	a.put(t, "alice", "/else", "everyone")
	if _, err := Apply(ctx, m.w, bytes.NewReader(a.bundle(t, "alice", CreateOptions{Reader: bob.Public, Haves: []coda.ID{revoked}})), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := m.text(t, "/pub/secret"); err == nil {
		t.Fatal("M reads /pub/secret")
	}

	// Alice's node takes M's commits, made by M as her reader.
	var toA bytes.Buffer
	st, err := Create(m.w, m.key(t, "bob"), &toA, CreateOptions{Reader: a.key(t, "alice").Public, Head: mine, Haves: []coda.ID{revoked}})
	must(t, err)
	if len(st.Header.Opaque) == 0 {
		t.Fatalf("M's bundle lists no opaque subtree (%+v): the case this test is for did not arise", st.Header)
	}
	res, err = Apply(ctx, a.w, bytes.NewReader(toA.Bytes()), "")
	if err != nil {
		t.Fatalf("alice's node refuses M's honest bundle (opaque %v, withheld %d): %v", st.Header.Opaque, len(st.Header.Withheld), err)
	}
	for p, want := range map[string]string{"/bob/note": "from M", "/pub/secret": "after the revocation", "/else": "everyone"} {
		if got, err := a.text(t, p); err != nil || got != want {
			t.Errorf("alice: %s = %q, %v; want %q (after %+v)", p, got, err, want, res)
		}
	}
	if err := a.w.Fsck(func(p string) { t.Errorf("alice fsck: %s", p) }); err != nil {
		t.Errorf("alice fsck: %v", err)
	}
	return true
}
