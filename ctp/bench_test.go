package ctp

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/relay"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// benchSize is the bytes BenchmarkFetch moves per operation.
const benchSize = 256 << 20

// benchEnv is a world with one 256 MiB value, served by three real libp2p
// hosts on 127.0.0.1 (TCP, Noise, Yamux) to a fourth.
type benchEnv struct {
	wd      *world
	client  host.Host
	servers []host.Host
	chunks  []coda.ID
	data    [][]byte // the chunks' bytes, for the TCP ceiling
	bytes   int64
}

var (
	benchOnce sync.Once
	bench     *benchEnv
	benchErr  error
)

// benchTB lets the environment outlive one benchmark run.
type benchTB struct{ testing.TB }

func (benchTB) Cleanup(func()) {}

func newHost(tb testing.TB, priv ed25519.PrivateKey) host.Host {
	k, err := relay.HostKey(priv)
	must(tb, err)
	h, err := libp2p.New(libp2p.Identity(k), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport), libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport), libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.DisableRelay(), libp2p.NoListenAddrs, libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	must(tb, err)
	return h
}

func setupBench(b *testing.B) *benchEnv {
	benchOnce.Do(func() {
		tb := benchTB{b}
		_, cpriv, err := ed25519.GenerateKey(rand.Reader)
		must(b, err)
		env := &benchEnv{}
		env.client = newHost(tb, cpriv)
		env.wd = newWorld(tb, cpriv.Public().(ed25519.PublicKey), benchSize)
		for range 3 {
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			must(b, err)
			h := newHost(tb, priv)
			NewServer(WorldSource(env.wd.h), ServerOptions{}).Register(h)
			must(b, env.client.Connect(context.Background(), peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}))
			env.servers = append(env.servers, h)
		}
		env.chunks = env.wd.chunks(tb, env.wd.bigID)
		cs := env.wd.h.Store().(interface{ GetChunk(coda.ID) ([]byte, error) })
		for _, id := range env.chunks {
			d, err := cs.GetChunk(id)
			must(b, err)
			env.data = append(env.data, d)
			env.bytes += int64(len(d))
		}
		bench = env
	})
	if bench == nil {
		b.Fatal("benchmark setup failed")
	}
	return bench
}

// BenchmarkFetch fetches the 4,000-odd chunks of a 256 MiB value over
// loopback TCP from one peer and from three at once (striped), each chunk
// checked against its id; "libp2p" copies the same bytes over one raw
// libp2p stream (the transport's cost, no CTP); "tcp" copies them over one plain TCP
// connection on 127.0.0.1 between two goroutines, the ceiling.
func BenchmarkFetch(b *testing.B) {
	env := setupBench(b)
	for _, n := range []int{1, 3} {
		name := map[int]string{1: "peers=1", 3: "peers=3"}[n]
		b.Run(name, func(b *testing.B) {
			var peers []peer.ID
			for _, h := range env.servers[:n] {
				peers = append(peers, h.ID())
			}
			c := NewClient(env.client, Options{})
			w := env.wd.want("/pub/big", env.chunks...)
			b.SetBytes(env.bytes)
			b.ResetTimer()
			for range b.N {
				var got int64
				var mu sync.Mutex
				err := c.Fetch(context.Background(), peers, w, func(id coda.ID, obj []byte) error {
					mu.Lock()
					got += int64(len(obj))
					mu.Unlock()
					return nil
				})
				if err != nil || got != env.bytes {
					b.Fatalf("fetch: %v, %d bytes of %d", err, got, env.bytes)
				}
			}
		})
	}
	// The same bytes over one raw libp2p stream (TCP, Noise, Yamux) with
	// no CTP: what the transport costs.
	b.Run("libp2p", func(b *testing.B) {
		const proto = "/coal/bench/raw"
		env.servers[0].SetStreamHandler(proto, func(s network.Stream) {
			defer s.Close()
			for _, d := range env.data {
				if _, err := s.Write(d); err != nil {
					return
				}
			}
		})
		b.SetBytes(env.bytes)
		b.ResetTimer()
		for range b.N {
			s, err := env.client.NewStream(context.Background(), env.servers[0].ID(), proto)
			must(b, err)
			n, err := io.CopyBuffer(io.Discard, s, make([]byte, 256<<10))
			s.Close()
			must(b, err)
			if n != env.bytes {
				b.Fatalf("copied %d bytes of %d", n, env.bytes)
			}
		}
	})
	b.Run("tcp", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		must(b, err)
		defer ln.Close()
		b.SetBytes(env.bytes)
		b.ResetTimer()
		for range b.N {
			done := make(chan error, 1)
			go func() {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					done <- err
					return
				}
				defer c.Close()
				for _, d := range env.data {
					if _, err := c.Write(d); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			c, err := ln.Accept()
			must(b, err)
			n, err := io.CopyBuffer(io.Discard, c, make([]byte, 256<<10))
			c.Close()
			must(b, err)
			must(b, <-done)
			if n != env.bytes {
				b.Fatalf("copied %d bytes of %d", n, env.bytes)
			}
		}
	})
}

// linkRate is the bandwidth of each simulated link in BenchmarkFetchLinks.
const linkRate = 40e6 // bytes per second

// BenchmarkFetchLinks fetches a 32 MiB value (its manifest, then its
// chunks into a fresh store) from 1 and from 3 peers over mocknet links of
// 40 MB/s each: where the links, not the CPU, are the bottleneck, striping
// over three peers should come near three times one.
func BenchmarkFetchLinks(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(map[int]string{1: "peers=1", 3: "peers=3"}[n], func(b *testing.B) {
			s := newSwarm(b, 3, 32<<20, nil)
			for _, h := range s.servers {
				for _, l := range s.mn.LinksBetweenPeers(s.client.ID(), h.ID()) {
					l.SetOptions(mocknet.LinkOptions{Bandwidth: linkRate})
				}
			}
			c := NewClient(s.client, Options{})
			b.SetBytes(int64(len(s.wd.big)))
			b.ResetTimer()
			for range b.N {
				st := memstore.New()
				if err := c.FetchValue(context.Background(), s.peers()[:n], s.wd.want("/pub/big"), s.wd.bigID, st); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
