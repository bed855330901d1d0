package cdb

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func TestWorldsAndBranches(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	h, err := Init(dir, Options{Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	w2, err := h.NewWorld("second")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.NewWorld("second"); !errors.Is(err, errs.Exist) {
		t.Errorf("NewWorld again: %v", err)
	}
	for _, bad := range []string{"", "a/b", "..", "has space"} {
		if _, err := h.NewWorld(bad); !errors.Is(err, errs.Invalid) {
			t.Errorf("NewWorld(%q): %v", bad, err)
		}
	}
	g, err := w2.LoadCommit(w2.ID())
	if err != nil || !g.IsGenesis() || g.Verify() != nil || KeyString(g.Author) != h.NodeKey().Key() {
		t.Errorf("genesis: %+v, %v", g, err)
	}
	withSchemas(t, w2)
	mustCommit(t, w2, petOp("/a", "a"))
	if err := w2.CreateBranch("dev", coda.ID{}); err != nil {
		t.Fatal(err)
	}
	if err := w2.CreateBranch("dev", coda.ID{}); !errors.Is(err, errs.Exist) {
		t.Errorf("CreateBranch again: %v", err)
	}
	if err := w2.CreateBranch("HEAD", coda.ID{}); !errors.Is(err, errs.Invalid) {
		t.Errorf("CreateBranch HEAD: %v", err)
	}
	if err := w2.Switch("nope"); !errors.Is(err, errs.NotExist) {
		t.Errorf("Switch nope: %v", err)
	}
	if err := w2.Switch("dev"); err != nil {
		t.Fatal(err)
	}
	dev := mustCommit(t, w2, petOp("/b", "b"))
	h.Close()

	h, err = Open(dir, Options{Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ws, err := h.Worlds()
	if err != nil || len(ws) != 2 || ws[0].Name != "default" || ws[1].Name != "second" || ws[1].Branch != "dev" || ws[1].Head != dev.ID {
		t.Fatalf("Worlds = %+v, %v", ws, err)
	}
	w2, err = h.World(ws[1].ID.String())
	if err != nil || w2.Branch() != "dev" {
		t.Fatalf("World by id: %v", err)
	}
	bs, err := w2.Branches()
	if err != nil || len(bs) != 2 || bs[0].Name != "dev" || !bs[0].Current || bs[1].Name != "main" {
		t.Errorf("Branches = %+v, %v", bs, err)
	}
	if getPet(t, w2, coda.ID{}, "/b") != "b" {
		t.Error("/b missing on dev")
	}
	main, _ := w2.Resolve("main")
	if getPet(t, w2, main, "/b") != "-" {
		t.Error("/b on main")
	}
	// A later commit is after the clock persisted before the restart.
	c := mustCommit(t, w2, petOp("/c", "c"))
	if c.Time <= dev.Time {
		t.Errorf("time went back after reopen: %v <= %v", c.Time, dev.Time)
	}
	// A commit of one world is not in another.
	w1, _ := h.World("")
	if _, err := w1.LoadCommit(c.ID); !errors.Is(err, errs.NotExist) {
		t.Errorf("commit of another world: %v", err)
	}
	if _, err := h.World("nosuch"); !errors.Is(err, errs.NotExist) {
		t.Errorf("World(nosuch): %v", err)
	}
}

// TestConcurrentCommits: writers racing on one branch all land (puts are
// retried on the new head), and history stays valid.
func TestConcurrentCommits(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	const n = 8
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.Commit(ctx, h.NodeKey(), []Op{petOp(fmt.Sprintf("/p/%d", i), "x")}, "")
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	ok := 0
	for err := range errc {
		if err == nil {
			ok++
		} else if !errors.Is(err, errs.Conflict) {
			t.Error(err)
		}
	}
	ls, _ := w.List(coda.ID{}, "/p")
	if len(ls) != ok || ok < n/2 {
		t.Errorf("%d commits succeeded, %d entries", ok, len(ls))
	}
	if r, err := w.Replay(nil); err != nil || r.Count != ok+2 {
		t.Errorf("Replay: %+v, %v", r, err)
	}
}
