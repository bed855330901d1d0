package node

import (
	"context"
	"fmt"
	"github.com/coalescent/coal/module/moduletest"
	"path/filepath"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/module"
)

// BenchmarkCollectNodes: a node collects N modules from another, both
// real nodes (node.Open: Pebble homes, libp2p over TCP on 127.0.0.1),
// into an empty catalog each time.
func BenchmarkCollectNodes(b *testing.B) {
	ctx := context.Background()
	opts := Options{API: "127.0.0.1:0", NoMDNS: true, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, AutoCollect: -1}
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("modules=%d", n), func(b *testing.B) {
			src, err := Open(filepath.Join(b.TempDir(), "src"), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			sw, err := src.Home().World("")
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
				moduletest.CopyCircle(b, dir, fmt.Sprintf("bench::circle_%d", i))
				if _, err := module.Publish(ctx, sw, src.Home().NodeKey(), dir); err != nil {
					b.Fatal(err)
				}
			}
			var a acl.ACL
			a.Grant(acl.Key(src.Home().NodeKey().Public32()), acl.All)
			a.Grant(acl.Anyone, acl.Read)
			raw, _ := a.Encode()
			if _, err := sw.Commit(ctx, src.Home().NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: module.Dir + "/.acl", Raw: raw}}, "share"); err != nil {
				b.Fatal(err)
			}
			var objs int
			var wire int64
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				dst, err := Open(filepath.Join(b.TempDir(), fmt.Sprint("dst", i)), opts)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := dst.Swarm().Connect(ctx, src.Swarm().Addrs()[0]); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				reps, err := dst.CollectNow(ctx, src.Swarm().ID().String(), "", "")
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				objs, wire = reps[0].Objects, reps[0].Bytes
				dst.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(objs), "objects/op")
			b.ReportMetric(float64(wire), "wire-B/op")
		})
	}
}
