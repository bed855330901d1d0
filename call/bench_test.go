package call_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

// benchHome is newHome over a memory store: the benchmarks measure the
// CPU cost of a call and of a commit, without the disk's fsync (which
// both pay once per commit, and which varies too much on a shared
// machine to compare).
func benchHome(b *testing.B) (*cdb.Home, *cdb.World) {
	h, err := cdb.Init(b.TempDir()+"/home", call.With(acl.With(cdb.Options{NoAudit: true, Clock: fixedClock, Store: memstore.New()})))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	w, err := h.World("")
	if err != nil {
		b.Fatal(err)
	}
	addSchemas(b, w, h.NodeKey(), "schema Counter { n: u64 }\n")
	return h, w
}

// BenchmarkCounter: calls per second of the counter (one read, one
// write, one commit).
func BenchmarkCounter(b *testing.B) {
	h, w := benchHome(b)
	putProgram(b, w, h.NodeKey(), "/progs/counter", readFile(b, "../examples/counter/counter.co"))
	var steps uint64
	b.ResetTimer()
	for b.Loop() {
		res, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/counter"})
		if err != nil {
			b.Fatal(err)
		}
		steps = res.Steps
	}
	b.ReportMetric(float64(steps), "steps/call")
}

// BenchmarkCounterApply: the counter's change made directly: commit n+1
// (what coal put or coal apply does).
func BenchmarkCounterApply(b *testing.B) {
	h, w := benchHome(b)
	reg, _ := w.Schemas(coda.ID{})
	s, _ := reg.Lookup("Counter")
	n := uint64(0)
	for b.Loop() {
		n++
		obj, _ := coda.EncodeObject(s, coda.Struct(coda.U64(n)))
		if _, err := w.Commit(ctx, h.NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: "/counter/n", Raw: obj}}, "put"); err != nil {
			b.Fatal(err)
		}
	}
}

const bigN = 10_000

// bigHome holds /big/0000 … /big/9999 and the program adding 1 to each.
func bigHome(b *testing.B) (*cdb.Home, *cdb.World, *coda.Schema) {
	h, w := benchHome(b)
	reg, _ := w.Schemas(coda.ID{})
	s, _ := reg.Lookup("Counter")
	var ops []cdb.Op
	for i := range bigN {
		obj, _ := coda.EncodeObject(s, coda.Struct(coda.U64(uint64(i))))
		ops = append(ops, cdb.Op{Kind: cdb.Put, Path: fmt.Sprintf("/big/%04d", i), Raw: obj})
	}
	if _, err := w.Commit(ctx, h.NodeKey(), ops, "big"); err != nil {
		b.Fatal(err)
	}
	src := readFile(b, "testdata/big.co") + fmt.Sprintf(`"\x%02x\x%02x"`, bigN&0xFF, bigN>>8) + "\n"
	putProgram(b, w, h.NodeKey(), "/progs/big", src)
	return h, w, s
}

// BenchmarkBig: one call reading and writing 10,000 values.
func BenchmarkBig(b *testing.B) {
	h, w, _ := bigHome(b)
	var steps uint64
	b.ResetTimer()
	for b.Loop() {
		res, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/big"})
		if err != nil {
			b.Fatal(err)
		}
		if res.Writes != bigN {
			b.Fatalf("%d writes, want %d", res.Writes, bigN)
		}
		steps = res.Steps
	}
	b.ReportMetric(float64(steps), "steps/call")
}

// BenchmarkBigApply: the same change made directly, as coal apply does:
// one commit of 10,000 puts (the reads that compute them are not timed).
func BenchmarkBigApply(b *testing.B) {
	h, w, s := bigHome(b)
	ops := make([]cdb.Op, bigN)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer() // the reads are not the commit's: make the ops untimed
		for i := range bigN {
			p := fmt.Sprintf("/big/%04d", i)
			it, err := w.Get(coda.ID{}, p)
			if err != nil {
				b.Fatal(err)
			}
			obj, _ := coda.EncodeObject(s, coda.Struct(coda.U64(binary.LittleEndian.Uint64(it.Raw[coda.IDSize:])+1)))
			ops[i] = cdb.Op{Kind: cdb.Put, Path: p, Raw: obj}
		}
		b.StartTimer()
		if _, err := w.Commit(ctx, h.NodeKey(), ops, "apply"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBigCheck: re-executing the 10,000-value call, as replay,
// bundle apply and sync do.
func BenchmarkBigCheck(b *testing.B) {
	h, w, _ := bigHome(b)
	res, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/big"})
	if err != nil {
		b.Fatal(err)
	}
	c, _ := w.LoadCommit(res.Commit.ID)
	p, _ := w.LoadCommit(c.Parents[0])
	b.ResetTimer()
	for b.Loop() {
		if err := (call.Checker{}).CheckCall(h.Store(), h.Policy(), c, []*cdb.Commit{p}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCounterVsCommit alternates a counter call and a direct commit
// of the same change (n+1) on one home, so that both see the same load
// on a shared machine, and reports each one's time and their ratio.
func BenchmarkCounterVsCommit(b *testing.B) {
	h, w := benchHome(b)
	putProgram(b, w, h.NodeKey(), "/progs/counter", readFile(b, "../examples/counter/counter.co"))
	reg, _ := w.Schemas(coda.ID{})
	s, _ := reg.Lookup("Counter")
	var tc, ta time.Duration
	n := uint64(0)
	for b.Loop() {
		t0 := time.Now()
		if _, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/counter"}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		n += 2
		obj, _ := coda.EncodeObject(s, coda.Struct(coda.U64(n)))
		if _, err := w.Commit(ctx, h.NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: "/counter/n", Raw: obj}}, "put"); err != nil {
			b.Fatal(err)
		}
		tc += t1.Sub(t0)
		ta += time.Since(t1)
	}
	b.ReportMetric(float64(tc.Nanoseconds())/float64(b.N), "call-ns/op")
	b.ReportMetric(float64(ta.Nanoseconds())/float64(b.N), "commit-ns/op")
	b.ReportMetric(float64(tc)/float64(ta), "call/commit")
}

// BenchmarkBigVsCommit alternates the 10,000-value call and the direct
// commit of the same 10,000 puts (computed untimed), as
// BenchmarkCounterVsCommit does.
func BenchmarkBigVsCommit(b *testing.B) {
	h, w, s := bigHome(b)
	ops := make([]cdb.Op, bigN)
	var tc, ta time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/big"}); err != nil {
			b.Fatal(err)
		}
		tc += time.Since(t0)
		b.StopTimer()
		for i := range bigN {
			p := fmt.Sprintf("/big/%04d", i)
			it, err := w.Get(coda.ID{}, p)
			if err != nil {
				b.Fatal(err)
			}
			obj, _ := coda.EncodeObject(s, coda.Struct(coda.U64(binary.LittleEndian.Uint64(it.Raw[coda.IDSize:])+1)))
			ops[i] = cdb.Op{Kind: cdb.Put, Path: p, Raw: obj}
		}
		b.StartTimer()
		t1 := time.Now()
		if _, err := w.Commit(ctx, h.NodeKey(), ops, "apply"); err != nil {
			b.Fatal(err)
		}
		ta += time.Since(t1)
	}
	b.ReportMetric(float64(tc.Nanoseconds())/float64(b.N), "call-ns/op")
	b.ReportMetric(float64(ta.Nanoseconds())/float64(b.N), "commit-ns/op")
	b.ReportMetric(float64(tc)/float64(ta), "call/commit")
}
