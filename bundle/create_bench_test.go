package bundle

import (
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

var createEntries = flag.Int("create.entries", 100000, "entries in BenchmarkCreate's world")

// bigWorld is replica's BenchmarkClone's world on a home in memory
// (memstore) or, if onDisk, on disk (Pebble, as coal serve keeps it): the
// creator's ACL on /, n small values in 100 directories (one commit per
// 10,000), then a root .acl that lets anyone read.
func bigWorld(b *testing.B, n int, onDisk bool) *open {
	b.Helper()
	opts := cdb.Options{NoAudit: true}
	if !onDisk {
		opts.Store = memstore.New()
	}
	h, err := cdb.Init(b.TempDir()+"/big", acl.With(opts))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	w, err := h.World("")
	if err != nil {
		b.Fatal(err)
	}
	o := &open{h: h, w: w, keys: map[string]cdb.Identity{"me": h.NodeKey()}}
	commit := func(ops ...cdb.Op) {
		if _, err := w.Commit(ctx, h.NodeKey(), ops, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	var a acl.ACL
	a.Grant(acl.Key(h.NodeKey().Public32()), acl.All)
	enc, err := a.Encode()
	if err != nil {
		b.Fatal(err)
	}
	commit(cdb.Op{Kind: cdb.Put, Path: "/.acl", Raw: enc})
	const batch = 10000
	for start := 0; start < n; start += batch {
		ops := make([]cdb.Op, 0, batch)
		for i := start; i < min(n, start+batch); i++ {
			ops = append(ops, putOp(fmt.Sprintf("/d%02d/e%07d", i%100, i), fmt.Sprintf("value %d", i)))
		}
		commit(ops...)
	}
	a.Grant(acl.Anyone, acl.Read)
	if enc, err = a.Encode(); err != nil {
		b.Fatal(err)
	}
	commit(cdb.Op{Kind: cdb.Put, Path: "/.acl", Raw: enc})
	return o
}

// cpuTime returns the CPU time the process has used (user and system):
// on a machine other work keeps busy, it varies less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCreate: the bundle sync's clone of BenchmarkClone's world
// sends (made as a new key that may read everything, no haves, values
// over store.ChunkThreshold left to CTP and each value counted, as
// replica's serve asks), written to io.Discard, from a home in memory
// (store=mem) and on disk (store=pebble, as a node serves it). It reports
// the objects per second.
func BenchmarkCreate(b *testing.B) {
	for _, onDisk := range []bool{false, true} {
		name := "store=mem"
		if onDisk {
			name = "store=pebble"
		}
		b.Run(name, func(b *testing.B) { benchCreate(b, onDisk) })
	}
}

func benchCreate(b *testing.B, onDisk bool) {
	o := bigWorld(b, *createEntries, onDisk)
	reader, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	var st Stats
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		sent := 0
		st, err = Create(o.w, cdb.Identity{}, io.Discard, CreateOptions{Reader: reader,
			OnValue: func(_ string, _ coda.ID, ok bool) {
				if ok {
					sent++
				}
			},
			Leave: func(_ coda.ID, _ string, _ coda.ID, size int64) bool { return size > store.ChunkThreshold }})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
	if st.Objects < *createEntries {
		b.Fatalf("%d objects in the bundle, want at least %d", st.Objects, *createEntries)
	}
	b.ReportMetric(float64(st.Objects)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(st.Bytes), "bytes/op")
}
