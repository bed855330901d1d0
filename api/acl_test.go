package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/coalescent/coal/api"
)

func TestACLAndGroups(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	e.want(e.do("node", "PUT", "/v1/worlds/default/tree/docs/a?schema=Note", "application/json", []byte(`{"text":"d","n":1}`)), 201)
	e.want(e.do("bob", "GET", "/v1/worlds/default/tree/docs/a", "", nil), 404)

	// bob may not grant himself anything.
	e.want(e.do("bob", "POST", "/v1/worlds/default/acl/grant", "application/json", []byte(`{"path":"/docs","who":"bob","rights":"read"}`)), 403)
	e.want(e.do("node", "POST", "/v1/worlds/default/acl/grant", "application/json", []byte(`{"path":"/docs","who":"group:eng","rights":"read"}`)), 201)
	e.want(e.do("bob", "GET", "/v1/worlds/default/tree/docs/a", "", nil), 404)
	e.want(e.do("node", "POST", "/v1/worlds/default/groups", "application/json", []byte(`{"name":"eng","members":["bob"]}`)), 201)
	e.want(e.do("bob", "GET", "/v1/worlds/default/tree/docs/a", "", nil), 200)

	r := e.do("bob", "GET", "/v1/worlds/default/acl/docs/a", "", nil)
	e.want(r, 200)
	var show api.ACLShow
	if err := json.Unmarshal(r.body, &show); err != nil || show.As != e.bob.Key() || show.Rights.String() != "read" || show.Source.ACL != "/docs/.acl" {
		t.Errorf("acl show: %s", r.body)
	}
	r = e.do("node", "GET", "/v1/worlds/default/groups", "", nil)
	e.want(r, 200)
	if !strings.Contains(string(r.body), `"eng"`) || !strings.Contains(string(r.body), e.bob.Key()) {
		t.Errorf("groups: %s", r.body)
	}
	e.want(e.do("node", "GET", "/v1/worlds/default/groups/eng", "", nil), 200)
	e.want(e.do("node", "GET", "/v1/worlds/default/groups/ops", "", nil), 404)
	e.want(e.do("node", "DELETE", "/v1/worlds/default/groups/eng", "application/json", []byte(`{"members":["bob"]}`)), 200)
	e.want(e.do("bob", "GET", "/v1/worlds/default/tree/docs/a", "", nil), 404)
	e.want(e.do("node", "DELETE", "/v1/worlds/default/groups/eng", "", nil), 200)
	e.want(e.do("node", "GET", "/v1/worlds/default/groups/eng", "", nil), 404)

	e.want(e.do("node", "POST", "/v1/worlds/default/acl/revoke", "application/json", []byte(`{"path":"/docs","who":"group:eng"}`)), 201)
	e.want(e.do("node", "POST", "/v1/worlds/default/acl/revoke", "application/json", []byte(`{"path":"/docs","who":"group:eng"}`)), 404)
	e.want(e.do("node", "POST", "/v1/worlds/default/acl/grant", "application/json", []byte(`{"path":"/docs","who":"nobody","rights":"read"}`)), 404)
}

func TestConflicts(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	e.want(e.do("node", "POST", "/v1/worlds/default/branches", "application/json", []byte(`{"name":"dev"}`)), 201)
	e.putNote("/x", 1)
	// dev has no commit of its own: a fast-forward-free merge of an
	// ancestor changes nothing; the head has no conflicts.
	r := e.do("node", "GET", "/v1/worlds/default/conflicts", "", nil)
	e.want(r, 200)
	if strings.TrimSpace(string(r.body)) != "[]" {
		t.Errorf("conflicts: %s", r.body)
	}
	e.want(e.do("node", "GET", "/v1/worlds/default/conflicts?commit=zzzzzzzz", "", nil), 404)
}
