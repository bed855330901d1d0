package tree

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

// TestBatchSplit: a Batch fed ops in pieces gives Apply's root for all of
// them at once, and writes nothing before Flush.
func TestBatchSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ops []Op
	for i := range 2000 {
		p := fmt.Sprintf("/d%d/f%d", r.IntN(20), r.IntN(500))
		e := Value(coda.Sum(fmt.Appendf(nil, "%d", i)), Stamp{Time: uint64(i)})
		ops = append(ops, Op{Path: p, Entry: e})
		if i%97 == 0 {
			ops = append(ops, Op{Path: fmt.Sprintf("/d%d", r.IntN(20)), Meta: true, Entry: e})
		}
	}
	want, err := New(memstore.New()).Apply(EmptyRoot, ops)
	if err != nil {
		t.Fatal(err)
	}
	cs := store.Counting(memstore.New())
	b := New(cs).NewBatch(EmptyRoot)
	for rest := ops; len(rest) > 0; {
		n := min(len(rest), 1+r.IntN(50))
		if err := b.Apply(rest[:n]...); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if w := cs.Counts().ObjectsWritten; w != 0 {
		t.Errorf("%d objects written before Flush, want 0", w)
	}
	got, err := b.Flush()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Batch root %s, Apply root %s", got, want)
	}
}
