package pebblestore_test

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/pebblestore"
	"github.com/coalescent/coal/cdb/store/storetest"
	"github.com/coalescent/coal/coda"
)

// cloneObjects is the shape of the objects of issue 7's clone (a world of
// 100,000 small values): 3,700 tree nodes of about 4 KiB, each 93 entries
// of an 8-byte name, a 32-byte id and 4 bytes more, and 100,000 values of
// 12 bytes. They are returned sorted by id, as cdb's receive puts them.
func cloneObjects() (ids []coda.ID, data [][]byte) {
	rnd := storetest.Random(7, 3700*93*32)
	add := func(d []byte) {
		data = append(data, d)
	}
	for n := range 3700 {
		node := make([]byte, 0, 93*44)
		for e := range 93 {
			node = binary.BigEndian.AppendUint32(node, 0x65300000)
			node = binary.BigEndian.AppendUint32(node, uint32(n*93+e))
			off := (n*93 + e) * 32
			node = append(node, rnd[off:off+32]...)
			node = binary.LittleEndian.AppendUint32(node, uint32(e))
		}
		add(node)
	}
	for i := range 100_000 {
		add(binary.BigEndian.AppendUint32([]byte("value "), uint32(i))[:12])
	}
	ids = make([]coda.ID, len(data))
	for i, d := range data {
		ids[i] = coda.Sum(d)
	}
	idx := make([]int, len(data))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return bytes.Compare(ids[a][:], ids[b][:]) })
	sids, sdata := make([]coda.ID, len(idx)), make([][]byte, len(idx))
	for i, j := range idx {
		sids[i], sdata[i] = ids[j], data[j]
	}
	return sids, sdata
}

// BenchmarkCloneBatch stores the objects of a clone (cloneObjects, 19 MB)
// as cdb's receive does, into a new store per op: a batch sized up front,
// every object put with PutSummed in id order, two refs swapped, one
// synced Commit. It reports the time of the two steps (fill-ms, commit-ms)
// and the CPU time of the process per op; then, untimed, what the next
// use of the store pays for it: Close and Open again, and one Get
// (reopen-ms, reopen-cpu-s), and the size of the store's directory after
// that (disk-MB). "ingest" has the default options (the objects are
// ingested as an sstable); "wal" has Options.IngestSize -1 (they go
// through the WAL and a memtable, and the next Open replays and flushes
// them).
func BenchmarkCloneBatch(b *testing.B) {
	ids, data := cloneObjects()
	b.Run("ingest", func(b *testing.B) { benchCloneBatch(b, pebblestore.Options{}, ids, data) })
	b.Run("wal", func(b *testing.B) { benchCloneBatch(b, pebblestore.Options{IngestSize: -1}, ids, data) })
}

func benchCloneBatch(b *testing.B, o pebblestore.Options, ids []coda.ID, data [][]byte) {
	size := 0
	for _, d := range data {
		size += len(d) + 48
	}
	b.SetBytes(int64(size))
	var cpu float64
	var fill, commit, reopen time.Duration
	var reopenCPU, disk float64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		s, err := pebblestore.Open(dir, o)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cpu0 := processCPU()
		t0 := time.Now()
		bt := s.NewBatchSize(size)
		sp := bt.(store.SummedPutter)
		for i, id := range ids {
			if err := sp.PutSummed(id, data[i]); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		if err := bt.SwapRef("worlds/w", coda.ID{}, ids[0]); err != nil {
			b.Fatal(err)
		}
		if err := bt.SwapRef("heads/w/main", coda.ID{}, ids[1]); err != nil {
			b.Fatal(err)
		}
		if err := bt.Commit(true); err != nil {
			b.Fatal(err)
		}
		fill += t1.Sub(t0)
		commit += time.Since(t1)
		cpu += processCPU() - cpu0
		b.StopTimer()
		// The next open of the store: the WAL path replays and flushes
		// what the clone wrote to the WAL.
		cpu1, t2 := processCPU(), time.Now()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		s, err = pebblestore.Open(dir, o)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Get(ids[len(ids)/2]); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		reopen += time.Since(t2)
		reopenCPU += processCPU() - cpu1
		disk += dirSize(b, dir)
		b.StartTimer()
	}
	b.ReportMetric(reopen.Seconds()*1e3/float64(b.N), "reopen-ms")
	b.ReportMetric(reopenCPU/float64(b.N), "reopen-cpu-s")
	b.ReportMetric(disk/1e6/float64(b.N), "disk-MB")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
	b.ReportMetric(fill.Seconds()*1e3/float64(b.N), "fill-ms")
	b.ReportMetric(commit.Seconds()*1e3/float64(b.N), "commit-ms")
}

// dirSize is the total size of the files under dir.
func dirSize(b *testing.B, dir string) float64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		n += fi.Size()
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return float64(n)
}
