package co

import (
	"bytes"
	"testing"
)

// FuzzAssemble feeds text to the assembler: it must never panic, and what
// assembles must survive a disassembly round trip.
func FuzzAssemble(f *testing.F) {
	f.Add([]byte("LIT8 1 LIT8 2 ADD8"))
	f.Add([]byte("% m [ a ] #{a} &{a} JPR8 ; ~m 'x : r >r ; >r"))
	f.Fuzz(func(t *testing.T, src []byte) {
		rom, err := Assemble("fuzz.co", src, Options{})
		if err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error %T is not an ErrorList", err)
			}
			return
		}
		again, err := Assemble("disasm.co", []byte(Disassemble(rom)), Options{})
		if err != nil {
			t.Fatalf("disassembly does not assemble: %v", err)
		}
		if !bytes.Equal(again, rom) {
			t.Fatalf("round trip: got % x, want % x", again, rom)
		}
	})
}

// FuzzDisassemble checks that any bytes survive a disassembly round trip.
func FuzzDisassemble(f *testing.F) {
	f.Add([]byte{0xb0, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, rom []byte) {
		if len(rom) > MaxROM {
			return
		}
		roundTrip(t, rom)
	})
}
