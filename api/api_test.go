package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/errs"
)

// tokens maps tokens to identities.
type tokens map[string]cdb.Identity

func (t tokens) Verify(tok string) (cdb.Identity, error) {
	id, ok := t[tok]
	if !ok {
		return cdb.Identity{}, errs.E(errs.Unauthenticated, "unknown token")
	}
	return id, nil
}

type env struct {
	t    testing.TB
	h    *cdb.Home
	srv  *httptest.Server
	bob  cdb.Identity
	opts api.Options
}

func newEnv(t testing.TB, opts api.Options) *env {
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
	opts.Tokens = tokens{"node": h.NodeKey(), "bob": bob}
	opts.Version = "test"
	srv := httptest.NewServer(api.New(h, opts))
	t.Cleanup(srv.Close)
	return &env{t: t, h: h, srv: srv, bob: bob, opts: opts}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(token, method, path, ctype string, body []byte, hdr ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, r.Header, b}
}

func (e *env) want(r resp, status int) {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if r.header.Get("X-Request-Id") == "" {
		e.t.Errorf("no X-Request-Id")
	}
}

func problem(t *testing.T, r resp) api.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json: %s", ct, r.body)
	}
	var p api.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

const noteSchema = "schema Note { text: string  n: u32 }\n"

func (e *env) schemas() {
	e.t.Helper()
	e.want(e.do("node", "POST", "/v1/worlds/default/schemas", "text/plain", []byte(noteSchema)), 201)
}

func TestAuth(t *testing.T) {
	e := newEnv(t, api.Options{})
	r := e.do("", "GET", "/v1/info", "", nil)
	e.want(r, 401)
	if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("WWW-Authenticate %q", got)
	}
	if p := problem(t, r); p.Type != errs.Unauthenticated.ProblemType() || p.Status != 401 || p.Instance == "" {
		t.Errorf("problem %+v", p)
	}
	e.want(e.do("wrong", "GET", "/v1/info", "", nil), 401)
	r = e.do("node", "GET", "/v1/info", "", nil, "X-Request-Id", "abc")
	e.want(r, 200)
	if got := r.header.Get("X-Request-Id"); got != "abc" {
		t.Errorf("X-Request-Id %q, want abc echoed", got)
	}
	var info api.Info
	json.Unmarshal(r.body, &info)
	if info.Key != e.h.NodeKey().Key() || len(info.Worlds) != 1 || !info.Worlds[0].Default {
		t.Errorf("info %+v", info)
	}
}

func TestTreeValues(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	r := e.do("node", "PUT", "/v1/worlds/default/tree/notes/a?schema=Note&message=first", "application/json", []byte(`{"text":"hi","n":1}`))
	e.want(r, 201)
	var c1 api.CommitResult
	json.Unmarshal(r.body, &c1)
	e.want(e.do("node", "PUT", "/v1/worlds/default/tree/notes/a?schema=Note", "application/json", []byte(`{"text":"ho","n":2}`)), 201)

	r = e.do("node", "GET", "/v1/worlds/default/tree/notes/a", "", nil)
	e.want(r, 200)
	if got := strings.TrimSpace(string(r.body)); got != `{"n":2,"text":"ho"}` && got != `{"text":"ho","n":2}` {
		t.Errorf("get: %s", got)
	}
	r = e.do("node", "GET", "/v1/worlds/default/tree/notes/a?at="+c1.Commit.String(), "", nil)
	e.want(r, 200)
	if !strings.Contains(string(r.body), `"hi"`) {
		t.Errorf("get at %s: %s", c1.Commit, r.body)
	}
	r = e.do("node", "GET", "/v1/worlds/default/tree/notes/a?meta=1", "", nil)
	var v api.Value
	if err := json.Unmarshal(r.body, &v); err != nil || v.Path != "/notes/a" {
		t.Errorf("meta: %s", r.body)
	}
	r = e.do("node", "GET", "/v1/worlds/default/tree/notes/a?raw=1", "", nil)
	e.want(r, 200)
	if r.header.Get("Content-Type") != "application/octet-stream" || len(r.body) < 32 {
		t.Errorf("raw: %q %d bytes", r.header.Get("Content-Type"), len(r.body))
	}
	r = e.do("node", "GET", "/v1/worlds/default/tree/notes", "", nil)
	e.want(r, 200)
	var ls []api.Entry
	if json.Unmarshal(r.body, &ls); len(ls) != 1 || ls[0].Name != "a" || ls[0].Kind != "value" {
		t.Errorf("ls: %s", r.body)
	}

	// Wrong schema: the field is named.
	r = e.do("node", "PUT", "/v1/worlds/default/tree/notes/b?schema=Note", "application/json", []byte(`{"text":"x","n":"x"}`))
	e.want(r, 400)
	if p := problem(t, r); p.Type != errs.Invalid.ProblemType() || !strings.Contains(p.Detail, "n:") {
		t.Errorf("wrong schema: %+v", p)
	}
	// Bad JSON: the position is named, in the value at the path.
	r = e.do("node", "PUT", "/v1/worlds/default/tree/notes/b?schema=Note", "application/json", []byte("{\"text\":\n  x}"))
	e.want(r, 400)
	if p := problem(t, r); !strings.Contains(p.Detail, "/notes/b:2:") {
		t.Errorf("bad JSON: %+v", p)
	}

	r = e.do("node", "DELETE", "/v1/worlds/default/tree/notes/a", "", nil)
	e.want(r, 200)
	e.want(e.do("node", "GET", "/v1/worlds/default/tree/notes/a", "", nil), 404)
}

func TestBlobRange(t *testing.T) {
	e := newEnv(t, api.Options{})
	data := bytes.Repeat([]byte("0123456789"), 1000)
	e.want(e.do("node", "PUT", "/v1/worlds/default/tree/files/x.txt", "application/octet-stream", data), 201)
	r := e.do("node", "GET", "/v1/worlds/default/tree/files/x.txt", "", nil)
	e.want(r, 200)
	if !bytes.Equal(r.body, data) || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("blob: %d bytes, type %q", len(r.body), r.header.Get("Content-Type"))
	}
	r = e.do("node", "GET", "/v1/worlds/default/tree/files/x.txt", "", nil, "Range", "bytes=5-14")
	e.want(r, 206)
	if string(r.body) != "5678901234" {
		t.Errorf("range: %q", r.body)
	}
	if cd := r.header.Get("Content-Disposition"); cd != "" {
		t.Errorf("without download=1: Content-Disposition %q, want none", cd)
	}
	// download=1 names the file; a range still works with it.
	for _, c := range []struct{ path, want string }{
		{"files/x.txt", `attachment; filename=x.txt`},
		{"files/na%C3%AFve%20%22q%22.txt", `attachment; filename*=utf-8''na%C3%AFve%20%22q%22.txt`},
	} {
		e.want(e.do("node", "PUT", "/v1/worlds/default/tree/"+c.path, "application/octet-stream", data), 201)
		r = e.do("node", "GET", "/v1/worlds/default/tree/"+c.path+"?download=1", "", nil, "Range", "bytes=0-3")
		e.want(r, 206)
		if got := r.header.Get("Content-Disposition"); got != c.want || string(r.body) != "0123" {
			t.Errorf("%s?download=1: Content-Disposition %q, body %q; want %q, \"0123\"", c.path, got, r.body, c.want)
		}
	}
}

func TestLimits(t *testing.T) {
	e := newEnv(t, api.Options{MaxJSON: 100, MaxBlob: 1000})
	e.schemas()
	big := `{"text":"` + strings.Repeat("x", 200) + `","n":1}`
	r := e.do("node", "PUT", "/v1/worlds/default/tree/a?schema=Note", "application/json", []byte(big))
	e.want(r, 413)
	if p := problem(t, r); p.Type != errs.Limit.ProblemType() {
		t.Errorf("json limit: %+v", p)
	}
	r = e.do("node", "PUT", "/v1/worlds/default/tree/b", "application/octet-stream", make([]byte, 2000))
	e.want(r, 413)
	r = e.do("node", "POST", "/v1/worlds/default/transactions", "application/json", []byte(`[`+strings.Repeat(" ", 200)+`]`))
	e.want(r, 413)
}

// TestDeniedIsNotFound: a path bob may not read answers exactly as a
// missing one, modulo the path and the request id.
func TestDeniedIsNotFound(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	e.want(e.do("node", "PUT", "/v1/worlds/default/tree/secret/a?schema=Note", "application/json", []byte(`{"text":"s","n":1}`)), 201)
	denied := e.do("bob", "GET", "/v1/worlds/default/tree/secret/a", "", nil)
	missing := e.do("bob", "GET", "/v1/worlds/default/tree/secret/b", "", nil)
	e.want(denied, 404)
	e.want(missing, 404)
	norm := func(r resp) string {
		s := strings.ReplaceAll(string(r.body), "/secret/a", "PATH")
		s = strings.ReplaceAll(s, "/secret/b", "PATH")
		return regexp.MustCompile(`"instance":"[^"]*"`).ReplaceAllString(s, "")
	}
	if norm(denied) != norm(missing) {
		t.Errorf("denied %s\nmissing %s", denied.body, missing.body)
	}
	// A write bob may not make is 403.
	r := e.do("bob", "PUT", "/v1/worlds/default/tree/secret/c?schema=Note", "application/json", []byte(`{"text":"s","n":1}`))
	e.want(r, 403)
	// In his home he may.
	e.want(e.do("bob", "PUT", "/v1/worlds/default/tree/home/"+e.bob.Key()+"/x?schema=Note", "application/json", []byte(`{"text":"s","n":1}`)), 201)
	// The audit log is the node's.
	e.want(e.do("bob", "GET", "/v1/audit", "", nil), 403)
	r = e.do("node", "GET", "/v1/audit?n=5", "", nil)
	e.want(r, 200)
	var recs []json.RawMessage
	if json.Unmarshal(r.body, &recs); len(recs) != 5 {
		t.Errorf("audit: %s", r.body)
	}
}

func TestHistory(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	ops := `[{"op":"mkdir","path":"/notes","schema":"Note"},{"op":"put","path":"/notes/a","value":{"text":"a","n":1}}]`
	r := e.do("node", "POST", "/v1/worlds/default/transactions?message=two", "application/json", []byte(ops))
	e.want(r, 201)
	var c api.CommitResult
	json.Unmarshal(r.body, &c)
	r = e.do("node", "POST", "/v1/worlds/default/transactions", "application/json", []byte(`[{"op":"put","path":"/x","valu":1}]`))
	e.want(r, 400)
	if p := problem(t, r); !strings.Contains(p.Detail, "ops[0]") {
		t.Errorf("bad op: %+v", p)
	}

	r = e.do("node", "GET", "/v1/worlds/default/log?n=1&path=/notes", "", nil)
	e.want(r, 200)
	var log []api.CommitSummary
	if json.Unmarshal(r.body, &log); len(log) != 1 || log[0].ID != c.Commit || log[0].Message != "two" {
		t.Errorf("log: %s", r.body)
	}
	r = e.do("node", "GET", "/v1/worlds/default/commits/"+c.Commit.String()[:10], "", nil)
	e.want(r, 200)
	var d api.CommitDetail
	if json.Unmarshal(r.body, &d); d.Signature != "good" || len(d.Ops) != 2 {
		t.Errorf("show: %s", r.body)
	}
	r = e.do("node", "GET", "/v1/worlds/default/diff?a="+c.Commit.String()+"~1", "", nil)
	e.want(r, 200)
	if !strings.Contains(string(r.body), `"/notes/a"`) {
		t.Errorf("diff: %s", r.body)
	}
	r = e.do("node", "POST", "/v1/worlds/default/revert", "application/json", []byte(fmt.Sprintf(`{"commit":%q}`, c.Commit)))
	e.want(r, 201)
	e.want(e.do("node", "GET", "/v1/worlds/default/tree/notes/a", "", nil), 404)
	r = e.do("node", "POST", "/v1/worlds/default/reset", "application/json", []byte(fmt.Sprintf(`{"to":%q}`, c.Commit)))
	e.want(r, 201)
	e.want(e.do("node", "GET", "/v1/worlds/default/tree/notes/a", "", nil), 200)

	e.want(e.do("node", "POST", "/v1/worlds/default/branches", "application/json", []byte(`{"name":"dev"}`)), 201)
	r = e.do("node", "GET", "/v1/worlds/default/branches", "", nil)
	e.want(r, 200)
	if !strings.Contains(string(r.body), `"dev"`) {
		t.Errorf("branches: %s", r.body)
	}
	r = e.do("node", "POST", "/v1/worlds/default/merge", "application/json", []byte(`{"branch":"dev"}`))
	e.want(r, 200)
	r = e.do("node", "GET", "/v1/worlds/default/status", "", nil)
	e.want(r, 200)
	r = e.do("node", "GET", "/v1/worlds/default/schemas", "", nil)
	e.want(r, 200)
	if !strings.Contains(string(r.body), `"Note"`) {
		t.Errorf("schemas: %s", r.body)
	}
	r = e.do("node", "POST", "/v1/worlds", "application/json", []byte(`{"name":"w2"}`))
	e.want(r, 201)
	r = e.do("node", "POST", "/v1/worlds", "application/json", []byte(`{"nam":"w2"}`))
	e.want(r, 400)
}

// TestOpenAPI: every route is in the document, and every documented
// operation is routed.
func TestOpenAPI(t *testing.T) {
	e := newEnv(t, api.Options{})
	r := e.do("node", "GET", "/v1/openapi.json", "", nil)
	e.want(r, 200)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	routed := map[string]bool{}
	for _, rt := range api.Routes {
		k := strings.ToLower(rt.Method) + " " + api.OpenAPIPath(rt.Pattern)
		routed[k] = true
		if _, ok := doc.Paths[api.OpenAPIPath(rt.Pattern)][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("%s %s: not in the document", rt.Method, rt.Pattern)
		}
		// Each route answers something other than the mux's 404/405.
		path := strings.NewReplacer("{world}", "default", "{path...}", "x", "{id}", "HEAD", "{name}", "g").Replace(rt.Pattern)
		if rt.Response == "sse" {
			continue
		}
		got := e.do("", rt.Method, path, "", nil)
		if got.status != 401 {
			t.Errorf("%s %s: status %d without a token, want 401 (not routed?)", rt.Method, path, got.status)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !routed[m+" "+p] {
				t.Errorf("%s %s: documented, not routed", m, p)
			}
		}
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t, api.Options{})
	r := e.do("node", "POST", "/v1/worlds/default/transactions", "application/json", []byte("[\n  {\"op\": }]"))
	e.want(r, 400)
	if p := problem(t, r); !strings.HasPrefix(p.Detail, "body:2:") {
		t.Errorf("bad ops JSON: %+v", p)
	}
	e.want(e.do("node", "GET", "/v1/worlds/nosuch/status", "", nil), 404)
	e.want(e.do("node", "GET", "/v1/worlds/default/log?n=x", "", nil), 400)
	e.want(e.do("node", "GET", "/v1/worlds/default/tree/a?at=zzzzzzzz", "", nil), 404)
	e.want(e.do("node", "GET", "/v1/nosuch", "", nil), 404)
}

// TestRefChangesNeedAdmin: making a branch, switching and merging change
// what every reader of the node sees at the head, so only an admin of /
// may (docs/security.md, "Branches and merges"); bob, who may write only
// his home, gets 403 and the refs stay as they were.
func TestRefChangesNeedAdmin(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.want(e.do("bob", "POST", "/v1/worlds/default/branches", "application/json", []byte(`{"name":"b1"}`)), 403)
	e.want(e.do("node", "POST", "/v1/worlds/default/branches", "application/json", []byte(`{"name":"b2"}`)), 201)
	e.want(e.do("bob", "POST", "/v1/worlds/default/switch", "application/json", []byte(`{"name":"b2"}`)), 403)
	e.want(e.do("bob", "POST", "/v1/worlds/default/merge", "application/json", []byte(`{"branch":"b2"}`)), 403)
	r := e.do("node", "GET", "/v1/worlds/default/branches", "", nil)
	e.want(r, 200)
	if strings.Contains(string(r.body), `"b1"`) || !strings.Contains(string(r.body), `"b2"`) {
		t.Errorf("branches after bob's refused attempt: %s; want b2 and no b1", r.body)
	}
	st := e.do("node", "GET", "/v1/worlds/default/status", "", nil)
	if !strings.Contains(string(st.body), `"branch":"main"`) {
		t.Errorf("status after bob's refused switch: %s; want branch main", st.body)
	}
	e.want(e.do("node", "POST", "/v1/worlds/default/switch", "application/json", []byte(`{"name":"b2"}`)), 200)
}
