package swarm

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	ma "github.com/multiformats/go-multiaddr"
)

// tcpSecurity returns the security protocols of the TCP connections among conns.
func tcpSecurity(conns []network.Conn) []protocol.ID {
	var out []protocol.ID
	for _, c := range conns {
		if _, err := c.RemoteMultiaddr().ValueForProtocol(ma.P_TCP); err == nil {
			out = append(out, c.ConnState().Security)
		}
	}
	return out
}

// Two coal nodes secure TCP with TLS 1.3, which both offer first.
func TestSecurityTLSBetweenNodes(t *testing.T) {
	a := start(t, nil, "", nil)
	b := start(t, nil, "", nil)
	if _, err := b.Connect(context.Background(), a.addr(t)); err != nil {
		t.Fatal(err)
	}
	got := tcpSecurity(b.Host().Network().ConnsToPeer(a.ID()))
	if len(got) == 0 {
		t.Fatal("b has no TCP connection to a")
	}
	for _, s := range got {
		if s != libp2ptls.ID {
			t.Errorf("security %q between two nodes, want %q", s, libp2ptls.ID)
		}
	}
}

// A peer that speaks only Noise still connects, over Noise.
func TestSecurityNoiseOnlyPeer(t *testing.T) {
	a := start(t, nil, "", nil)
	h, err := libp2p.New(libp2p.NoListenAddrs, libp2p.Security(noise.ID, noise.New))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	info, err := peer.AddrInfoFromString(a.addr(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Connect(context.Background(), *info); err != nil {
		t.Fatalf("a Noise-only peer cannot connect: %v", err)
	}
	got := tcpSecurity(h.Network().ConnsToPeer(a.ID()))
	if len(got) != 1 || got[0] != noise.ID {
		t.Errorf("security %q with a Noise-only peer, want [%q]", got, noise.ID)
	}
}
