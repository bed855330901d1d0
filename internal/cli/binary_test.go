package cli

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"
)

// coalBinary builds cmd/coal into a temporary directory of tb, for the tests
// that need a real process (to kill it, or to time it against git). Call it
// once per test: go build's cache makes the second build of a run cheap.
func coalBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "coal")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/coalescent/coal/cmd/coal").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build ./cmd/coal: %v\n%s", err, out)
	}
	return bin
}

// coalRun runs the coal binary and returns its stdout, failing the test on a
// non-zero exit.
func coalRun(tb testing.TB, bin string, args ...string) []byte {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("coal %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}
