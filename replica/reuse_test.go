package replica

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
)

// TestPullReused: two nodes the world's history names nowhere clone it
// from one node through sync: both converge, the second's answer is the
// first's, kept (bundle.Reuse), with the same objects, bytes and values
// counted; a node the root .acl names is answered afresh, and converges
// too.
func TestPullReused(t *testing.T) {
	nw := newNetwork(t, 1)
	n0 := nw.nodes[0]
	named := nw.add("named", secured(true))
	w := n0.defaultWorld(t)
	var ops []cdb.Op
	for i := range 40 {
		ops = append(ops, putOp(fmt.Sprintf("/d%d/v%02d", i%4, i), fmt.Sprintf("value %d", i)))
	}
	n0.commit(t, w, ops...)
	var a acl.ACL
	a.Grant(acl.Key(n0.h.NodeKey().Public32()), acl.All)
	a.Grant(acl.Key(named.h.NodeKey().Public32()), acl.Read)
	a.Grant(acl.Anyone, acl.Read)
	n0.putACL(t, "/", a)
	head, err := w.Head()
	must(t, err)
	n0.start(t)
	clone := func(nd *node) PeerStats {
		t.Helper()
		must(t, nw.mn.LinkAll())
		nd.start(t)
		nw.connect(n0, nd)
		waitFor(t, time.Minute, nd.name+" holds the head", func() bool { return nd.inHistory(t, w.ID(), head) })
		if got, err := nd.text(t, w.ID(), "/d3/v39"); err != nil || got != "value 39" {
			t.Errorf("%s: /d3/v39 = %q, %v", nd.name, got, err)
		}
		var st PeerStats
		waitFor(t, time.Minute, "the pull served to "+nd.name+" is counted", func() bool {
			st = n0.e.Stats(nd.host.ID())
			return st.PullsServed > 0
		})
		return st
	}
	first := nw.add("first", secured(true))
	s1 := clone(first)
	second := nw.add("second", secured(true))
	s2 := clone(second)
	s3 := clone(named)
	nw.converged(w.ID(), time.Minute, n0, first, second, named)
	if s1.PullsReused != 0 || s2.PullsReused < 1 || s3.PullsReused != 0 {
		t.Errorf("pulls reused: first %d, second %d, named %d; want 0, 1, 0", s1.PullsReused, s2.PullsReused, s3.PullsReused)
	}
	if s1.ObjectsSent != s2.ObjectsSent || s1.BytesSent != s2.BytesSent || s1.WithheldSent != s2.WithheldSent {
		t.Errorf("sent to first %+v, to second %+v: want the same objects, bytes and withheld values", s1, s2)
	}
	n0.mu.Lock()
	sent1, sent2 := len(n0.sent[first.host.ID()]), len(n0.sent[second.host.ID()])
	n0.mu.Unlock()
	if sent1 == 0 || sent1 != sent2 {
		t.Errorf("values counted sent: to first %d, to second %d; want the same, not 0", sent1, sent2)
	}
	if rs := n0.e.ReuseStats(); rs.Hits != s2.PullsReused || rs.Stored != 1 || rs.Named < 1 {
		t.Errorf("reuse stats %+v: want %d hits (the second's), 1 stored, the named node's pull", rs, s2.PullsReused)
	}
}

// TestPullReusedLarge: a large value left to CTP (Fetch) reaches the
// second clone too, whose answer is the first's kept: the Fetch list is
// replayed with it.
func TestPullReusedLarge(t *testing.T) {
	nw := newNetwork(t, 1)
	n0 := nw.nodes[0]
	n0.startCTP(t)
	w := n0.defaultWorld(t)
	big := make([]byte, 2<<20)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	n0.commit(t, w, cdb.Op{Kind: cdb.PutBlob, Path: "/big", Blob: bytes.NewReader(big), Size: int64(len(big))}, putOp("/small", "small"))
	var a acl.ACL
	a.Grant(acl.Key(n0.h.NodeKey().Public32()), acl.All)
	a.Grant(acl.Anyone, acl.Read)
	n0.putACL(t, "/", a)
	head, err := w.Head()
	must(t, err)
	n0.start(t)
	for i := range 2 {
		nd := nw.add(fmt.Sprintf("clone%d", i), secured(true))
		must(t, nw.mn.LinkAll())
		nd.startCTP(t)
		nd.start(t)
		nw.connect(n0, nd)
		waitFor(t, time.Minute, nd.name+" holds the head", func() bool { return nd.inHistory(t, w.ID(), head) })
		if got, err := nd.text(t, w.ID(), "/big"); err != nil || got != string(big) {
			t.Errorf("%s: /big: %d bytes, %v; want the %d written", nd.name, len(got), err, len(big))
		}
		var st PeerStats
		waitFor(t, time.Minute, "the pull served to "+nd.name+" is counted", func() bool {
			st = n0.e.Stats(nd.host.ID())
			return st.PullsServed > 0
		})
		if want := min(i, 1); st.PullsReused < want || i == 0 && st.PullsReused != 0 {
			t.Errorf("%s: %d pulls reused, want %d", nd.name, st.PullsReused, want)
		}
		if st.BytesSent > 256<<10 {
			t.Errorf("%s: sent %d bytes through sync; the value should have gone over CTP", nd.name, st.BytesSent)
		}
		if got := nd.fetcher.Received(n0.host.ID()); got.Bytes < int64(len(big)) {
			t.Errorf("%s fetched %d bytes over CTP, want at least %d", nd.name, got.Bytes, len(big))
		}
	}
}
