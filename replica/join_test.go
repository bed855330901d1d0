package replica

import (
	"context"
	"testing"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/ctp"
	"github.com/libp2p/go-libp2p/core/peer"
)

// joinFetcher records the peers a large-value fetch starts with and the
// first that joins it.
type joinFetcher struct {
	started chan []peer.ID
	joined  chan peer.ID
}

func (f *joinFetcher) FetchValue(ctx context.Context, peers []peer.ID, w ctp.Want, id coda.ID, st store.Store) error {
	return f.FetchValueJoin(ctx, peers, nil, w, id, st)
}

func (f *joinFetcher) FetchValueJoin(ctx context.Context, peers []peer.ID, more <-chan peer.ID, w ctp.Want, id coda.ID, st store.Store) error {
	f.started <- peers
	select {
	case p := <-more:
		f.joined <- p
	case <-time.After(10 * time.Second):
		close(f.joined)
	}
	return nil
}

// TestFetchLargeJoin: a peer that announces a head of the world while a
// large value's fetch runs joins it; one that announces another world
// does not (it is never told the world or the path).
func TestFetchLargeJoin(t *testing.T) {
	nw := newNetwork(t, 4)
	f := &joinFetcher{started: make(chan []peer.ID, 1), joined: make(chan peer.ID, 1)}
	e, err := New(nw.nodes[0].h, nw.nodes[0].host, Options{Fetcher: f})
	must(t, err)
	t.Cleanup(func() { e.Close() })
	p1, p2, p3 := nw.nodes[1].host.ID(), nw.nodes[2].host.ID(), nw.nodes[3].host.ID()
	for _, p := range []peer.ID{p1, p2, p3} {
		_, err := e.peer(p)
		must(t, err)
	}
	world, other := coda.Sum([]byte("world")), coda.Sum([]byte("other"))
	heads := func(w coda.ID) Heads {
		return Heads{Heads: []Head{{World: w, Branch: cdb.DefaultBranch, Head: coda.Sum([]byte("head"))}}}
	}
	e.heard(p1, heads(world))
	done := make(chan error, 1)
	go func() {
		done <- e.fetchLarge(context.Background(), p1, world, []Large{{Path: "/big", ID: coda.Sum([]byte("big")), Size: LargeValue + 1}}, LargeValue)
	}()
	if got := <-f.started; len(got) != 1 || got[0] != p1 {
		t.Fatalf("fetch started with %v, want [%s]", got, p1)
	}
	e.heard(p3, heads(other))
	e.heard(p2, heads(world))
	if got, ok := <-f.joined; !ok || got != p2 {
		t.Fatalf("joined %v (ok %v), want %s and not %s (which holds another world)", got, ok, p2, p3)
	}
	must(t, <-done)
	e.mu.Lock()
	n := len(e.joins)
	e.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d worlds still have fetches to join after the fetch ended", n)
	}
}
