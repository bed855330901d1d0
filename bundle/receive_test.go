package bundle

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// many is origin with n more values in a few commits: enough objects
// that Read hashes them in several batches.
func many(t *testing.T, n int) *open {
	a := origin(t)
	for start := 0; start < n; start += 500 {
		var ops []cdb.Op
		for i := start; i < min(n, start+500); i++ {
			ops = append(ops, putOp(fmt.Sprintf("/pub/d%d/e%05d", i%7, i), fmt.Sprintf("value %d", i)))
		}
		must(t, a.commit(t, "bob", ops...))
	}
	return a
}

// TestReadNamesByHash: every object Read returns is named by its hash,
// each once, however the hashing was cut into batches.
func TestReadNamesByHash(t *testing.T) {
	a := many(t, 3000)
	hdr, objs, err := Read(bytes.NewReader(a.bundle(t, "alice", CreateOptions{})))
	must(t, err)
	if uint64(len(objs)) != hdr.Objects || len(objs) < 3000 {
		t.Fatalf("%d objects, header says %d, want over 3000", len(objs), hdr.Objects)
	}
	for id, b := range objs {
		if coda.Sum(b) != id {
			t.Fatalf("object %s hashes to %s", id, coda.Sum(b))
		}
	}
}

// TestReadCutShort: a bundle cut anywhere is refused, and Read's hashing
// workers stop (the race detector and the leak of a blocked goroutine
// would show otherwise).
func TestReadCutShort(t *testing.T) {
	b := many(t, 1500).bundle(t, "alice", CreateOptions{})
	for _, n := range []int{len(b) / 3, len(b) / 2, len(b) - 1} {
		if _, _, err := Read(bytes.NewReader(b[:n])); !errs.Is(err, errs.Invalid) {
			t.Errorf("cut at %d of %d: %v, want invalid", n, len(b), err)
		}
	}
}

// TestReceiveChecksIDs: objects handed to Receive without Summed are
// hashed: one under another's id is refused, naming it, and nothing is
// stored; Summed as bundle.Read sets it clones the same objects.
func TestReceiveChecksIDs(t *testing.T) {
	a := many(t, 600)
	hdr, objs, err := Read(bytes.NewReader(a.bundle(t, "alice", CreateOptions{})))
	must(t, err)
	inc, err := incoming(hdr, objs)
	must(t, err)
	if !inc.Summed {
		t.Fatal("incoming of a bundle read: Summed is false")
	}
	// A value's bytes under the id of another value.
	var ids []coda.ID
	for id, b := range objs {
		if strings.Contains(string(b), "value 1") {
			ids = append(ids, id)
		}
		if len(ids) == 2 {
			break
		}
	}
	if len(ids) < 2 {
		t.Fatal("no two values found")
	}
	forged := make(map[coda.ID][]byte, len(objs))
	for id, b := range objs {
		forged[id] = b
	}
	forged[ids[0]] = objs[ids[1]]
	opts := secured()
	opts.NoWorld = true
	h, err := cdb.Init(t.TempDir()+"/forged", opts)
	must(t, err)
	defer h.Close()
	bad := inc
	bad.Objects, bad.Summed = forged, false
	_, _, err = h.ReceiveWorld(ctx, "w", bad)
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), ids[0].String()) || !strings.Contains(err.Error(), "hash to") {
		t.Fatalf("a value under another's id: %v, want invalid naming %s", err, ids[0])
	}
	if infos, err := h.Worlds(); err != nil || len(infos) != 0 {
		t.Errorf("after a refused receive: worlds %v (%v), want none", infos, err)
	}
	// The same objects, not summed by a reader: checked and taken.
	good := inc
	good.Summed = false
	w, res, err := h.ReceiveWorld(ctx, "w", good)
	must(t, err)
	if res.Head != a.head(t) || w.ID() != a.w.ID() || res.Objects != len(objs) {
		t.Errorf("receive: %+v in world %s, want head %s of world %s, %d objects", res, w.ID(), a.head(t), a.w.ID(), len(objs))
	}
}

// chained returns a commit by bob on parent putting text at path, its
// tree built by hand in m's store.
func chained(t *testing.T, m *open, parent *cdb.Commit, path, text string) *cdb.Commit {
	t.Helper()
	obj, err := coda.EncodeObject(coda.BlobSchema(), coda.Struct(coda.Bytes([]byte(text))))
	must(t, err)
	id, err := m.h.Store().Put(obj)
	must(t, err)
	c := &cdb.Commit{World: m.w.ID(), Parents: []coda.ID{parent.ID}, Time: parent.Time + 1, Message: "chained", Author: m.key(t, "bob").Public}
	root, err := tree.New(m.h.Store()).Apply(parent.Tree, []tree.Op{{Path: path, Entry: tree.Value(id, c.Stamp())}})
	must(t, err)
	c.Tree = root
	c.Ops = []cdb.Change{{Path: path, ID: id}}
	return c
}

// TestFirstInvalidNamed: of several invalid commits, validated on every
// core, the first in order (parents first) is the one named, every time,
// and nothing is stored.
func TestFirstInvalidNamed(t *testing.T) {
	a := origin(t)
	m := attacker(t, a)
	since := a.head(t)
	parent, err := m.w.LoadCommit(m.head(t))
	must(t, err)
	var forged []coda.ID
	for i := range 6 {
		c := chained(t, m, parent, fmt.Sprintf("/pub/c%d", i), fmt.Sprintf("chained %d", i))
		var tamper func(*cdb.Commit)
		if i == 2 || i == 3 || i == 5 {
			tamper = func(c *cdb.Commit) { c.Message = "changed after signing" }
		}
		c.ID = forge(t, m, c, m.key(t, "bob"), tamper)
		if tamper != nil {
			forged = append(forged, c.ID)
		}
		parent = c
	}
	var b bytes.Buffer
	_, err = Create(m.w, m.key(t, "bob"), &b, CreateOptions{Head: parent.ID, Since: since})
	must(t, err)
	before := state(t, a.h)
	for range 10 {
		_, err := Apply(ctx, a.w, bytes.NewReader(b.Bytes()), "")
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), forged[0].String()) || !strings.Contains(err.Error(), "signature") {
			t.Fatalf("a bundle with forged commits %v: %v, want invalid naming the first", forged, err)
		}
		for _, id := range forged[1:] {
			if strings.Contains(err.Error(), id.String()) {
				t.Fatalf("error names the later forged commit %s: %v", id, err)
			}
		}
	}
	if after := state(t, a.h); after != before {
		t.Errorf("after the refused bundles the home holds %s, before %s", after, before)
	}
}
