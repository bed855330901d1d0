package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coins"
)

func init() { register(newRunCmd) }

func newRunCmd(e *env) *cobra.Command {
	var (
		steps               uint64
		mem                 string
		stack, trace, stats bool
		seed                uint64
	)
	cmd := &cobra.Command{
		Use:   "run FILE.co|FILE.rom",
		Short: "Run a Co program or a ROM on a Core machine",
		Long: `Run a program on a Core machine: a Co source (FILE.co, assembled first) or
a ROM image. The ROM is loaded into instruction RAM and, as Co programs
expect, into data RAM at address 0. The standard devices are attached: the
console (slot 1) reads standard input and writes standard output, the clock
(slot 2) reads the host's clock, the random device (slot 3) is seeded with
--seed. The exit status is the program's exit code (set through the
system device); a fault prints "fault: REASON at pc=0x.... op=0x.. (MNEMONIC)"
on standard error and exits 1.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			maxMem, err := parseBytes(mem)
			if err != nil {
				return usageError{fmt.Errorf("--mem: %w", err)}
			}
			var rom []byte
			if strings.HasSuffix(args[0], ".co") {
				rom, err = assembleFile(args[0])
			} else {
				rom, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			out := bufio.NewWriter(e.stdout)
			defer out.Flush()
			opts := coins.Options{MaxSteps: steps, MaxMemory: maxMem}
			if seed == 0 {
				seed = uint64(time.Now().UnixNano())
			}
			opts.Devices = coins.StandardDevices(e.stdin, out, time.Now(), seed)
			tw := bufio.NewWriter(e.stderr)
			if trace {
				opts.Trace = func(m *coins.Machine, pc uint16, op coins.Opcode) {
					traceLine(tw, rom, m, pc, op)
				}
			}
			m, err := co.NewMachine(rom, opts)
			if err != nil {
				return err
			}
			start := time.Now()
			runErr := m.Run()
			elapsed := time.Since(start)
			if err := out.Flush(); err != nil {
				return err
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if stack {
				fmt.Fprintf(e.stdout, "% x\n", m.DataStack())
			}
			if stats {
				n := m.Steps()
				rate := float64(n) / elapsed.Seconds() / 1e6
				fmt.Fprintf(e.stderr, "steps: %d\ntime: %v (%.1f M steps/s)\n", n, elapsed, rate)
			}
			if runErr != nil {
				var f *coins.Fault
				if errors.As(runErr, &f) {
					return &exitError{code: 1, msg: f.Error()}
				}
				return runErr
			}
			if code := m.ExitCode(); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&steps, "steps", 0, "stop with a step-limit fault after N instructions (default 1000000000)")
	f.StringVar(&mem, "mem", "", "data RAM limit in bytes, with an optional K, M or G suffix (default 64M)")
	f.Uint64Var(&seed, "seed", 0, "seed of the random device (default: from the clock)")
	f.BoolVar(&stack, "stack", false, "print the final data stack, bottom first, as hex bytes")
	f.BoolVar(&trace, "trace", false, "print each instruction and the data stack before it to standard error")
	f.BoolVar(&stats, "stats", false, "print the steps executed and the time taken to standard error")
	return cmd
}

// traceLine writes one line of --trace: address, instruction with its
// immediate, and the data and return stacks before it runs.
func traceLine(w *bufio.Writer, rom []byte, m *coins.Machine, pc uint16, op coins.Opcode) {
	name := op.Mnemonic()
	if name == "" {
		name = fmt.Sprintf("0x%02x", byte(op))
	}
	if n := op.ImmLen(); n > 0 {
		var v uint64
		for k := n - 1; k >= 0; k-- {
			i := int(pc) + 1 + k
			v <<= 8
			if i < len(rom) {
				v |= uint64(rom[i])
			}
		}
		name += fmt.Sprintf(" 0x%0*x", 2*n, v)
	}
	fmt.Fprintf(w, "%04x %-24s d=[% x] r=[% x]\n", pc, name, m.DataStack(), m.ReturnStack())
}

// parseBytes parses a byte count with an optional binary K, M or G suffix.
// The empty string is 0 (the default).
func parseBytes(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	mult := uint64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad byte count %q", s)
	}
	if n > (1<<64-1)/mult {
		return 0, fmt.Errorf("byte count %s too large", s)
	}
	return n * mult, nil
}
