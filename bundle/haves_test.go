package bundle

import (
	"bytes"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
)

// TestReaderKey: a bundle made as a public key alone (sync's case: the
// peer that pulls) is the bundle made as the full identity, byte for byte,
// and OnValue sees every value with whether it travels.
func TestReaderKey(t *testing.T) {
	a := origin(t)
	full := a.bundle(t, "bob", CreateOptions{})
	sent := map[string]bool{}
	var b bytes.Buffer
	_, err := Create(a.w, a.key(t, "alice"), &b, CreateOptions{Reader: a.key(t, "bob").Public,
		OnValue: func(p string, _ coda.ID, ok bool) { sent[p] = ok }})
	must(t, err)
	if !bytes.Equal(b.Bytes(), full) {
		t.Errorf("bundle made as bob's public key differs from bob's own (%d and %d bytes)", b.Len(), len(full))
	}
	if sent["/secret/plans"] || !sent["/pub/hello"] {
		t.Errorf("OnValue: /secret/plans sent %v, /pub/hello sent %v; want false, true", sent["/secret/plans"], sent["/pub/hello"])
	}
	if _, err := Create(a.w, cdb.Identity{}, &b, CreateOptions{Reader: []byte{1, 2}}); err == nil {
		t.Errorf("a 2-byte reader key: no error")
	}
}

// TestHaves: commits reachable from any have the maker holds are left out;
// haves it does not hold are ignored; the bundle applies to a receiver
// holding those haves, and diverged receivers merge.
func TestHaves(t *testing.T) {
	a := origin(t)
	c := clone(t, a.bundle(t, "alice", CreateOptions{}), secured())
	base := a.head(t)
	_, err := c.h.ImportKey("bob", mustExport(t, a.h, "bob"))
	must(t, err)
	c.put(t, "bob", "/pub/c1", "c1") // the clone diverges: a commit a lacks
	a.put(t, "bob", "/pub/a1", "a1")
	a.put(t, "bob", "/pub/a2", "a2")
	unknown := c.head(t)
	b := a.bundle(t, "alice", CreateOptions{Haves: []coda.ID{unknown, base}})
	hdr, objs, err := Read(bytes.NewReader(b))
	must(t, err)
	if hdr.Commits != 2 {
		t.Errorf("bundle with haves (clone head, base): %d commits, want 2", hdr.Commits)
	}
	if _, ok := objs[base]; ok {
		t.Errorf("the have %s travels", base)
	}
	all := a.bundle(t, "alice", CreateOptions{Haves: []coda.ID{unknown}})
	if hdr2, _, err := Read(bytes.NewReader(all)); err != nil || hdr2.Commits <= 2 {
		t.Errorf("with only an unknown have: %d commits (%v), want the whole history", hdr2.Commits, err)
	}
	res, err := Apply(ctx, c.w, bytes.NewReader(b), "")
	must(t, err)
	if res.Merge == nil || res.Commits != 2 {
		t.Fatalf("apply: %+v, want 2 commits and a merge", res)
	}
	for _, p := range []string{"/pub/a1", "/pub/a2", "/pub/c1"} {
		if _, err := c.text(t, p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
