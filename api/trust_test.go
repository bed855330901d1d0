package api_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/collect"
	"github.com/coalescent/coal/module"
	"github.com/coalescent/coal/trust"
)

type fakeCollector struct{ peer, module, world string }

func (f *fakeCollector) CollectNow(_ context.Context, peer, module, world string) ([]collect.Report, error) {
	f.peer, f.module, f.world = peer, module, world
	return []collect.Report{{Peer: "12D3KooWpeer", Key: "ed25519:k", Listed: 3, Objects: 2, Imported: 2,
		Results: collect.ResultsReport{Received: 1, Rechecked: 1, Disagreed: 1}}}, nil
}

// TestTrustAndCollect: the trust table through the API (without a node's
// table: HOME/trust), by node key and by peer id; collect through a
// Collector; both the node key's only; collect unavailable without one.
func TestTrustAndCollect(t *testing.T) {
	e := newEnv(t, api.Options{})
	h, bob := e.h, e.bob

	if r := e.do("node", "GET", "/v1/trust", "", nil); r.status != 200 || strings.TrimSpace(string(r.body)) != "[]" {
		t.Fatalf("GET /v1/trust: %d %s, want []", r.status, r.body)
	}
	r := e.do("node", "PUT", "/v1/trust/"+bob.Key(), "", []byte(`{"policy":"deny"}`))
	var row api.TrustPeer
	if err := json.Unmarshal(r.body, &row); err != nil || r.status != 200 || row.Policy != "deny" || row.Key != bob.Key() || len(row.Kinds) != 3 {
		t.Fatalf("PUT trust: %d %s", r.status, r.body)
	}
	tr, err := trust.Open(h.Dir()+"/"+trust.FileName, trust.Options{})
	if err != nil || tr.Policy(bob.Public) != trust.Deny {
		t.Fatalf("HOME/trust after PUT: %v", err)
	}
	r = e.do("node", "PUT", "/v1/trust/"+row.Peer, "", []byte(`{"policy":"allow"}`))
	if r.status != 200 || !strings.Contains(string(r.body), `"policy":"allow"`) {
		t.Fatalf("PUT trust by peer id: %d %s", r.status, r.body)
	}
	for _, c := range []struct{ path, body, want string }{
		{"/v1/trust/nobody", `{"policy":"deny"}`, "bad peer"},
		{"/v1/trust/" + bob.Key(), `{"policy":"maybe"}`, "unknown policy"},
	} {
		if r := e.do("node", "PUT", c.path, "", []byte(c.body)); r.status != 400 || !strings.Contains(string(r.body), c.want) {
			t.Errorf("PUT %s %s: %d %s, want 400 %q", c.path, c.body, r.status, r.body, c.want)
		}
	}
	if r := e.do("bob", "GET", "/v1/trust", "", nil); r.status != 403 {
		t.Errorf("bob's GET /v1/trust: %d, want 403", r.status)
	}
	if r := e.do("node", "POST", "/v1/collect", "", []byte(`{}`)); r.status != 503 {
		t.Errorf("POST /v1/collect without a collector: %d %s, want 503", r.status, r.body)
	}

	fc := &fakeCollector{}
	opts := e.opts
	opts.Collector = fc
	srv2 := httptest.NewServer(api.New(h, opts))
	t.Cleanup(srv2.Close)
	e2 := &env{t: t, h: h, srv: srv2, bob: bob, opts: opts}
	r = e2.do("node", "POST", "/v1/collect", "", []byte(`{"peer":"12D3KooWpeer","module":"geometry::circle","world":"other"}`))
	var rep api.CollectReport
	if err := json.Unmarshal(r.body, &rep); err != nil || r.status != 200 {
		t.Fatalf("POST collect: %d %s %v", r.status, r.body, err)
	}
	if fc.peer != "12D3KooWpeer" || fc.module != "geometry::circle" || fc.world != "other" || rep.Module != "geometry::circle" || len(rep.Peers) != 1 || rep.Peers[0].Results.Disagreed != 1 || rep.Peers[0].Imported != 2 {
		t.Errorf("POST collect: %+v (asked %q %q)", rep, fc.peer, fc.module)
	}
	if r := e2.do("bob", "POST", "/v1/collect", "", []byte(`{}`)); r.status != 403 {
		t.Errorf("bob's POST /v1/collect: %d, want 403", r.status)
	}
}

// TestTrustedVerdicts: a peer's verify Result counts in the module table
// once the node trusts the peer (PUT /v1/trust … allow), not before.
func TestTrustedVerdicts(t *testing.T) {
	e := newEnv(t, api.Options{})
	h := e.h
	e.publishCircle(t)
	w, err := h.World("")
	if err != nil {
		t.Fatal(err)
	}
	ents, err := module.Catalog(w.As(h.NodeKey().Public), coda.ID{}, "geometry::circle")
	if err != nil {
		t.Fatal(err)
	}
	var iface, direct coda.ID
	var specs []coda.ID
	for _, en := range ents {
		it, err := w.Get(coda.ID{}, en.Path)
		if err != nil {
			t.Fatal(err)
		}
		switch en.Kind {
		case module.KindInterface:
			iface = en.ID
		case module.KindSpec:
			specs = append(specs, en.ID)
		case module.KindImpl:
			if x, err := module.DecodeImpl(it.Raw); err == nil && x.Name == "direct" {
				direct = en.ID
			}
		}
	}
	peerKey, err := cdb.NewIdentity("peer", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	res := &module.Result{Node: peerKey.Public, Interface: iface, Impl: direct, Kind: module.ResultVerify,
		Subjects: specs, Pass: true, Steps: 1000, Machine: "peer", Time: 1}
	if err := res.Sign(peerKey); err != nil {
		t.Fatal(err)
	}
	obj, err := res.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := module.Import(context.Background(), w, h.NodeKey(), [][]byte{obj}); err != nil {
		t.Fatal(err)
	}
	verified := func() bool {
		r := e.do("node", "GET", "/v1/worlds/default/modules/geometry::circle", "", nil)
		var tab struct {
			Rows []struct {
				Impl     coda.ID `json:"impl"`
				Verified bool    `json:"verified"`
			} `json:"rows"`
		}
		if err := json.Unmarshal(r.body, &tab); err != nil || r.status != 200 {
			t.Fatalf("show: %d %s %v", r.status, r.body, err)
		}
		for _, row := range tab.Rows {
			if row.Impl == direct {
				return row.Verified
			}
		}
		t.Fatal("no row for direct")
		return false
	}
	if verified() {
		t.Fatal("a stranger's verdict counted")
	}
	if r := e.do("node", "PUT", "/v1/trust/"+peerKey.Key(), "", []byte(`{"policy":"allow"}`)); r.status != 200 {
		t.Fatalf("PUT trust: %d %s", r.status, r.body)
	}
	if !verified() {
		t.Fatal("an allowed peer's verdict did not count")
	}
}
