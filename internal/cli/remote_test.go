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
// a node that does not answer, a command that opens the home directly
// says that a node serves it and what to do.
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
	errb.Reset()
	code := Main(context.Background(), []string{"--home", home, "status"}, nil, &out, &errb)
	if code == 0 {
		t.Fatalf("status on a home in use: exit 0, want an error")
	}
	if got, want := errb.String(), "stop the node (coal serve)"; !strings.Contains(got, want) {
		t.Errorf("error: got %q, want it to contain %q", got, want)
	}
}
