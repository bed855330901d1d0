package tree

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// withSmallChunks lowers the chunking parameters so that small trees are
// deep and hit forced boundaries. Tests using it must not run in parallel.
func withSmallChunks(t testing.TB) {
	oldBits, oldMax := chunkBits, chunkMax
	chunkBits, chunkMax = 2, 8
	t.Cleanup(func() { chunkBits, chunkMax = oldBits, oldMax })
}

// mkey names a leaf of the naive model: a path, or a directory's metadata.
type mkey struct {
	path string
	meta bool
}

// model is the naive tree: a map of every leaf (tombstones included).
type model map[mkey]Entry

func (m model) clone() model {
	c := make(model, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// sortKey returns the keys of the tree path of k, for path ordering.
func (k mkey) sortKey() []key {
	segs, _ := SplitPath(k.path)
	var ks []key
	for i, s := range segs {
		ks = append(ks, key{s, k.meta || i < len(segs)-1})
	}
	if k.meta {
		ks = append(ks, key{"", false})
	}
	return ks
}

func comparePathKeys(a, b mkey) int {
	return slices.CompareFunc(a.sortKey(), b.sortKey(), compareKeys)
}

func (m model) sorted() []mkey {
	ks := make([]mkey, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, comparePathKeys)
	return ks
}

func isUnder(p, dir string) bool {
	return dir == "/" || strings.HasPrefix(p, dir+"/")
}

// dirLive reports whether the directory p has a live leaf under it.
func (m model) dirLive(p string) bool {
	for k, e := range m {
		if e.Kind != KindValue {
			continue
		}
		if k.meta && (k.path == p || isUnder(k.path, p)) || !k.meta && isUnder(k.path, p) {
			return true
		}
	}
	return false
}

func (m model) valueAt(p string) bool {
	e, ok := m[mkey{p, false}]
	return ok && e.Kind == KindValue
}

func ancestors(p string) []string {
	segs, _ := SplitPath(p)
	var out []string
	for i := 1; i < len(segs); i++ {
		out = append(out, JoinPath(segs[:i]))
	}
	return out
}

// apply applies o to the model, returning the error kind Apply must give.
func (m model) apply(o Op) errs.Kind {
	p := JoinPath(mustSplit(o.Path))
	anc := ancestors(p)
	if o.Meta && p != "/" {
		anc = append(anc, p)
	}
	for _, a := range anc {
		if m.valueAt(a) {
			return errs.Invalid
		}
	}
	e := o.Entry
	if e.Kind == KindTombstone {
		e.ID = coda.ID{}
	}
	if o.Meta {
		k := mkey{p, true}
		if e.Kind == KindTombstone {
			if old, ok := m[k]; !ok || old.Kind != KindValue {
				return errs.NotExist
			}
		}
		m[k] = e
		return errs.Other
	}
	if e.Kind == KindValue {
		if m.dirLive(p) {
			return errs.Invalid
		}
		m[mkey{p, false}] = e
		return errs.Other
	}
	leaf, dir := m.valueAt(p), m.dirLive(p)
	if dir && !o.Recursive {
		return errs.Invalid
	}
	if !leaf && !dir {
		return errs.NotExist
	}
	for k, v := range m {
		if v.Kind == KindValue && (k.path == p && !k.meta || dir && (k.path == p && k.meta || isUnder(k.path, p))) {
			m[k] = e
		}
	}
	return errs.Other
}

func mustSplit(p string) []string {
	s, err := SplitPath(p)
	if err != nil {
		panic(err)
	}
	return s
}

// build builds the model's tree with a Builder.
func (m model) build(t testing.TB, tr *Tree) coda.ID {
	t.Helper()
	b := tr.NewBuilder()
	for _, k := range m.sorted() {
		var err error
		if k.meta {
			err = b.AddMeta(k.path, m[k])
		} else {
			err = b.Add(k.path, m[k])
		}
		if err != nil {
			t.Fatalf("build: %v", err)
		}
	}
	root, err := b.Finish()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return root
}

// gen makes random paths, entries and ops.
type gen struct {
	r     *rand.Rand
	clock uint64
}

var authors = [][32]byte{{1}, {2}, {3}}

func (g *gen) stamp() Stamp {
	g.clock++
	return Stamp{Time: g.clock<<16 | uint64(g.r.IntN(3)), Author: authors[g.r.IntN(len(authors))]}
}

func (g *gen) path() string {
	if g.r.IntN(3) == 0 {
		// A big flat directory, to grow multi-level prolly trees.
		return fmt.Sprintf("/big/f%04d", g.r.IntN(400))
	}
	names := []string{"a", "b", "c", "d"}
	n := 1 + g.r.IntN(3)
	segs := make([]string, n)
	for i := range segs {
		segs[i] = names[g.r.IntN(len(names))]
	}
	return JoinPath(segs)
}

func (g *gen) value() coda.ID {
	return coda.Sum(fmt.Appendf(nil, "v%d", g.r.IntN(1000)))
}

func (g *gen) op() Op {
	switch x := g.r.IntN(20); {
	case x < 12:
		return Op{Path: g.path(), Entry: Value(g.value(), g.stamp())}
	case x < 15:
		return Op{Path: g.path(), Entry: Tombstone(g.stamp())}
	case x < 17:
		return Op{Path: g.path(), Entry: Tombstone(g.stamp()), Recursive: true}
	case x < 19:
		p := g.path()
		if g.r.IntN(4) == 0 {
			p = "/"
		}
		return Op{Path: p, Entry: Value(g.value(), g.stamp()), Meta: true}
	default:
		return Op{Path: g.path(), Entry: Tombstone(g.stamp()), Meta: true}
	}
}

// checkModel compares every read of the tree root with the model.
func checkModel(t *testing.T, tr *Tree, root coda.ID, m model, r *rand.Rand) {
	t.Helper()
	// Walk: every live value, in path order.
	var got, want []string
	if err := tr.Walk(root, "/", func(p string, e Entry) error {
		got = append(got, fmt.Sprintf("%s=%s", p, e.ID.Short()))
		return nil
	}); err != nil {
		t.Fatalf("Walk: %v", err)
	}
	for _, k := range m.sorted() {
		if !k.meta && m[k].Kind == KindValue {
			want = append(want, fmt.Sprintf("%s=%s", k.path, m[k].ID.Short()))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Walk:\n got %v\nwant %v", got, want)
	}
	// Get, List and Walk on random paths.
	g := &gen{r: r}
	for range 20 {
		p := g.path()
		var gotW, wantW []string
		err := tr.Walk(root, p, func(q string, e Entry) error {
			gotW = append(gotW, q)
			return nil
		})
		for _, k := range m.sorted() {
			if !k.meta && m[k].Kind == KindValue && (k.path == p || isUnder(k.path, p)) {
				wantW = append(wantW, k.path)
			}
		}
		if len(wantW) == 0 && !errors.Is(err, errs.NotExist) || len(wantW) > 0 && (err != nil || !slices.Equal(gotW, wantW)) {
			t.Fatalf("Walk(%s) = %v, %v; want %v", p, gotW, err, wantW)
		}
		e, err := tr.Get(root, p)
		switch {
		case m.valueAt(p):
			if err != nil || e != m[mkey{p, false}] {
				t.Fatalf("Get(%s) = %v, %v; want %v", p, e, err, m[mkey{p, false}])
			}
		case m.dirLive(p):
			if err != nil || e.Kind != KindDir {
				t.Fatalf("Get(%s) = %v, %v; want a directory", p, e, err)
			}
		default:
			if !errors.Is(err, errs.NotExist) {
				t.Fatalf("Get(%s) = %v, %v; want not-exist", p, e, err)
			}
		}
		dir := JoinPath(mustSplit(p)[:len(mustSplit(p))-1])
		list, err := tr.List(root, dir)
		if !m.dirLive(dir) && dir != "/" {
			if !errors.Is(err, errs.NotExist) {
				t.Fatalf("List(%s) = %v, %v; want not-exist", dir, list, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("List(%s): %v", dir, err)
		}
		var gotL, wantL []string
		for _, de := range list {
			gotL = append(gotL, fmt.Sprintf("%s:%v", de.Name, de.Kind))
		}
		seen := map[string]bool{}
		for _, k := range m.sorted() {
			if !isUnder(k.path, dir) || k.path == dir || m[k].Kind != KindValue {
				continue
			}
			rest := strings.TrimPrefix(strings.TrimPrefix(k.path, dir), "/")
			name, _, sub := strings.Cut(rest, "/")
			var s string
			if sub || k.meta {
				s = name + ":dir"
			} else {
				s = name + ":value"
			}
			if !seen[s] {
				seen[s] = true
				wantL = append(wantL, s)
			}
		}
		if !slices.Equal(gotL, wantL) {
			t.Fatalf("List(%s):\n got %v\nwant %v", dir, gotL, wantL)
		}
	}
	// History independence: the same content built in one pass.
	if b := m.build(t, tr); b != root {
		t.Fatalf("root %s after ops, %s built from the same content\n%s\n----\n%s", root.Short(), b.Short(), dump(t, tr, root), dump(t, tr, b))
	}
	if err := tr.Verify(root); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestModel(t *testing.T) {
	for _, small := range []bool{false, true} {
		t.Run(fmt.Sprintf("small=%v", small), func(t *testing.T) {
			if small {
				withSmallChunks(t)
			}
			for seed := range uint64(8) {
				r := rand.New(rand.NewPCG(seed, 1))
				g := &gen{r: r}
				s := memstore.New()
				tr := New(s)
				root := EmptyRoot
				m := model{}
				for step := range 300 {
					o := g.op()
					mc := m.clone()
					wantKind := mc.apply(o)
					next, err := tr.Apply(root, []Op{o})
					if wantKind != errs.Other {
						if !errs.Is(err, wantKind) {
							t.Fatalf("seed %d step %d: Apply(%+v) = %v; want kind %v", seed, step, o, err, wantKind)
						}
						if next != root {
							t.Fatalf("seed %d step %d: failed Apply changed the root", seed, step)
						}
						continue
					}
					if err != nil {
						t.Fatalf("seed %d step %d: Apply(%+v): %v", seed, step, o, err)
					}
					root, m = next, mc
					if step%25 == 0 {
						checkModel(t, tr, root, m, r)
					}
				}
				checkModel(t, tr, root, m, r)
			}
		})
	}
}
