package cdb

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// blockStore is a store without some objects: as a node holds a world
// whose opaque subtrees it was sent only as ids.
type blockStore struct {
	s       tree.Store
	blocked map[coda.ID]bool
	read    map[coda.ID]bool // blocked ids asked for
}

func (b *blockStore) Get(id coda.ID) ([]byte, error) {
	if b.blocked[id] {
		b.read[id] = true
		return nil, errs.E(errs.NotExist, "blocked: "+id.String())
	}
	return b.s.Get(id)
}

func (b *blockStore) Put(data []byte) (coda.ID, error) { return b.s.Put(data) }

// opaqueSetup commits /a and /p/x, then c putting /p/y and /b (an op group
// of / and one of /p); it returns the world, c's parent and c loaded as a
// node without /p sees it: /p's op group hidden, /p's nodes blocked.
func opaqueSetup(t *testing.T) (*World, *Commit, *Commit, *blockStore) {
	t.Helper()
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	mustCommit(t, w, petOp("/a", "a"), petOp("/p/x", "x"))
	ci := mustCommit(t, w, petOp("/p/y", "y"), petOp("/b", "b"))
	full, err := w.LoadCommit(ci.ID)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := w.LoadCommit(full.Parents[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(full.OpGroups) != 2 {
		t.Fatalf("%d op groups, want 2 (/ and /p)", len(full.OpGroups))
	}
	bs := &blockStore{s: h.Store(), blocked: map[coda.ID]bool{}, read: map[coda.ID]bool{}}
	tr := tree.New(h.Store())
	for _, root := range []coda.ID{parent.Tree, full.Tree} {
		e, err := tr.Get(root, "/p")
		if err != nil || e.Kind != tree.KindDir {
			t.Fatalf("/p: %+v, %v", e, err)
		}
		bs.blocked[e.ID] = true
	}
	// The group of /p: the one holding /p/y.
	for _, g := range full.OpGroups {
		b, _ := h.Store().Get(g)
		if bytes.Contains(b, []byte("/p/y")) {
			bs.blocked[g] = true
		}
	}
	obj, err := h.Store().Get(ci.ID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := DecodeCommitWith(obj, bs.Get)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Hidden) != 1 || len(c.Ops) != 1 || c.Ops[0].Path != "/b" {
		t.Fatalf("as a non-reader: hidden %v, ops %+v; want 1 hidden group and the op at /b", c.Hidden, c.Ops)
	}
	clear(bs.read) // the group, asked for by decoding
	return w, parent, c, bs
}

// TestOpaqueValidate: a commit whose op group of /p is withheld validates
// on a node that lacks /p's nodes and op group, reading none of them, when
// /p is opaque there; and not otherwise.
func TestOpaqueValidate(t *testing.T) {
	w, parent, c, bs := opaqueSetup(t)
	env := w.validateEnv(bs, false)
	env.Opaque = func(p string) bool { return p == "/p" }
	if err := ValidateCommit(env, c, []*Commit{parent}); err != nil {
		t.Fatalf("with /p opaque: %v", err)
	}
	// It may look whether the commit's node of /p is here (it is not);
	// it reads nothing else of /p (every read of it would fail).
	top, err := tree.New(w.h.Store()).Get(c.Tree, "/p")
	if err != nil {
		t.Fatal(err)
	}
	delete(bs.read, top.ID)
	if len(bs.read) != 0 {
		t.Errorf("validation asked for %d objects of /p (%v)", len(bs.read), slices.Collect(maps.Keys(bs.read)))
	}
	env.Opaque = nil
	if err := ValidateCommit(env, c, []*Commit{parent}); !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "withheld") {
		t.Errorf("nothing opaque: %v; want invalid, withheld", err)
	}
	// /q opaque, /p not: the change to /p is unexplained.
	env.Opaque = func(p string) bool { return p == "/q" }
	if err := ValidateCommit(env, c, []*Commit{parent}); !errors.Is(err, errs.Invalid) {
		t.Errorf("another subtree opaque: %v; want invalid", err)
	}
}

// TestOpaqueForgedGroup: a withheld op group replaced by the hash of
// something else fails the signature.
func TestOpaqueForgedGroup(t *testing.T) {
	w, parent, c, bs := opaqueSetup(t)
	forged := coda.Sum([]byte("something else"))
	for i, g := range c.OpGroups {
		if g == c.Hidden[0] {
			c.OpGroups[i] = forged
		}
	}
	slices.SortFunc(c.OpGroups, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
	c.Hidden = []coda.ID{forged}
	env := w.validateEnv(bs, false)
	env.Opaque = func(p string) bool { return p == "/p" }
	if err := ValidateCommit(env, c, []*Commit{parent}); !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "bad signature") {
		t.Errorf("forged group: %v; want invalid, bad signature", err)
	}
}

// TestOpaqueReadableChange: withheld op groups that change a readable path
// make the commit invalid, naming the path.
func TestOpaqueReadableChange(t *testing.T) {
	w, parent, c, bs := opaqueSetup(t)
	// Hide the group of / (the op at /b) instead, and show /p's.
	h := w.h
	obj, err := h.Store().Get(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	hide := map[coda.ID]bool{}
	for _, g := range c.OpGroups {
		if g != c.Hidden[0] {
			hide[g] = true
		}
	}
	c, err = DecodeCommitWith(obj, func(id coda.ID) ([]byte, error) {
		if hide[id] {
			return nil, errs.E(errs.NotExist, "hidden")
		}
		return h.Store().Get(id)
	})
	if err != nil {
		t.Fatal(err)
	}
	env := w.validateEnv(h.Store(), false)
	env.Opaque = func(p string) bool { return p == "/p" }
	err = ValidateCommit(env, c, []*Commit{parent})
	if !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "/b") || !strings.Contains(err.Error(), "readable path") {
		t.Errorf("withheld ops changing /b: %v; want invalid naming /b", err)
	}
	_ = bs
}

// seedGroups returns the op groups (Ops objects) of the seed commits.
func seedGroups(t testing.TB) map[string][]byte {
	cs := mustSchemas()
	out := map[string][]byte{}
	stamp := tree.Stamp{Time: 5 << 16}
	for name, c := range map[string]*Commit{
		"root": {Ops: []Change{{Path: "/", Meta: true, ID: coda.Sum([]byte("meta"))}, {Path: "/a", ID: coda.Sum([]byte("a"))}, {Path: "/a0", Delete: true}}},
		"dir":  {Ops: []Change{{Path: "/a", Meta: true, Delete: true}, {Path: "/a/b", ID: coda.Sum([]byte("b"))}}},
		"conflicts": {Ops: []Change{{Path: "/x/y", ID: coda.Sum([]byte("y"))}},
			Conflicts: []Conflict{{Path: "/x/y", Winner: coda.Sum([]byte("y")), Loser: coda.Sum([]byte("z")), WinnerStamp: stamp, LoserStamp: stamp}}},
	} {
		if err := cs.groupOps(c); err != nil || len(c.groups) != 1 {
			t.Fatalf("%s: %d groups, %v", name, len(c.groups), err)
		}
		out[name] = c.groups[0]
	}
	return out
}

// FuzzOpGroupDecode: decoding an op group never panics, and what decodes
// re-encodes to the same bytes.
func FuzzOpGroupDecode(f *testing.F) {
	for _, b := range seedGroups(f) {
		f.Add(b)
	}
	cs := mustSchemas()
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &Commit{OpGroups: []coda.ID{coda.Sum(data)}}
		if err := cs.fill(c, func(coda.ID) ([]byte, error) { return data, nil }); err != nil {
			return
		}
		again := &Commit{Ops: c.Ops, Conflicts: c.Conflicts}
		if err := cs.groupOps(again); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if len(again.groups) != 1 || !bytes.Equal(again.groups[0], data) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", again.groups, data)
		}
	})
}

// TestOpGroupSeeds writes the seed corpus of FuzzOpGroupDecode (go test
// -run TestOpGroupSeeds -update) and checks the stored seeds.
func TestOpGroupSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzOpGroupDecode")
	cs := mustSchemas()
	for name, b := range seedGroups(t) {
		file := filepath.Join(dir, name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte("go test fuzz v1\n[]byte("+quoteBytes(b)+")\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		c := &Commit{OpGroups: []coda.ID{coda.Sum(b)}}
		if err := cs.fill(c, func(coda.ID) ([]byte, error) { return b, nil }); err != nil || len(c.Ops) == 0 {
			t.Errorf("%s: %v, %d ops", name, err, len(c.Ops))
		}
		if _, err := os.Stat(file); err != nil {
			t.Errorf("seed %s missing (run with -update): %v", name, err)
		}
	}
	// Rejected: a group of two directories, one out of order, an empty one.
	for name, c := range map[string]*Commit{
		"two dirs":     {Ops: []Change{{Path: "/a", ID: coda.Sum([]byte("a"))}, {Path: "/b/c", ID: coda.Sum([]byte("c"))}}},
		"out of order": {Ops: []Change{{Path: "/b", ID: coda.Sum([]byte("b"))}, {Path: "/a", ID: coda.Sum([]byte("a"))}}},
	} {
		var ops []coda.Value
		for _, o := range c.Ops {
			ops = append(ops, coda.Struct(coda.String(o.Path), coda.Bool(false), coda.Enum(cs.put, coda.Link(o.ID))))
		}
		b, err := coda.EncodeObject(cs.ops, coda.Struct(coda.List(ops...), coda.List()))
		if err != nil {
			t.Fatal(err)
		}
		k := &Commit{OpGroups: []coda.ID{coda.Sum(b)}}
		if err := cs.fill(k, func(coda.ID) ([]byte, error) { return b, nil }); !errors.Is(err, errs.Invalid) {
			t.Errorf("%s: %v; want invalid", name, err)
		}
	}
	empty, err := coda.EncodeObject(cs.ops, coda.Struct(coda.List(), coda.List()))
	if err != nil {
		t.Fatal(err)
	}
	k := &Commit{OpGroups: []coda.ID{coda.Sum(empty)}}
	if err := cs.fill(k, func(coda.ID) ([]byte, error) { return empty, nil }); !errors.Is(err, errs.Invalid) {
		t.Errorf("empty group: %v; want invalid", err)
	}
}

// TestOpaqueListRejects: Receive refuses opaque subtrees that are not
// canonical paths below the root, or are /sys or under it, and a list
// without the maker's key; nothing is stored.
func TestOpaqueListRejects(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	head, err := w.Head()
	if err != nil {
		t.Fatal(err)
	}
	key := h.NodeKey().Public
	for _, tt := range []struct {
		opaque []string
		maker  []byte
		want   string
	}{
		{[]string{"/"}, key, "not a canonical path"},
		{[]string{"/a/"}, key, "not a canonical path"},
		{[]string{"/sys/groups"}, key, "never opaque"},
		{[]string{"/sys"}, key, "never opaque"},
		{[]string{"/p"}, nil, "without the key"},
	} {
		_, err := w.Receive(t.Context(), Incoming{Objects: map[coda.ID][]byte{}, Head: head, Opaque: tt.opaque, Maker: tt.maker}, "")
		if !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("opaque %q: %v; want invalid, %q", tt.opaque, err, tt.want)
		}
	}
	if opq, err := w.OpaqueSubtrees(); err != nil || len(opq) != 0 {
		t.Errorf("recorded %v, %v", opq, err)
	}
}
