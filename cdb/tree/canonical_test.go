package tree

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

var canonicalSeeds = []string{"", "/", "//", "a", "/a", "a/b", "/a/b", "/a/", "/a//b", "/.", "/..", "/a/./b", "/a/../b",
	"/é", "/\xff", "/a\x00b", "/" + strings.Repeat("x", MaxSegment), "/" + strings.Repeat("x", MaxSegment+1),
	strings.Repeat("/a", MaxDepth), strings.Repeat("/a", MaxDepth+1), "/" + strings.Repeat("ab/", MaxPath/3)}

// canonicalRef is CanonicalPath by its definition.
func canonicalRef(p string) bool {
	segs, err := SplitPath(p)
	return err == nil && JoinPath(segs) == p
}

// TestCanonicalPath: CanonicalPath agrees with SplitPath and JoinPath on
// edge cases (limits, dot segments, bad UTF-8, NUL, empty segments).
func TestCanonicalPath(t *testing.T) {
	for _, p := range canonicalSeeds {
		if got, want := CanonicalPath(p), canonicalRef(p); got != want {
			t.Errorf("CanonicalPath(%q) = %v, want %v", p, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { CanonicalPath("/a/b/c/d") }); n != 0 {
		t.Errorf("CanonicalPath allocates %v times, want 0", n)
	}
}

// checkSplitInto checks that splitInto, appending to a used array, gives
// what SplitPath gives: the same segments, or the same error.
func checkSplitInto(t *testing.T, p string) {
	t.Helper()
	want, werr := SplitPath(p)
	buf := []string{"x", "y"}
	got, err := splitInto(buf[:0], p)
	if fmt.Sprint(err) != fmt.Sprint(werr) || err == nil && !slices.Equal(got, want) {
		t.Fatalf("splitInto(%q) = %q, %v; SplitPath gives %q, %v", p, got, err, want, werr)
	}
}

// TestSplitInto: splitInto agrees with SplitPath on the edge cases.
func TestSplitInto(t *testing.T) {
	for _, p := range canonicalSeeds {
		checkSplitInto(t, p)
	}
}

// TestJoinName: joinName gives JoinPath of the segments, with the name
// appended when asked, and JoinPath stays SplitPath's inverse.
func TestJoinName(t *testing.T) {
	for _, segs := range [][]string{nil, {"a"}, {"a", "bc"}, {"é", "x", "y"}} {
		if got, want := joinName(segs, "n", true), "/"+strings.Join(append(segs[:len(segs):len(segs)], "n"), "/"); got != want {
			t.Errorf("joinName(%q, n) = %q, want %q", segs, got, want)
		}
		want := "/" + strings.Join(segs, "/")
		if got := JoinPath(segs); got != want {
			t.Errorf("JoinPath(%q) = %q, want %q", segs, got, want)
		}
		if back, err := SplitPath(want); err != nil || JoinPath(back) != want {
			t.Errorf("SplitPath(%q) = %q, %v", want, back, err)
		}
	}
}

// FuzzCanonicalPath: CanonicalPath never disagrees with its definition,
// nor splitInto with SplitPath.
func FuzzCanonicalPath(f *testing.F) {
	for _, p := range canonicalSeeds {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := CanonicalPath(p), canonicalRef(p); got != want {
			t.Fatalf("CanonicalPath(%q) = %v, want %v", p, got, want)
		}
		checkSplitInto(t, p)
	})
}
