package replica

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/coalescent/coal/cdb"
)

var benchEntries = flag.Int("sync.entries", 100000, "entries in BenchmarkSyncOneChange's world")

// BenchmarkSyncOneChange: a world of -sync.entries entries (in 100
// directories) is cloned to a second node; then each iteration changes
// one entry on the first node and waits until the second holds the
// commit. It reports the objects and bytes one change moves through sync
// (docs/perf.md: O(log n), tens of objects, not thousands).
func BenchmarkSyncOneChange(b *testing.B) {
	n := *benchEntries
	nw := newNetwork(b, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	w := n0.defaultWorld(b)
	const batch = 10000
	for start := 0; start < n; start += batch {
		ops := make([]cdb.Op, 0, batch)
		for i := start; i < min(n, start+batch); i++ {
			ops = append(ops, putOp(fmt.Sprintf("/d%02d/e%07d", i%100, i), fmt.Sprintf("value %d", i)))
		}
		n0.commit(b, w, ops...)
	}
	nw.start()
	nw.connect()
	nw.converged(w.ID(), 10*time.Minute)
	var before PeerStats
	waitFor(b, time.Minute, "the clone is counted", func() bool {
		before = n1.e.Stats(n0.host.ID())
		return before.Pulls > 0
	})
	b.ResetTimer()
	for i := range b.N {
		ci := n0.put(b, fmt.Sprintf("/d%02d/e%07d", i%100, (i*7919)%n), fmt.Sprintf("changed %d", i))
		waitFor(b, time.Minute, "the change arrives", func() bool { return n1.inHistory(b, w.ID(), ci.ID) })
	}
	b.StopTimer()
	var after PeerStats
	waitFor(b, time.Minute, "the pulls are counted", func() bool {
		after = n1.e.Stats(n0.host.ID())
		return after.Pulls >= before.Pulls+b.N
	})
	pulls := float64(after.Pulls - before.Pulls)
	b.ReportMetric(float64(before.ObjectsRecv), "clone-objects")
	b.ReportMetric(float64(after.ObjectsRecv-before.ObjectsRecv)/pulls, "objects/change")
	b.ReportMetric(float64(after.BytesRecv-before.BytesRecv)/pulls, "bytes/change")
}
