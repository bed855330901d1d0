package replica

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// TestClone: an empty node connected to one holding a world gets the
// world, its whole history, as its default world.
func TestClone(t *testing.T) {
	nw := newNetwork(t, 2)
	a, b := nw.nodes[0], nw.nodes[1]
	for i := range 5 {
		a.put(t, fmt.Sprintf("/docs/d%d", i), fmt.Sprintf("doc %d", i))
	}
	world := a.defaultWorld(t).ID()
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)
	if got, err := b.text(t, world, "/docs/d3"); err != nil || got != "doc 3" {
		t.Errorf("clone: /docs/d3 = %q, %v; want %q", got, err, "doc 3")
	}
	if w := b.defaultWorld(t); w.ID() != world {
		t.Errorf("clone's default world %s, want %s", w.ID(), world)
	}
	// A write on either side reaches the other.
	b.put(t, "/docs/fromb", "b")
	a.put(t, "/docs/froma", "a")
	nw.converged(world, 15*time.Second)
	for _, nd := range nw.nodes {
		for _, p := range []string{"/docs/fromb", "/docs/froma"} {
			if _, err := nd.text(t, world, p); err != nil {
				t.Errorf("%s: %s: %v", nd.name, p, err)
			}
		}
	}
}

// TestConverge: four nodes write at once, to their own paths and to one
// shared path; all end on one head and root holding every commit.
func TestConverge(t *testing.T) {
	nw := newNetwork(t, 4)
	world := nw.nodes[0].defaultWorld(t).ID()
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)
	var mu sync.Mutex
	var acked []coda.ID
	var wg sync.WaitGroup
	for i, nd := range nw.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := nd.defaultWorld(t)
			for j := range 5 {
				ci, err := w.Commit(bg, nd.h.NodeKey(), []cdb.Op{putOp(fmt.Sprintf("/n%d/v%d", i, j), "x"), putOp("/shared", fmt.Sprintf("%s-%d", nd.name, j))}, "w")
				for errs.Is(err, errs.Conflict) { // a sync moved the branch
					ci, err = w.Commit(bg, nd.h.NodeKey(), []cdb.Op{putOp(fmt.Sprintf("/n%d/v%d", i, j), "x"), putOp("/shared", fmt.Sprintf("%s-%d", nd.name, j))}, "w")
				}
				if err != nil {
					t.Errorf("%s: commit %d: %v", nd.name, j, err)
					return
				}
				mu.Lock()
				acked = append(acked, ci.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	nw.converged(world, 20*time.Second)
	for _, nd := range nw.nodes {
		for _, c := range acked {
			if !nd.inHistory(t, world, c) {
				_, err := nd.world(world).LoadCommit(c)
				h, _ := nd.state(world)
				t.Errorf("%s: acknowledged commit %s missing from the history of %s (load: %v)", nd.name, c, h, err)
			}
		}
		for i := range nw.nodes {
			if _, err := nd.text(t, world, fmt.Sprintf("/n%d/v4", i)); err != nil {
				t.Errorf("%s: /n%d/v4: %v", nd.name, i, err)
			}
		}
	}
}
