package bundle

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

var ctx = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func secured() cdb.Options { return acl.With(cdb.Options{Store: memstore.New()}) }

// open is a home with its default world and its keys by name.
type open struct {
	h    *cdb.Home
	w    *cdb.World
	keys map[string]cdb.Identity
}

func (o *open) key(t *testing.T, name string) cdb.Identity {
	if k, ok := o.keys[name]; ok {
		return k
	}
	k, err := o.h.Key(name)
	must(t, err)
	o.keys[name] = k
	return k
}

func wrap(t *testing.T, h *cdb.Home) *open {
	t.Cleanup(func() { h.Close() })
	w, err := h.World("")
	must(t, err)
	return &open{h: h, w: w, keys: map[string]cdb.Identity{}}
}

// origin is alice's home (she created the world) with bob, who may read
// and write /pub; /plans is alice's alone.
func origin(t *testing.T) *open {
	h, err := cdb.Init(t.TempDir()+"/alice", secured())
	must(t, err)
	o := wrap(t, h)
	o.keys["alice"] = h.NodeKey()
	bob, err := h.NewKey("bob")
	must(t, err)
	o.keys["bob"] = bob
	o.putACL(t, "alice", "/pub", grant(bob, acl.Read|acl.Write))
	o.put(t, "alice", "/plans", "alice only")
	o.put(t, "bob", "/pub/hello", "from bob")
	return o
}

func grant(k cdb.Identity, r acl.Rights) acl.ACL {
	var a acl.ACL
	a.Grant(acl.Key(k.Public32()), r)
	return a
}

func (o *open) commit(t *testing.T, as string, ops ...cdb.Op) error {
	_, err := o.w.Commit(ctx, o.key(t, as), ops, "test")
	return err
}

func putOp(path, text string) cdb.Op {
	return cdb.Op{Kind: cdb.PutBlob, Path: path, Blob: strings.NewReader(text), Size: int64(len(text))}
}

func (o *open) put(t *testing.T, as, path, text string) {
	t.Helper()
	must(t, o.commit(t, as, putOp(path, text)))
}

func aclOp(t *testing.T, dir string, a acl.ACL) cdb.Op {
	b, err := a.Encode()
	must(t, err)
	return cdb.Op{Kind: cdb.Put, Path: dir + "/.acl", Raw: b}
}

func (o *open) putACL(t *testing.T, as, dir string, a acl.ACL) {
	t.Helper()
	must(t, o.commit(t, as, aclOp(t, dir, a)))
}

func (o *open) head(t *testing.T) coda.ID {
	h, err := o.w.Head()
	must(t, err)
	return h
}

func (o *open) bundle(t *testing.T, as string, opts CreateOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := Create(o.w, o.key(t, as), &b, opts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func clone(t *testing.T, b []byte, opts cdb.Options) *open {
	t.Helper()
	h, _, err := CloneBundle(ctx, t.TempDir()+"/clone", bytes.NewReader(b), opts)
	must(t, err)
	return wrap(t, h)
}

func (o *open) text(t *testing.T, path string) (string, error) {
	b, err := o.w.OpenBlob(coda.ID{}, path)
	if err != nil {
		return "", err
	}
	defer b.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(b)
	return buf.String(), err
}

func TestRoundTrip(t *testing.T) {
	a := origin(t)
	c := clone(t, a.bundle(t, "alice", CreateOptions{}), secured())
	if c.w.ID() != a.w.ID() || c.head(t) != a.head(t) {
		t.Fatalf("clone: world %s head %s, want %s %s", c.w.ID(), c.head(t), a.w.ID(), a.head(t))
	}
	for _, p := range []string{"/pub/hello", "/plans"} {
		if _, err := c.text(t, p); err != nil {
			t.Errorf("clone: %s: %v", p, err)
		}
	}
	if _, err := c.w.Replay(nil); err != nil {
		t.Errorf("clone: replay: %v", err)
	}
	// Incremental, fast-forward.
	old := a.head(t)
	a.put(t, "bob", "/pub/more", "more")
	res, err := Apply(ctx, c.w, bytes.NewReader(a.bundle(t, "alice", CreateOptions{Since: old})), "")
	must(t, err)
	if !res.FastForward || c.head(t) != a.head(t) || res.Commits != 1 {
		t.Errorf("incremental apply: %+v, head %s, want a fast-forward of 1 commit to %s", res, c.head(t), a.head(t))
	}
	// Diverged: a merge.
	_, err = c.h.ImportKey("bob", mustExport(t, a.h, "bob"))
	must(t, err)
	c.put(t, "bob", "/pub/fromclone", "c")
	a.put(t, "bob", "/pub/fromorigin", "o")
	res, err = Apply(ctx, c.w, bytes.NewReader(a.bundle(t, "alice", CreateOptions{Since: old})), "")
	must(t, err)
	if res.Merge == nil {
		t.Fatalf("diverged apply: %+v, want a merge", res)
	}
	for _, p := range []string{"/pub/fromclone", "/pub/fromorigin"} {
		if _, err := c.text(t, p); err != nil {
			t.Errorf("after merge: %s: %v", p, err)
		}
	}
}

func mustExport(t *testing.T, h *cdb.Home, name string) []byte {
	b, err := h.ExportKey(name)
	must(t, err)
	return b
}

// TestUnreadableTravelsAsID: bob's bundle has every commit and tree node
// but not the bytes of /plans; the clone validates all of it.
func TestUnreadableTravelsAsID(t *testing.T) {
	a := origin(t)
	it, err := a.w.Get(coda.ID{}, "/plans")
	must(t, err)
	b := a.bundle(t, "bob", CreateOptions{})
	_, objs, err := Read(bytes.NewReader(b))
	must(t, err)
	if _, ok := objs[it.ID]; ok {
		t.Errorf("bob's bundle carries /plans")
	}
	c := clone(t, b, secured())
	if c.head(t) != a.head(t) {
		t.Errorf("clone head %s, want %s", c.head(t), a.head(t))
	}
	if _, err := c.text(t, "/pub/hello"); err != nil {
		t.Errorf("/pub/hello: %v", err)
	}
	if _, err := c.text(t, "/plans"); err == nil {
		t.Errorf("/plans is readable in bob's clone")
	}
}

// state is what a home stores: its objects and refs.
func state(t *testing.T, h *cdb.Home) string {
	t.Helper()
	n := 0
	for _, err := range h.Store().Objects() {
		must(t, err)
		n++
	}
	refs, err := h.Store().ListRefs("")
	must(t, err)
	return fmt.Sprintf("%d objects, refs %v", n, refs)
}

// lax is the ACL policy with no rights check: it stores whatever its user
// commits, as a forger's home would.
type lax struct{ acl.Policy }

func (lax) CheckCommit(tree.Store, *cdb.Commit, []*cdb.Commit) error { return nil }

// attacker is a home holding a copy of the world that checks no rights.
func attacker(t *testing.T, a *open) *open {
	m := clone(t, a.bundle(t, "alice", CreateOptions{}), cdb.Options{Store: memstore.New(), Policy: lax{}})
	_, err := m.h.ImportKey("bob", mustExport(t, a.h, "bob"))
	must(t, err)
	return m
}

// forge stores c (signed by key unless sign is false) with the objects of
// its tree in m, and returns its id.
func forge(t *testing.T, m *open, c *cdb.Commit, key cdb.Identity, tamper func(c *cdb.Commit)) coda.ID {
	t.Helper()
	obj, err := cdb.SignCommit(c, key)
	must(t, err)
	if tamper != nil {
		tamper(c)
		obj, err = cdb.EncodeCommit(c)
		must(t, err)
	}
	for _, g := range c.Groups() { // its op groups (docs/cdb.md)
		_, err := m.h.Store().Put(g)
		must(t, err)
	}
	id, err := m.h.Store().Put(obj)
	must(t, err)
	return id
}

// child returns a commit by bob on m's head putting text at path, with
// the tree built by hand (stamp: the commit's, unless stamp is given).
func child(t *testing.T, m *open, path, text string, stamp *tree.Stamp, opID *coda.ID) *cdb.Commit {
	t.Helper()
	head := m.head(t)
	p, err := m.w.LoadCommit(head)
	must(t, err)
	bob := m.key(t, "bob")
	obj, err := coda.EncodeObject(coda.BlobSchema(), coda.Struct(coda.Bytes([]byte(text))))
	if err != nil {
		// Blob's body layout is the store's business: put it as a blob.
		id, _, err2 := m.h.Store().PutReader(strings.NewReader(text))
		must(t, err2)
		obj, err = m.h.Store().Get(id)
	}
	must(t, err)
	id, err := m.h.Store().Put(obj)
	must(t, err)
	c := &cdb.Commit{World: m.w.ID(), Parents: []coda.ID{head}, Time: p.Time + 1, Message: "forged", Author: bob.Public}
	s := c.Stamp()
	if stamp != nil {
		s = *stamp
	}
	root, err := tree.New(m.h.Store()).Apply(p.Tree, []tree.Op{{Path: path, Entry: tree.Value(id, s)}})
	must(t, err)
	c.Tree = root
	oid := id
	if opID != nil {
		oid = *opID
	}
	c.Ops = []cdb.Change{{Path: path, ID: oid}}
	return c
}

func TestAttacks(t *testing.T) {
	type attack struct {
		name string
		// make returns the bundle's head in m and the header's world
		// (zero: m's).
		make func(t *testing.T, a, m *open) (coda.ID, coda.ID)
		want string // in the error
		kind errs.Kind
		// asAlice makes the bundle as alice (CreateOptions.Reader), who
		// may read what bob may not: nothing is opaque to her.
		asAlice bool
	}
	commitIn := func(t *testing.T, m *open, as string, ops ...cdb.Op) coda.ID {
		must(t, m.commit(t, as, ops...))
		return m.head(t)
	}
	attacks := []attack{
		{"forged signature", func(t *testing.T, a, m *open) (coda.ID, coda.ID) {
			c := child(t, m, "/pub/x", "x", nil, nil)
			return forge(t, m, c, m.key(t, "bob"), func(c *cdb.Commit) { c.Message = "changed after signing" }), coda.ID{}
		}, "bad signature", errs.Invalid, false},
		{"author/key mismatch", func(t *testing.T, a, m *open) (coda.ID, coda.ID) {
			c := child(t, m, "/pub/x", "x", nil, nil)
			alice := a.key(t, "alice")
			return forge(t, m, c, m.key(t, "bob"), func(c *cdb.Commit) {
				c.Author = alice.Public // signed by bob, naming alice
				// The stamp follows the author, so the tree must too.
				tr := tree.New(m.h.Store())
				p, _ := m.w.LoadCommit(c.Parents[0])
				root, _ := tr.Apply(p.Tree, []tree.Op{{Path: "/pub/x", Entry: tree.Value(c.Ops[0].ID, c.Stamp())}})
				c.Tree = root
			}), coda.ID{}
		}, "bad signature", errs.Invalid, false},
		{"write outside rights", func(t *testing.T, a, m *open) (coda.ID, coda.ID) {
			return commitIn(t, m, "bob", putOp("/secret/mine", "bob was here")), coda.ID{}
		}, "may not change this path", errs.Permission, true},
		// Made as bob, /secret is opaque to him: his op group there travels
		// as its id; the receiver may read /secret and refuses to take it
		// unchecked (docs/sync.md, "Opaque subtrees").
		{"write outside rights, hidden in an opaque subtree", func(t *testing.T, a, m *open) (coda.ID, coda.ID) {
			return commitIn(t, m, "bob", putOp("/secret/mine", "bob was here")), coda.ID{}
		}, "listed as an opaque subtree, but", errs.Unavailable, false},
		{"self-granting admin", func(t *testing.T, a, m *open) (coda.ID, coda.ID) {
			return commitIn(t, m, "bob", aclOp(t, "/pub", grant(m.key(t, "bob"), acl.All))), coda.ID{}
		}, "needs admin", errs.Permission, false},
		{"editing /sys without admin", func(t *testing.T, a, m *open) (coda.ID, coda.ID) {
			_, _, err := m.w.AddSchemas(ctx, m.key(t, "bob"), "x.coda", []byte("schema X { a: u8 }"))
			must(t, err)
			return m.head(t), coda.ID{}
		}, "needs admin", errs.Permission, false},
		{"replayed commit from another world", func(t *testing.T, a, m *open) (coda.ID, coda.ID) {
			other, err := m.h.NewWorldAs("other", m.key(t, "bob"))
			must(t, err)
			_, err = other.Commit(ctx, m.key(t, "bob"), []cdb.Op{putOp("/pub/x", "elsewhere")}, "in another world")
			must(t, err)
			h, err := other.Head()
			must(t, err)
			return h, m.w.ID()
		}, "not world", errs.Invalid, false},
		{"stamps not matching the commit", func(t *testing.T, a, m *open) (coda.ID, coda.ID) {
			c := child(t, m, "/pub/x", "x", &tree.Stamp{Time: 1 << 60}, nil)
			return forge(t, m, c, m.key(t, "bob"), nil), coda.ID{}
		}, "replaying its ops gives tree", errs.Invalid, false},
		{"ops not matching the tree", func(t *testing.T, a, m *open) (coda.ID, coda.ID) {
			other := coda.Sum([]byte("something else"))
			c := child(t, m, "/pub/x", "x", nil, &other)
			return forge(t, m, c, m.key(t, "bob"), nil), coda.ID{}
		}, "replaying its ops gives tree", errs.Invalid, false},
	}
	for _, at := range attacks {
		t.Run(at.name, func(t *testing.T) {
			a := origin(t)
			m := attacker(t, a)
			since := a.head(t)
			head, world := at.make(t, a, m)
			w := m.w
			if !world.IsZero() {
				w, _ = m.h.World("other")
			}
			var b bytes.Buffer
			opts := CreateOptions{Head: head, Since: since}
			if at.asAlice {
				opts.Reader = a.key(t, "alice").Public
			}
			_, err := Create(w, m.key(t, "bob"), &b, opts)
			if err != nil && !world.IsZero() {
				b.Reset()
				_, err = Create(w, m.key(t, "bob"), &b, CreateOptions{Head: head})
			}
			must(t, err)
			data := b.Bytes()
			if !world.IsZero() {
				// Relabel the bundle as one of a's world.
				hdr, objs, err := Read(bytes.NewReader(data))
				must(t, err)
				hdr.World = world
				var list [][]byte
				for _, o := range objs {
					list = append(list, o)
				}
				var nb bytes.Buffer
				_, err = write(&nb, hdr, list)
				must(t, err)
				data = nb.Bytes()
			}
			before := state(t, a.h)
			_, err = Apply(ctx, a.w, bytes.NewReader(data), "")
			if err == nil {
				t.Fatalf("the bundle was accepted")
			}
			if !errs.Is(err, at.kind) || !strings.Contains(err.Error(), at.want) || !strings.Contains(err.Error(), "commit ") {
				t.Errorf("got %v (%v), want a %v error naming the commit and %q", err, errs.KindOf(err), at.kind, at.want)
			}
			if after := state(t, a.h); after != before {
				t.Errorf("something was stored:\nbefore %s\nafter  %s", before, after)
			}
			t.Logf("%v", err)
		})
	}
}

// TestRevocationRace: bob's write on a branch that had not seen alice's
// revocation is kept; his write after it (after the merge) is refused.
func TestRevocationRace(t *testing.T) {
	a := origin(t)
	m := attacker(t, a)
	g := a.head(t)
	a.putACL(t, "alice", "/pub", acl.ACL{}) // revoke bob
	m.put(t, "bob", "/pub/early", "before the revocation reached him")
	res, err := Apply(ctx, a.w, bytes.NewReader(m.bundle(t, "bob", CreateOptions{Since: g})), "")
	must(t, err)
	if res.Merge == nil {
		t.Fatalf("apply: %+v, want a merge", res)
	}
	if _, err := a.text(t, "/pub/early"); err != nil {
		t.Errorf("the concurrent write was not kept: %v", err)
	}
	// m learns of the revocation and the merge, then bob writes again.
	_, err = Apply(ctx, m.w, bytes.NewReader(a.bundle(t, "alice", CreateOptions{Since: g})), "")
	must(t, err)
	if m.head(t) != a.head(t) {
		t.Fatalf("m's head %s, a's %s: the merge is not deterministic", m.head(t), a.head(t))
	}
	since := a.head(t)
	m.put(t, "bob", "/pub/late", "after the revocation")
	before := state(t, a.h)
	// As bob, /pub is opaque: the receiver, who may read it, refuses.
	_, err = Apply(ctx, a.w, bytes.NewReader(m.bundle(t, "bob", CreateOptions{Since: since})), "")
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "/pub: listed as an opaque subtree, but") {
		t.Errorf("a write after the revocation, bundled as bob: got %v, want unavailable: /pub listed as opaque", err)
	}
	if after := state(t, a.h); after != before {
		t.Errorf("something was stored:\nbefore %s\nafter  %s", before, after)
	}
	// As alice, the op travels and the rights check refuses it.
	_, err = Apply(ctx, a.w, bytes.NewReader(m.bundle(t, "bob", CreateOptions{Since: since, Reader: a.key(t, "alice").Public})), "")
	if !errs.Is(err, errs.Permission) || !strings.Contains(err.Error(), "/pub/late") {
		t.Errorf("a write after the revocation: got %v, want a permission error naming /pub/late", err)
	}
	if after := state(t, a.h); after != before {
		t.Errorf("something was stored:\nbefore %s\nafter  %s", before, after)
	}
}
