package cdb

import (
	"errors"
	"iter"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func pet(n string) coda.Value { return coda.Struct(coda.String(n)) }

func petOp(p, n string) Op { return Op{Kind: Put, Path: p, Schema: "Pet", Value: pet(n)} }

func getPet(t *testing.T, w *World, rev coda.ID, p string) string {
	t.Helper()
	it, err := w.Get(rev, p)
	if errors.Is(err, errs.NotExist) {
		return "-"
	}
	if err != nil {
		t.Fatal(err)
	}
	return it.Value.Index(0).AsString()
}

func TestRevertReset(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	a := mustCommit(t, w, petOp("/x", "x1"), petOp("/y", "y1"), petOp("/z", "z1"))
	b := mustCommit(t, w, petOp("/x", "x2"), petOp("/y", "y2"), Op{Kind: Delete, Path: "/z"}, petOp("/new", "n"))
	mustCommit(t, w, petOp("/y", "y3"))
	ci, skipped, err := w.Revert(ctx, h.NodeKey(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(skipped, []string{"/y"}) {
		t.Errorf("skipped %v, want [/y]", skipped)
	}
	for p, want := range map[string]string{"/x": "x1", "/y": "y3", "/z": "z1", "/new": "-"} {
		if got := getPet(t, w, ci.ID, p); got != want {
			t.Errorf("after revert %s = %s, want %s", p, got, want)
		}
	}
	r, err := w.Reset(ctx, h.NodeKey(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"/x": "x1", "/y": "y1", "/z": "z1", "/new": "-"} {
		if got := getPet(t, w, r.ID, p); got != want {
			t.Errorf("after reset %s = %s, want %s", p, got, want)
		}
	}
	if _, err := w.Reset(ctx, h.NodeKey(), a.ID); err == nil || !strings.Contains(err.Error(), "nothing to commit") {
		t.Errorf("second reset: %v", err)
	}
	log, err := w.Log(coda.ID{}, "", 0)
	if err != nil || len(log) != 7 || log[0].ID != r.ID {
		t.Errorf("log: %d commits, %v", len(log), err)
	}
	if res, err := w.Replay(nil); err != nil || res.Count != 7 {
		t.Errorf("replay: %+v, %v", res, err)
	}
}

// corruptStore flips a byte of the objects in bad when they are read. It
// hides the underlying store's Verifier, so Fsck hashes what it reads.
type corruptStore struct {
	store.Store
	bad   map[coda.ID]bool
	short map[coda.ID]bool // truncated to 10 bytes
}

func (s *corruptStore) Get(id coda.ID) ([]byte, error) {
	b, err := s.Store.Get(id)
	if err == nil && s.bad[id] {
		b[len(b)-1] ^= 1
	}
	if err == nil && s.short[id] {
		b = b[:10]
	}
	return b, err
}

func (s *corruptStore) Open(id coda.ID) (store.Blob, error) {
	if s.bad[id] || s.short[id] {
		b, err := s.Get(id)
		if err != nil {
			return nil, err
		}
		return store.NewBytesBlob(b), nil
	}
	return s.Store.Open(id)
}

func (s *corruptStore) Objects() iter.Seq2[coda.ID, error] { return s.Store.Objects() }

func TestFsckCorrupt(t *testing.T) {
	cs := &corruptStore{Store: memstore.New(), bad: map[coda.ID]bool{}}
	h, err := Init(filepath.Join(t.TempDir(), "home"), Options{Store: cs, Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w := defaultWorld(t, h)
	withSchemas(t, w)
	mustCommit(t, w, petOp("/a/b", "b"), petOp("/c", "c"))
	if err := w.Fsck(func(p string) { t.Error(p) }); err != nil {
		t.Fatal(err)
	}
	it, err := w.Get(coda.ID{}, "/a/b")
	if err != nil {
		t.Fatal(err)
	}
	cs.bad[it.ID] = true
	var problems []string
	err = w.Fsck(func(p string) { problems = append(problems, p) })
	if !errors.Is(err, errs.Corrupt) {
		t.Fatalf("Fsck: %v, want corrupt", err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], it.ID.String()) || !strings.Contains(problems[0], "/a/b") {
		t.Errorf("problems = %q", problems)
	}
	delete(cs.bad, it.ID)
	// A value only in an older commit is checked too.
	mustCommit(t, w, Op{Kind: Delete, Path: "/c"})
	old, err := w.Get(coda.ID{}, "/a/b")
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := w.Resolve("HEAD~1")
	cItem, err := w.Get(c1, "/c")
	if err != nil {
		t.Fatal(err)
	}
	cs.bad[cItem.ID] = true
	problems = nil
	if err := w.Fsck(func(p string) { problems = append(problems, p) }); !errors.Is(err, errs.Corrupt) || len(problems) != 1 || !strings.Contains(problems[0], "/c") {
		t.Errorf("corrupt old value: %v %q", err, problems)
	}
	delete(cs.bad, cItem.ID)
	// A corrupt tree node.
	hc, _ := w.LoadCommit(mustHead(t, w))
	cs.bad[hc.Tree] = true
	problems = nil
	if err := w.Fsck(func(p string) { problems = append(problems, p) }); !errors.Is(err, errs.Corrupt) || len(problems) == 0 || !strings.Contains(problems[0], "tree "+hc.Tree.String()) {
		t.Errorf("corrupt tree: %v %q", err, problems)
	}
	delete(cs.bad, hc.Tree)
	_ = old
	head, _ := w.Head()
	cs.bad[head] = true
	problems = nil
	if err := w.Fsck(func(p string) { problems = append(problems, p) }); !errors.Is(err, errs.Corrupt) || len(problems) == 0 || !strings.Contains(problems[0], head.String()) {
		t.Errorf("corrupt commit: %v %q", err, problems)
	}
}

func TestReplayTampered(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(c *Commit, key Identity) []byte
		want   string
	}{
		{"ops changed, signature kept", func(c *Commit, key Identity) []byte {
			c.Ops[0].ID = coda.Sum([]byte("forged"))
			b, _ := mustSchemas().encode(c)
			return b
		}, "bad signature"},
		{"re-signed, tree does not match ops", func(c *Commit, key Identity) []byte {
			c.Ops[0].ID = coda.Sum([]byte("forged"))
			b, _ := mustSchemas().sign(c, key)
			return b
		}, "replaying its ops"},
		{"re-signed, stale time", func(c *Commit, key Identity) []byte {
			c.Time = 1
			b, _ := mustSchemas().sign(c, key)
			return b
		}, "not after its parents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHome(t)
			w := defaultWorld(t, h)
			withSchemas(t, w)
			mustCommit(t, w, petOp("/a", "a"))
			head, _ := w.Head()
			c, err := w.LoadCommit(head)
			if err != nil {
				t.Fatal(err)
			}
			obj := tt.tamper(c, h.NodeKey())
			forged := coda.Sum(obj)
			b := h.Store().NewBatch()
			for _, g := range c.Groups() {
				b.Put(g)
			}
			b.Put(obj)
			b.SetRef(headRef(w.ID(), w.Branch()), forged)
			if err := b.Commit(true); err != nil {
				t.Fatal(err)
			}
			_, err = w.Replay(nil)
			if !errors.Is(err, errs.Corrupt) || strings.Count(err.Error(), forged.String()) != 1 || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Replay: %v; want corrupt naming %s once and %q", err, forged, tt.want)
			}
		})
	}
}

func mustSchemas() *commitSchemas {
	cs, err := loadCommitSchemas()
	if err != nil {
		panic(err)
	}
	return cs
}

func mustHead(t testing.TB, w *World) coda.ID {
	t.Helper()
	h, err := w.Head()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRevertMergeAndMkdir(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	d := buildDAG(t, w, "G -> A; G -> B; A -> M; B -> M")
	m, _ := w.LoadCommit(d.ids["M"])
	first := "A"
	if m.Parents[0] == d.ids["B"] {
		first = "B"
	}
	other := map[string]string{"A": "B", "B": "A"}[first]
	if _, _, err := w.Revert(ctx, h.NodeKey(), m.ID); err != nil {
		t.Fatal(err)
	}
	// Reverting the merge undoes what it brought to its first parent.
	if got := getPet(t, w, coda.ID{}, "/n/"+other); got != "-" {
		t.Errorf("/n/%s = %s after reverting the merge", other, got)
	}
	if got := getPet(t, w, coda.ID{}, "/n/"+first); got != first {
		t.Errorf("/n/%s = %s", first, got)
	}
	// A mkdir --schema is reverted with its metadata leaf.
	mk := mustCommit(t, w, Op{Kind: Mkdir, Path: "/typed", Schema: "Pet"})
	if _, _, err := w.Revert(ctx, h.NodeKey(), mk.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Get(coda.ID{}, "/typed"); err == nil {
		t.Error("/typed still exists")
	}
	mustCommit(t, w, Op{Kind: Put, Path: "/typed/x", Schema: "Person", Value: person("x", 1)})
	if _, err := w.Replay(nil); err != nil {
		t.Fatal(err)
	}
}

// TestTruncatedObjects: objects shorter than a schema id are errors, never
// panics.
func TestTruncatedObjects(t *testing.T) {
	cs := &corruptStore{Store: memstore.New(), bad: map[coda.ID]bool{}, short: map[coda.ID]bool{}}
	h, err := Init(filepath.Join(t.TempDir(), "home"), Options{Store: cs, Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w := defaultWorld(t, h)
	withSchemas(t, w)
	mustCommit(t, w, petOp("/a", "a"))
	it, err := w.Get(coda.ID{}, "/a")
	if err != nil {
		t.Fatal(err)
	}
	cs.short[it.ID] = true
	if _, err := w.Get(coda.ID{}, "/a"); err == nil {
		t.Error("Get of a truncated value: no error")
	}
	w.List(coda.ID{}, "/")
	w.OpenBlob(coda.ID{}, "/a")
	if err := w.Fsck(nil); !errors.Is(err, errs.Corrupt) {
		t.Errorf("Fsck: %v", err)
	}
	head := mustHead(t, w)
	cs.short[head] = true
	h2 := &World{h: &Home{store: cs, tree: h.tree, schema: h.schema}, id: w.id, name: w.name}
	if _, err := h2.LoadCommit(head); err == nil {
		t.Error("LoadCommit of a truncated commit: no error")
	}
}
