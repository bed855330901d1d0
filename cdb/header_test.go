package cdb

import (
	"fmt"
	"slices"
	"testing"

	"github.com/coalescent/coal/coda"
)

// TestDecodeHeader: the header of every commit of a history with a merge
// and the genesis is what the full decoding gives.
func TestDecodeHeader(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	base := mustHead(t, w)
	if err := w.CreateBranch("b", base); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, h.NodeKey(), []Op{petOp("/a", "1")}, "on main"); err != nil {
		t.Fatal(err)
	}
	if err := w.Switch("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, h.NodeKey(), []Op{petOp("/b", "2")}, "on b"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Merge(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := w.walkHistory(mustHead(t, w), map[coda.ID]bool{}, func(c *Commit) error {
		b, err := h.store.Get(c.ID)
		if err != nil {
			return err
		}
		hd, ok := h.schema.decodeHeader(b)
		if !ok {
			t.Fatalf("commit %s: no header", c.ID)
		}
		if hd.World != c.World || !slices.Equal(hd.Parents, c.Parents) || hd.Tree != c.Tree ||
			!slices.Equal(hd.Author, c.Author) || hd.Time != c.Time {
			t.Errorf("commit %s: header %+v, decoded %+v", c.ID, hd, c)
		}
		h.commits.mu.Lock()
		h.commits.m = nil // not cached: parentCommit reads the header
		h.commits.mu.Unlock()
		got, err := w.parentCommit(c.ID)
		if err != nil || got.ID != c.ID || got.Tree != c.Tree || got.Time != c.Time {
			t.Errorf("parentCommit(%s) = %+v, %v", c.ID, got, err)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("%d commits walked, want at least 5", n)
	}
	// A commit larger than headerOnly: parentCommit reads its header only,
	// and a merge over it (merge base, ancestry) works from headers.
	var ops []Op
	for i := range 5000 {
		ops = append(ops, petOp(fmt.Sprintf("/many/a-rather-long-directory-name/value-%05d", i), "x"))
	}
	big, err := w.Commit(ctx, h.NodeKey(), ops, "many")
	if err != nil {
		t.Fatal(err)
	}
	// Its ops are in its op groups: the commit object stays small.
	if size, _ := h.store.Size(big.ID); size > 1024 {
		t.Fatalf("commit of %d bytes, want at most 1 KiB (its ops are in op groups)", size)
	}
	h.commits.mu.Lock()
	h.commits.m = nil
	h.commits.mu.Unlock()
	got, err := w.parentCommit(big.ID)
	if err != nil || got.ID != big.ID || got.Tree != big.Tree || got.Time != big.Time || got.Ops != nil ||
		!slices.Equal(got.Parents, big.Parents) {
		t.Errorf("parentCommit(big) = %+v, %v; want its header", got, err)
	}
	if err := w.Switch("main"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, h.NodeKey(), []Op{petOp("/c", "3")}, ""); err != nil {
		t.Fatal(err)
	}
	h.commits.mu.Lock()
	h.commits.m = nil
	h.commits.mu.Unlock()
	if _, _, err := w.Merge(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got := getPet(t, w, coda.ID{}, "/many/a-rather-long-directory-name/value-04999"); got != "x" {
		t.Errorf("after the merge: %q", got)
	}
	if _, err := w.Replay(nil); err != nil {
		t.Error(err)
	}
	for _, bad := range [][]byte{nil, []byte("short"), make([]byte, 40)} {
		if _, ok := h.schema.decodeHeader(bad); ok {
			t.Errorf("decodeHeader(%q) ok", bad)
		}
	}
}
