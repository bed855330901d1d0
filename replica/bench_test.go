package replica

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
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

var cloneEntries = flag.Int("clone.entries", 100000, "entries in BenchmarkClone's world")

// BenchmarkClone: a world of -clone.entries small values (one commit per
// 10,000) is cloned over libp2p on 127.0.0.1 TCP (Noise, Yamux) into a
// new home on disk (Pebble): each iteration makes the home, starts its
// engine, connects, and waits until it holds the head. It reports the
// objects and the answer's bytes per second (docs/perf.md compares them
// with raw TCP and git clone).
func BenchmarkClone(b *testing.B) {
	n := *cloneEntries
	nw := newNetworkOf(b, 1, true)
	n0 := nw.nodes[0]
	w := n0.defaultWorld(b)
	const batch = 10000
	for start := 0; start < n; start += batch {
		ops := make([]cdb.Op, 0, batch)
		for i := start; i < min(n, start+batch); i++ {
			ops = append(ops, putOp(fmt.Sprintf("/d%02d/e%07d", i%100, i), fmt.Sprintf("value %d", i)))
		}
		n0.commit(b, w, ops...)
	}
	// Anyone may read: each clone is a new key.
	var a acl.ACL
	a.Grant(acl.Key(n0.h.NodeKey().Public32()), acl.All)
	a.Grant(acl.Anyone, acl.Read)
	n0.putACL(b, "/", a)
	head, err := w.Head()
	must(b, err)
	n0.start(b)
	var objects, bytes int64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		nd := nw.add(fmt.Sprintf("clone%d", i), acl.With(cdb.Options{NoAudit: true, NoWorld: true}))
		b.StartTimer()
		nd.start(b)
		nw.connect(n0, nd)
		waitFor(b, 10*time.Minute, "the clone holds the head", func() bool { return nd.inHistory(b, w.ID(), head) })
		b.StopTimer()
		var st PeerStats
		waitFor(b, time.Minute, "the clone is counted", func() bool {
			st = nd.e.Stats(n0.host.ID())
			return st.Pulls > 0
		})
		objects += int64(st.ObjectsRecv)
		bytes += st.BytesRecv
		nd.e.Close()
		nd.host.Close()
		nd.h.Close()
		b.StartTimer()
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(objects)/secs, "objects/s")
	b.ReportMetric(float64(bytes)/secs/1e6, "MB/s")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/clone")
}
