package bundle

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// TestCloneChecked: a clone judges what it received from the commits'
// replays (cdb checkReplayed), not from diffs; it must refuse what the
// diffs refuse, naming the same object, and leave no home. Each bundle
// below is a whole history from its genesis, nothing opaque: the case
// the replays judge.
func TestCloneChecked(t *testing.T) {
	a := origin(t)
	a.put(t, "bob", "/pub/more", "more")
	secret := a.id(t, "/plans")
	hello := a.id(t, "/pub/hello")
	bobs := a.bundle(t, "bob", CreateOptions{}) // /plans withheld
	hc, err := a.w.LoadCommit(a.head(t))
	must(t, err)

	c := clone(t, bobs, secured())
	if maker, ok, err := c.w.Withheld(secret); err != nil || !ok || !bytes.Equal(maker, a.key(t, "bob").Public) {
		t.Errorf("Withheld(/plans) = %x, %v, %v; want bob's key", maker, ok, err)
	}
	if got, err := c.text(t, "/pub/more"); err != nil || got != "more" {
		t.Errorf("/pub/more: %q, %v", got, err)
	}

	_, objs, err := Read(bytes.NewReader(bobs))
	must(t, err)
	flipped := bytes.Clone(objs[hello]) // an object nothing refers to
	flipped[len(flipped)-1] ^= 1
	extraID := coda.Sum(flipped)
	sortIDs := func(ids []coda.ID) { slices.SortFunc(ids, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) }) }
	for _, tc := range []struct {
		name string
		edit func(h *Header, objs map[coda.ID][]byte)
		want string
	}{
		{"extra object", func(_ *Header, objs map[coda.ID][]byte) { objs[extraID] = flipped },
			"object " + extraID.String() + " is none of the received commits"},
		{"value missing", func(_ *Header, objs map[coda.ID][]byte) { delete(objs, hello) },
			"value " + hello.String() + ": neither received, nor stored here, nor listed as withheld"},
		{"withheld not listed", func(h *Header, _ map[coda.ID][]byte) { h.Withheld = nil },
			"value " + secret.String() + ": neither received, nor stored here, nor listed as withheld"},
		{"tree node missing", func(_ *Header, objs map[coda.ID][]byte) { delete(objs, hc.Tree) },
			"commit " + hc.ID.String() + ": its tree: "},
		{"listed, held by nothing", func(h *Header, _ map[coda.ID][]byte) {
			h.Withheld = append(h.Withheld, extraID)
			sortIDs(h.Withheld)
		}, "value " + extraID.String() + " is listed as withheld but no received commit's tree holds it"},
		{"listed and sent", func(h *Header, _ map[coda.ID][]byte) {
			h.Withheld = append(h.Withheld, hello)
			sortIDs(h.Withheld)
		}, "value " + hello.String() + " is listed as withheld and sent all the same"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir() + "/clone"
			_, _, err := CloneBundle(ctx, dir, bytes.NewReader(rewrite(t, bobs, tc.edit)), secured())
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CloneBundle: %v, want an invalid error with %q", err, tc.want)
			}
			if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
				t.Errorf("a home is left in %s (%v)", dir, serr)
			}
		})
	}
}

// TestCloneBundleHome: CloneBundle makes the home while it reads the
// bundle; a bundle that cannot be read leaves no home, and a directory
// that is not free is left as it was, whatever the bundle.
func TestCloneBundleHome(t *testing.T) {
	a := origin(t)
	good := a.bundle(t, "alice", CreateOptions{})
	dir := t.TempDir() + "/clone"
	if _, _, err := CloneBundle(ctx, dir, bytes.NewReader(good[:len(good)/2]), secured()); !errs.Is(err, errs.Invalid) {
		t.Errorf("a truncated bundle: %v, want invalid", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a home is left after a truncated bundle (%v)", err)
	}
	c := clone(t, good, secured())
	for _, data := range [][]byte{good, good[:10]} {
		if _, _, err := CloneBundle(ctx, c.h.Dir(), bytes.NewReader(data), secured()); err == nil {
			t.Errorf("CloneBundle into a home: no error")
		}
		if _, err := c.text(t, "/pub/hello"); err != nil {
			t.Errorf("the home cloned into: %v", err)
		}
	}
}

// TestCloneMerged: a clone of a history with a merge commit (validation
// recomputes merges; the merge's own diff is walked) is judged from the
// replays too, and refused as the diffs refuse it.
func TestCloneMerged(t *testing.T) {
	a := origin(t)
	c := clone(t, a.bundle(t, "alice", CreateOptions{}), secured())
	_, err := c.h.ImportKey("bob", mustExport(t, a.h, "bob"))
	must(t, err)
	c.put(t, "bob", "/pub/fromclone", "c")
	a.put(t, "bob", "/pub/fromorigin", "o")
	res, err := Apply(ctx, c.w, bytes.NewReader(a.bundle(t, "alice", CreateOptions{})), "")
	must(t, err)
	if res.Merge == nil {
		t.Fatalf("diverged apply: %+v, want a merge", res)
	}
	c.put(t, "bob", "/pub/after", "after the merge")
	data := c.bundle(t, "bob", CreateOptions{}) // /plans withheld
	d := clone(t, data, secured())
	if d.head(t) != c.head(t) {
		t.Fatalf("clone head %s, want %s", d.head(t), c.head(t))
	}
	for _, p := range []string{"/pub/fromclone", "/pub/fromorigin", "/pub/after"} {
		if _, err := d.text(t, p); err != nil {
			t.Errorf("clone: %s: %v", p, err)
		}
	}
	if _, ok, err := d.w.Withheld(c.id(t, "/plans")); err != nil || !ok {
		t.Errorf("clone: /plans not recorded as withheld (%v)", err)
	}
	_, objs, err := Read(bytes.NewReader(data))
	must(t, err)
	v := c.id(t, "/pub/fromorigin")
	extra := bytes.Clone(objs[v])
	extra[len(extra)-1] ^= 1
	for _, tc := range []struct {
		name string
		edit func(h *Header, objs map[coda.ID][]byte)
		want string
	}{
		{"extra object", func(_ *Header, objs map[coda.ID][]byte) { objs[coda.Sum(extra)] = extra },
			"object " + coda.Sum(extra).String() + " is none of the received commits"},
		{"value missing", func(_ *Header, objs map[coda.ID][]byte) { delete(objs, v) },
			"value " + v.String() + ": neither received, nor stored here, nor listed as withheld"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := CloneBundle(ctx, t.TempDir()+"/clone", bytes.NewReader(rewrite(t, data, tc.edit)), secured())
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CloneBundle: %v, want an invalid error with %q", err, tc.want)
			}
		})
	}
}
