package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/coalescent/coal/api"
)

const libSrc = "( lib )\n^ inc LIT8 1 ADD8 ;\n^ twice >inc >inc ;\n#data \"x\"\n^ fixed *data DRD DRD ;\n"

func TestProgramsAndLib(t *testing.T) {
	e := newEnv(t, api.Options{})
	r := e.do("node", "POST", "/v1/worlds/default/programs/progs/a?filename=a.co", "text/plain", []byte(libSrc))
	e.want(r, 201)
	var add api.ProgramAdd
	if err := json.Unmarshal(r.body, &add); err != nil {
		t.Fatal(err)
	}
	if add.SchemaCommit == nil || add.Path != "/progs/a" || len(add.Entries) != 4 || len(add.Exports) != 3 || len(add.Lib) != 2 {
		t.Fatalf("add: %s", r.body)
	}
	if !add.Exports[2].ID.IsZero() || add.Exports[0].ID != add.Lib[0].ID {
		t.Fatalf("exports: %+v lib %+v", add.Exports, add.Lib)
	}
	inc, twice := add.Lib[0].ID, add.Lib[1].ID

	// The source comes back as added; a second program adds no schemas.
	r = e.do("node", "GET", "/v1/worlds/default/source/progs/a", "", nil)
	e.want(r, 200)
	var src api.ProgramSource
	if err := json.Unmarshal(r.body, &src); err != nil || src.Source != libSrc || src.Program != add.Program {
		t.Fatalf("source: %s", r.body)
	}
	r = e.do("node", "POST", "/v1/worlds/default/programs/progs/b", "text/plain", []byte("LIT8 1 HALT"))
	e.want(r, 201)
	if strings.Contains(string(r.body), "schema_commit") {
		t.Fatalf("schemas added twice: %s", r.body)
	}
	e.want(e.do("node", "GET", "/v1/worlds/default/source/progs/none", "", nil), 404)

	// The library: list, show by prefix, unknown and bad ids.
	r = e.do("node", "GET", "/v1/worlds/default/lib", "", nil)
	e.want(r, 200)
	if want := `[{"name":"inc","id":"` + inc.String() + `"},{"name":"twice","id":"` + twice.String() + `"}]`; strings.TrimSpace(string(r.body)) != want {
		t.Fatalf("lib: %s", r.body)
	}
	r = e.do("node", "GET", "/v1/worlds/default/lib/"+twice.Short(), "", nil)
	e.want(r, 200)
	var show api.LibRoutine
	if err := json.Unmarshal(r.body, &show); err != nil || show.ID != twice || len(show.Deps) != 1 || show.Deps[0].ID != inc || show.Source != "^ twice $inc CAL16 $inc CAL16 ;" {
		t.Fatalf("show: %s", r.body)
	}
	e.want(e.do("node", "GET", "/v1/worlds/default/lib/aaaaaaaaaaaa", "", nil), 404)
	e.want(e.do("node", "GET", "/v1/worlds/default/lib/x!", "", nil), 400)

	// Errors: bad source (every error, with positions), not a program.
	r = e.do("node", "POST", "/v1/worlds/default/programs/progs/bad?filename=bad.co", "text/plain", []byte("NOPE\nLIT8 300\n"))
	e.want(r, 400)
	if p := problem(t, r); !strings.Contains(p.Detail, "bad.co:1:1") || !strings.Contains(p.Detail, "bad.co:2:6") {
		t.Fatalf("problem %+v", p)
	}
	e.want(e.do("node", "GET", "/v1/worlds/default/source/lib/inc", "", nil), 400)

	// bob reads /lib as himself: without rights he sees none of it, and
	// cannot import from it; with read he can copy a routine, but linking
	// by id would write /lib, which he may not.
	e.want(e.do("node", "POST", "/v1/worlds/default/acl/grant", "application/json", []byte(`{"path":"/bob","who":"bob","rights":"read,write"}`)), 201)
	r = e.do("bob", "GET", "/v1/worlds/default/lib", "", nil)
	e.want(r, 200)
	if strings.TrimSpace(string(r.body)) != "[]" {
		t.Fatalf("bob's lib: %s", r.body)
	}
	r = e.do("bob", "POST", "/v1/worlds/default/programs/bob/u", "text/plain", []byte("+ .lib :twice ; LIT8 1 >twice"))
	e.want(r, 400)
	if p := problem(t, r); !strings.Contains(p.Detail, "module .lib has no routine twice") {
		t.Fatalf("problem %+v", p)
	}
	e.want(e.do("node", "POST", "/v1/worlds/default/acl/grant", "application/json", []byte(`{"path":"/lib","who":"bob","rights":"read"}`)), 201)
	e.want(e.do("bob", "POST", "/v1/worlds/default/programs/bob/u", "text/plain", []byte("+ .lib :twice ; LIT8 1 >twice")), 201)
	e.want(e.do("bob", "POST", "/v1/worlds/default/programs/bob/v", "text/plain", []byte("+ .lib :twice ; LIT8 1 <twice")), 403)
}

func TestProgramSchemaClash(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.want(e.do("node", "POST", "/v1/worlds/default/schemas", "text/plain", []byte("schema Lib { x: u8 }\n")), 201)
	r := e.do("node", "POST", "/v1/worlds/default/programs/p", "text/plain", []byte("HALT"))
	e.want(r, 409)
	if p := problem(t, r); !strings.Contains(p.Detail, "/sys/schemas/Lib") {
		t.Fatalf("problem %+v", p)
	}
}
