package bundle

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

// TestCreateReadsOnce: Create reads each object it sends about once and
// looks nothing up per value (as sync's serve asks: Leave by size), where
// the reference read each value twice and looked it up three times
// (Has, Size, and the caller's Size).
func TestCreateReadsOnce(t *testing.T) {
	cs := store.Counting(memstore.New())
	h, err := cdb.Init(t.TempDir()+"/h", acl.With(cdb.Options{Store: cs, NoAudit: true}))
	must(t, err)
	t.Cleanup(func() { h.Close() })
	w, err := h.World("")
	must(t, err)
	for c := range 4 {
		var ops []cdb.Op
		for i := range 500 {
			ops = append(ops, putOp(fmt.Sprintf("/d%d/e%04d", i%5, c*500+i), fmt.Sprintf("value %d", c*500+i)))
		}
		_, err := w.Commit(ctx, h.NodeKey(), ops, "values")
		must(t, err)
	}
	var a acl.ACL
	a.Grant(acl.Key(h.NodeKey().Public32()), acl.All)
	a.Grant(acl.Anyone, acl.Read)
	enc, err := a.Encode()
	must(t, err)
	_, err = w.Commit(ctx, h.NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: "/.acl", Raw: enc}}, "anyone reads")
	must(t, err)
	reader, err := h.NewKey("reader")
	must(t, err)
	opts := CreateOptions{Reader: reader.Public, Leave: func(_ coda.ID, _ string, _ coda.ID, size int64) bool { return size > store.ChunkThreshold }}
	for _, c := range []struct {
		name   string
		create func(*cdb.World, cdb.Identity, io.Writer, CreateOptions) (Stats, error)
		ok     bool
	}{{"Create", Create, true}, {"the reference", createRef, false}} {
		var b bytes.Buffer
		cs.Reset()
		st, err := c.create(w, cdb.Identity{}, &b, opts)
		must(t, err)
		n := cs.Counts()
		reads, lookups := n.ObjectsRead <= int64(st.Objects)+int64(st.Objects)/10, n.Lookups <= int64(st.Objects)/10
		t.Logf("%s: %d objects sent, %d read, %d looked up", c.name, st.Objects, n.ObjectsRead, n.Lookups)
		if (reads && lookups) != c.ok {
			t.Errorf("%s: %d objects sent, %d read, %d looked up; want (at most 1.1 reads and 0.1 lookups an object) %v", c.name, st.Objects, n.ObjectsRead, n.Lookups, c.ok)
		}
	}
}
