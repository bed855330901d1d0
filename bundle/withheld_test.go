package bundle

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// rewrite reads a bundle, lets edit change its header and objects, and
// writes it again (the object count follows the objects).
func rewrite(t *testing.T, data []byte, edit func(h *Header, objs map[coda.ID][]byte)) []byte {
	t.Helper()
	hdr, objs, err := Read(bytes.NewReader(data))
	must(t, err)
	edit(&hdr, objs)
	hdr.Objects = uint64(len(objs))
	// Commits first, parents before children, as Create writes them.
	var commits, rest [][]byte
	for _, o := range objs {
		if coda.ID(o[:coda.IDSize]) == cdb.CommitSchemaID() {
			commits = append(commits, o)
		} else {
			rest = append(rest, o)
		}
	}
	var b bytes.Buffer
	_, err = write(&b, hdr, append(commits, rest...))
	must(t, err)
	return b.Bytes()
}

func (o *open) id(t *testing.T, path string) coda.ID {
	t.Helper()
	it, err := o.w.Get(coda.ID{}, path)
	must(t, err)
	return it.ID
}

// rejected applies data to o's world and checks that it fails with an
// invalid error holding want, storing nothing.
func rejected(t *testing.T, o *open, data []byte, want string) {
	t.Helper()
	before := state(t, o.h)
	_, err := Apply(ctx, o.w, bytes.NewReader(data), "")
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), want) {
		t.Errorf("Apply: %v, want an invalid error with %q", err, want)
	}
	if after := state(t, o.h); after != before {
		t.Errorf("something was stored:\nbefore %s\nafter  %s", before, after)
	}
	t.Logf("%v", err)
}

// TestTamperedValue: a byte flipped inside a value makes it another
// object, which nothing refers to; the value referred to is missing. The
// bundle is rejected naming that value, nothing stored.
func TestTamperedValue(t *testing.T) {
	a := origin(t)
	c := clone(t, a.bundle(t, "alice", CreateOptions{}), secured())
	since := a.head(t)
	a.put(t, "bob", "/pub/new", "a new value")
	v := a.id(t, "/pub/new")
	good := a.bundle(t, "alice", CreateOptions{Since: since})
	_, objs, err := Read(bytes.NewReader(good))
	must(t, err)
	flipped := bytes.Clone(objs[v])
	flipped[len(flipped)-1] ^= 1
	bad := rewrite(t, good, func(h *Header, objs map[coda.ID][]byte) {
		delete(objs, v)
		objs[coda.Sum(flipped)] = flipped
	})
	rejected(t, c, bad, "value "+v.String())
	// An object nothing refers to, beside an intact bundle.
	extra := rewrite(t, good, func(h *Header, objs map[coda.ID][]byte) { objs[coda.Sum(flipped)] = flipped })
	rejected(t, c, extra, "object "+coda.Sum(flipped).String()+" is none of the received commits")
	// A tree node left out: validation recomputes the tree without it, the
	// check of what arrived does not.
	hc, err := a.w.LoadCommit(a.head(t))
	must(t, err)
	rejected(t, c, rewrite(t, good, func(h *Header, objs map[coda.ID][]byte) { delete(objs, hc.Tree) }),
		"commit "+hc.ID.String()+": its tree: ")
	if _, err := Apply(ctx, c.w, bytes.NewReader(good), ""); err != nil {
		t.Fatalf("the intact bundle: %v", err)
	}
	if got, err := c.text(t, "/pub/new"); err != nil || got != "a new value" {
		t.Errorf("/pub/new: %q, %v", got, err)
	}
}

// TestWithheld: bob's bundle lists /plans as withheld; the clone
// records it, Get says why it is missing, fsck counts it apart from
// problems, ls lists it; alice's bundle brings it later.
func TestWithheld(t *testing.T) {
	a := origin(t)
	secret := a.id(t, "/plans")
	data := a.bundle(t, "bob", CreateOptions{})
	hdr, _, err := Read(bytes.NewReader(data))
	must(t, err)
	if !slices.Equal(hdr.Withheld, []coda.ID{secret}) {
		t.Fatalf("withheld %v, want [%s]", hdr.Withheld, secret)
	}
	c := clone(t, data, secured())
	bob := a.key(t, "bob")
	maker, ok, err := c.w.Withheld(secret)
	if err != nil || !ok || !bytes.Equal(maker, bob.Public) {
		t.Fatalf("Withheld(%s) = %x, %v, %v; want bob's key", secret, maker, ok, err)
	}
	_, err = c.w.Get(coda.ID{}, "/plans")
	want := "/plans: value withheld by the bundle's maker (not readable by " + bob.Key() + "); not present on this node"
	if !errs.Is(err, errs.NotExist) || !strings.Contains(err.Error(), want) {
		t.Errorf("Get: %v, want a not-exist error with %q", err, want)
	}
	if _, err := c.w.OpenBlob(coda.ID{}, "/plans"); !errs.Is(err, errs.NotExist) || !strings.Contains(err.Error(), want) {
		t.Errorf("OpenBlob: %v, want a not-exist error with %q", err, want)
	}
	ents, err := c.w.List(coda.ID{}, "/")
	i := slices.IndexFunc(ents, func(e cdb.DirEntry) bool { return e.Name == "plans" })
	if err != nil || i < 0 || !ents[i].Withheld {
		t.Errorf("List /: %+v, %v; want plans, withheld", ents, err)
	}
	var lines []string
	n, err := c.w.FsckReport(func(p string) { t.Errorf("fsck: %s", p) }, func(l string) { lines = append(lines, l) })
	if err != nil || n.Withheld != 1 || len(lines) != 1 || !strings.Contains(lines[0], secret.String()) || !strings.Contains(lines[0], "missing by design") {
		t.Errorf("fsck: %+v %v %q", n, err, lines)
	}
	// The value arrives with alice's bundle: no longer withheld.
	if _, err := Apply(ctx, c.w, bytes.NewReader(a.bundle(t, "alice", CreateOptions{})), ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.w.Withheld(secret); ok {
		t.Errorf("still withheld after it arrived")
	}
	if got, err := c.text(t, "/plans"); err != nil || got != "alice only" {
		t.Errorf("/plans: %q, %v", got, err)
	}
}

// TestWithheldList: what the header's list may and may not say.
func TestWithheldList(t *testing.T) {
	a := origin(t)
	secret := a.id(t, "/plans")
	bobs := a.bundle(t, "bob", CreateOptions{})
	// A home holding the world up to its genesis only, to apply to.
	genesis := func(t *testing.T) *open {
		g, err := a.w.Resolve(a.head(t).String() + "~3")
		must(t, err)
		return clone(t, a.bundle(t, "alice", CreateOptions{Head: g}), secured())
	}
	t.Run("missing and not listed", func(t *testing.T) {
		rejected(t, genesis(t), rewrite(t, bobs, func(h *Header, _ map[coda.ID][]byte) { h.Withheld = nil }),
			"value "+secret.String()+": neither received, nor stored here, nor listed as withheld")
	})
	t.Run("listed, held by nothing", func(t *testing.T) {
		junk := coda.Sum([]byte("junk"))
		rejected(t, genesis(t), rewrite(t, bobs, func(h *Header, _ map[coda.ID][]byte) {
			h.Withheld = append(h.Withheld, junk)
			slices.SortFunc(h.Withheld, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
		}), "value "+junk.String()+" is listed as withheld but no received commit's tree holds it")
	})
	t.Run("listed and sent", func(t *testing.T) {
		hello := a.id(t, "/pub/hello")
		rejected(t, genesis(t), rewrite(t, bobs, func(h *Header, _ map[coda.ID][]byte) {
			h.Withheld = append(h.Withheld, hello)
			slices.SortFunc(h.Withheld, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
		}), "value "+hello.String()+" is listed as withheld and sent all the same")
	})
	// Decision: a value listed as withheld that the receiver holds is
	// fine, and not recorded (nothing is missing).
	t.Run("listed, held here", func(t *testing.T) {
		c := clone(t, a.bundle(t, "alice", CreateOptions{}), secured())
		if _, err := Apply(ctx, c.w, bytes.NewReader(bobs), ""); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := c.w.Withheld(secret); ok {
			t.Errorf("a value held here is recorded as withheld")
		}
	})
	// Decision: the receiver does not judge the maker's rights (the header
	// is not signed: anyone can name anyone): a value listed as withheld
	// by a maker who could read it is recorded like any other.
	t.Run("listed by a reader", func(t *testing.T) {
		c := genesis(t)
		alice := a.key(t, "alice")
		_, err := Apply(ctx, c.w, bytes.NewReader(rewrite(t, bobs, func(h *Header, _ map[coda.ID][]byte) { h.Author = alice.Key() })), "")
		must(t, err)
		if maker, ok, _ := c.w.Withheld(secret); !ok || !bytes.Equal(maker, alice.Public) {
			t.Errorf("Withheld: %x %v, want alice's key", maker, ok)
		}
	})
}
