package bundle

import (
	"bytes"
	"flag"
	"fmt"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
)

var cloneBundleEntries = flag.Int("clonebundle.entries", 100000, "entries in BenchmarkCloneBundle's world")

// BenchmarkCloneBundle is the receiving side of BenchmarkClone
// (replica) alone, with no network and no sender: a bundle of a world of
// -clonebundle.entries small values (`value I` at /dNN/eIIIIIII in 100
// directories, one commit per 10,000, then a root .acl letting anyone
// read), made once as its creator, is cloned into a new home on disk
// (Pebble, with the ACL policy) per iteration: bundle.Read, then every
// commit validated, the answer checked whole, everything stored in one
// synced batch. It reports the CPU time of the process per clone.
func BenchmarkCloneBundle(b *testing.B) {
	n := *cloneBundleEntries
	h, err := cdb.Init(b.TempDir()+"/origin", acl.With(cdb.Options{Store: memstore.New(), NoAudit: true}))
	mustTB(b, err)
	defer h.Close()
	w, err := h.World("")
	mustTB(b, err)
	key := h.NodeKey()
	const batch = 10000
	for start := 0; start < n; start += batch {
		var ops []cdb.Op
		for i := start; i < min(n, start+batch); i++ {
			ops = append(ops, putOp(fmt.Sprintf("/d%02d/e%07d", i%100, i), fmt.Sprintf("value %d", i)))
		}
		_, err := w.Commit(ctx, key, ops, "values")
		mustTB(b, err)
	}
	var a acl.ACL
	a.Grant(acl.Key(key.Public32()), acl.All)
	a.Grant(acl.Anyone, acl.Read)
	ab, err := a.Encode()
	mustTB(b, err)
	_, err = w.Commit(ctx, key, []cdb.Op{{Kind: cdb.Put, Path: "/.acl", Raw: ab}}, "acl")
	mustTB(b, err)
	var buf bytes.Buffer
	st, err := Create(w, key, &buf, CreateOptions{})
	mustTB(b, err)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	var cpu float64
	b.ResetTimer()
	for i := range b.N {
		cpu0 := processCPU()
		c, res, err := CloneBundle(ctx, fmt.Sprintf("%s/clone%d", b.TempDir(), i), bytes.NewReader(data), acl.With(cdb.Options{NoAudit: true}))
		mustTB(b, err)
		cpu += processCPU() - cpu0
		b.StopTimer()
		if res.Objects != st.Objects {
			b.Fatalf("clone: %d objects, the bundle holds %d", res.Objects, st.Objects)
		}
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(st.Objects), "objects")
}

func mustTB(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
