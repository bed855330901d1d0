package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/coalescent/coal/api"
)

// counterSrc puts Counter{n: 1} at /counter/n from the SCHEMA id, and
// outputs it.
const counterSrc = `*s-end *s SUB16 *s LIT8 0xC4 LIT8 0 DMW16
LIT16 32 *v LIT8 0x84 LIT8 0 DMW16
LIT64 1 *v LIT16 32 ADD16 ADR16 STR64
LIT16 53 *p LIT8 0xC4 LIT8 0 DMW16
*v LIT16 3 SUB16 ADR16 LIT8 6 STR8 *v LIT16 2 SUB16 ADR16 LIT16 0 STR16
LIT16 43 *v LIT16 3 SUB16 LIT8 0xC4 LIT8 0 DMW16
HALT
#s "\x07\x07\x00Counter" #s-end
#p "\x03\x0a\x00/counter/n" #v
`

func TestCall(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.want(e.do("node", "POST", "/v1/worlds/default/schemas", "text/plain", []byte("schema Counter { n: u64 }\nschema In { x: u8 }\n")), 201)
	e.want(e.do("node", "POST", "/v1/worlds/default/programs/progs/c", "text/plain", []byte(counterSrc)), 201)
	r := e.do("node", "POST", "/v1/worlds/default/call/progs/c", "application/json", []byte(`{}`))
	e.want(r, 200)
	var res api.CallResult
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Commit == nil || res.Entry != "main" || res.Writes != 1 || res.Steps == 0 || string(res.OutputValue) != `{"n":"1"}` || res.Input != nil {
		t.Fatalf("call: %s", r.body)
	}
	r = e.do("node", "GET", "/v1/worlds/default/tree/counter/n", "", nil)
	e.want(r, 200)
	if !strings.Contains(string(r.body), `"n":"1"`) {
		t.Fatalf("after the call: %s", r.body)
	}

	// An input: encoded with its schema, its id recorded.
	r = e.do("node", "POST", "/v1/worlds/default/call/progs/c", "application/json", []byte(`{"input":{"x":3},"schema":"In"}`))
	e.want(r, 200)
	if err := json.Unmarshal(r.body, &res); err != nil || res.Input == nil {
		t.Fatalf("call with input: %s", r.body)
	}

	// Errors: the input's schema, a missing program, the step limit, bob
	// who may not write /counter.
	for _, c := range []struct {
		who, path, body string
		status          int
		detail          string
	}{
		{"node", "progs/c", `{"input":{"x":3}}`, 400, "name its schema"},
		{"node", "progs/c", `{"input":{"x":300},"schema":"In"}`, 400, "input"},
		{"node", "progs/c", `{"input":{"x":3},"schema":"Nope"}`, 400, "unknown schema"},
		{"node", "progs/none", `{}`, 404, "no such path"},
		{"node", "progs/c", `{"steps":3}`, 413, "step limit"},
		{"node", "progs/c", `{"entry":"other"}`, 400, "no entry point"},
		{"bob", "progs/c", `{}`, 404, "no such path"}, // bob may not read /progs
	} {
		r := e.do(c.who, "POST", "/v1/worlds/default/call/"+c.path, "application/json", []byte(c.body))
		if r.status != c.status {
			t.Errorf("%s %s: status %d, want %d: %s", c.path, c.body, r.status, c.status, r.body)
			continue
		}
		if p := problem(t, r); !strings.Contains(p.Detail, c.detail) {
			t.Errorf("%s %s: %q, want %q in it", c.path, c.body, p.Detail, c.detail)
		}
	}

	// A program linked by id to a /lib routine at load time: inc adds 1,
	// the exit code shows it ran.
	e.want(e.do("node", "POST", "/v1/worlds/default/programs/progs/lib", "text/plain", []byte(libSrc)), 201)
	e.want(e.do("node", "POST", "/v1/worlds/default/programs/progs/linked", "text/plain",
		[]byte("+ .lib :inc ; LIT8 41 <inc LIT8 2 SWP8 LIT8 0 LIT8 0xC0 LIT8 0 DVW16")), 201)
	r = e.do("node", "POST", "/v1/worlds/default/call/progs/linked", "application/json", []byte(`{}`))
	if p := problem(t, r); !strings.Contains(p.Detail, "exited with code 42") {
		t.Fatalf("linked: %s", r.body)
	}

	// Triggers.
	e.want(e.do("node", "POST", "/v1/worlds/default/triggers", "application/json", []byte(`{"path":"/inbox","program":"/progs/c"}`)), 201)
	r = e.do("node", "GET", "/v1/worlds/default/tree/inbox/.on", "", nil)
	e.want(r, 200)
	e.want(e.do("node", "POST", "/v1/worlds/default/triggers", "application/json", []byte(`{"path":"/inbox"}`)), 400)
}
