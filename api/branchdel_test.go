package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/errs"
)

// TestDeleteBranch: DELETE .../branches/{name} answers 204 and the branch
// is gone, with a tombstone; bob (not admin of /) gets 403 and the branch
// stays; main, the current branch and an unknown one are problem
// documents; the typed client keeps the kinds.
func TestDeleteBranch(t *testing.T) {
	e := newEnv(t, api.Options{})
	for _, b := range []string{"dev", "cur", "gone"} {
		e.want(e.do("node", "POST", "/v1/worlds/default/branches", "application/json", []byte(`{"name":"`+b+`"}`)), 201)
	}

	e.want(e.do("bob", "DELETE", "/v1/worlds/default/branches/dev", "", nil), 403)
	if r := e.do("node", "GET", "/v1/worlds/default/branches", "", nil); !strings.Contains(string(r.body), `"dev"`) {
		t.Errorf("branches after bob's refused delete: %s; want dev still there", r.body)
	}

	r := e.do("node", "DELETE", "/v1/worlds/default/branches/dev", "", nil)
	e.want(r, 204)
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %q", r.body)
	}
	if r := e.do("node", "GET", "/v1/worlds/default/branches", "", nil); strings.Contains(string(r.body), `"dev"`) {
		t.Errorf("branches after delete: %s; want no dev", r.body)
	}
	w, err := e.h.World("")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := w.DeletedBranch("dev"); !ok || err != nil {
		t.Errorf("no tombstone of dev: %v, %v", ok, err)
	}

	e.want(e.do("node", "POST", "/v1/worlds/default/switch", "application/json", []byte(`{"name":"cur"}`)), 200)
	for _, tc := range []struct {
		name   string
		status int
		kind   string
		detail string
	}{
		{"main", 400, "invalid", "default branch"},
		{"cur", 400, "invalid", "current branch"},
		{"dev", 404, "not-exist", `"dev"`},
		{"nosuch", 404, "not-exist", `"nosuch"`},
	} {
		r := e.do("node", "DELETE", "/v1/worlds/default/branches/"+tc.name, "", nil)
		e.want(r, tc.status)
		if p := problem(t, r); p.Kind != tc.kind || !strings.Contains(p.Detail, tc.detail) {
			t.Errorf("DELETE %s: %+v, want kind %s, detail naming %s", tc.name, p, tc.kind, tc.detail)
		}
	}
	e.want(e.do("node", "DELETE", "/v1/worlds/nosuch/branches/gone", "", nil), 404)

	c := client.New(e.srv.URL, "node", client.Options{})
	ctx := context.Background()
	if err := c.DeleteBranch(ctx, "", "gone"); err != nil {
		t.Errorf("client DeleteBranch(gone): %v", err)
	}
	if err := c.DeleteBranch(ctx, "", "gone"); !errs.Is(err, errs.NotExist) {
		t.Errorf("client DeleteBranch(gone) again: %v, want NotExist", err)
	}
	if err := c.DeleteBranch(ctx, "", "main"); !errs.Is(err, errs.Invalid) {
		t.Errorf("client DeleteBranch(main): %v, want Invalid", err)
	}
	bob := client.New(e.srv.URL, "bob", client.Options{})
	if err := bob.DeleteBranch(ctx, "", "cur"); !errs.Is(err, errs.Permission) {
		t.Errorf("bob's DeleteBranch: %v, want Permission", err)
	}
}
