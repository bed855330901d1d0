package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
)

// TestCloneLarge: coal clone fetches a large value over CTP, chunk by
// chunk into the store, as a node does, not inside the pull's answer
// (which the puller holds whole in memory: docs/perf.md, "Clone memory").
func TestCloneLarge(t *testing.T) {
	n, w := cloneOrigin(t)
	ctx := context.Background()
	var a acl.ACL
	a.Grant(acl.Key(n.Home().NodeKey().Public32()), acl.All)
	a.Grant(acl.Anyone, acl.Read)
	raw, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	const size = 4 << 20
	big := make([]byte, size)
	var seed [32]byte
	rand.NewChaCha8(seed).Read(big)
	ops := []cdb.Op{{Kind: cdb.Put, Path: "/.acl", Raw: raw}, {Kind: cdb.PutBlob, Path: "/big", Blob: bytes.NewReader(big), Size: size}}
	if _, err := w.Commit(ctx, n.Home().NodeKey(), ops, "t"); err != nil {
		t.Fatal(err)
	}
	run := func(home string, args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := Main(ctx, append([]string{"--home", home}, args...), strings.NewReader(""), &out, &errb)
		return out.String(), errb.String(), code
	}
	home := filepath.Join(t.TempDir(), "clone")
	stdout, stderr, code := run(home, "--json", "clone", n.Swarm().Addrs()[0])
	if code != 0 {
		t.Fatalf("clone: exit %d: %s", code, stderr)
	}
	var out cloneNetJSON
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("clone --json: %q: %v", stdout, err)
	}
	if out.Bytes <= 0 || out.Bytes >= size/4 {
		t.Errorf("clone received %d bytes through sync, want fewer than %d: the %d-byte value over CTP", out.Bytes, size/4, size)
	}
	got, stderr, code := run(home, "get", "/big")
	if code != 0 || got != string(big) {
		t.Errorf("get /big in the clone: %d bytes (want %d), %q, exit %d", len(got), size, stderr, code)
	}
}
