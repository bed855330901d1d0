// Package relaytest builds in-process libp2p networks for tests of coal's
// protocols: mocknet hosts whose identities are ed25519 keys, as a coal
// node's are (relay.HostKey).
package relaytest

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/coalescent/coal/relay"
	"github.com/libp2p/go-libp2p/core/host"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
)

// Net returns a mocknet of n hosts with fresh ed25519 identities, every
// pair linked and connected, and their private keys. The net closes when
// the test ends.
func Net(t testing.TB, n int) (mocknet.Mocknet, []host.Host, []ed25519.PrivateKey) {
	t.Helper()
	keys := make([]ed25519.PrivateKey, n)
	for i := range keys {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = priv
	}
	mn, hs := NetOf(t, keys...)
	return mn, hs, keys
}

// NetOf returns a mocknet with one host per key, every pair linked and
// connected. The net closes when the test ends.
func NetOf(t testing.TB, keys ...ed25519.PrivateKey) (mocknet.Mocknet, []host.Host) {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	hs := make([]host.Host, len(keys))
	for i, priv := range keys {
		k, err := relay.HostKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		addr, err := ma.NewMultiaddr(fmt.Sprintf("/ip4/10.0.%d.%d/tcp/4001", i/250, i%250+1))
		if err != nil {
			t.Fatal(err)
		}
		h, err := mn.AddPeer(k, addr)
		if err != nil {
			t.Fatal(err)
		}
		hs[i] = h
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	return mn, hs
}
