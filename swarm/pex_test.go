package swarm

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
)

// The schema ids of pex.coda: a wire format, pinned here and in
// docs/swarm.md.
const (
	askSchemaID   = "upihrbxw5razyxrjdckydxa6djdxpwjsv6av7amcvlnbcxfs2zba"
	peersSchemaID = "aqzituwmr3xyl56t6cjpj7p53act3sleqnzy5pha72lqdr2z2mia"
)

// goldenPeer is the peer of the golden vectors: the ed25519 key whose
// seed is 32 zero bytes, listening on 192.0.2.1 port 7071, TCP and QUIC.
func goldenPeer(t testing.TB) peer.AddrInfo {
	t.Helper()
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	id, err := relay.PeerID(pub)
	if err != nil {
		t.Fatal(err)
	}
	return peer.AddrInfo{ID: id, Addrs: []ma.Multiaddr{
		ma.StringCast("/ip4/192.0.2.1/tcp/7071"),
		ma.StringCast("/ip4/192.0.2.1/udp/7071/quic-v1"),
	}}
}

func mustSchemas(t testing.TB) *pexSchemas {
	t.Helper()
	ps, err := pexOnce()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestPexSchemaIDs(t *testing.T) {
	ask, peers := PexSchemaIDs()
	if got := ask.String(); got != askSchemaID {
		t.Errorf("Ask schema id %s, want %s", got, askSchemaID)
	}
	if got := peers.String(); got != peersSchemaID {
		t.Errorf("Peers schema id %s, want %s", got, peersSchemaID)
	}
}

// TestPexGolden pins the bodies of an Ask and a Peers (docs/swarm.md
// draws them byte by byte).
func TestPexGolden(t *testing.T) {
	ps := mustSchemas(t)
	ask, err := coda.EncodeObject(ps.ask, encodeAsk(64))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(ask[coda.IDSize:]), "40000000"; got != want {
		t.Errorf("Ask{64} body %s, want %s", got, want)
	}
	obj, err := coda.EncodeObject(ps.peers, encodePeers([]peer.AddrInfo{goldenPeer(t)}))
	if err != nil {
		t.Fatal(err)
	}
	want := "01" + // one peer
		"26" + "0024080112203b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29" + // id: 38 bytes
		"02" + // two addresses
		"08" + "04c0000201" + "061b9f" + // /ip4/192.0.2.1/tcp/7071
		"0b" + "04c0000201" + "91021b9f" + "cd03" // /ip4/192.0.2.1/udp/7071/quic-v1
	if got := hex.EncodeToString(obj[coda.IDSize:]); got != want {
		t.Errorf("Peers body\n got %s\nwant %s", got, want)
	}
	_, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: ps.reg})
	if err != nil {
		t.Fatal(err)
	}
	infos, err := decodePeers(ps, ps.peers, v, MaxPexPeers)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].ID != goldenPeer(t).ID || len(infos[0].Addrs) != 2 || !infos[0].Addrs[1].Equal(goldenPeer(t).Addrs[1]) {
		t.Errorf("decoded %v, want %v", infos, goldenPeer(t))
	}
}

func TestPexDecodeErrors(t *testing.T) {
	ps := mustSchemas(t)
	g := goldenPeer(t)
	peerV := func(id []byte, addrs ...[]byte) coda.Value {
		var av []coda.Value
		for _, a := range addrs {
			av = append(av, coda.Bytes(a))
		}
		return coda.Struct(coda.Bytes(id), coda.List(av...))
	}
	tcp := g.Addrs[0].Bytes()
	p2p := ma.StringCast("/ip4/192.0.2.1/tcp/7071/p2p/" + g.ID.String()).Bytes()
	var many [][]byte
	for range MaxPexAddrs + 1 {
		many = append(many, tcp)
	}
	for _, tc := range []struct {
		name  string
		peers []coda.Value
		max   int
		msg   string
	}{
		{"over max", []coda.Value{peerV([]byte(g.ID), tcp)}, 0, "peers: 1 peers, at most 0 asked"},
		{"bad id", []coda.Value{peerV([]byte("xyz"), tcp)}, 64, "peers[0].id: not a peer id"},
		{"long id", []coda.Value{peerV(bytes.Repeat([]byte{1}, 200), tcp)}, 64, "peers[0].id: 200 bytes, at most 128"},
		{"twice", []coda.Value{peerV([]byte(g.ID), tcp), peerV([]byte(g.ID), tcp)}, 64, "peers[1].id: peer " + g.ID.String() + " twice"},
		{"no addrs", []coda.Value{peerV([]byte(g.ID))}, 64, "peers[0].addrs: 0 addresses, want 1 to 16"},
		{"17 addrs", []coda.Value{peerV([]byte(g.ID), many...)}, 64, "peers[0].addrs: 17 addresses, want 1 to 16"},
		{"bad addr", []coda.Value{peerV([]byte(g.ID), []byte{0xff, 0xff})}, 64, "peers[0].addrs[0]: not a multiaddr"},
		{"long addr", []coda.Value{peerV([]byte(g.ID), bytes.Repeat([]byte{1}, 300))}, 64, "peers[0].addrs[0]: 300 bytes, at most 256"},
		{"p2p suffix", []coda.Value{peerV([]byte(g.ID), tcp, p2p)}, 64, "peers[0].addrs[1]: address /ip4/192.0.2.1/tcp/7071/p2p/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodePeers(ps, ps.peers, coda.Struct(coda.List(tc.peers...)), tc.max)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("decodePeers = %v, want invalid containing %q", err, tc.msg)
			}
		})
	}
	if _, err := decodePeers(ps, ps.ask, encodeAsk(1), 64); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "expected Peers") {
		t.Errorf("decodePeers(an Ask) = %v, want invalid", err)
	}
	if _, err := decodeAsk(ps, ps.peers, encodePeers(nil)); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "expected an Ask") {
		t.Errorf("decodeAsk(Peers) = %v, want invalid", err)
	}
	if n, err := decodeAsk(ps, ps.ask, encodeAsk(1<<31)); err != nil || n != MaxPexPeers {
		t.Errorf("decodeAsk(2^31) = %d, %v; want %d (capped)", n, err, MaxPexPeers)
	}
}

// pipe is one direction of a stream in tests: reads come from r, writes
// go nowhere.
type pipe struct{ r io.Reader }

func (p pipe) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p pipe) Write(b []byte) (int, error) { return len(b), nil }
func (p pipe) Close() error                { return nil }

// stream returns the wire stream a peer would send: objs under a
// context of their schemas.
func stream(t testing.TB, ctx []coda.ID, objs ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := coda.NewWireWriter(&b, ctx)
	for _, o := range objs {
		if err := w.WriteObject(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPexStreams(t *testing.T) {
	ps := mustSchemas(t)
	ask, _ := coda.EncodeObject(ps.ask, encodeAsk(3))
	peers, _ := coda.EncodeObject(ps.peers, encodePeers([]peer.AddrInfo{goldenPeer(t)}))
	recv := func(data []byte) *relay.Conn {
		return relay.NewConn(pipe{bytes.NewReader(data)}, nil, ps.reg, relay.Options{MaxMessage: pexMaxMessage})
	}
	if n, err := recvAsk(ps, recv(stream(t, []coda.ID{ps.ask.ID}, ask))); err != nil || n != 3 {
		t.Errorf("recvAsk = %d, %v; want 3", n, err)
	}
	if infos, err := recvPeers(ps, recv(stream(t, []coda.ID{ps.peers.ID}, peers)), 64); err != nil || len(infos) != 1 {
		t.Errorf("recvPeers = %v, %v; want one peer", infos, err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		ask  bool
		kind errs.Kind
		msg  string
	}{
		{"empty ask", stream(t, nil), true, errs.Invalid, "ended without Ask"},
		{"two asks", stream(t, []coda.ID{ps.ask.ID}, ask, ask), true, errs.Invalid, "second object after Ask"},
		{"peers for ask", stream(t, []coda.ID{ps.peers.ID}, peers), true, errs.Invalid, "expected an Ask"},
		{"empty answer", stream(t, nil), false, errs.Invalid, "ended without Peers"},
		{"two answers", stream(t, []coda.ID{ps.peers.ID}, peers, peers), false, errs.Invalid, "second object after Peers"},
		{"truncated", stream(t, []coda.ID{ps.peers.ID}, peers)[:50], false, errs.Unavailable, "before its end frame"},
		{"garbage", []byte("not a coda stream"), false, errs.Invalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.ask {
				_, err = recvAsk(ps, recv(tc.data))
			} else {
				_, err = recvPeers(ps, recv(tc.data), 64)
			}
			if !errs.Is(err, tc.kind) || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Errorf("got %v, want %v containing %q", err, tc.kind, tc.msg)
			}
		})
	}
}

// FuzzPexPeers: a Peers body either fails to decode or is canonical — it
// decodes to peers within the bounds that encode back to the same bytes.
func FuzzPexPeers(f *testing.F) {
	ps := mustSchemas(f)
	g := goldenPeer(f)
	for _, infos := range [][]peer.AddrInfo{nil, {g}, {g, {ID: "x", Addrs: g.Addrs[:1]}}} {
		obj, err := coda.EncodeObject(ps.peers, encodePeers(infos))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(obj[coda.IDSize:])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		obj := append(ps.peers.ID[:], body...)
		_, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: ps.reg, Limits: coda.Limits{MaxSize: pexMaxMessage}})
		if err != nil {
			return
		}
		infos, err := decodePeers(ps, ps.peers, v, MaxPexPeers)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("decodePeers error %v is not invalid", err)
			}
			return
		}
		if len(infos) > MaxPexPeers {
			t.Fatalf("%d peers accepted", len(infos))
		}
		for _, ai := range infos {
			if len(ai.Addrs) == 0 || len(ai.Addrs) > MaxPexAddrs {
				t.Fatalf("peer %s with %d addresses accepted", ai.ID, len(ai.Addrs))
			}
		}
		again, err := coda.EncodeObject(ps.peers, encodePeers(infos))
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(again, obj) {
			t.Fatalf("decode → encode changed the bytes:\n in %x\nout %x", obj, again)
		}
	})
}

// FuzzPexStream: whatever a peer sends as its side of an exchange, the
// receiver returns peers within the bounds or an error with a kind — never
// a panic.
func FuzzPexStream(f *testing.F) {
	ps := mustSchemas(f)
	ask, _ := coda.EncodeObject(ps.ask, encodeAsk(64))
	peers, _ := coda.EncodeObject(ps.peers, encodePeers([]peer.AddrInfo{goldenPeer(f)}))
	f.Add(stream(f, []coda.ID{ps.ask.ID}, ask), true)
	f.Add(stream(f, []coda.ID{ps.peers.ID}, peers), false)
	f.Add(stream(f, []coda.ID{ps.peers.ID, ps.ask.ID}, peers, ask), false)
	f.Add(stream(f, nil), false)
	f.Fuzz(func(t *testing.T, data []byte, isAsk bool) {
		c := relay.NewConn(pipe{bytes.NewReader(data)}, nil, ps.reg, relay.Options{MaxMessage: pexMaxMessage})
		if isAsk {
			n, err := recvAsk(ps, c)
			if err == nil && (n < 0 || n > MaxPexPeers) {
				t.Fatalf("Ask max %d accepted", n)
			}
			if err != nil && errs.KindOf(err) == errs.Other {
				t.Fatalf("error without a kind: %v", err)
			}
			return
		}
		infos, err := recvPeers(ps, c, MaxPexPeers)
		if err != nil {
			if errs.KindOf(err) == errs.Other {
				t.Fatalf("error without a kind: %v", err)
			}
			return
		}
		if len(infos) > MaxPexPeers {
			t.Fatalf("%d peers accepted", len(infos))
		}
	})
}
