package api_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
)

const circle = "geometry::circle"

// publishCircle publishes examples/modules/circle as the node key.
func (e *env) publishCircle(t *testing.T) api.PublishResult {
	t.Helper()
	req, err := client.ReadModuleDir(filepath.Join("..", "examples", "modules", "circle"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(req)
	r := e.do("node", "POST", "/v1/worlds/default/modules", "application/json", body)
	e.want(r, 201)
	var res api.PublishResult
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Module != circle || res.Commit == nil || res.New != len(res.Entries) || res.New == 0 {
		t.Fatalf("publish: %+v", res)
	}
	// Again: nothing new, 200, no commit.
	r = e.do("node", "POST", "/v1/worlds/default/modules", "application/json", body)
	e.want(r, 200)
	var again api.PublishResult
	if err := json.Unmarshal(r.body, &again); err != nil || again.Commit != nil || again.New != 0 {
		t.Fatalf("publish again: %s", r.body)
	}
	return res
}

func TestModuleRoutes(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.publishCircle(t)
	base := "/v1/worlds/default/modules"
	mod := base + "/" + circle

	var list []api.ModuleSummary
	r := e.do("node", "GET", base, "", nil)
	e.want(r, 200)
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 1 || list[0].Name != circle || list[0].Impls != 4 {
		t.Fatalf("list: %s", r.body)
	}

	// verify: an empty body is the defaults; two impls fail with a
	// counterexample given as JSON too.
	r = e.do("node", "POST", mod+"/verify", "", nil)
	e.want(r, 200)
	var rep api.ModuleReport
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatal(err)
	}
	pass := map[string]bool{}
	for _, x := range rep.Impls {
		pass[x.Name] = x.Pass
		if !x.Pass && (x.Failure == nil || len(x.Failure.InputValue) == 0 || len(x.Failure.Input) == 0) {
			t.Errorf("verify: %s fails without a counterexample: %+v", x.Name, x.Failure)
		}
	}
	if !pass["direct"] || !pass["careful"] || pass["cheat"] || pass["sloppy"] || rep.Commit == nil || len(rep.NewSpecs) == 0 {
		t.Fatalf("verify: %s", r.body)
	}

	r = e.do("node", "POST", mod+"/evaluate", "application/json", []byte(`{"dry_run":true}`))
	e.want(r, 200)
	rep = api.ModuleReport{}
	if err := json.Unmarshal(r.body, &rep); err != nil || rep.Commit != nil || rep.Impls[0].Name != "direct" || rep.Impls[0].Rank != 1 {
		t.Fatalf("evaluate (dry run): %s", r.body)
	}
	e.want(e.do("node", "POST", mod+"/evaluate", "application/json", []byte(`{}`)), 200)

	r = e.do("node", "POST", mod+"/build", "", nil)
	e.want(r, 201)
	var b api.ModuleBuild
	if err := json.Unmarshal(r.body, &b); err != nil || b.Name != "direct" {
		t.Fatalf("build: %s", r.body)
	}

	r = e.do("node", "GET", mod, "", nil)
	e.want(r, 200)
	var tab api.ModuleTable
	if err := json.Unmarshal(r.body, &tab); err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 4 || tab.Rows[0].Name != "direct" || !tab.Rows[0].Built || tab.Rows[0].Rank != 1 ||
		tab.Build == nil || tab.Build.Impl != b.Impl || len(tab.Specs) != 2+len(rep.NewSpecs) && len(tab.Specs) < 3 {
		t.Fatalf("show: %s", r.body)
	}
}

func TestModuleRoutesErrors(t *testing.T) {
	e := newEnv(t, api.Options{})
	base := "/v1/worlds/default/modules"
	mod := base + "/" + circle

	// No token, a bad token: 401 on every route.
	for _, rt := range []struct{ method, path string }{
		{"GET", base}, {"POST", base}, {"GET", mod}, {"POST", mod + "/verify"}, {"POST", mod + "/evaluate"}, {"POST", mod + "/build"},
	} {
		e.want(e.do("", rt.method, rt.path, "application/json", []byte(`{}`)), 401)
		e.want(e.do("wrong", rt.method, rt.path, "application/json", []byte(`{}`)), 401)
	}

	// Bad JSON bodies, unknown fields, bad names, bad files.
	for _, c := range []struct {
		method, path, body, want string
	}{
		{"POST", base, `{"dir": "c", "files": `, "body: unexpected EOF"},
		{"POST", base, `{"dir": "c", "filez": {}}`, "unknown field"},
		{"POST", base, `{"dir": "../c", "files": {}}`, "dir: want the DIR's base name"},
		{"POST", base, `{"dir": "c", "files": {"../x": ""}}`, "bad file name"},
		{"POST", base, `{"dir": "c", "files": {"/etc/x": ""}}`, "bad file name"},
		{"POST", base, `{"dir": "c", "files": {"a/./b": ""}}`, "bad file name"},
		{"POST", base, `{"dir": "c", "files": {"interface.json": "{\n  \"name\": 7\n}"}}`, "c/interface.json:2:"},
		{"POST", mod + "/verify", `{"cross": "x"}`, "body:1:"},
		{"POST", mod + "/verify", `{"impl": ["x"]}`, "unknown field"},
		{"POST", mod + "/evaluate", `[]`, "body:1:"},
		{"POST", mod + "/build", `{"x": 1}`, "unknown field"},
		{"GET", base + "/Not%20A%20Name", "", "bad module name"},
		{"POST", base + "/x::/verify", "", "bad module name"},
	} {
		r := e.do("node", c.method, c.path, "application/json", []byte(c.body))
		e.want(r, 400)
		if p := problem(t, r); p.Kind != errs.Invalid.String() || !strings.Contains(p.Detail, c.want) {
			t.Errorf("%s %s %s: %+v, want %q", c.method, c.path, c.body, p, c.want)
		}
	}
	// A module that does not exist.
	for _, m := range []string{"GET", "POST /verify", "POST /evaluate", "POST /build"} {
		method, rest, _ := strings.Cut(m, " ")
		r := e.do("node", method, mod+rest, "", nil)
		e.want(r, 404)
		if p := problem(t, r); !strings.Contains(p.Detail, "no module "+circle) {
			t.Errorf("%s: %+v", m, p)
		}
	}
}

func TestModuleRoutesACL(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.publishCircle(t)
	base := "/v1/worlds/default/modules"
	mod := base + "/" + circle
	e.want(e.do("node", "POST", mod+"/verify", "", nil), 200)

	// bob may read nothing: the catalog is empty to him, the module not
	// found (not forbidden), and verify of it not found either.
	r := e.do("bob", "GET", base, "", nil)
	e.want(r, 200)
	if strings.TrimSpace(string(r.body)) != "[]" {
		t.Errorf("bob's list: %s", r.body)
	}
	for _, m := range []string{"GET", "POST /verify", "POST /evaluate", "POST /build"} {
		method, rest, _ := strings.Cut(m, " ")
		r := e.do("bob", method, mod+rest, "", nil)
		e.want(r, 404)
		if p := problem(t, r); p.Kind != errs.NotExist.String() {
			t.Errorf("bob %s: %+v", m, p)
		}
	}
	// Nor may he publish: writes are his.
	req, err := client.ReadModuleDir(filepath.Join("..", "examples", "modules", "circle"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(req)
	r = e.do("bob", "POST", base, "application/json", body)
	e.want(r, 403)

	// With read on /mod he sees the module, and the node's Results count
	// for him as for every caller of this node (the node signed them):
	// direct and careful are verified by the node key. His verify would
	// commit as him, which he may not: refused; a dry run is not.
	e.want(e.do("node", "POST", "/v1/worlds/default/acl/grant", "application/json", []byte(`{"path":"/mod","who":"bob","rights":"read"}`)), 201)
	r = e.do("bob", "GET", mod, "", nil)
	e.want(r, 200)
	var tab api.ModuleTable
	if err := json.Unmarshal(r.body, &tab); err != nil || len(tab.Rows) != 4 {
		t.Fatalf("bob's show: %s", r.body)
	}
	for _, row := range tab.Rows {
		ok := row.Name == "direct" || row.Name == "careful"
		if row.Verified != ok || ok && (len(row.By) != 1 || row.By[0] != e.h.NodeKey().Key()) {
			t.Errorf("bob's show: %s verified %v by %v", row.Name, row.Verified, row.By)
		}
	}
	r = e.do("bob", "POST", mod+"/verify", "", nil)
	e.want(r, 403)
	r = e.do("bob", "POST", mod+"/verify", "application/json", []byte(`{"dry_run":true}`))
	e.want(r, 200)
	var rep api.ModuleReport
	if err := json.Unmarshal(r.body, &rep); err != nil || rep.Commit != nil || len(rep.Impls) != 4 {
		t.Fatalf("bob's dry run: %s", r.body)
	}
	// With write on /mod his verify commits as him, and the node key
	// signs its Results (docs/modules.md §5).
	e.want(e.do("node", "POST", "/v1/worlds/default/acl/grant", "application/json", []byte(`{"path":"/mod","who":"bob","rights":"write"}`)), 201)
	r = e.do("bob", "POST", mod+"/verify", "application/json", []byte(`{"impls":["direct"]}`))
	e.want(r, 200)
	rep = api.ModuleReport{}
	if err := json.Unmarshal(r.body, &rep); err != nil || rep.Commit == nil || len(rep.Impls) != 1 || rep.Impls[0].Result == nil {
		t.Fatalf("bob's verify: %s", r.body)
	}
	wd, err := e.h.World("")
	if err != nil {
		t.Fatal(err)
	}
	it, err := wd.Get(coda.ID{}, module.EntryPath(circle, module.KindResult, *rep.Impls[0].Result))
	if err != nil {
		t.Fatal(err)
	}
	res, err := module.DecodeResult(it.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Node, e.h.NodeKey().Public) {
		t.Errorf("bob's verify Result signed by %s, want the node key %s", cdb.KeyString(res.Node), e.h.NodeKey().Key())
	}
	log, err := wd.Log(*rep.Commit, "", 1)
	if err != nil || log[0].Author != e.bob.Key() {
		t.Errorf("bob's verify commit: %+v, %v; want authored by bob", log, err)
	}
}

// FuzzPublish: a publish request with a fuzzed DIR name, a fuzzed file
// (name and text) replacing or joining the circle's files, is stored
// (200, 201) or refused as invalid, missing, conflicting or over a limit
// — never an internal error, never a panic — and a refused one leaves
// the head where it was.
func FuzzPublish(f *testing.F) {
	f.Add("circle", "interface.json", `{"name": "geometry::circle", "schemas": "circle.coda", "functions": []}`)
	f.Add("circle", "specs/seed.json", `{"cases": [{"function": "intersects", "input": {}, "output": {}}]}`)
	f.Add("c", "impls/x.co", "^ intersects LIT8 0 ;")
	f.Add("c", "../x", "")
	f.Add("..", "a/../b", "x")
	f.Add("c", "circle.coda", "schema CirclePair { a: f64 }")
	req, err := client.ReadModuleDir(filepath.Join("..", "examples", "modules", "circle"))
	if err != nil {
		f.Fatal(err)
	}
	e := newEnv(f, api.Options{MaxJSON: 1 << 20})
	f.Fuzz(func(t *testing.T, dir, name, text string) {
		e.t = t
		files := map[string]string{}
		for k, v := range req.Files {
			files[k] = v
		}
		files[name] = text
		body, err := json.Marshal(api.PublishRequest{Dir: dir, Files: files})
		if err != nil {
			return
		}
		head := e.head()
		r := e.do("node", "POST", "/v1/worlds/default/modules", "application/json", body)
		switch r.status {
		case 200, 201:
		case 400, 404, 409, 413:
			if e.head() != head {
				t.Errorf("a refused publish (%d) moved the head: %s", r.status, r.body)
			}
		default:
			t.Errorf("status %d: %s", r.status, r.body)
		}
	})
}
