package cdb

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
)

// model is the naive meaning of a tree: path → value.
type model map[string]string

func (m model) isDir(p string) bool {
	for k := range m {
		if strings.HasPrefix(k, p+"/") {
			return true
		}
	}
	return false
}

// valueAbove reports whether a proper ancestor of p holds a value.
func (m model) valueAbove(p string) bool {
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			if _, ok := m[p[:i]]; ok {
				return true
			}
		}
	}
	return false
}

func (m model) put(p, v string) bool {
	if m.isDir(p) || m.valueAbove(p) {
		return false
	}
	m[p] = v
	return true
}

func (m model) apply(o Op) bool {
	switch o.Kind {
	case Put:
		return m.put(o.Path, o.Value.Index(0).AsString())
	case Delete:
		if _, ok := m[o.Path]; ok {
			delete(m, o.Path)
			return true
		}
		if !o.Recursive || !m.isDir(o.Path) {
			return false
		}
		for k := range m {
			if strings.HasPrefix(k, o.Path+"/") {
				delete(m, k)
			}
		}
		return true
	case Move, Copy:
		if o.Path == o.From || strings.HasPrefix(o.Path, o.From+"/") {
			return false
		}
		src := map[string]string{}
		if v, ok := m[o.From]; ok {
			src[""] = v
		} else {
			for k, v := range m {
				if strings.HasPrefix(k, o.From+"/") {
					src[k[len(o.From):]] = v
				}
			}
		}
		if len(src) == 0 {
			return false
		}
		for _, rel := range slices.Sorted(maps.Keys(src)) {
			if !m.put(o.Path+rel, src[rel]) {
				return false
			}
		}
		if o.Kind == Move {
			for rel := range src {
				delete(m, o.From+rel)
			}
		}
		return true
	}
	return false
}

// TestAgainstModel runs random puts, deletes, moves and copies, one or a
// few per commit, against the naive model: the same ops succeed or fail,
// and the visible content is the same after each commit.
func TestAgainstModel(t *testing.T) {
	for seed := range 3 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 99))
			h := newHome(t)
			w := defaultWorld(t, h)
			withSchemas(t, w)
			m := model{}
			okCount := 0
			defer func() { t.Logf("%d of 500 commits made; %d values at the end", okCount, len(m)) }()
			randPath := func() string {
				segs := []string{"a", "b", "c"}
				n := 1 + rng.IntN(3)
				var p string
				for range n {
					p += "/" + segs[rng.IntN(len(segs))]
				}
				return "/t" + p
			}
			for i := range 500 {
				var ops []Op
				for range 1 + rng.IntN(2) {
					var o Op
					switch rng.IntN(6) {
					case 0, 1, 2:
						o = petOp(randPath(), fmt.Sprint(i))
					case 3:
						o = Op{Kind: Delete, Path: randPath(), Recursive: rng.IntN(2) == 0}
					case 4:
						o = Op{Kind: Move, From: randPath(), Path: randPath()}
					case 5:
						o = Op{Kind: Copy, From: randPath(), Path: randPath()}
					}
					ops = append(ops, o)
				}
				next := maps.Clone(m)
				ok := true
				for _, o := range ops {
					if !next.apply(o) {
						ok = false
						break
					}
				}
				_, err := w.Commit(ctx, h.NodeKey(), ops, "")
				if ok != (err == nil) {
					t.Fatalf("step %d %+v: model ok=%v, cdb err=%v", i, ops, ok, err)
				}
				if ok {
					m = next
					okCount++
				}
				got := model{}
				head := mustHead(t, w)
				root, _ := w.root(head)
				err = h.Tree().Walk(root, "/t", func(p string, e tree.Entry) error {
					it, err := w.Get(head, p)
					if err != nil {
						return err
					}
					got[p] = it.Value.Index(0).AsString()
					return nil
				})
				if err != nil && len(m) > 0 {
					t.Fatal(err)
				}
				if !maps.Equal(got, m) {
					t.Fatalf("step %d %+v:\n got %v\nwant %v", i, ops, got, m)
				}
			}
			if _, err := w.Replay(nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

var _ = coda.ID{}
