package coins

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/programs")

// TestGolden runs every program in testdata/programs (NAME.txt, in the
// test assembler's syntax, see asm) and compares its final stack, console
// output, exit code, step count and fault with NAME.golden. Run with
// -update to rewrite the golden files.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/programs/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no programs: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := runGolden(t, string(src))
			golden := strings.TrimSuffix(file, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func runGolden(t *testing.T, src string) string {
	var out bytes.Buffer
	devs := StandardDevices(strings.NewReader("echo, echo\n"), &out, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), 7)
	m := newMachine(t, src, Options{MaxSteps: 1_000_000, MaxMemory: 1 << 20, Devices: devs})
	err := m.Run()
	var b strings.Builder
	fmt.Fprintf(&b, "stack: % x\n", m.DataStack())
	fmt.Fprintf(&b, "output: %q\n", out.String())
	fmt.Fprintf(&b, "exit: %d\n", m.ExitCode())
	fmt.Fprintf(&b, "steps: %d\n", m.Steps())
	if err != nil {
		fmt.Fprintf(&b, "%v\n", err)
	}
	return b.String()
}
