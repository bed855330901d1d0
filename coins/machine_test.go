package coins

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/errs"
)

func newMachine(t testing.TB, src string, opts Options) *Machine {
	t.Helper()
	m, err := New(mustAsm(t, src), opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Hostile programs: each must stop with its named fault, at the same step
// on every run.
func TestHostile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		opts   Options
		reason FaultReason
		step   uint64 // 0: don't check the exact step
	}{
		{"infinite loop", `loop: LIT8 &loop JPR8`, Options{MaxSteps: 100_001}, StepLimit, 100_001},
		{"memory bomb", `LIT32 0 loop: DPD32 ADR32 LIT8 1 STR8 LIT32 4096 ADD32 LIT8 &loop JPR8`,
			Options{MaxMemory: 1 << 20}, MemoryLimit, 1 + 256*8 + 3},
		{"unbounded recursion", `f: LIT16 @f CAL16`, Options{}, ReturnOverflow, 2*128 + 1},
		{"stack bomb", `loop: LIT8 1 LIT8 &loop JPR8`, Options{}, DataOverflow, 3*255 + 1},
		{"swap bomb", `LIT8 1 loop: CDS8 LIT8 &loop JPR8`, Options{}, SwapOverflow, 1 + 3*256},
		{"division by zero", `LIT8 1 LIT8 0 DIV8`, Options{}, DivideByZero, 2},
		{"run off the end", `|`, Options{}, PCRange, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var faults [2]*Fault
			for run := range faults {
				var m *Machine
				if tc.src == "|" {
					rom := bytes.Repeat([]byte{byte(NOP)}, CodeSize)
					var err error
					if m, err = New(rom, tc.opts); err != nil {
						t.Fatal(err)
					}
				} else {
					m = newMachine(t, tc.src, tc.opts)
				}
				err := m.Run()
				var f *Fault
				if !errors.As(err, &f) {
					t.Fatalf("Run() = %v, want a fault", err)
				}
				if f.Reason != tc.reason {
					t.Fatalf("fault = %v, want %v", f, tc.reason)
				}
				if f.Step != m.Steps() {
					t.Errorf("fault.Step = %d, Steps() = %d; want equal", f.Step, m.Steps())
				}
				if m.Run() != err {
					t.Errorf("Run after a fault returned a different error")
				}
				faults[run] = f
			}
			if *faults[0] != *faults[1] {
				t.Errorf("runs differ: %+v, then %+v", faults[0], faults[1])
			}
			if tc.step != 0 && faults[0].Step != tc.step {
				t.Errorf("fault at step %d, want %d", faults[0].Step, tc.step)
			}
		})
	}
}

func TestRunOffTheEnd(t *testing.T) {
	rom := make([]byte, CodeSize)
	rom[0xFFFF] = byte(NOP)
	rom[0] = byte(LIT16)
	rom[1], rom[2] = 0xFF, 0xFF
	rom[3] = byte(JMP16)
	m, err := New(rom, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Run()
	want := "fault: pc out of range at pc=0xffff op=0xff (NOP)"
	if err == nil || err.Error() != want {
		t.Fatalf("Run() = %v, want %s", err, want)
	}
	if m.Steps() != 3 {
		t.Errorf("steps = %d, want 3 (the NOP completed)", m.Steps())
	}
	rom = make([]byte, CodeSize)
	rom[0xFFFE] = byte(LIT8)
	rom[0xFFFF] = 7
	rom[0], rom[1], rom[2], rom[3] = byte(LIT16), 0xFE, 0xFF, byte(JMP16)
	m, _ = New(rom, Options{})
	err = m.Run()
	if want := "fault: pc out of range at pc=0xfffe op=0xb0 (LIT8)"; err == nil || err.Error() != want {
		t.Fatalf("Run() = %v, want %s", err, want)
	}
	if got := m.DataStack(); !bytes.Equal(got, []byte{7}) {
		t.Errorf("data stack = % x, want 07", got)
	}
}

// TestRunOffTheEndJumps checks conditional jumps not taken, and DVW, at
// 0xFFFF: they complete and then fault.
func TestRunOffTheEndJumps(t *testing.T) {
	for _, op := range []Opcode{JPC8, JPC16, JCR8, JCR16, DVW8} {
		rom := make([]byte, CodeSize)
		copy(rom, mustAsm(t, "LIT8 0 LIT8 0 LIT8 0 LIT8 0 LIT8 9 LIT16 0xFFFF JMP16"))
		rom[0xFFFF] = byte(op)
		m, _ := New(rom, Options{})
		err := m.Run()
		want := fmt.Sprintf("fault: pc out of range at pc=0xffff op=0x%02x (%s)", byte(op), op)
		if err == nil || err.Error() != want {
			t.Errorf("%s: Run() = %v, want %s", op, err, want)
			continue
		}
		w := 1
		if op == JPC16 || op == JCR16 {
			w = 2
		}
		if op == DVW8 {
			w = 3
		}
		if got := len(m.DataStack()); got != 5-w-1 {
			t.Errorf("%s: %d bytes left on the stack, want %d (the jump ran)", op, got, 5-w-1)
		}
		if m.Steps() != 8 {
			t.Errorf("%s: steps = %d, want 8", op, m.Steps())
		}
	}
}

func TestFaultError(t *testing.T) {
	m := newMachine(t, `NOP NOP LIT8 1 ADD8`, Options{})
	err := m.Run()
	if want := "fault: data stack underflow at pc=0x0004 op=0x60 (ADD8)"; err == nil || err.Error() != want {
		t.Fatalf("Run() = %v, want %q", err, want)
	}
	if !errors.Is(err, errs.Invalid) || errs.KindOf(err) != errs.Invalid {
		t.Errorf("kind of %v = %v, want invalid", err, errs.KindOf(err))
	}
	m = newMachine(t, `.0x21`, Options{})
	if err, want := m.Run(), "fault: bad opcode at pc=0x0000 op=0x21 (?)"; err == nil || err.Error() != want {
		t.Fatalf("Run() = %v, want %q", err, want)
	}
	m = newMachine(t, `loop: LIT8 &loop JPR8`, Options{MaxSteps: 10})
	err = m.Run()
	if want := "fault: step limit at pc=0x0000 op=0xb0 (LIT8)"; err == nil || err.Error() != want {
		t.Fatalf("Run() = %v, want %q", err, want)
	}
	if !errors.Is(err, errs.Limit) {
		t.Errorf("step limit fault is not errs.Limit")
	}
	if m.Halted() {
		t.Errorf("a faulted machine reports Halted")
	}
}

func TestNew(t *testing.T) {
	if _, err := New(make([]byte, CodeSize+1), Options{}); !errors.Is(err, errs.Invalid) {
		t.Errorf("New(65537-byte ROM) = %v, want an invalid error", err)
	}
	var devs [Slots]Device
	devs[0] = NewClock(time.Unix(0, 0))
	if _, err := New(nil, Options{Devices: devs}); !errors.Is(err, errs.Invalid) {
		t.Errorf("New with a device in slot 0 = %v, want an invalid error", err)
	}
	m, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.maxSteps != DefaultMaxSteps || m.mem.limit != DefaultMaxMemory {
		t.Errorf("zero Options: limits %d steps, %d bytes; want %d, %d", m.maxSteps, m.mem.limit, DefaultMaxSteps, DefaultMaxMemory)
	}
	if err := m.Run(); err != nil || !m.Halted() || m.Steps() != 1 {
		t.Errorf("empty ROM: Run() = %v, halted %v, steps %d; want nil, true, 1", err, m.Halted(), m.Steps())
	}
}

// TestStepMatchesRun runs the benchmark programs step by step and whole,
// and compares the final states.
func TestStepMatchesRun(t *testing.T) {
	for _, src := range []string{fmt.Sprintf(fibSrc, 12), fmt.Sprintf(memSrc, 300), fmt.Sprintf(countSrc, 100)} {
		a := newMachine(t, src, Options{})
		if err := a.Run(); err != nil {
			t.Fatal(err)
		}
		var traced int
		b := newMachine(t, src, Options{Trace: func(m *Machine, pc uint16, op Opcode) { traced++ }})
		for !b.Halted() {
			if err := b.Step(); err != nil {
				t.Fatal(err)
			}
		}
		if a.Steps() != b.Steps() || uint64(traced) != b.Steps() || !bytes.Equal(a.DataStack(), b.DataStack()) || a.PC() != b.PC() {
			t.Errorf("Run: %d steps, pc %d, stack % x; Step: %d steps (%d traced), pc %d, stack % x",
				a.Steps(), a.PC(), a.DataStack(), b.Steps(), traced, b.PC(), b.DataStack())
		}
	}
}

func TestPrograms(t *testing.T) {
	for _, tc := range []struct {
		name  string
		src   string
		stack []byte
	}{
		{"fib 20", fmt.Sprintf(fibSrc, 20), u(4, 6765)},
		{"sum", fmt.Sprintf(memSrc, 1000), u(4, 999*1000/2)},
		{"count", fmt.Sprintf(countSrc, 1000), u(4, 0)},
		{"forth order", `LIT8 10 LIT8 3 SUB8 LIT8 10 LIT8 3 DIV8 LIT8 1 LIT8 3 BSL8 LIT8 3 LIT8 2 GRT8`, b(7, 3, 8, 0xFF)},
		{"reverse", `LIT8 1 LIT8 2 LIT8 3 SWP8 ROT8`, b(3, 2, 1)},
		{"call and return", `LIT16 @f CAL16 LIT8 2 HALT f: LIT8 1 RTN`, b(1, 2)},
		{"backward loop", `LIT8 0 LIT8 5 loop: SWP8 LIT8 1 ADD8 SWP8 LIT8 1 SUB8 DPD8 LIT8 &loop JCR8 DRD`, b(5)},
		{"signed", `LIT8 -7 LIT8 2 SDV8 LIT8 -7 LIT8 2 SMD8 LIT8 -1 LIT8 1 SLT8`, b(0xFD, 0xFF, 0xFF)},
		{"hold zero-fills", `LIT64 -1 CDH64 DRD DRD DRD DRD DRD DRD DRD DRD LIT8 5 CDH8 DRD CHD16`, b(5, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMachine(t, tc.src, Options{})
			if err := m.Run(); err != nil {
				t.Fatal(err)
			}
			if got := m.DataStack(); !bytes.Equal(got, tc.stack) {
				t.Errorf("data stack = % x, want % x", got, tc.stack)
			}
		})
	}
}

// TestStepAllocs checks that executing instructions allocates nothing.
func TestStepAllocs(t *testing.T) {
	m := newMachine(t, fmt.Sprintf(countSrc, 1<<30), Options{MaxSteps: 1 << 40})
	if n := testing.AllocsPerRun(1000, func() {
		if err := m.Step(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Step allocates %.1f times, want 0", n)
	}
	f := newMachine(t, fmt.Sprintf(fibSrc, 15), Options{})
	if n := testing.AllocsPerRun(1, func() {
		if err := f.Run(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Run of fib allocates %.1f times, want 0", n)
	}
}

// TestDocTable checks that the opcode table in docs/coins.md matches the
// package's, byte for byte.
func TestDocTable(t *testing.T) {
	doc, err := os.ReadFile("../docs/coins.md")
	if err != nil {
		t.Skip(err)
	}
	row := regexp.MustCompile("(?m)^\\| ([0-9A-F]{2}) \\| ([^|]*) \\| (`.*`)? ?\\|")
	seen := map[int]bool{}
	for _, r := range row.FindAllStringSubmatch(string(doc), -1) {
		var k int
		fmt.Sscanf(r[1], "%X", &k)
		op := Opcode(k)
		seen[k] = true
		name, effect := strings.TrimSpace(r[2]), strings.Trim(strings.ReplaceAll(r[3], `\|`, "|"), "`")
		if name == "—" {
			name = ""
		}
		if name != op.Mnemonic() || effect != op.Effect() {
			t.Errorf("docs/coins.md 0x%02X: %q %q; package: %q %q", k, name, effect, op.Mnemonic(), op.Effect())
		}
	}
	if len(seen) != 256 {
		t.Errorf("docs/coins.md has rows for %d bytes, want 256", len(seen))
	}
}

func TestTraceSeesEveryStep(t *testing.T) {
	var pcs []uint16
	m := newMachine(t, `LIT8 1 LIT8 2 ADD8 HALT`, Options{Trace: func(m *Machine, pc uint16, op Opcode) { pcs = append(pcs, pc) }})
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if want := []uint16{0, 2, 4, 5}; fmt.Sprint(pcs) != fmt.Sprint(want) {
		t.Errorf("traced pcs %v, want %v", pcs, want)
	}
}

var _ io.Writer = (*bytes.Buffer)(nil)

// TestGeneratedLoop checks that exec_gen.go is what gen_exec.go writes.
func TestGeneratedLoop(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	out := filepath.Join(t.TempDir(), "exec_gen.out") // not .go: go run would compile it
	cmd := exec.Command(goTool, "run", "gen_exec.go", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_exec.go: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("exec_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("exec_gen.go is stale: run go generate ./coins")
	}
}
