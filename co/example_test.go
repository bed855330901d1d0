package co

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/coalescent/coal/coins"
)

var update = flag.Bool("update", false, "rewrite the golden files of the examples")

const examples = "../examples/co"

// runProgram runs rom as `coal run` does, with the console in slot 1, and
// describes the result: stdout, final data stack, exit code or fault, steps.
func runProgram(t *testing.T, rom, input []byte) string {
	t.Helper()
	var out bytes.Buffer
	var opts coins.Options
	opts.MaxSteps = 10_000_000
	opts.Devices[ConsoleSlot] = coins.NewConsole(bytes.NewReader(input), &out)
	m, err := NewMachine(rom, opts)
	if err != nil {
		t.Fatal(err)
	}
	runErr := m.Run()
	var b strings.Builder
	fmt.Fprintf(&b, "stdout %s\n", strconv.Quote(out.String()))
	fmt.Fprintf(&b, "stack % x\n", m.DataStack())
	if runErr != nil {
		fmt.Fprintf(&b, "fault %v\n", runErr)
	} else {
		fmt.Fprintf(&b, "exit %d\n", m.ExitCode())
	}
	fmt.Fprintf(&b, "steps %d\n", m.Steps())
	return b.String()
}

// TestExamples assembles and runs every example in examples/co and
// compares the result with its .golden file (rewritten with -update). Each
// example's disassembly must assemble back to the same ROM.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examples, "*.co"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", examples, err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".co")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			rom, err := Assemble(filepath.Base(file), src, Options{})
			if err != nil {
				t.Fatalf("assemble: %v", err)
			}
			roundTrip(t, rom)
			input, err := os.ReadFile(filepath.Join(examples, name+".input"))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			got := runProgram(t, rom, input)
			golden := filepath.Join(examples, name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o666); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s:\n got %s\nwant %s", name, got, want)
			}
		})
	}
}
