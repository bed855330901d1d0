package swarm

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/coalescent/coal/errs"
)

// FuzzConfig: swarm.json text either parses into a config whose addresses
// are valid multiaddrs or fails as invalid.
func FuzzConfig(f *testing.F) {
	f.Add([]byte(`{"version":1,"listen":["/ip4/0.0.0.0/tcp/7071","/ip4/0.0.0.0/udp/7071/quic-v1"],"bootstrap":[],"no_mdns":true}`))
	f.Add([]byte(`{"version":1,"listen":[],"bootstrap":["/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDQuLUKvbBg9rKGwyWaTWneAXP99y3CgnkmhkLrigvk5R"]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"listen":[],"bootstrap":[],"relays":["/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDQuLUKvbBg9rKGwyWaTWneAXP99y3CgnkmhkLrigvk5R"],"relay_service":true,"reachability":"private"}`))
	f.Add([]byte(`{"version":1,"listen":[],"bootstrap":[],"relay_service":true,"relay_limit":{"seconds":0,"bytes":0},"relay_peers":["12D3KooWDQuLUKvbBg9rKGwyWaTWneAXP99y3CgnkmhkLrigvk5R"]}`))
	f.Add([]byte(`{"version":1,"relay_limit":{"seconds":-1,"bytes":5}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseConfig("swarm.json", data)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error %v is not invalid", err)
			}
			return
		}
		if c.Version != 1 {
			t.Fatalf("version %d accepted", c.Version)
		}
		for _, a := range append(c.Bootstrap, c.Relays...) {
			if _, err := parsePeerAddr(a); err != nil {
				t.Fatalf("bootstrap or relay %q accepted: %v", a, err)
			}
		}
		if !validReach(c.Reachability) {
			t.Fatalf("reachability %q accepted", c.Reachability)
		}
		if err := c.RelayLimit.check(); err != nil {
			t.Fatalf("relay limit accepted: %v", err)
		}
		for _, p := range c.RelayPeers {
			if _, err := peer.Decode(p); err != nil {
				t.Fatalf("relay peer %q accepted", p)
			}
		}
	})
}

// FuzzBook: peers.json text either reads into a book or fails as invalid.
func FuzzBook(f *testing.F) {
	f.Add([]byte(`{"version":1,"peers":[{"id":"12D3KooWDQuLUKvbBg9rKGwyWaTWneAXP99y3CgnkmhkLrigvk5R","addrs":["/ip4/127.0.0.1/tcp/1"],"source":"dial","last_seen":"2026-11-21T02:00:00Z"}],"bad":[{"id":"12D3KooWPBT7onzuR3tXqcEZWr3PmLe1FCJFukjPq2WioVFtprVH","reason":"x","since":"2026-11-21T02:00:00Z"}]}`))
	f.Add([]byte(`{"version":1,"peers":[],"bad":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseBook(newBook(), data)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error %v is not invalid", err)
			}
			return
		}
		for id := range b.bad {
			if id.Validate() != nil {
				t.Fatalf("bad peer %q accepted", id)
			}
		}
	})
}
