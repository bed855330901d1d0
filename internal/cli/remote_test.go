package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb"
)

// TestHomeInUseByNode: while a process holds the home and HOME/api names
// a node that does not answer, a command says that the home is in use and
// why the node could not be reached (not that it needs the home to
// itself: it would go through the node); with --as it says that a node
// serves the home, which --as cannot reach.
func TestHomeInUseByNode(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"--home", home, "init"}, nil, &out, &errb); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errb.String())
	}
	h, err := cdb.Open(home, (&env{}).options())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := os.WriteFile(filepath.Join(home, "api"), []byte("http://127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"status"}, []string{"is in use", "the node at http://127.0.0.1:1 (HOME/api) did not answer"}},
		{[]string{"log", "--as", "node"}, []string{"served by a node at http://127.0.0.1:1", "--as cannot choose one", "COAL_TOKEN"}},
	} {
		errb.Reset()
		code := Main(context.Background(), append([]string{"--home", home}, tc.args...), nil, &out, &errb)
		if code == 0 {
			t.Fatalf("%q on a home in use: exit 0, want an error", tc.args)
		}
		for _, w := range tc.want {
			if got := errb.String(); !strings.Contains(got, w) {
				t.Errorf("%q: error %q, want it to contain %q", tc.args, got, w)
			}
		}
	}
}

// normalizer rewrites what differs between two homes that ran the same
// commands — ids, keys, times, hashes, seeds, directories — into labels
// given in order of first appearance, so that equal structure compares
// equal.
type normalizer struct {
	full   map[string]string // 52-character id or key → label
	other  map[string]string // 64-hex hash or unknown short id → label
	dirs   map[string]string // directory → placeholder
	labels int
}

func newNormalizer(dirs map[string]string) *normalizer {
	return &normalizer{full: map[string]string{}, other: map[string]string{}, dirs: dirs}
}

var (
	reB32   = regexp.MustCompile(`[a-z2-7]+`)
	reTime  = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`)
	reHLC   = regexp.MustCompile(`hlc \d+|"hlc":"\d+"`)
	reHex64 = regexp.MustCompile(`\b[0-9a-f]{64}\b`)
	reSeed  = regexp.MustCompile(`(?m)^seed: \S+$`)
	reKey8  = regexp.MustCompile(`ed25519:[a-z2-7]{8}\b`)
	reDigit = regexp.MustCompile(`[2-7]`)
	// A bundle's size depends on its times' varint encodings.
	reBytes = regexp.MustCompile(`(?m)^bytes \d+$|"bytes":\d+`)
	// A peer id is the key's, in another text form.
	rePeer = regexp.MustCompile(`\b12D3KooW[1-9A-HJ-NP-Za-km-z]+`)
	// The network addresses only a serving node has (coal id).
	reListen = regexp.MustCompile(`(?m)^listen \S+\n|,"addrs":\[[^]]*\]`)
)

func (n *normalizer) label(m map[string]string, k string) string {
	if l, ok := m[k]; ok {
		return l
	}
	n.labels++
	m[k] = fmt.Sprintf("<%d>", n.labels)
	return m[k]
}

func (n *normalizer) text(s string) string {
	for dir, ph := range n.dirs {
		s = strings.ReplaceAll(s, dir, ph)
	}
	s = reTime.ReplaceAllString(s, "<time>")
	s = reHLC.ReplaceAllString(s, "<hlc>")
	s = reSeed.ReplaceAllString(s, "seed: <seed>")
	s = reKey8.ReplaceAllString(s, "ed25519:<key8>")
	s = reBytes.ReplaceAllString(s, "<bytes>")
	s = reListen.ReplaceAllString(s, "")
	s = rePeer.ReplaceAllStringFunc(s, func(p string) string { return n.label(n.other, p) })
	s = reHex64.ReplaceAllStringFunc(s, func(h string) string { return n.label(n.other, h) })
	// Full ids first, so that the short forms (12 characters; 8 of a key
	// in coal log) can be found as their prefixes.
	for _, m := range reB32.FindAllString(s, -1) {
		if len(m) == 52 {
			n.label(n.full, m)
		}
	}
	return reB32.ReplaceAllStringFunc(s, func(m string) string {
		switch len(m) {
		case 52:
			return n.full[m]
		case 12:
			for f, l := range n.full {
				if strings.HasPrefix(f, m) {
					return l + "…"
				}
			}
			if reDigit.MatchString(m) {
				return n.label(n.other, m)
			}
		}
		return m
	})
}

// TestServeSameOutput runs the same commands on two homes, one opened
// directly (the API in process) and one through a real `coal serve`, and
// wants the same stdout, stderr and exit status once ids, keys and times
// are normalised; then runs read commands on one home without a node and
// through one, and wants them byte for byte the same.
func TestServeSameOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the coal binary; skipped with -short")
	}
	bin := coalBinary(t)
	dirs := [2]string{t.TempDir(), t.TempDir()} // 0: direct, 1: through the node
	homes := [2]string{filepath.Join(dirs[0], "home"), filepath.Join(dirs[1], "home")}
	for i, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, "note.coda"), []byte("schema Note { text: string  n: u32 }\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		coalRun(t, bin, "--home", homes[i], "init")
		coalRun(t, bin, "--home", homes[i], "schema", "add", filepath.Join(d, "note.coda"))
	}
	vars := [2]map[string]string{{}, {}}
	run := func(i int, args []string) (string, string, int) {
		a := []string{"--home", homes[i]}
		for _, x := range args {
			x = strings.ReplaceAll(x, "{DIR}", dirs[i])
			if v, ok := strings.CutPrefix(x, "$"); ok {
				x = vars[i][v]
			}
			a = append(a, x)
		}
		var out, errb bytes.Buffer
		code := Main(context.Background(), a, nil, &out, &errb)
		return out.String(), errb.String(), code
	}
	startServe(t, bin, homes[1])

	note := func(text string, n int) string { return fmt.Sprintf(`{"text":%q,"n":%d}`, text, n) }
	steps := []struct {
		capture string // the name the first line of stdout is kept under
		args    []string
	}{
		{"A", []string{"put", "/a", "--schema", "Note", "--json", note("a", 1)}},
		{"B", []string{"put", "/b", "--schema", "Note", "--json", note("b", 1)}},
		{"", []string{"log"}}, {"", []string{"--json", "log"}}, {"", []string{"log", "-n", "1", "/a"}},
		{"", []string{"show", "$A"}}, {"", []string{"--json", "show", "$B"}},
		{"", []string{"diff", "$A"}}, {"", []string{"--json", "diff", "$A", "$B"}},
		{"", []string{"branch", "side"}}, {"", []string{"branch"}}, {"", []string{"--json", "branch", "other", "--at", "$A"}},
		{"", []string{"--json", "switch", "side"}},
		{"", []string{"put", "/a", "--schema", "Note", "--json", note("side", 2)}},
		{"", []string{"switch", "main"}},
		{"", []string{"put", "/a", "--schema", "Note", "--json", note("main", 3)}},
		{"M", []string{"merge", "side"}},
		{"", []string{"conflicts"}}, {"", []string{"--json", "conflicts", "$M"}},
		{"", []string{"status"}}, {"", []string{"--json", "status"}},
		{"", []string{"revert", "$B"}},
		{"", []string{"revert", "$A"}},
		{"", []string{"--json", "reset", "--to", "$A"}},
		{"", []string{"diff", "$B"}},
		{"", []string{"world", "new", "second"}}, {"", []string{"world", "ls"}}, {"", []string{"--json", "world", "ls"}},
		{"", []string{"--world", "second", "status"}},
		{"", []string{"key", "new", "alice"}}, {"", []string{"key", "ls"}}, {"", []string{"--json", "key", "ls"}},
		{"", []string{"key", "export", "alice"}},
		{"", []string{"id"}}, {"", []string{"--json", "id"}},
		{"", []string{"bundle", "create", "{DIR}/b.bundle"}},
		{"", []string{"--json", "bundle", "create", "{DIR}/b2.bundle", "--since", "$A"}},
		{"", []string{"bundle", "apply", "{DIR}/b.bundle"}},
		{"", []string{"--json", "bundle", "apply", "{DIR}/b2.bundle", "--world", "default"}},
		{"", []string{"fsck"}}, {"", []string{"--json", "fsck"}},
		{"", []string{"replay"}}, {"", []string{"--json", "--world", "second", "replay"}},
		{"", []string{"audit", "-n", "6"}}, {"", []string{"audit", "--verify"}},
		// Errors: the same text and exit status.
		{"", []string{"show", "zzzzzzzzzz"}}, {"", []string{"--json", "show", "zzzzzzzzzz"}},
		{"", []string{"reset", "--to", "zzzzzzzzzz"}}, {"", []string{"branch", "x", "--at", "zzzzzzzzzz"}},
		{"", []string{"switch", "nosuch"}}, {"", []string{"merge", "nosuch"}}, {"", []string{"diff", "$A", "zzzzzzzzzz"}},
		{"", []string{"key", "new", "alice"}}, {"", []string{"key", "export", "carol"}},
		{"", []string{"world", "new", "second"}}, {"", []string{"--world", "nosuch", "log"}},
		{"", []string{"bundle", "create", "{DIR}/x.bundle", "--since", "zzzzzzzzzz"}},
		{"", []string{"bundle", "apply", "{DIR}/note.coda"}},
	}
	norms := [2]*normalizer{newNormalizer(map[string]string{dirs[0]: "{DIR}"}), newNormalizer(map[string]string{dirs[1]: "{DIR}"})}
	for _, st := range steps {
		var got [2][3]string
		for i := range 2 {
			o, e, code := run(i, st.args)
			if st.capture != "" {
				line, _, _ := strings.Cut(o, "\n")
				vars[i][st.capture] = line
			}
			got[i] = [3]string{norms[i].text(o), norms[i].text(e), fmt.Sprint(code)}
		}
		if got[0] != got[1] {
			t.Errorf("coal %q:\ndirect:     exit %s\nstdout:\n%s\nstderr: %s\nthrough the node: exit %s\nstdout:\n%s\nstderr: %s",
				st.args, got[0][2], got[0][0], got[0][1], got[1][2], got[1][0], got[1][1])
		}
	}

	// Reads on the direct home, without a node and then through one: the
	// same bytes. With a node, --as is refused; a token of the identity
	// acts as it instead.
	reads := [][]string{
		{"status"}, {"--json", "status"}, {"log"}, {"--json", "log"}, {"log", "--from", "side"},
		{"show", "$M"}, {"--json", "show", "$M"}, {"diff", "$A", "$M"}, {"conflicts", "$M"}, {"--json", "conflicts", "$M"},
		{"branch"}, {"world", "ls"}, {"key", "ls"}, {"fsck"}, {"replay"},
		{"show", "zzzzzzzzzz"}, {"--json", "reset", "--to", "zzzzzzzzzz"},
	}
	asAlice := [][]string{{"log"}, {"--json", "status"}, {"show", "$A"}, {"audit"}}
	type result struct {
		out, err string
		code     int
	}
	var before []result
	for _, a := range reads {
		o, e, c := run(0, a)
		before = append(before, result{o, e, c})
	}
	var aliceBefore []result
	for _, a := range asAlice {
		o, e, c := run(0, append([]string{"--as", "alice"}, a...))
		aliceBefore = append(aliceBefore, result{o, e, c})
	}
	tok := strings.TrimSpace(string(coalRun(t, bin, "--home", homes[0], "token", "new", "--as", "alice")))
	idBefore, _, _ := run(0, []string{"id"})
	startServe(t, bin, homes[0])
	for i, a := range reads {
		o, e, c := run(0, a)
		if b := before[i]; (result{o, e, c}) != b {
			t.Errorf("coal %q through the node:\ngot  exit %d, stdout:\n%s\nstderr: %s\nwant exit %d, stdout:\n%s\nstderr: %s", a, c, o, e, b.code, b.out, b.err)
		}
	}
	// coal id through the node: the key and peer id as without one, then
	// the node's listen addresses.
	if o, e, c := run(0, []string{"id"}); c != 0 || !strings.HasPrefix(o, idBefore) || !strings.Contains(o[len(idBefore):], "\nlisten /ip4/127.0.0.1/tcp/") && !strings.HasPrefix(o[len(idBefore):], "listen /ip4/127.0.0.1/tcp/") {
		t.Errorf("coal id through the node: exit %d, stdout:\n%s\nstderr: %s\nwant it to start with\n%s\nand list a listen address", c, o, e, idBefore)
	}
	if _, e, c := run(0, []string{"--as", "alice", "log"}); c == 0 || !strings.Contains(e, "--as cannot choose one") {
		t.Errorf("--as alice log through the node: exit %d, stderr %q; want it refused", c, e)
	}
	t.Setenv("COAL_TOKEN", tok)
	for i, a := range asAlice {
		o, e, c := run(0, a)
		if b := aliceBefore[i]; (result{o, e, c}) != b {
			t.Errorf("coal %q as alice through the node (COAL_TOKEN):\ngot  exit %d, stdout:\n%s\nstderr: %s\nwant (--as alice without a node) exit %d, stdout:\n%s\nstderr: %s", a, c, o, e, b.code, b.out, b.err)
		}
	}
}
