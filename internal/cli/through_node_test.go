package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestThroughNodeSameOutput runs the same commands — reads and writes,
// and some that fail — on two homes set up alike: one with no node (the
// API in process), one served by the real `coal serve` on a free loopback
// port. Their stdout, stderr and exit status must be the same once commit
// ids, keys and times (which differ between homes) are normalised.
func TestThroughNodeSameOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the coal binary; skipped with -short")
	}
	dir := t.TempDir()
	files := map[string]string{
		"note.coda":     "schema Note { text: string  n: u32 }\n",
		"hello.txt":     "Hello, world!\n",
		"ops.json":      `[{"op":"mkdir","path":"/ops","schema":"Note"},{"op":"put","path":"/ops/a","value":{"text":"a","n":1}},{"op":"copy","from":"/ops/a","path":"/ops/b"}]`,
		"bad-ops.json":  `[{"op":"put","path":"/ops/c","value":{"text":"c","n":1}},{"op":"put","path":"/ops/d","value":{"text":"d","n":"x"}}]`,
		"src/a.txt":     "alpha\n",
		"src/sub/b.txt": "beta\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	f := func(name string) string { return filepath.Join(dir, name) }
	steps := []struct {
		args  []string
		stdin string
	}{
		{args: []string{"schema", "add", f("note.coda")}},
		{args: []string{"--json", "schema", "add", f("note.coda")}},
		{args: []string{"schema", "ls"}},
		{args: []string{"--json", "schema", "ls"}},
		{args: []string{"schema", "show", "Note"}},
		{args: []string{"--json", "schema", "show", "Note"}},
		{args: []string{"mkdir", "/notes", "--schema", "Note"}},
		{args: []string{"put", "/notes/a", "--json", `{"text":"a","n":1}`, "-m", "first"}},
		{args: []string{"put", "/b", "--schema", "Note", "--json", `{"text":"b","n":2}`, "--json-output"}},
		{args: []string{"put", "/files/hello.txt", "--file", f("hello.txt")}},
		{args: []string{"put", "/files/stdin.txt", "-"}, stdin: "from stdin\n"},
		{args: []string{"get", "/notes/a"}},
		{args: []string{"get", "notes/a"}},
		{args: []string{"--json", "get", "/notes/a"}},
		{args: []string{"get", "/notes/a", "--raw"}},
		{args: []string{"get", "/files/hello.txt"}},
		{args: []string{"get", "/files/stdin.txt", "--raw"}},
		{args: []string{"--json", "get", "/files/hello.txt"}},
		{args: []string{"ls"}},
		{args: []string{"ls", "/notes"}},
		{args: []string{"--json", "ls", "/"}},
		{args: []string{"cp", "/notes/a", "/notes/c"}},
		{args: []string{"mv", "/notes/c", "/notes/d"}},
		{args: []string{"rm", "/notes/d"}},
		{args: []string{"apply", f("ops.json")}},
		{args: []string{"get", "/ops/b"}},
		{args: []string{"import", f("src"), "--to", "/imported"}},
		{args: []string{"--json", "import", f("src"), "--to", "/again"}},
		{args: []string{"get", "/imported/sub/b.txt"}},
		{args: []string{"acl", "grant", "/docs", "alice", "read,write"}},
		{args: []string{"acl", "grant", "/docs", "group:eng", "read"}},
		{args: []string{"acl", "show", "/docs/x"}},
		{args: []string{"--json", "acl", "show", "/docs/"}},
		{args: []string{"acl", "revoke", "/docs", "group:eng"}},
		// (One key a group: members are in key order, and keys differ
		// between the homes.)
		{args: []string{"group", "add", "eng", "alice"}},
		{args: []string{"group", "add", "staff", "group:eng", "node"}},
		{args: []string{"group", "ls"}},
		{args: []string{"group", "ls", "eng"}},
		{args: []string{"--json", "group", "ls"}},
		{args: []string{"group", "ls", "staff"}},
		{args: []string{"group", "rm", "staff", "node"}},
		{args: []string{"group", "rm", "staff"}},
		{args: []string{"rm", "-r", "/files"}},
		// Errors.
		{args: []string{"get", "/nothing"}},
		{args: []string{"--json", "get", "/nothing"}},
		{args: []string{"get", "/a/../b"}},
		{args: []string{"get", "/notes"}},
		{args: []string{"get", "/notes/a", "--at", "zzzzzzzz"}},
		{args: []string{"ls", "/notes/a"}},
		{args: []string{"ls", "/x//y"}},
		{args: []string{"put", "/notes/e", "--json", `{"text":"e","n":"x"}`}},
		{args: []string{"put", "/e", "--schema", "Note", "--json", "not json"}},
		{args: []string{"rm", "/notes"}},
		{args: []string{"mv", "/nothing", "/x"}},
		{args: []string{"apply", f("bad-ops.json")}},
		{args: []string{"import", f("src"), "--to", "/x/../y"}},
		{args: []string{"acl", "revoke", "/docs", "group:nobody"}},
		{args: []string{"acl", "revoke", "/", "node"}},
		{args: []string{"acl", "grant", "/docs", "carol", "read"}},
		{args: []string{"group", "add", "eng", "group:eng"}},
		{args: []string{"group", "rm", "eng", "node"}},
		{args: []string{"group", "ls", "nope"}},
		{args: []string{"log"}},
	}

	bin := coalBinary(t)
	setup := func(home string) {
		coalRun(t, bin, "--home", home, "init")
		coalRun(t, bin, "--home", home, "key", "new", "alice")
	}
	run := func(home string) []string {
		var out []string
		for _, s := range steps {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), append([]string{"--home", home}, s.args...), strings.NewReader(s.stdin), &stdout, &stderr)
			out = append(out, normalise(t, home, stdout.String(), stderr.String(), code))
		}
		return out
	}
	direct, served := filepath.Join(dir, "direct"), filepath.Join(dir, "served")
	setup(direct)
	setup(served)
	want := run(direct)
	startServe(t, bin, served)
	got := run(served)
	for i, s := range steps {
		if got[i] != want[i] {
			t.Errorf("coal %q through the node:\n%s\nwithout:\n%s", s.args, got[i], want[i])
		}
	}
}

var (
	keyPattern  = regexp.MustCompile(`ed25519:[a-z2-7]+`)
	idPattern   = regexp.MustCompile(`[a-z2-7]{52}`)
	timePattern = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`)
)

// normalise is one command's result with what differs between homes
// replaced: keys, ids and times (and the home's directory).
func normalise(t *testing.T, home, stdout, stderr string, code int) string {
	t.Helper()
	var b strings.Builder
	for _, s := range []string{stdout, stderr} {
		s = strings.ReplaceAll(s, home, "HOME")
		s = keyPattern.ReplaceAllString(s, "KEY")
		s = idPattern.ReplaceAllString(s, "ID")
		s = timePattern.ReplaceAllString(s, "TIME")
		b.WriteString(s)
		b.WriteString("\n--\n")
	}
	b.WriteString("exit ")
	b.WriteString(string(rune('0' + code)))
	return b.String()
}
