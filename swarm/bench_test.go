package swarm

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/coalescent/coal/relay"
)

func benchSwarm(b *testing.B, listen []string) *Swarm {
	b.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s, err := New(context.Background(), Options{Key: key, Listen: listen, PexDial: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkPex: one peer exchange answered with 64 peers of 2 addresses,
// over an open loopback TCP connection; against libp2p's ping on the same
// connection (a new stream, negotiated, then 32 bytes each way: the floor
// of an exchange).
func BenchmarkPex(b *testing.B) {
	tcp := []string{"/ip4/127.0.0.1/tcp/0"}
	a, c := benchSwarm(b, tcp), benchSwarm(b, tcp)
	for range MaxPexPeers {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		id, _ := relay.PeerID(k.Public().(ed25519.PublicKey))
		a.book.seen(id, []ma.Multiaddr{ma.StringCast("/ip4/192.0.2.1/tcp/7071"), ma.StringCast("/ip4/192.0.2.1/udp/7071/quic-v1")}, "dial", testNow())
	}
	ctx := context.Background()
	if _, err := c.Connect(ctx, a.Addrs()[0]); err != nil {
		b.Fatal(err)
	}
	b.Run("pex", func(b *testing.B) {
		for b.Loop() {
			infos, err := c.askPex(ctx, a.ID())
			if err != nil {
				b.Fatal(err)
			}
			if len(infos) != MaxPexPeers {
				b.Fatalf("%d peers, want %d", len(infos), MaxPexPeers)
			}
		}
	})
	// The floor: a new stream negotiated as a one-line protocol that
	// echoes 32 bytes and closes.
	a.h.SetStreamHandler("/coal-bench/echo", func(st network.Stream) {
		var buf [32]byte
		if _, err := io.ReadFull(st, buf[:]); err == nil {
			st.Write(buf[:])
		}
		st.Close()
	})
	b.Run("echo", func(b *testing.B) {
		var buf [32]byte
		for b.Loop() {
			st, err := c.h.NewStream(ctx, a.ID(), "/coal-bench/echo")
			if err != nil {
				b.Fatal(err)
			}
			st.Write(buf[:])
			st.CloseWrite()
			if _, err := io.ReadFull(st, buf[:]); err != nil {
				b.Fatal(err)
			}
			st.Close()
		}
	})
}

// BenchmarkConnect: a new connection (dial, handshake, muxer; identify
// runs after) over loopback TCP and QUIC; against a bare TCP connect and
// close (raw-tcp), the floor.
func BenchmarkConnect(b *testing.B) {
	b.Run("raw-tcp", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		for b.Loop() {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	for _, tc := range []struct{ name, listen string }{
		{"tcp", "/ip4/127.0.0.1/tcp/0"},
		{"quic", "/ip4/127.0.0.1/udp/0/quic-v1"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			a, c := benchSwarm(b, []string{tc.listen}), benchSwarm(b, []string{tc.listen})
			ai := peer.AddrInfo{ID: a.ID(), Addrs: a.h.Addrs()}
			ctx := context.Background()
			for b.Loop() {
				if err := c.h.Connect(ctx, ai); err != nil {
					b.Fatal(err)
				}
				c.h.Network().ClosePeer(a.ID())
			}
		})
	}
}

func testNow() time.Time { return time.Now() }
