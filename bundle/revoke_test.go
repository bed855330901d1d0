package bundle

import (
	"bytes"
	"crypto/ed25519"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// onlyReadable checks that the home c holds no value of a's world that
// reader may read at no commit of a (judged in that commit's tree, and at
// a's head) unless validation needs it whoever reads (.acl entries,
// groups): a clone of bundles made as reader receives nothing else.
func onlyReadable(t *testing.T, a *open, c *cdb.Home, reader ed25519.PublicKey, what string) {
	t.Helper()
	pol := a.h.Policy()
	st := a.h.Store()
	tr := tree.New(st)
	head := a.head(t)
	hc, err := a.w.LoadCommit(head)
	must(t, err)
	headF := pol.ReadFilter(st, a.w.ID(), hc.Tree, reader)
	readable, unreadable := map[coda.ID]bool{}, map[coda.ID]string{}
	must(t, walk(a.w, head, func(k *cdb.Commit) bool {
		f := pol.ReadFilter(st, a.w.ID(), k.Tree, reader)
		err := tr.Walk(k.Tree, "/", func(p string, e tree.Entry) error {
			if policyPath(p, false) || f(p) || headF(p) {
				readable[e.ID] = true
			} else {
				unreadable[e.ID] = p
			}
			return nil
		})
		if err != nil && !errs.Is(err, errs.NotExist) {
			t.Fatalf("%s: walk %s: %v", what, k.ID, err)
		}
		return true
	}))
	n := 0
	for id, p := range unreadable {
		if readable[id] {
			continue
		}
		n++
		if ok, err := c.Store().Has(id); err != nil || ok {
			t.Errorf("%s: the clone holds %s (at %s), which the reader may read at no commit (%v)", what, id, p, err)
		}
	}
	if n == 0 {
		t.Logf("%s: every value is readable somewhere", what)
	}
}

// TestRevokedReader (issue 7, reproduction 1): after alice revokes bob's
// read on /pub (he could read it before) and writes there, a bundle made
// as bob is received, at the origin's head, and holds nothing bob may not
// read; so do the bundles after alice grants it again (the same .acl
// bytes: the same op group as the first grant) and after a write while
// revoked. A forged write to /pub made while bob may not read it is
// still refused when it arrives whole.
func TestRevokedReader(t *testing.T) {
	a := origin(t)
	bob := a.key(t, "bob").Public
	a.putACL(t, "alice", "/pub", grant(a.key(t, "alice"), acl.All))
	a.put(t, "alice", "/pub/secret", "after the revocation")
	a.put(t, "alice", "/pub/sub/deep", "after the revocation too")
	c := clone(t, a.bundle(t, "bob", CreateOptions{}), secured())
	if c.head(t) != a.head(t) {
		t.Fatalf("revoked: the clone's head %s, want %s", c.head(t), a.head(t))
	}
	onlyReadable(t, a, c.h, bob, "revoked")
	if _, err := c.text(t, "/pub/secret"); err == nil {
		t.Errorf("revoked: /pub/secret is readable in the clone")
	}
	since := a.head(t)
	// Granted again (the first grant's bytes), then revoked again.
	again := grant(a.key(t, "bob"), acl.Read|acl.Write)
	a.putACL(t, "alice", "/pub", again)
	a.put(t, "bob", "/pub/back", "bob again")
	a.putACL(t, "alice", "/pub", grant(a.key(t, "alice"), acl.All))
	a.put(t, "alice", "/pub/secret2", "revoked again")
	if _, err := Apply(ctx, c.w, bytes.NewReader(a.bundle(t, "bob", CreateOptions{Since: since})), ""); err != nil {
		t.Fatalf("granted again, incremental: %v", err)
	}
	if c.head(t) != a.head(t) {
		t.Fatalf("granted again: the clone's head %s, want %s", c.head(t), a.head(t))
	}
	c2 := clone(t, a.bundle(t, "bob", CreateOptions{}), secured())
	if c2.head(t) != a.head(t) {
		t.Fatalf("granted again, whole: the clone's head %s, want %s", c2.head(t), a.head(t))
	}
	onlyReadable(t, a, c.h, bob, "incremental")
	onlyReadable(t, a, c2.h, bob, "whole")
	if _, err := c2.w.Replay(nil); err != nil {
		t.Errorf("the clone's replay: %v", err)
	}
	// Bob writes to /pub without the right, on a home that checks no
	// rights; made whole (as alice) the commit is refused.
	m := attacker(t, a)
	g := m.head(t)
	m.put(t, "bob", "/pub/evil", "bob has no right here any more")
	before := state(t, c.h)
	_, err := Apply(ctx, c.w, bytes.NewReader(m.bundle(t, "bob", CreateOptions{Since: g, Reader: a.key(t, "alice").Public})), "")
	if !errs.Is(err, errs.Permission) || !strings.Contains(err.Error(), "/pub/evil") {
		t.Errorf("bob's write to /pub, whole: %v; want a permission error naming /pub/evil", err)
	}
	if after := state(t, c.h); after != before {
		t.Errorf("something was stored:\nbefore %s\nafter  %s", before, after)
	}
}

// TestHiddenChangeReadable: a forged bundle that lists /pub as opaque,
// keeps its nodes on both sides of a commit's diff and withholds the
// commit's op group in /pub (bob's write there, without the right) is
// refused by a node that may read /pub on the commit's parent: an
// opaque subtree whose nodes are here is taken unchecked only where the
// receiver may read it on neither side. A node that may not read /pub
// accepts it with its opaque part (docs/sync.md: it cannot check it).
func TestHiddenChangeReadable(t *testing.T) {
	for _, readable := range []bool{true, false} {
		a := origin(t)
		rules := grant(a.key(t, "alice"), acl.All)
		if readable {
			rules.Grant(acl.Anyone, acl.Read) // the clone's node key reads /pub
		}
		a.putACL(t, "alice", "/pub", rules)
		a.put(t, "alice", "/pub/base", "a value")
		c := clone(t, a.bundle(t, "alice", CreateOptions{}), secured())
		m := attacker(t, a)
		g := m.head(t)
		m.put(t, "bob", "/pub/evil", "bob may not write here")
		hdr, objs, err := Read(bytes.NewReader(m.bundle(t, "bob", CreateOptions{Since: g, Reader: a.key(t, "alice").Public})))
		must(t, err)
		evil, err := m.w.LoadCommit(m.head(t))
		must(t, err)
		if len(evil.OpGroups) != 1 {
			t.Fatalf("the forged commit has %d op groups, want 1", len(evil.OpGroups))
		}
		delete(objs, evil.OpGroups[0])
		hdr.Withheld = append(hdr.Withheld, evil.OpGroups[0])
		slices.SortFunc(hdr.Withheld, compareIDs)
		hdr.Opaque = []string{"/pub"}
		inc, err := incoming(hdr, objs)
		must(t, err)
		before := state(t, c.h)
		_, err = c.w.Receive(ctx, inc, "")
		t.Logf("readable %v: %v", readable, err)
		if !readable {
			if err != nil {
				t.Errorf("unreadable /pub: %v; want accepted with an opaque part", err)
			}
			continue
		}
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "/pub/evil") {
			t.Errorf("readable /pub: %v; want invalid naming /pub/evil", err)
		}
		if after := state(t, c.h); after != before {
			t.Errorf("something was stored:\nbefore %s\nafter  %s", before, after)
		}
	}
}
