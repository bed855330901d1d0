package bundle

import (
	"bytes"
	"fmt"
	"github.com/coalescent/coal/acl"
	"maps"
	"math/rand/v2"
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
	if sent["/plans"] || !sent["/pub/hello"] {
		t.Errorf("OnValue: /plans sent %v, /pub/hello sent %v; want false, true", sent["/plans"], sent["/pub/hello"])
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

// TestRelayWithheld: a maker that lacks a value (withheld from it when it
// got the commits) lists it as withheld to a reader who could read it,
// instead of failing.
func TestRelayWithheld(t *testing.T) {
	a := origin(t)
	it, err := a.w.Get(coda.ID{}, "/plans")
	must(t, err)
	bobs := clone(t, a.bundle(t, "bob", CreateOptions{}), secured())
	var b bytes.Buffer
	st, err := Create(bobs.w, cdb.Identity{}, &b, CreateOptions{Reader: a.key(t, "alice").Public})
	must(t, err)
	hdr, objs, err := Read(bytes.NewReader(b.Bytes()))
	must(t, err)
	if _, ok := objs[it.ID]; ok || st.Withheld != 1 || len(hdr.Withheld) != 1 || hdr.Withheld[0] != it.ID {
		t.Errorf("bundle from bob's clone as alice: withheld %v (%d), want [%s]", hdr.Withheld, st.Withheld, it.ID)
	}
}

// TestNewCommits: the paint-down walk finds exactly the commits the
// naive one does (all reachable from head minus all reachable from any
// have), on a random history of three branches with merges.
func TestNewCommits(t *testing.T) {
	a := origin(t)
	rng := rand.New(rand.NewPCG(7, 7))
	branches := []string{"main", "b1", "b2"}
	head := a.head(t)
	for _, b := range branches[1:] {
		must(t, a.w.CreateBranch(b, head))
	}
	var all []coda.ID
	for i := range 60 {
		b := branches[rng.IntN(len(branches))]
		must(t, a.w.Switch(b))
		if rng.IntN(4) == 0 {
			other := branches[rng.IntN(len(branches))]
			if other != b {
				if _, _, err := a.w.Merge(ctx, other); err == nil {
					all = append(all, a.head(t))
				}
				continue
			}
		}
		a.put(t, "bob", fmt.Sprintf("/pub/%s/%d", b, i), "x")
		all = append(all, a.head(t))
	}
	merges := 0
	for _, id := range all {
		c, err := a.w.LoadCommit(id)
		must(t, err)
		if len(c.Parents) > 1 {
			merges++
		}
	}
	if merges < 3 {
		t.Fatalf("the random history holds %d merges, want at least 3", merges)
	}
	naive := func(head coda.ID, haves []coda.ID) map[coda.ID]bool {
		have := map[coda.ID]bool{}
		for _, h := range haves {
			must(t, walk(a.w, h, func(c *cdb.Commit) bool { have[c.ID] = true; return true }))
		}
		out := map[coda.ID]bool{}
		must(t, walk(a.w, head, func(c *cdb.Commit) bool {
			if have[c.ID] {
				return false
			}
			out[c.ID] = true
			return true
		}))
		return out
	}
	for range 200 {
		head := all[rng.IntN(len(all))]
		var haves []coda.ID
		for range rng.IntN(4) {
			haves = append(haves, all[rng.IntN(len(all))])
		}
		got, err := newCommits(a.w, head, haves)
		must(t, err)
		want := naive(head, haves)
		gotSet := map[coda.ID]bool{}
		for _, c := range got {
			gotSet[c.ID] = true
		}
		if len(gotSet) != len(got) || !maps.Equal(gotSet, want) {
			t.Fatalf("head %s haves %v: paint-down found %d commits, the naive walk %d", head, haves, len(gotSet), len(want))
		}
	}
}

// TestGrantLater: a value written before its reader was granted read
// travels if it is still there at the head (the reader may read it now);
// an older version it replaced does not.
func TestGrantLater(t *testing.T) {
	a := origin(t)
	a.put(t, "alice", "/later/x", "old")
	a.put(t, "alice", "/later/x", "kept")
	a.putACL(t, "alice", "/later", grant(a.key(t, "bob"), acl.Read))
	old, err := a.w.Resolve("HEAD~2")
	must(t, err)
	oldItem, err := a.w.Get(old, "/later/x")
	must(t, err)
	it, err := a.w.Get(coda.ID{}, "/later/x")
	must(t, err)
	_, objs, err := Read(bytes.NewReader(a.bundle(t, "bob", CreateOptions{})))
	must(t, err)
	if _, ok := objs[it.ID]; !ok {
		t.Errorf("bob's bundle lacks /later/x, which he may read at the head")
	}
	if _, ok := objs[oldItem.ID]; ok {
		t.Errorf("bob's bundle carries the version of /later/x replaced before his grant")
	}
}

// TestGrantLaterMany: the same with more values than looked up one by
// one (the head's tree is walked once instead).
func TestGrantLaterMany(t *testing.T) {
	a := origin(t)
	var ops []cdb.Op
	for i := range 300 {
		ops = append(ops, putOp(fmt.Sprintf("/many/v%03d", i), fmt.Sprintf("value %d", i)))
	}
	must(t, a.commit(t, "alice", ops...))
	a.put(t, "alice", "/many/v007", "replaced")
	old, err := a.w.Resolve("HEAD~1")
	must(t, err)
	replaced, err := a.w.Get(old, "/many/v007")
	must(t, err)
	a.putACL(t, "alice", "/many", grant(a.key(t, "bob"), acl.Read))
	_, objs, err := Read(bytes.NewReader(a.bundle(t, "bob", CreateOptions{})))
	must(t, err)
	for _, p := range []string{"/many/v000", "/many/v299", "/many/v007"} {
		it, err := a.w.Get(coda.ID{}, p)
		must(t, err)
		if _, ok := objs[it.ID]; !ok {
			t.Errorf("bob's bundle lacks %s, which he may read at the head", p)
		}
	}
	if _, ok := objs[replaced.ID]; ok {
		t.Errorf("bob's bundle carries the version of /many/v007 replaced before his grant")
	}
}
