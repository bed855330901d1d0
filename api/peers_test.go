package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/relay"
	"github.com/coalescent/coal/swarm"
)

func newSwarm(t *testing.T, key ed25519.PrivateKey) *swarm.Swarm {
	t.Helper()
	if key == nil {
		_, key, _ = ed25519.GenerateKey(rand.Reader)
	}
	s, err := swarm.New(context.Background(), swarm.Options{Key: key, Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newNetEnv is newEnv with the home's node key running a swarm.
func newNetEnv(t *testing.T) (*env, *swarm.Swarm) {
	t.Helper()
	h, err := cdb.Init(t.TempDir(), acl.With(cdb.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	bob, err := h.NewKey("bob")
	if err != nil {
		t.Fatal(err)
	}
	key, err := relay.NodeKey(h)
	if err != nil {
		t.Fatal(err)
	}
	s := newSwarm(t, key)
	opts := api.Options{Tokens: tokens{"node": h.NodeKey(), "bob": bob}, Version: "test", Network: s}
	srv := httptest.NewServer(api.New(h, opts))
	t.Cleanup(srv.Close)
	return &env{t: t, h: h, srv: srv, bob: bob, opts: opts}, s
}

func TestPeers(t *testing.T) {
	e, a := newNetEnv(t)
	b := newSwarm(t, nil)

	r := e.do("node", "GET", "/v1/info", "", nil)
	var info api.Info
	if err := json.Unmarshal(r.body, &info); err != nil || r.status != 200 {
		t.Fatalf("info: %d %s %v", r.status, r.body, err)
	}
	if info.PeerID != a.ID().String() || !slices.Equal(info.Addrs, a.Addrs()) {
		t.Errorf("info peer_id %q addrs %v, want %s %v", info.PeerID, info.Addrs, a.ID(), a.Addrs())
	}

	r = e.do("node", "GET", "/v1/peers", "", nil)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != "[]" {
		t.Fatalf("GET /v1/peers with none: %d %s, want 200 []", r.status, r.body)
	}
	body, _ := json.Marshal(api.ConnectRequest{Addr: b.Addrs()[0]})
	r = e.do("node", "POST", "/v1/peers", "application/json", body)
	var p api.Peer
	if err := json.Unmarshal(r.body, &p); err != nil || r.status != 200 {
		t.Fatalf("POST /v1/peers: %d %s %v", r.status, r.body, err)
	}
	if p.ID != b.ID().String() || !p.Connected || p.Source != "dial" || !strings.HasPrefix(p.Key, "ed25519:") {
		t.Errorf("POST /v1/peers answered %+v, want b, connected, dial, with its key", p)
	}
	r = e.do("node", "GET", "/v1/peers", "", nil)
	var ps []api.Peer
	if err := json.Unmarshal(r.body, &ps); err != nil || len(ps) != 1 || ps[0].ID != b.ID().String() {
		t.Fatalf("GET /v1/peers: %s, want b", r.body)
	}

	r = e.do("node", "DELETE", "/v1/peers/"+b.ID().String(), "", nil)
	var rm api.PeerRemoved
	if err := json.Unmarshal(r.body, &rm); err != nil || r.status != 200 || !rm.Disconnected {
		t.Fatalf("DELETE: %d %s, want disconnected", r.status, r.body)
	}
	r = e.do("node", "DELETE", "/v1/peers/"+b.ID().String(), "", nil)
	if r.status != 404 {
		t.Errorf("DELETE of a peer gone: %d %s, want 404", r.status, r.body)
	}

	for _, tc := range []struct {
		token, method, path, body string
		status                    int
		msg                       string
	}{
		{"bob", "GET", "/v1/peers", "", 403, "only the node key manages peers"},
		{"bob", "POST", "/v1/peers", `{"addr":"` + b.Addrs()[0] + `"}`, 403, "only the node key"},
		{"", "GET", "/v1/peers", "", 401, ""},
		{"node", "POST", "/v1/peers", `{"addr":""}`, 400, "no address given"},
		{"node", "POST", "/v1/peers", `{"addr":"/ip4/127.0.0.1/tcp/1"}`, 400, "does not end in /p2p/PEER-ID"},
		{"node", "POST", "/v1/peers", `{"adr":"x"}`, 400, "unknown field"},
		{"node", "DELETE", "/v1/peers/notapeer", "", 400, "bad peer id"},
	} {
		r := e.do(tc.token, tc.method, tc.path, "application/json", []byte(tc.body))
		if r.status != tc.status || !strings.Contains(string(r.body), tc.msg) {
			t.Errorf("%s %s as %q: %d %s, want %d with %q", tc.method, tc.path, tc.token, r.status, r.body, tc.status, tc.msg)
		}
	}
}

// TestPeersWithoutNetwork: without a network the peers routes say so and
// info has no peer id.
func TestPeersWithoutNetwork(t *testing.T) {
	e := newEnv(t, api.Options{})
	r := e.do("node", "GET", "/v1/peers", "", nil)
	if r.status != 503 || !strings.Contains(string(r.body), "without a network") {
		t.Errorf("GET /v1/peers: %d %s, want 503 without a network", r.status, r.body)
	}
	r = e.do("node", "GET", "/v1/info", "", nil)
	if strings.Contains(string(r.body), "peer_id") {
		t.Errorf("info without a network: %s has a peer_id", r.body)
	}
}
