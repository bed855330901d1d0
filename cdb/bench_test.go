package cdb

// Benchmarks of issue 3 ("Benchmarks (docs/perf.md)"); docs/perf.md, section
// CDB, records the numbers and how they were run:
//
//	go test ./cdb -run '^$' -bench . -benchtime 10x -count 5
//
// (a) BenchmarkBulkImport100k: 100,000 values of 100 bytes in one commit,
// through coal and through raw Pebble. (b) BenchmarkPut1M: one put and
// durable commit in a world of 1,000,000 entries. (c) BenchmarkDiff1M10 and
// BenchmarkMerge1M10: diff and merge of two heads 10 paths apart in that
// world. The 1,000,000-entry world is built once per test binary run, in a
// temporary directory that TestMain removes.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/pebblestore"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
)

func TestMain(m *testing.M) {
	code := m.Run()
	closeBigWorld()
	os.Exit(code)
}

// cpuTime returns the process's CPU time (user and system, all threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const (
	bulkValues = 100_000
	valueSize  = 100 // bytes of each object: schema id ‖ body
)

// bulkName returns a Pet name that makes a 100-byte Pet object (32-byte
// schema id, 1-byte length, 67 bytes of name), different for each i and run.
func bulkName(run, i int) string {
	s := fmt.Sprintf("pet %d of run %d ", i, run)
	return s + strings.Repeat("x", valueSize-coda.IDSize-1-len(s))
}

// bulkFileData is the content of file i: 67 bytes, so that its Blob object
// (32-byte schema id, 1-byte length, data) is 100 bytes.
func bulkFileData(i int) []byte {
	s := fmt.Sprintf("file %d\n", i)
	return []byte(s + strings.Repeat("y", valueSize-coda.IDSize-1-len(s)))
}

// writeBulkFiles writes bulkValues files of bulkFileData in 100 directories.
func writeBulkFiles(b *testing.B, dir string) {
	for i := range bulkValues {
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%100), fmt.Sprintf("f%06d", i))
		if i < 100 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(p, bulkFileData(i), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// reportBulk reports values/s (wall), values per CPU second, and returns
// the CPU time per op.
func reportBulk(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(bulkValues)*float64(b.N)/b.Elapsed().Seconds(), "values/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkBulkImport100k is issue 3's benchmark (a): 100,000 values of
// 100 bytes stored as one durable commit (target: at least half raw
// Pebble's throughput). Each op starts from an empty home or database.
//
//   - commit: one World.Commit of 100,000 puts of Pet values (100-byte
//     objects), 1,000 directories of 100, in path order.
//   - import: World.Import of 100,000 files of 67 bytes (100-byte Blob
//     objects) in 100 directories; includes reading the files.
//   - rawpebble-files: import's work done by hand with raw Pebble: read the
//     same files (WalkDir, os.ReadFile) into one batch keyed by file path,
//     committed synced. import also reports its ratio to this (vs-raw-files).
//   - rawpebble: one Pebble batch of the 100,000 objects of commit, keyed
//     by their ids (hashed before the timer), committed synced.
//
// Each reports values/s, and commit and import their ratio to rawpebble's
// values/s in the same run (vs-raw).
func BenchmarkBulkImport100k(b *testing.B) {
	var raw float64 // rawpebble values/s, for the ratios
	b.Run("rawpebble", func(b *testing.B) {
		var cpu time.Duration
		for run := 0; b.Loop(); run++ {
			b.StopTimer()
			db, err := pebble.Open(b.TempDir(), rawOptions())
			if err != nil {
				b.Fatal(err)
			}
			objs, ids := petObjects(b, run)
			b.StartTimer()
			c0 := cpuTime()
			bt := db.NewBatch()
			for i, obj := range objs {
				if err := bt.Set(ids[i][:], obj, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := bt.Commit(pebble.Sync); err != nil {
				b.Fatal(err)
			}
			bt.Close()
			cpu += cpuTime() - c0
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
		reportBulk(b, cpu)
		raw = float64(bulkValues) * float64(b.N) / b.Elapsed().Seconds()
	})
	src := b.TempDir()
	writeBulkFiles(b, src)
	var rawFiles float64 // rawpebble-files values/s
	b.Run("rawpebble-files", func(b *testing.B) {
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			db, err := pebble.Open(b.TempDir(), rawOptions())
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			c0 := cpuTime()
			bt := db.NewBatch()
			n := 0
			err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				n++
				return bt.Set([]byte(p), data, nil)
			})
			if err != nil || n != bulkValues {
				b.Fatalf("read %d files: %v", n, err)
			}
			if err := bt.Commit(pebble.Sync); err != nil {
				b.Fatal(err)
			}
			bt.Close()
			cpu += cpuTime() - c0
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
		reportBulk(b, cpu)
		rawFiles = float64(bulkValues) * float64(b.N) / b.Elapsed().Seconds()
	})
	ratio := func(b *testing.B) {
		if raw > 0 {
			b.ReportMetric(float64(bulkValues)*float64(b.N)/b.Elapsed().Seconds()/raw, "vs-raw")
		}
	}
	b.Run("commit", func(b *testing.B) {
		var cpu time.Duration
		for run := 0; b.Loop(); run++ {
			b.StopTimer()
			h, w := pebbleHome(b)
			ops := make([]Op, bulkValues)
			for i := range ops {
				ops[i] = petOp(fmt.Sprintf("/pets/d%03d/p%05d", i/100, i), bulkName(run, i))
			}
			b.StartTimer()
			c0 := cpuTime()
			if _, err := w.Commit(ctx, h.NodeKey(), ops, "pets"); err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime() - c0
			b.StopTimer()
			h.Close()
			b.StartTimer()
		}
		reportBulk(b, cpu)
		ratio(b)
	})
	b.Run("import", func(b *testing.B) {
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			h, w := pebbleHome(b)
			b.StartTimer()
			c0 := cpuTime()
			if _, err := w.Import(ctx, h.NodeKey(), src, "/files", nil); err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime() - c0
			b.StopTimer()
			h.Close()
			b.StartTimer()
		}
		reportBulk(b, cpu)
		ratio(b)
		if rawFiles > 0 {
			b.ReportMetric(float64(bulkValues)*float64(b.N)/b.Elapsed().Seconds()/rawFiles, "vs-raw-files")
		}
	})
}

// petObjects returns the objects of BenchmarkBulkImport100k's commit for
// run (the Pet objects bulkName makes) and their ids.
func petObjects(b *testing.B, run int) ([][]byte, []coda.ID) {
	h := newHome(b)
	w := defaultWorld(b, h)
	withSchemas(b, w)
	pet, _ := mustRegistry(b, w).Lookup("Pet")
	objs := make([][]byte, bulkValues)
	ids := make([]coda.ID, bulkValues)
	for i := range objs {
		obj, err := coda.EncodeObject(pet, coda.Struct(coda.String(bulkName(run, i))))
		if err != nil {
			b.Fatal(err)
		}
		if len(obj) != valueSize {
			b.Fatalf("object of %d bytes, want %d", len(obj), valueSize)
		}
		objs[i], ids[i] = obj, coda.Sum(obj)
	}
	return objs, ids
}

// rawOptions gives raw Pebble the settings pebblestore uses (as
// cdb/store/pebblestore's benchmarks do).
func rawOptions() *pebble.Options {
	return &pebble.Options{
		MemTableSize:               64 << 20,
		CacheSize:                  (64 + 2*64) << 20,
		FormatMajorVersion:         pebble.FormatNewest,
		CompactionConcurrencyRange: func() (int, int) { return 1, 2 },
		Logger:                     quietPebble{},
	}
}

type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (quietPebble) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf(format, args...)
}

func mustRegistry(b testing.TB, w *World) *coda.Registry {
	r, err := w.Schemas(coda.ID{})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// pebbleHome returns a new Pebble-backed home (its own store in DIR/store)
// with the Person and Pet schemas, and its default world.
func pebbleHome(b *testing.B) (*Home, *World) {
	h, err := Init(filepath.Join(b.TempDir(), "home"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	w := defaultWorld(b, h)
	withSchemas(b, w)
	return h, w
}

// The 1,000,000-entry world: built on first use, shared by the benchmarks
// of one test binary run, removed by TestMain.
var big struct {
	once sync.Once
	dir  string
	h    *Home
	w    *World
	cs   *store.CountingStore
	err  error
}

const bigN = 1_000_000

func bigPath(i int) string { return fmt.Sprintf("/big/k%07d", i) }

// bigWorld returns the world of bigN Pet values under /big (one directory,
// /big/k0000000 …), written as one commit to a Pebble store behind a
// CountingStore, and the counting store.
func bigWorld(b *testing.B) (*World, *store.CountingStore) {
	big.once.Do(func() {
		t0 := time.Now()
		big.err = buildBigWorld()
		if big.err == nil {
			fmt.Fprintf(os.Stderr, "cdb bench: built the %d-entry world in %v\n", bigN, time.Since(t0).Round(time.Millisecond))
		}
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	return big.w, big.cs
}

func buildBigWorld() error {
	dir, err := os.MkdirTemp("", "coal-bench-1m-")
	if err != nil {
		return err
	}
	big.dir = dir
	ps, err := pebblestore.Open(filepath.Join(dir, "store"), pebblestore.Options{})
	if err != nil {
		return err
	}
	big.cs = store.Counting(ps)
	big.h, err = Init(filepath.Join(dir, "home"), Options{Store: big.cs})
	if err != nil {
		ps.Close()
		return err
	}
	if big.w, err = big.h.World(""); err != nil {
		return err
	}
	if _, _, err := big.w.AddSchemas(ctx, big.h.NodeKey(), "person.coda", []byte(personCoda)); err != nil {
		return err
	}
	reg, err := big.w.Schemas(coda.ID{})
	if err != nil {
		return err
	}
	petSchema, _ := reg.Lookup("Pet")
	_, err = big.w.write(ctx, big.h.NodeKey(), "fill", rerunNever, func(tx *txn) error {
		ops := make([]tree.Op, bigN)
		for i := range bigN {
			obj, err := coda.EncodeObject(petSchema, pet(fmt.Sprint(i)))
			if err != nil {
				return err
			}
			id, err := tx.st.Put(obj)
			if err != nil {
				return err
			}
			ops[i] = tree.Op{Path: bigPath(i), Entry: tree.Value(id, tx.stamp)}
		}
		tx.pending = ops
		return nil
	})
	return err
}

func closeBigWorld() {
	if big.h != nil {
		big.h.Close()
	}
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
}

// BenchmarkPut1M is issue 3's benchmark (b): one put and durable commit
// in the world of 1,000,000 entries: latency, CPU time, and the objects
// written and read per commit (target: O(log n) objects).
func BenchmarkPut1M(b *testing.B) {
	w, cs := bigWorld(b)
	key := w.h.NodeKey()
	cs.Reset()
	c0 := cpuTime()
	i := 0
	for b.Loop() {
		i++
		if _, err := w.Commit(ctx, key, []Op{petOp(bigPath((i*7919)%bigN), fmt.Sprint("put ", i))}, ""); err != nil {
			b.Fatal(err)
		}
	}
	c := cs.Counts()
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(c.ObjectsWritten)/float64(b.N), "objects-written/op")
	b.ReportMetric(float64(c.ObjectsRead)/float64(b.N), "objects-read/op")
}

var branchSeq int // makes twoHeads' branch names unique in a run

// twoHeads makes two branches off the current head of w, each with one
// commit of 5 puts into /big (10 paths in all), and returns their heads.
func twoHeads(b *testing.B, w *World, i int) (x, y string, hx, hy coda.ID) {
	base, err := w.Head()
	if err != nil {
		b.Fatal(err)
	}
	branchSeq++
	x, y = fmt.Sprintf("x%d", branchSeq), fmt.Sprintf("y%d", branchSeq)
	for k, br := range []string{x, y} {
		if err := w.CreateBranch(br, base); err != nil {
			b.Fatal(err)
		}
		if err := w.Switch(br); err != nil {
			b.Fatal(err)
		}
		var ops []Op
		for j := range 5 {
			ops = append(ops, petOp(bigPath((i*1000+j*7919+k*500)%bigN), br))
		}
		if _, err := w.Commit(ctx, w.h.NodeKey(), ops, ""); err != nil {
			b.Fatal(err)
		}
	}
	hx, _ = w.Resolve(x)
	hy, _ = w.Resolve(y)
	return x, y, hx, hy
}

// BenchmarkDiff1M10 is issue 3's benchmark (c), diff: the diff of two heads
// that differ in 10 paths of the 1,000,000-entry world: objects read.
func BenchmarkDiff1M10(b *testing.B) {
	w, cs := bigWorld(b)
	var reads int64
	var cpu time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		_, _, hx, hy := twoHeads(b, w, i)
		cs.Reset()
		b.StartTimer()
		c0 := cpuTime()
		changes := 0
		if err := w.Diff(hx, hy, func(tree.Change) error { changes++; return nil }); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		reads += cs.Counts().ObjectsRead
		if changes != 10 {
			b.Fatalf("diff: %d changes, want 10", changes)
		}
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(reads)/float64(b.N), "objects-read/op")
}

// BenchmarkMerge1M10 is issue 3's benchmark (c), merge: merging one of two
// heads that differ in 10 paths of the 1,000,000-entry world into the
// other, as a durable merge commit (which includes its validation, a
// recomputation of the merge): objects read and written.
func BenchmarkMerge1M10(b *testing.B) {
	w, cs := bigWorld(b)
	var reads, writes int64
	var cpu time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		x, _, _, _ := twoHeads(b, w, i)
		cs.Reset()
		b.StartTimer()
		c0 := cpuTime()
		if _, _, err := w.Merge(ctx, x); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		c := cs.Counts()
		reads += c.ObjectsRead
		writes += c.ObjectsWritten
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(reads)/float64(b.N), "objects-read/op")
	b.ReportMetric(float64(writes)/float64(b.N), "objects-written/op")
}
