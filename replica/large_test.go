package replica

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
)

// TestLargeValue: with CTP, a large (chunked) value is left out of the
// pull's answer and fetched over CTP from the peers that have the world;
// a peer without CTP gets it inside the answer.
func TestLargeValue(t *testing.T) {
	nw := newNetwork(t, 4)
	n0, n1, n2, plain := nw.nodes[0], nw.nodes[1], nw.nodes[2], nw.nodes[3]
	world := n0.defaultWorld(t).ID()
	for _, nd := range []*node{n0, n1, n2} {
		nd.startCTP(t)
	}
	big := make([]byte, 4<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	n0.commit(t, n0.defaultWorld(t), cdb.Op{Kind: cdb.PutBlob, Path: "/big", Blob: bytes.NewReader(big), Size: int64(len(big))})
	nw.start(n0, n1)
	nw.connect(n0, n1)
	nw.converged(world, 20*time.Second, n0, n1)
	waitFor(t, 15*time.Second, "n1 counts the pull", func() bool { return n1.e.Stats(n0.host.ID()).Pulls > 0 })
	if st := n1.e.Stats(n0.host.ID()); st.BytesRecv > 256<<10 {
		t.Errorf("n1's pull from n0 moved %d bytes; the 4 MiB value should have gone over CTP", st.BytesRecv)
	}
	if got := n1.fetcher.Received(n0.host.ID()); got.Bytes < int64(len(big)) {
		t.Errorf("n1 fetched %d bytes over CTP from n0, want at least %d", got.Bytes, len(big))
	}
	// n2 joins: the chunks come over CTP from the peers that have the
	// world (how ctp spreads them is its business: its in-flight bound).
	nw.start(n2, plain)
	nw.connect()
	nw.converged(world, 20*time.Second)
	from0, from1 := n2.fetcher.Received(n0.host.ID()), n2.fetcher.Received(n1.host.ID())
	t.Logf("n2 fetched %d bytes from n0, %d from n1", from0.Bytes, from1.Bytes)
	if from0.Bytes+from1.Bytes < int64(len(big)) {
		t.Errorf("n2 fetched %d + %d bytes over CTP, want the value's %d", from0.Bytes, from1.Bytes, len(big))
	}
	for _, nd := range nw.nodes {
		got, err := nd.text(t, world, "/big")
		if err != nil || got != string(big) {
			t.Errorf("%s: /big: %d bytes, %v; want the %d bytes written", nd.name, len(got), err, len(big))
		}
	}
}

// TestGrantedLater: a value withheld from n1 when it cloned (it could not
// read /p) arrives over CTP once n0 grants it read on /p.
func TestGrantedLater(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	world := n0.defaultWorld(t).ID()
	for _, nd := range nw.nodes {
		nd.startCTP(t)
	}
	var only acl.ACL
	only.Grant(acl.Key(n0.h.NodeKey().Public32()), acl.All)
	n0.putACL(t, "/p", only)
	n0.put(t, "/p/secret", "for n0, then n1")
	nw.start()
	nw.connect()
	nw.converged(world, 15*time.Second)
	if _, err := n1.text(t, world, "/p/secret"); err == nil {
		t.Fatalf("n1 reads /p/secret before its grant")
	}
	only.Grant(acl.Key(n1.h.NodeKey().Public32()), acl.Read)
	n0.putACL(t, "/p", only)
	waitFor(t, 15*time.Second, "n1 reads /p/secret after its grant", func() bool {
		got, err := n1.text(t, world, "/p/secret")
		return err == nil && got == "for n0, then n1"
	})
}
