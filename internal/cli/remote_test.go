package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
