package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/errs"
)

// TestNodeOnlyRoutes: the audit log's check, fsck, replay and making,
// importing or exporting keys answer 403 to any identity but the node
// key's, and no token is 401; listing keys is open.
func TestNodeOnlyRoutes(t *testing.T) {
	e := newEnv(t, api.Options{})
	for _, rt := range []struct{ method, path, body string }{
		{"GET", "/v1/audit/verify", ""},
		{"GET", "/v1/fsck", ""},
		{"GET", "/v1/worlds/default/replay", ""},
		{"POST", "/v1/keys", `{"name":"eve"}`},
		{"POST", "/v1/keys/import", `{"name":"eve","export":"x"}`},
		{"GET", "/v1/keys/bob/export", ""},
	} {
		r := e.do("bob", rt.method, rt.path, "application/json", []byte(rt.body))
		e.want(r, 403)
		if p := problem(t, r); p.Kind != "permission" || !strings.Contains(p.Detail, "only the node key") {
			t.Errorf("%s %s as bob: %+v", rt.method, rt.path, p)
		}
		e.want(e.do("", rt.method, rt.path, "application/json", []byte(rt.body)), 401)
		// The node key passes the check (the bad export then fails as such).
		if r := e.do("node", rt.method, rt.path, "application/json", []byte(rt.body)); r.status == 403 || r.status == 401 {
			t.Errorf("%s %s as the node: %d %s", rt.method, rt.path, r.status, r.body)
		}
	}
	e.want(e.do("bob", "GET", "/v1/keys", "", nil), 200)
}

// TestHistoryRoutes drives the history, maintenance, bundle and key
// routes with the typed client.
func TestHistoryRoutes(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	ctx := context.Background()
	c := client.New(e.srv.URL, "node", client.Options{})
	bob := client.New(e.srv.URL, "bob", client.Options{})
	put := func(p, v string) string {
		t.Helper()
		id, err := c.Put(ctx, "", p, []byte(v), "Note", "")
		if err != nil {
			t.Fatal(err)
		}
		return id.String()
	}
	a := put("/a", `{"text":"a","n":1}`)
	put("/a", `{"text":"a","n":2}`)

	// Revert of a commit whose every path changed later names them.
	_, err := c.Revert(ctx, "", a)
	if err == nil || !strings.Contains(err.Error(), "/a was changed again later; left as it is") {
		t.Errorf("revert of a superseded commit: %v", err)
	}
	// A parameter's error starts with its name.
	if _, err := c.Reset(ctx, "", "zzzzzzzzzz"); err == nil || !strings.HasPrefix(err.Error(), "to: ") {
		t.Errorf("reset to zzzzzzzzzz: %v, want an error starting \"to: \"", err)
	}

	// Branches: make, switch, merge, conflicts.
	if _, err := c.NewBranch(ctx, "", "side", ""); err != nil {
		t.Fatal(err)
	}
	b, err := c.Switch(ctx, "", "side")
	if err != nil || b.Name != "side" || !b.Current {
		t.Fatalf("switch side: %+v, %v", b, err)
	}
	put("/a", `{"text":"side","n":3}`)
	if _, err := c.Switch(ctx, "", "main"); err != nil {
		t.Fatal(err)
	}
	put("/a", `{"text":"main","n":4}`)
	m, err := c.Merge(ctx, "", "side")
	if err != nil || !m.Merge || m.Conflicts != 1 {
		t.Fatalf("merge: %+v, %v", m, err)
	}
	ks, err := c.Conflicts(ctx, "", "")
	if err != nil || len(ks) != 1 || ks[0].Path != "/a" || string(ks[0].Winner.Value) != `{"text":"main","n":4}` {
		t.Errorf("conflicts: %+v, %v", ks, err)
	}
	if _, err := c.Switch(ctx, "", "nosuch"); !errs.Is(err, errs.NotExist) {
		t.Errorf("switch nosuch: %v, want not-exist", err)
	}
	ds, err := c.Diff(ctx, "", a, "")
	if err != nil || len(ds) != 1 || ds[0].Change != "changed" {
		t.Errorf("diff: %+v, %v", ds, err)
	}

	// Maintenance.
	f, err := c.Fsck(ctx, "")
	if err != nil || len(f.Worlds) != 1 || len(f.Problems) != 0 {
		t.Errorf("fsck: %+v, %v", f, err)
	}
	rp, err := c.Replay(ctx, "")
	if err != nil || rp.Commits < 5 || rp.Root.IsZero() {
		t.Errorf("replay: %+v, %v", rp, err)
	}
	av, err := c.AuditVerify(ctx)
	if err != nil || av.Records == 0 {
		t.Errorf("audit verify: %+v, %v", av, err)
	}

	// A bundle made through the API is the bundle Create makes, and its
	// stats come in the trailer; applied to a second home it arrives.
	var got bytes.Buffer
	st, err := c.CreateBundle(ctx, "", "", "", &got)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != int64(got.Len()) || st.Commits != rp.Commits || st.Header.Head != m.Commit {
		t.Errorf("bundle stats %+v for %d bytes, want %d commits, head %s", st, got.Len(), rp.Commits, m.Commit)
	}
	if _, err := c.CreateBundle(ctx, "", "zzzzzzzzzz", "", &bytes.Buffer{}); err == nil || !strings.HasPrefix(err.Error(), "since: ") {
		t.Errorf("bundle since zzzzzzzzzz: %v", err)
	}
	e2 := newEnv(t, api.Options{})
	c2 := client.New(e2.srv.URL, "node", client.Options{})
	res, err := c2.ApplyBundle(ctx, "", bytes.NewReader(got.Bytes()))
	if err != nil || res.Head != m.Commit || res.Commits != rp.Commits {
		t.Errorf("apply to a new home: %+v, %v", res, err)
	}
	res, err = c.ApplyBundle(ctx, "default", bytes.NewReader(got.Bytes()))
	if err != nil || res.Commits != 0 || res.Head != m.Commit {
		t.Errorf("apply to its own world: %+v, %v", res, err)
	}
	if _, err := c2.ApplyBundle(ctx, "default", bytes.NewReader(got.Bytes()[:got.Len()/2])); err == nil {
		t.Errorf("apply of half a bundle: no error")
	}

	// Keys: made and imported through the API are listed and usable.
	k, err := c.NewKey(ctx, "carol")
	if err != nil || k.Name != "carol" || !strings.HasPrefix(k.Public, "ed25519:") {
		t.Fatalf("new key: %+v, %v", k, err)
	}
	if _, err := c.NewKey(ctx, "carol"); !errs.Is(err, errs.Exist) {
		t.Errorf("new key carol again: %v, want exist", err)
	}
	exp, err := c.ExportKey(ctx, "carol")
	if err != nil || !bytes.HasPrefix(exp, []byte("coal-key-v1\n")) {
		t.Fatalf("export: %q, %v", exp, err)
	}
	k2, err := c2.ImportKey(ctx, "carol2", exp)
	if err != nil || k2.Public != k.Public || k2.Name != "carol2" {
		t.Errorf("import: %+v, %v", k2, err)
	}
	if _, err := c2.ImportKey(ctx, "x", exp[:20]); !errs.Is(err, errs.Invalid) {
		t.Errorf("import of a damaged export: %v, want invalid", err)
	}
	keys, err := bob.Keys(ctx)
	if err != nil || len(keys) != 3 { // bob, carol, node
		t.Errorf("keys as bob: %+v, %v", keys, err)
	}
	if _, err := bob.ExportKey(ctx, "carol"); !errs.Is(err, errs.Permission) {
		t.Errorf("export as bob: %v, want permission", err)
	}
}

// TestBundleCutShort: a bundle stream without its stats trailer is an
// error, not a bundle.
func TestBundleCutShort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", message.BundleStatsTrailer)
		w.Write([]byte("part of a bundle"))
	}))
	defer srv.Close()
	c := client.New(srv.URL, "t", client.Options{})
	_, err := c.CreateBundle(context.Background(), "", "", "", &bytes.Buffer{})
	if !errs.Is(err, errs.Unavailable) {
		t.Errorf("a stream without the trailer: %v, want unavailable", err)
	}
}
