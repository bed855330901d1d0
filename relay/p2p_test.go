package relay_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	. "github.com/coalescent/coal/relay"
	"github.com/coalescent/coal/relay/relaytest"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

func testSchemas(t testing.TB) (*coda.Registry, *coda.Schema) {
	t.Helper()
	reg := coda.NewRegistry()
	if _, err := reg.Compile("test.coda", []byte("schema Note {\n  n: u64\n  text: string\n}\n")); err != nil {
		t.Fatal(err)
	}
	note, _ := reg.Lookup("Note")
	return reg, note
}

// twoHosts returns two connected mocknet hosts with ed25519 identities.
func twoHosts(t *testing.T) (host.Host, host.Host) {
	_, hs, _ := relaytest.Net(t, 2)
	return hs[0], hs[1]
}

// TestMocknetEcho sends notes over a real libp2p stream; the listener
// echoes each back with n+1 and both sides end with CloseWrite.
func TestMocknetEcho(t *testing.T) {
	reg, note := testSchemas(t)
	a, b := twoHosts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	served := make(chan error, 1)
	b.SetStreamHandler(protocol.ID(CTP), func(s network.Stream) {
		c := Accept(ctx, s, []coda.ID{note.ID}, reg, Options{})
		defer c.Close()
		served <- func() error {
			for {
				_, v, err := c.Recv()
				if err == io.EOF {
					return c.CloseWrite()
				}
				if err != nil {
					return err
				}
				if err := c.Send(note, coda.Struct(coda.U64(v.Index(0).AsUint()+1), v.Index(1))); err != nil {
					return err
				}
			}
		}()
	})
	c, proto, err := Dial(ctx, a, b.ID(), []protocol.ID{CTP}, []coda.ID{note.ID}, reg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if proto != CTP {
		t.Errorf("protocol %q, want %q", proto, CTP)
	}
	const n = 50
	go func() {
		for i := range n {
			if err := c.Send(note, coda.Struct(coda.U64(uint64(i)), coda.String("ping"))); err != nil {
				t.Error(err)
				return
			}
		}
		if err := c.CloseWrite(); err != nil {
			t.Error(err)
		}
	}()
	for i := range n {
		_, v, err := c.Recv()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if got := v.Index(0).AsUint(); got != uint64(i)+1 {
			t.Errorf("reply %d: n = %d, want %d", i, got, i+1)
		}
	}
	if _, _, err := c.Recv(); err != io.EOF {
		t.Errorf("after the listener's end frame: got %v, want io.EOF", err)
	}
	if err := <-served; err != nil {
		t.Errorf("listener: %v", err)
	}
	sent, recv := c.Counts()
	if sent == 0 || recv == 0 {
		t.Errorf("counts sent=%d recv=%d, want both > 0", sent, recv)
	}
}

// TestNegotiation: a listener that speaks /coal/x/1.0.0 only and a dialer
// proposing [/coal/x/2.0.0, /coal/x/1.0.0] end on 1.0.0; a dialer proposing
// only 2.0.0 is refused.
func TestNegotiation(t *testing.T) {
	reg, note := testSchemas(t)
	a, b := twoHosts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b.SetStreamHandler("/coal/x/1.0.0", func(s network.Stream) {
		c := Accept(ctx, s, []coda.ID{note.ID}, reg, Options{})
		defer c.Close()
		_ = c.Send(note, coda.Struct(coda.U64(1), coda.String(string(s.Protocol()))))
		_ = c.CloseWrite()
	})
	c, proto, err := Dial(ctx, a, b.ID(), []protocol.ID{"/coal/x/2.0.0", "/coal/x/1.0.0"}, nil, reg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if proto != "/coal/x/1.0.0" {
		t.Errorf("negotiated %q, want /coal/x/1.0.0", proto)
	}
	_, v, err := c.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Index(1).AsString(); got != "/coal/x/1.0.0" {
		t.Errorf("listener saw protocol %q, want /coal/x/1.0.0", got)
	}
	_, _, err = Dial(ctx, a, b.ID(), []protocol.ID{"/coal/x/2.0.0"}, nil, reg, Options{})
	if !errs.Is(err, errs.Unavailable) {
		t.Errorf("dial with only 2.0.0: got %v, want errs.Unavailable", err)
	}
}

// TestDialCancel: canceling the context resets the stream and unblocks a
// Recv waiting on a silent listener.
func TestDialCancel(t *testing.T) {
	reg, _ := testSchemas(t)
	a, b := twoHosts(t)
	hold := make(chan struct{})
	defer close(hold)
	b.SetStreamHandler(protocol.ID(CTP), func(s network.Stream) { <-hold; s.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	c, _, err := Dial(ctx, a, b.ID(), []protocol.ID{CTP}, nil, reg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { _, _, err := c.Recv(); done <- err }()
	cancel()
	select {
	case err := <-done:
		if err == nil || err == io.EOF {
			t.Errorf("Recv after cancel: got %v, want an error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Recv still blocked 10s after cancel")
	}
}

func TestKeys(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hk, err := HostKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(hk)
	if err != nil {
		t.Fatal(err)
	}
	got, err := PeerKey(id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(pub) {
		t.Errorf("PeerKey: got %x, want %x", got, pub)
	}
	id2, err := PeerID(pub)
	if err != nil || id2 != id {
		t.Errorf("PeerID: got %s, %v; want %s", id2, err, id)
	}
	if _, err := HostKey(priv[:10]); !errs.Is(err, errs.Invalid) {
		t.Errorf("HostKey of 10 bytes: got %v, want errs.Invalid", err)
	}
	sk, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sid, _ := peer.IDFromPrivateKey(sk)
	if _, err := PeerKey(sid); !errs.Is(err, errs.Invalid) {
		t.Errorf("PeerKey of a secp256k1 peer: got %v, want errs.Invalid", err)
	}
	if _, err := PeerKey(peer.ID("junk")); !errs.Is(err, errs.Invalid) {
		t.Errorf("PeerKey of junk: got %v, want errs.Invalid", err)
	}
}

func TestNodeKey(t *testing.T) {
	h, err := cdb.Init(t.TempDir()+"/home", cdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	priv, err := NodeKey(h)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.Public().(ed25519.PublicKey).Equal(h.NodeKey().Public) {
		t.Errorf("NodeKey's public half differs from the home's node key")
	}
	msg := []byte("handshake")
	if !ed25519.Verify(h.NodeKey().Public, msg, ed25519.Sign(priv, msg)) {
		t.Errorf("a signature by NodeKey does not verify under the node key")
	}
}
