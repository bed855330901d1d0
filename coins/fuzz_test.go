package coins

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzMachine runs random bytes as a ROM: the machine must never panic,
// must stop within its step limit, and must do the same thing twice.
func FuzzMachine(f *testing.F) {
	for _, src := range []string{
		echoSrc,
		`loop: LIT8 &loop JPR8`,
		`f: LIT16 @f CAL16`,
		`LIT32 0 loop: DPD32 ADR32 LIT8 1 STR8 LIT32 4096 ADD32 LIT8 &loop JPR8`,
		`LIT64 0x3FF8000000000000 LIT64 0 DVF64 FTI64`,
	} {
		if rom, err := asm(src); err == nil {
			f.Add(rom)
		}
	}
	const maxSteps = 20_000
	run := func(rom []byte) (*Machine, error, string) {
		var out bytes.Buffer
		devs := StandardDevices(strings.NewReader("fuzz input"), &out, time.Unix(1e9, 0), 42)
		devs[5] = &blockDevice{data: []byte("block")}
		m, err := New(rom, Options{MaxSteps: maxSteps, MaxMemory: 1 << 20, Devices: devs})
		if err != nil {
			return nil, err, ""
		}
		err = m.Run()
		return m, err, out.String()
	}
	f.Fuzz(func(t *testing.T, rom []byte) {
		m, err, out := run(rom)
		if m == nil {
			if len(rom) <= CodeSize {
				t.Fatalf("New: %v", err)
			}
			return
		}
		var fault *Fault
		switch {
		case err == nil && !m.Halted():
			t.Fatalf("Run returned nil but the machine has not halted")
		case err != nil && !errors.As(err, &fault):
			t.Fatalf("Run returned %T %v, want a *Fault", err, err)
		case m.Steps() > maxSteps:
			t.Fatalf("ran %d steps, limit %d", m.Steps(), maxSteps)
		}
		m2, err2, out2 := run(rom)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) ||
			m.Steps() != m2.Steps() || !bytes.Equal(m.DataStack(), m2.DataStack()) || out != out2 {
			t.Fatalf("runs differ: %v, %d steps; then %v, %d steps", err, m.Steps(), err2, m2.Steps())
		}
	})
}
