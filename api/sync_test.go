package api_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/replica"
)

// fakeSync answers as a node with one peer would.
type fakeSync struct{ world coda.ID }

func (f *fakeSync) SyncNow(_ context.Context, world coda.ID) ([]replica.PeerReport, error) {
	f.world = world
	return []replica.PeerReport{{Peer: "12D3KooWpeer", World: world, Branch: "main", InSync: true, Commits: 2, Objects: 7, Bytes: 900},
		{Peer: "12D3KooWpeer", World: world, Branch: "topic", Waiting: true},
		{Peer: "12D3KooWpeer", World: world, Branch: "gone", Deleted: true}}, nil
}

func (f *fakeSync) Status(world coda.ID) []replica.PeerStatus {
	return []replica.PeerStatus{{Peer: "12D3KooWpeer", Key: "ed25519:k", InSync: false, Seen: time.Unix(1, 0),
		Branches: []replica.BranchStatus{{Branch: "main"}, {Branch: "topic", Head: world, Ours: world, InSync: true}}}}
}

// TestSync: POST .../sync runs a round for the node key and reports per
// peer; another identity is refused; the status lists the peers' heads
// for the node key only; without sync the route is unavailable.
func TestSync(t *testing.T) {
	h, err := cdb.Init(t.TempDir(), acl.With(cdb.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	bob, err := h.NewKey("bob")
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeSync{}
	opts := api.Options{Tokens: tokens{"node": h.NodeKey(), "bob": bob}, Version: "test", Sync: fs}
	srv := httptest.NewServer(api.New(h, opts))
	t.Cleanup(srv.Close)
	e := &env{t: t, h: h, srv: srv, bob: bob, opts: opts}
	w, err := h.World("")
	if err != nil {
		t.Fatal(err)
	}

	r := e.do("node", "POST", "/v1/worlds/default/sync", "", nil)
	var rep api.SyncReport
	if err := json.Unmarshal(r.body, &rep); err != nil || r.status != 200 {
		t.Fatalf("POST sync: %d %s %v", r.status, r.body, err)
	}
	if fs.world != w.ID() || rep.World != w.ID() || len(rep.Peers) != 3 || !rep.Peers[0].InSync || rep.Peers[0].Commits != 2 {
		t.Errorf("POST sync: %+v (round for %s), want the default world's round with one peer in sync", rep, fs.world)
	} else if p, d := rep.Peers[1], rep.Peers[2]; p.Branch != "topic" || !p.Waiting || rep.Peers[0].Branch != "main" || d.Branch != "gone" || !d.Deleted || d.Waiting {
		t.Errorf("POST sync: peers %+v, want main, then topic (waiting), then gone (deleted)", rep.Peers)
	}
	if len(rep.Branches) != 1 || rep.Branches[0].Branch != "main" || rep.Branches[0].Head != rep.Head {
		t.Errorf("POST sync: branches %+v, want main at %s", rep.Branches, rep.Head)
	}
	if r := e.do("bob", "POST", "/v1/worlds/default/sync", "", nil); r.status != 403 {
		t.Errorf("POST sync as bob: %d %s, want 403", r.status, r.body)
	}

	var st api.Status
	r = e.do("node", "GET", "/v1/worlds/default/status", "", nil)
	if err := json.Unmarshal(r.body, &st); err != nil || len(st.Peers) != 1 || st.Peers[0].Key != "ed25519:k" || st.Peers[0].Seen == "" {
		t.Errorf("status as the node: %s (%v), want one peer", r.body, err)
	} else if bs := st.Peers[0].Branches; len(bs) != 2 || bs[1].Branch != "topic" || !bs[1].InSync || bs[1].Head != w.ID() || bs[1].Ours != w.ID() {
		t.Errorf("status as the node: branches %+v, want main and topic in sync", bs)
	}
	r = e.do("bob", "GET", "/v1/worlds/default/status", "", nil)
	st = api.Status{}
	if err := json.Unmarshal(r.body, &st); err != nil || st.Peers != nil {
		t.Errorf("status as bob: %s (%v), want no peers", r.body, err)
	}

	opts.Sync = nil
	srv2 := httptest.NewServer(api.New(h, opts))
	t.Cleanup(srv2.Close)
	e2 := &env{t: t, h: h, srv: srv2, bob: bob, opts: opts}
	if r := e2.do("node", "POST", "/v1/worlds/default/sync", "", nil); r.status != 503 {
		t.Errorf("POST sync without sync: %d %s, want 503", r.status, r.body)
	}
}
