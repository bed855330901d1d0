package bundle

import (
	"crypto/ed25519"
	"io"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
)

// BenchmarkReuse: the costs bundle.Reuse adds to and saves from
// BenchmarkCreate's bundle (the same world, options and callbacks):
//
//   - named: the keys the head's history names, computed afresh (a
//     Reuse's first look at a head; later ones are remembered);
//   - record: a first clone, made by Create and kept;
//   - hit: a later reader's, written from the entry (callbacks
//     replayed).
func BenchmarkReuse(b *testing.B) {
	o := bigWorld(b, *createEntries, true)
	head, err := o.w.Head()
	if err != nil {
		b.Fatal(err)
	}
	key := func() ed25519.PublicKey {
		k, _, err := ed25519.GenerateKey(nil)
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	opts := func() CreateOptions {
		return CreateOptions{Reader: key(), OnValue: func(string, coda.ID, bool) {},
			Leave: func(_ coda.ID, _ string, _ coda.ID, size int64) bool { return size > store.ChunkThreshold }}
	}
	b.Run("named", func(b *testing.B) {
		defer cpuPerOp(b)()
		for range b.N {
			ns, err := NewReuse(1<<30).namedAt(o.w, head)
			if err != nil || !ns.whole {
				b.Fatalf("named keys: %v, whole %v", err, ns != nil && ns.whole)
			}
		}
	})
	b.Run("record", func(b *testing.B) {
		defer cpuPerOp(b)()
		for range b.N {
			r := NewReuse(1 << 30)
			if _, err := r.namedAt(o.w, head); err != nil {
				b.Fatal(err)
			}
			if _, _, err := r.Create(o.w, cdb.Identity{}, io.Discard, opts(), store.ChunkThreshold); err != nil {
				b.Fatal(err)
			}
			if r.Stats().Stored != 1 {
				b.Fatalf("nothing kept: %+v", r.Stats())
			}
		}
	})
	b.Run("hit", func(b *testing.B) {
		r := NewReuse(1 << 30)
		if _, _, err := r.Create(o.w, cdb.Identity{}, io.Discard, opts(), store.ChunkThreshold); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		defer cpuPerOp(b)()
		for range b.N {
			_, reused, err := r.Create(o.w, cdb.Identity{}, io.Discard, opts(), store.ChunkThreshold)
			if err != nil || !reused {
				b.Fatalf("reused %v, %v", reused, err)
			}
		}
	})
}

// cpuPerOp reports, when the function it returns is called, the CPU time
// of the process per op since it was called.
func cpuPerOp(b *testing.B) func() {
	cpu0 := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op") }
}
