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

func TestSplitPath(t *testing.T) {
	good := []struct {
		p    string
		segs []string
	}{
		{"", nil},
		{"/", nil},
		{"a", []string{"a"}},
		{"/a/b", []string{"a", "b"}},
		{"/é/日本/.x/..y/a b", []string{"é", "日本", ".x", "..y", "a b"}},
		{"/" + strings.Repeat("x", MaxSegment), []string{strings.Repeat("x", MaxSegment)}},
	}
	for _, tc := range good {
		segs, err := SplitPath(tc.p)
		if err != nil || !slices.Equal(segs, tc.segs) {
			t.Errorf("SplitPath(%q) = %q, %v; want %q", tc.p, segs, err, tc.segs)
		}
	}
	bad := []struct{ p, why string }{
		{"//", "empty segment"},
		{"/a//b", "empty segment"},
		{"/a/", "empty segment"},
		{"/a/.", `"."`},
		{"/../b", `".."`},
		{"/a/\xff", "UTF-8"},
		{"/a\x00b", "NUL"},
		{"/" + strings.Repeat("x", MaxSegment+1), "longer than 255"},
		{strings.Repeat("/a", MaxDepth+1), "segments"},
		{strings.Repeat("/abcdefghijklmnop", 300), "bytes"},
	}
	for _, tc := range bad {
		_, err := SplitPath(tc.p)
		if !errors.Is(err, errs.Invalid) {
			t.Errorf("SplitPath(%q) = %v; want an invalid error", tc.p, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.why) || !strings.Contains(msg, fmt.Sprintf("%q", tc.p)) {
			t.Errorf("SplitPath(%q) error %q; want it to name the path and say %q", tc.p, msg, tc.why)
		}
	}
	// Every operation validates.
	tr := New(memstore.New())
	if _, err := tr.Put(EmptyRoot, "/a//b", Value(coda.Sum(nil), Stamp{})); !errors.Is(err, errs.Invalid) {
		t.Errorf("Put of a bad path: %v", err)
	}
	if _, err := tr.Get(EmptyRoot, "/a/.."); !errors.Is(err, errs.Invalid) {
		t.Errorf("Get of a bad path: %v", err)
	}
	if _, err := tr.List(EmptyRoot, "a//"); !errors.Is(err, errs.Invalid) {
		t.Errorf("List of a bad path: %v", err)
	}
}

// TestHistoryIndependence inserts the same content in shuffled orders, in
// batches and one by one, with intermediate deletes, and expects one root.
func TestHistoryIndependence(t *testing.T) {
	for _, small := range []bool{false, true} {
		t.Run(fmt.Sprintf("small=%v", small), func(t *testing.T) {
			if small {
				withSmallChunks(t)
			}
			r := rand.New(rand.NewPCG(1, 2))
			var ops []Op
			for i := range 3000 {
				p := fmt.Sprintf("/d%d/f%05d", i%3, r.IntN(100000))
				if i%10 == 0 {
					p = fmt.Sprintf("/top%04d", i)
				}
				ops = append(ops, Op{Path: p, Entry: Value(coda.Sum(fmt.Appendf(nil, "%d", i)), Stamp{Time: uint64(i)})})
			}
			// Dedupe paths: the last op for a path wins.
			seen := map[string]int{}
			for i, o := range ops {
				seen[o.Path] = i
			}
			var uniq []Op
			for i, o := range ops {
				if seen[o.Path] == i {
					uniq = append(uniq, o)
				}
			}
			tr := New(memstore.New())
			var roots []coda.ID
			for trial := range 4 {
				order := slices.Clone(uniq)
				r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				root := EmptyRoot
				var err error
				switch trial {
				case 0: // one batch
					root, err = tr.Apply(root, order)
				case 1: // one by one
					for _, o := range order {
						if root, err = tr.Apply(root, []Op{o}); err != nil {
							break
						}
					}
				default: // batches of 100, with junk put and deleted in between
					for i := 0; i < len(order) && err == nil; i += 100 {
						batch := order[i:min(i+100, len(order))]
						junk := fmt.Sprintf("/d1/junk%d", i)
						if root, err = tr.Apply(root, append(slices.Clone(batch), Op{Path: junk, Entry: Value(coda.Sum(nil), Stamp{})})); err != nil {
							break
						}
						root, err = tr.Apply(root, []Op{{Path: junk, Entry: Tombstone(Stamp{})}})
					}
					// The tombstones are content too: rebuild them the other way.
					if err == nil && trial == 3 {
						var tombs []Op
						for i := 0; i < len(order); i += 100 {
							junk := fmt.Sprintf("/d1/junk%d", i)
							tombs = append(tombs, Op{Path: junk, Entry: Value(coda.Sum(nil), Stamp{})})
						}
						alt, err2 := tr.Apply(EmptyRoot, append(tombs, order...))
						if err2 == nil {
							var dels []Op
							for _, o := range tombs {
								dels = append(dels, Op{Path: o.Path, Entry: Tombstone(Stamp{})})
							}
							alt, err2 = tr.Apply(alt, dels)
						}
						if err2 != nil || alt != root {
							t.Fatalf("junk deleted at the end: %s, %v; want %s", alt.Short(), err2, root.Short())
						}
					}
				}
				if err != nil {
					t.Fatalf("trial %d: %v", trial, err)
				}
				if err := tr.Verify(root); err != nil {
					t.Fatalf("trial %d: Verify: %v", trial, err)
				}
				roots = append(roots, root)
			}
			if roots[0] != roots[1] {
				t.Errorf("batch root %s, one-by-one root %s", roots[0].Short(), roots[1].Short())
			}
			if roots[2] != roots[3] {
				t.Errorf("roots with junk differ: %s %s", roots[2].Short(), roots[3].Short())
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	tr := New(memstore.New())
	v := Value(coda.Sum([]byte("v")), Stamp{Time: 1})
	root, err := tr.Apply(EmptyRoot, []Op{{Path: "/a/b", Entry: v}, {Path: "/f", Entry: v}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		op   Op
		kind errs.Kind
	}{
		{Op{Path: "/a", Entry: v}, errs.Invalid},                      // a live directory
		{Op{Path: "/f/x", Entry: v}, errs.Invalid},                    // under a value
		{Op{Path: "/a", Entry: Tombstone(Stamp{})}, errs.Invalid},     // not recursive
		{Op{Path: "/nope", Entry: Tombstone(Stamp{})}, errs.NotExist}, // nothing there
		{Op{Path: "/a", Meta: true, Entry: Tombstone(Stamp{})}, errs.NotExist},
		{Op{Path: "/x", Entry: Entry{Kind: KindValue}}, errs.Invalid}, // zero id
		{Op{Path: "/", Entry: v}, errs.Invalid},
		{Op{Path: "/x", Entry: Entry{Kind: KindDir, ID: coda.Sum(nil)}}, errs.Invalid},
	}
	for _, tc := range cases {
		got, err := tr.Apply(root, []Op{tc.op})
		if !errs.Is(err, tc.kind) || got != root {
			t.Errorf("Apply(%+v) = %s, %v; want kind %v and the old root", tc.op, got.Short(), err, tc.kind)
		}
	}
	// Deleted twice.
	r2, err := tr.Delete(root, "/f", Stamp{Time: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Delete(r2, "/f", Stamp{Time: 3}); !errs.Is(err, errs.NotExist) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := tr.Get(r2, "/f"); !errs.Is(err, errs.NotExist) {
		t.Errorf("Get of a tombstone: %v", err)
	}
	// A value may replace a deleted directory.
	r3, err := tr.Apply(r2, []Op{{Path: "/a", Entry: Tombstone(Stamp{Time: 4}), Recursive: true}, {Path: "/a", Entry: v}})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := tr.Get(r3, "/a"); err != nil || e != v {
		t.Errorf("Get(/a) = %v, %v", e, err)
	}
	if err := tr.Verify(r3); err != nil {
		t.Error(err)
	}
}

func TestListFrom(t *testing.T) {
	tr := New(memstore.New())
	b := tr.NewBuilder()
	var want []string
	for i := range 5000 {
		name := fmt.Sprintf("n%05d", i)
		e := Value(coda.Sum([]byte(name)), Stamp{})
		if i%7 == 0 {
			e = Tombstone(Stamp{})
		} else {
			want = append(want, name)
		}
		if err := b.Add("/d/"+name, e); err != nil {
			t.Fatal(err)
		}
	}
	root, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	after := ""
	for {
		page, err := tr.ListFrom(root, "/d", after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 100 {
			t.Fatalf("page of %d", len(page))
		}
		for _, de := range page {
			got = append(got, de.Name)
		}
		after = page[len(page)-1].Name
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged listing: %d names, want %d", len(got), len(want))
	}
}

func TestBuilderOrder(t *testing.T) {
	tr := New(memstore.New())
	v := Value(coda.Sum(nil), Stamp{})
	for _, paths := range [][]string{
		{"/b", "/a"},
		{"/a/x", "/a"},   // value a after directory a
		{"/a/x", "/a/x"}, // repeated
		{"/a/x", "/b", "/a/y"},
	} {
		b := tr.NewBuilder()
		var err error
		for _, p := range paths {
			if err = b.Add(p, v); err != nil {
				break
			}
		}
		if _, err2 := b.Finish(); err == nil && err2 == nil || err != nil && !errs.Is(err, errs.Invalid) {
			t.Errorf("Builder %v: %v; want an invalid error", paths, err)
		}
	}
}
