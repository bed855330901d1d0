package node

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/coalescent/coal/module"
	"github.com/coalescent/coal/module/moduletest"
)

// waitModule waits, on n's commits, until n's catalog holds module name
// with want entries; it fails after the context's deadline.
func waitModule(t *testing.T, ctx context.Context, n *Node, name string, want int) time.Duration {
	t.Helper()
	start := time.Now()
	w := world(t, n)
	ch, stop := n.Home().Subscribe(w.ID())
	defer stop()
	for {
		if got := len(entries(t, n, name)); got >= want {
			return time.Since(start)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("%s: after %v, %d entries of %s, want %d, and no collect was run by hand", n.Home().Dir(), time.Since(start), len(entries(t, n, name)), name, want)
		}
	}
}

// TestAutoCollect: B, with automatic collect on, connects to A: it has
// the module A published within seconds, without any collect call; a
// module A publishes while connected reaches B on the next period. C,
// with automatic collect off, connected to A too, gets nothing.
func TestAutoCollect(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := openNet(t, "a")[0]
	b := openNetWith(t, Options{AutoCollect: time.Second}, "b")[0]
	c := openNet(t, "c")[0]
	pub, err := module.Publish(ctx, world(t, a), a.Home().NodeKey(), filepath.Join("..", "examples", "modules", "circle"))
	if err != nil {
		t.Fatal(err)
	}
	shareCatalog(t, a)
	connect(t, ctx, b, a)
	connect(t, ctx, c, a)
	took := waitModule(t, ctx, b, circle, len(pub.Entries))
	t.Logf("B had %s %v after connecting", circle, took)

	// A second module, published while B is connected: the next period.
	dir := filepath.Join(t.TempDir(), "second")
	moduletest.CopyCircle(t, dir, "geometry::second")
	pub2, err := module.Publish(ctx, world(t, a), a.Home().NodeKey(), dir)
	if err != nil {
		t.Fatal(err)
	}
	took = waitModule(t, ctx, b, "geometry::second", len(pub2.Entries))
	t.Logf("B had geometry::second %v after A published it", took)

	if got := len(entries(t, c, "")); got != 0 {
		t.Fatalf("C, automatic collect off, holds %d catalog entries", got)
	}
}
