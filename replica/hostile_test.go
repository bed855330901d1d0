package replica

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coalescent/coal/bundle"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/relay"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// TestHostile: peers that announce a forged commit, answer a pull with an
// object that is not what the tree names, or send garbage or an oversized
// frame are reported (OnInvalid) and nothing of theirs is stored, while
// the honest nodes keep syncing.
func TestHostile(t *testing.T) {
	nw := newNetwork(t, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	w0 := n0.defaultWorld(t)
	world := w0.ID()
	n0.put(t, "/docs/a", "a")
	var snap bytes.Buffer
	_, err := bundle.Create(w0, n0.h.NodeKey(), &snap, bundle.CreateOptions{})
	must(t, err)

	// The forger holds the world in a home without a policy and commits
	// where its key has no right: its engine announces that head.
	forger := nw.add("forger", cdb.Options{Store: memstore.New(), NoAudit: true, NoWorld: true})
	fw, _, err := bundle.ApplyHome(bg, forger.h, bytes.NewReader(snap.Bytes()))
	must(t, err)
	forger.commit(t, fw, putOp("/forged", "not allowed"))

	// The tamperer answers with a bundle of a commit n0's key made (it
	// holds n0's key) whose value bytes it flipped on the way.
	tamperer := nw.add("tamperer", secured(true))
	src, _, err := bundle.ApplyHome(bg, tamperer.h, bytes.NewReader(snap.Bytes()))
	must(t, err)
	exp, err := n0.h.ExportKey(cdb.NodeKeyName)
	must(t, err)
	n0key, err := tamperer.h.ImportKey("n0", exp)
	must(t, err)
	tc, err := src.Commit(bg, n0key, []cdb.Op{putOp("/docs/tampered", "tamper-me")}, "t")
	must(t, err)
	tamperer.host.SetStreamHandler(protocol.ID(Protocol), func(s network.Stream) {
		c := relay.Accept(bg, s, sendSchemas(), schemaReg, relay.Options{})
		defer c.Close()
		m, err := recv(c)
		if err != nil {
			return
		}
		if _, err := recv(c); err == nil {
			return // mocknet streams are unbuffered: read the asker's end first
		}
		switch m := m.(type) {
		case Heads:
			_ = send(c, Heads{Heads: []Head{{World: world, Branch: cdb.DefaultBranch, Head: tc.ID}}})
		case Pull:
			key, _ := relay.PeerKey(s.Conn().RemotePeer())
			var b bytes.Buffer
			if _, err := bundle.Create(src, cdb.Identity{}, &b, bundle.CreateOptions{Head: m.Want, Haves: m.Haves, Reader: key}); err != nil {
				t.Errorf("tamperer: %v", err)
				return
			}
			data := bytes.Replace(b.Bytes(), []byte("tamper-me"), []byte("tamper-mf"), 1)
			_ = send(c, Part{Data: data})
		}
		_ = c.CloseWrite()
	})

	garbler := nw.add("garbler", secured(true))
	oversizer := nw.add("oversizer", secured(true))
	must(t, nw.mn.LinkAll())
	nw.start(n0, n1, forger)
	nw.connect()

	// Garbage on a sync stream, and a frame far over the message bound.
	raw := func(from *node, to *node, data []byte) {
		s, err := from.host.NewStream(context.Background(), to.host.ID(), protocol.ID(Protocol))
		must(t, err)
		_, _ = s.Write(data)
		_ = s.CloseWrite()
	}
	raw(garbler, n0, []byte("CODW\x01\x01this is not a schema id, nor anything else at all"))
	hdr := append([]byte("CODW\x01\x04"), headsSchema.ID[:]...)
	hdr = append(hdr, pullSchema.ID[:]...)
	hdr = append(hdr, partSchema.ID[:]...)
	hdr = append(hdr, refuseSchema.ID[:]...)
	raw(oversizer, n1, append(hdr, 0x03, 0x80, 0x80, 0x80, 0x40)) // a Part of 128 MiB

	hostile := []peer.ID{forger.host.ID(), tamperer.host.ID(), garbler.host.ID(), oversizer.host.ID()}
	waitFor(t, 15*time.Second, "every hostile peer reported", func() bool {
		got := append(n0.invalidPeers(), n1.invalidPeers()...)
		for _, p := range hostile {
			if !slices.Contains(got, p) {
				return false
			}
		}
		return true
	})
	for _, nd := range []*node{n0, n1} {
		for _, p := range nd.invalidPeers() {
			if p == n0.host.ID() || p == n1.host.ID() {
				t.Errorf("%s reported the honest peer %s", nd.name, p)
			}
		}
		for _, c := range []coda.ID{tc.ID} {
			if nd.world(world) != nil {
				if _, err := nd.world(world).LoadCommit(c); err == nil {
					t.Errorf("%s stored the tampered commit %s", nd.name, c)
				}
			}
		}
		for _, p := range []string{"/forged", "/docs/tampered"} {
			if _, err := nd.text(t, world, p); err == nil {
				t.Errorf("%s holds %s", nd.name, p)
			}
		}
	}
	// The honest keep syncing.
	nw.converged(world, 15*time.Second, n0, n1)
	n1.put(t, "/docs/after", "after")
	n0.put(t, "/docs/after0", "after0")
	nw.converged(world, 15*time.Second, n0, n1)
	if _, err := n0.text(t, world, "/docs/after"); err != nil {
		t.Errorf("n0: /docs/after: %v", err)
	}
}
