package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coalescent/coal/errs"
)

func TestPeersMethods(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.EscapedPath())
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodGet:
			json.NewEncoder(w).Encode([]Peer{{ID: "12D3KooWA", Addrs: []string{"/ip4/127.0.0.1/tcp/1"}, Connected: true}})
		case http.MethodPost:
			var req ConnectRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Addr != "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWA" {
				t.Errorf("POST body %+v, %v", req, err)
			}
			json.NewEncoder(w).Encode(Peer{ID: "12D3KooWA", Connected: true})
		case http.MethodDelete:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			json.NewEncoder(w).Encode(Problem{Type: errs.NotExist.ProblemType(), Title: "not-exist", Status: 404, Detail: "no such peer", Kind: "not-exist"})
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "tok", Options{})
	ctx := context.Background()
	ps, err := c.Peers(ctx)
	if err != nil || len(ps) != 1 || !ps[0].Connected {
		t.Errorf("Peers = %+v, %v", ps, err)
	}
	p, err := c.Connect(ctx, "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWA")
	if err != nil || p.ID != "12D3KooWA" {
		t.Errorf("Connect = %+v, %v", p, err)
	}
	if _, err := c.RemovePeer(ctx, "12D3KooWA"); !errs.Is(err, errs.NotExist) {
		t.Errorf("RemovePeer = %v, want not-exist", err)
	}
	want := []string{"GET /v1/peers", "POST /v1/peers", "DELETE /v1/peers/12D3KooWA"}
	if len(got) != len(want) {
		t.Fatalf("requests %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: %s, want %s", i, got[i], want[i])
		}
	}
}
