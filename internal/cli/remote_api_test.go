package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/errs"
)

type tokenMap map[string]cdb.Identity

func (t tokenMap) Verify(tok string) (cdb.Identity, error) {
	id, ok := t[tok]
	if !ok {
		return cdb.Identity{}, errs.E(errs.Unauthenticated, "unknown token")
	}
	return id, nil
}

// TestRemoteSameOutput runs the read commands that go through the node
// twice, opening the home directly and then through api.New serving it
// (HOME/api, HOME/token as coal serve writes them), and wants the same
// output and exit status.
func TestRemoteSameOutput(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append([]string{"--home", home}, args...), nil, &out, &errb)
		return out.String(), errb.String(), code
	}
	if _, e, code := run("init"); code != 0 {
		t.Fatal(e)
	}
	schema := filepath.Join(t.TempDir(), "v.coda")
	if err := os.WriteFile(schema, []byte("schema V { n: u64  s: string }\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	for _, a := range [][]string{
		{"schema", "add", schema},
		{"mkdir", "/a", "--schema", "V"},
		{"mkdir", "/b", "--schema", "V"},
		{"put", "/a/x", "--json", `{"n": 1, "s": "one"}`},
		{"put", "/a/y", "--json", `{"n": 2, "s": "two"}`, "-m", "second"},
		{"rm", "/a/x"},
	} {
		if _, e, code := run(a...); code != 0 {
			t.Fatalf("%q: %s", a, e)
		}
	}
	reads := [][]string{
		{"status"}, {"--json", "status"},
		{"get", "/a/y"}, {"--json", "get", "/a/y"}, {"get", "/a/x"},
		{"ls"}, {"ls", "/a"}, {"--json", "ls", "/a"},
		{"log"}, {"--json", "log"}, {"log", "-n", "1"},
		{"show", "main"}, {"--json", "show", "main"},
	}
	type result struct {
		out, err string
		code     int
	}
	direct := make([]result, len(reads))
	for i, a := range reads {
		o, e, c := run(a...)
		direct[i] = result{o, e, c}
	}

	h, err := cdb.Open(home, (&env{}).options())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(api.New(h, api.Options{Tokens: tokenMap{"tok": h.NodeKey()}, Version: Version}))
	defer srv.Close()
	if err := os.WriteFile(filepath.Join(home, "api"), []byte(srv.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "token"), []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, a := range reads {
		o, e, c := run(a...)
		if d := direct[i]; o != d.out || c != d.code {
			t.Errorf("coal %q through the node:\ngot  exit %d, stdout:\n%s\nstderr: %s\nwant exit %d, stdout:\n%s\nstderr: %s", a, c, o, e, d.code, d.out, d.err)
		}
	}
	// Writes go through the node too.
	if _, e, code := run("put", "/b/c", "--json", `{"n": 3, "s": "via node"}`); code != 0 {
		t.Fatalf("put through the node: %s", e)
	}
	if o, e, _ := run("get", "/b/c"); o != `{"n":"3","s":"via node"}`+"\n" {
		t.Errorf("get /b/c through the node: got %q (%s)", o, e)
	}
}
