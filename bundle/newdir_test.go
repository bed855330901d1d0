package bundle

import (
	"bytes"
	"slices"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb/tree"
)

// TestNewDirOpaque (issue 7): one commit makes /pub/d (bob may read it)
// with /pub/d/x, and inside it /pub/d/h with an .acl for alice alone and
// /pub/d/h/secret. The bundle made as bob holds no node of /pub/d/h, not
// the name "secret" nor its value's id; it lists /pub/d/h as opaque and
// its op group as withheld; bob's clone is at the origin's head and reads
// /pub/d/x. A later write in /pub/d/h reaches him opaque; alice's grant
// of read on /pub/d/h then travels whole and his pull takes it.
func TestNewDirOpaque(t *testing.T) {
	a := origin(t)
	bob := a.key(t, "bob")
	must(t, a.commit(t, "alice", putOp("/pub/d/x", "bob reads this"),
		aclOp(t, "/pub/d/h", grant(a.key(t, "alice"), acl.All)),
		putOp("/pub/d/h/secret", "alice alone in h")))
	tr := tree.New(a.h.Store())
	hc, err := a.w.LoadCommit(a.head(t))
	must(t, err)
	h, err := tr.Get(hc.Tree, "/pub/d/h")
	must(t, err)
	sec, err := tr.Get(hc.Tree, "/pub/d/h/secret")
	must(t, err)
	data := a.bundle(t, "bob", CreateOptions{})
	hdr, objs, err := Read(bytes.NewReader(data))
	must(t, err)
	if _, ok := objs[h.ID]; ok {
		t.Errorf("bob's bundle holds /pub/d/h's node")
	}
	for _, s := range []string{"secret", "alice alone in h", string(sec.ID[:])} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("bob's bundle holds %q, from inside /pub/d/h", s)
		}
	}
	if !slices.Contains(hdr.Opaque, "/pub/d/h") {
		t.Errorf("opaque %q; want /pub/d/h listed", hdr.Opaque)
	}
	hidden := 0
	for _, g := range hc.OpGroups {
		if slices.Contains(hdr.Withheld, g) {
			hidden++
		}
	}
	if hidden != 1 {
		t.Errorf("%d of the commit's %d op groups withheld; want 1 (/pub/d/h's)", hidden, len(hc.OpGroups))
	}
	c := clone(t, data, secured())
	if c.head(t) != a.head(t) {
		t.Fatalf("the clone's head %s, want %s", c.head(t), a.head(t))
	}
	if got, err := c.text(t, "/pub/d/x"); err != nil || got != "bob reads this" {
		t.Errorf("the clone: /pub/d/x = %q, %v", got, err)
	}
	if _, err := c.text(t, "/pub/d/h/secret"); err == nil {
		t.Errorf("the clone reads /pub/d/h/secret")
	}
	onlyReadable(t, a, c.h, bob.Public, "new directory")
	if err := c.w.Fsck(func(p string) { t.Errorf("fsck: %s", p) }); err != nil {
		t.Errorf("fsck: %v", err)
	}
	// A later write inside /pub/d/h: opaque to bob.
	since := a.head(t)
	a.put(t, "alice", "/pub/d/h/more", "alice only too")
	more := a.bundle(t, "bob", CreateOptions{Since: since})
	if bytes.Contains(more, []byte("alice only too")) || bytes.Contains(more, []byte("more")) {
		t.Errorf("the later bundle holds names or values from inside /pub/d/h")
	}
	if _, err := Apply(ctx, c.w, bytes.NewReader(more), ""); err != nil {
		t.Fatalf("the later write: %v", err)
	}
	if c.head(t) != a.head(t) {
		t.Fatalf("after the later write: the clone's head %s, want %s", c.head(t), a.head(t))
	}
	if err := c.w.Fsck(func(p string) { t.Errorf("fsck after the later write: %s", p) }); err != nil {
		t.Errorf("fsck: %v", err)
	}
	// Alice grants bob read on /pub/d/h: that commit travels whole.
	since = a.head(t)
	rules := grant(a.key(t, "alice"), acl.All)
	rules.Grant(acl.Key(bob.Public32()), acl.Read)
	a.putACL(t, "alice", "/pub/d/h", rules)
	if _, err := Apply(ctx, c.w, bytes.NewReader(a.bundle(t, "bob", CreateOptions{Since: since})), ""); err != nil {
		t.Fatalf("the grant: %v", err)
	}
	if c.head(t) != a.head(t) {
		t.Fatalf("after the grant: the clone's head %s, want %s", c.head(t), a.head(t))
	}
	onlyReadable(t, a, c.h, bob.Public, "after the grant")
	if _, err := c.w.Replay(nil); err != nil {
		t.Errorf("the clone's replay: %v", err)
	}
}

// TestNewDirOnlyOpaque: the new directory /pub/e holds nothing but
// /pub/e/h, opaque to bob (every op of the commit is in it): bob's clone
// takes the commit with its only op group withheld, at the origin's head.
func TestNewDirOnlyOpaque(t *testing.T) {
	a := origin(t)
	must(t, a.commit(t, "alice", aclOp(t, "/pub/e/h", grant(a.key(t, "alice"), acl.All)),
		putOp("/pub/e/h/secret", "alice alone in e/h")))
	data := a.bundle(t, "bob", CreateOptions{})
	hdr, _, err := Read(bytes.NewReader(data))
	must(t, err)
	if !slices.Equal(hdr.Opaque, []string{"/pub/e/h"}) || bytes.Contains(data, []byte("secret")) {
		t.Errorf("opaque %q, names %v; want [/pub/e/h] and no name from inside it", hdr.Opaque, bytes.Contains(data, []byte("secret")))
	}
	c := clone(t, data, secured())
	if c.head(t) != a.head(t) {
		t.Fatalf("the clone's head %s, want %s", c.head(t), a.head(t))
	}
	if err := c.w.Fsck(func(p string) { t.Errorf("fsck: %s", p) }); err != nil {
		t.Errorf("fsck: %v", err)
	}
	if _, err := c.w.Replay(nil); err != nil {
		t.Errorf("replay: %v", err)
	}
}
