package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunExitCode checks what testscript cannot: the exact exit status of
// coal run is the program's exit code.
func TestRunExitCode(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		src    string
		status int
		stderr string
	}{
		{"LIT8 1", 0, ""},
		{"+ .co.system %exit ; LIT8 3 ~exit LIT8 4 ~exit", 3, ""},
		{"+ .co.system %exit-code ; LIT8 42 ~exit-code", 42, ""},
		{"ADD8", 1, "fault: data stack underflow at pc=0x0000 op=0x60 (ADD8)\n"},
		{"FOO", 1, "p.co:1:1: unknown instruction \"FOO\"\n"},
	}
	for _, tt := range tests {
		file := filepath.Join(dir, "p.co")
		if err := os.WriteFile(file, []byte(tt.src), 0o666); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		got := Main(context.Background(), []string{"run", "p.co"}, strings.NewReader(""), &stdout, &stderr)
		if got != tt.status || stderr.String() != tt.stderr {
			t.Errorf("coal run %q: status %d, stderr %q; want %d, %q", tt.src, got, stderr.String(), tt.status, tt.stderr)
		}
	}
}
