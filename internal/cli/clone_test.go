package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/node"
)

// cloneOrigin opens a node on a new home listening on 127.0.0.1 (no mDNS),
// closed when the test ends, and returns it with its default world.
func cloneOrigin(t *testing.T) (*node.Node, *cdb.World) {
	t.Helper()
	n, err := node.Open(filepath.Join(t.TempDir(), "origin"), node.Options{NoMDNS: true, Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	w, err := n.Home().World("")
	if err != nil {
		t.Fatal(err)
	}
	return n, w
}

// TestClone: coal clone MULTIADDR makes a new home holding the world a
// serving node shows it, with progress on stderr; a world the peer does
// not show is an error that keeps the home and prints its key.
func TestClone(t *testing.T) {
	n, w := cloneOrigin(t)
	ctx := context.Background()
	put := func(ops ...cdb.Op) {
		t.Helper()
		if _, err := w.Commit(ctx, n.Home().NodeKey(), ops, "t"); err != nil {
			t.Fatal(err)
		}
	}
	put(cdb.Op{Kind: cdb.PutBlob, Path: "/docs/a", Blob: strings.NewReader("hello"), Size: 5})
	addr := n.Swarm().Addrs()[0]
	run := func(home string, args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := Main(ctx, append([]string{"--home", home}, args...), strings.NewReader(""), &out, &errb)
		return out.String(), errb.String(), code
	}

	// Not shown: the world's root is its creator's alone.
	hidden := filepath.Join(t.TempDir(), "hidden")
	_, stderr, code := run(hidden, "clone", addr)
	if code == 0 || !strings.Contains(stderr, "shows no world to this home's node key ed25519:") {
		t.Errorf("clone of a world not shown: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(hidden, "config.json")); err != nil {
		t.Errorf("the home of a clone that got nothing is not kept: %v", err)
	}

	// Readable by anyone: it clones.
	var a acl.ACL
	a.Grant(acl.Key(n.Home().NodeKey().Public32()), acl.All)
	a.Grant(acl.Anyone, acl.Read)
	raw, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	put(cdb.Op{Kind: cdb.Put, Path: "/.acl", Raw: raw})
	home := filepath.Join(t.TempDir(), "clone")
	stdout, stderr, code := run(home, "clone", addr)
	if code != 0 {
		t.Fatalf("clone: exit %d: %s", code, stderr)
	}
	head, err := w.Head()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"node ed25519:", "world default " + w.ID().String(), "head " + head.String()} {
		if !strings.Contains(stdout, want) {
			t.Errorf("clone stdout %q lacks %q", stdout, want)
		}
	}
	if !strings.Contains(stderr, "received: 3 commits") {
		t.Errorf("clone stderr %q, want the count of commits received", stderr)
	}
	stdout, stderr, code = run(home, "get", "/docs/a")
	if code != 0 || stdout != "hello" {
		t.Errorf("get /docs/a in the clone: %q, %q, exit %d", stdout, stderr, code)
	}
	// --world names a world the peer does not show: nothing is kept.
	other := filepath.Join(t.TempDir(), "other")
	if _, stderr, code := run(other, "--world", "baaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "clone", addr); code == 0 || !strings.Contains(stderr, "shows no world baaa") {
		t.Errorf("clone --world of a world the peer lacks: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(other); err == nil {
		t.Errorf("clone --world of a missing world left a home behind")
	}
	// A home that exists is refused.
	if _, stderr, code = run(home, "clone", addr); code == 0 || !strings.Contains(stderr, "exists") {
		t.Errorf("clone into an existing home: exit %d, %q", code, stderr)
	}
}
