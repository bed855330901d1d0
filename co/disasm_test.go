package co

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/coalescent/coal/coins"
)

// roundTrip checks that the disassembly of rom assembles to rom.
func roundTrip(t *testing.T, rom []byte) {
	t.Helper()
	src := Disassemble(rom)
	got, err := Assemble("disasm.co", []byte(src), Options{})
	if err != nil {
		t.Fatalf("assembling the disassembly of % x: %v\n%s", rom, err, src)
	}
	if !bytes.Equal(got, rom) {
		t.Fatalf("round trip:\n got % x\nwant % x\n%s", got, rom, src)
	}
}

func TestDisassembleExamples(t *testing.T) {
	tests := [][]byte{
		nil,
		{0x00},
		bs(t, "LIT8", 1, "LIT16", 2, 3, "ADD8", "HALT"),
		bs(t, "LIT16", 1),        // immediate cut short
		bs(t, "LIT64", 1, 2, 3),  // immediate cut short
		{0x20, 0x21, 0x22, 0x5c}, // reserved bytes
		bytes.Repeat([]byte{0x3f}, 40),
	}
	for _, rom := range tests {
		roundTrip(t, rom)
	}
}

func TestDisassembleText(t *testing.T) {
	rom := bs(t, "LIT8", 1, "LIT16", 0x34, 0x12, "HALT")
	want := "( disassembled by coal )\n( 0000 ) LIT8 0x01\n( 0002 ) LIT16 0x1234\n( 0005 ) HALT\n"
	if got := Disassemble(rom); got != want {
		t.Errorf("Disassemble:\n got %q\nwant %q", got, want)
	}
}

// TestDisassembleRandom round-trips random streams of valid instructions
// mixed with invalid bytes, and random bytes.
func TestDisassembleRandom(t *testing.T) {
	var valid []coins.Opcode
	for b := range 256 {
		if op := coins.Opcode(b); op.Valid() {
			valid = append(valid, op)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		var rom []byte
		for range r.IntN(200) {
			if r.IntN(10) == 0 {
				rom = append(rom, byte(r.IntN(256)))
				continue
			}
			op := valid[r.IntN(len(valid))]
			rom = append(rom, byte(op))
			for range op.ImmLen() {
				rom = append(rom, byte(r.IntN(256)))
			}
		}
		roundTrip(t, rom)
	}
	for range 200 {
		rom := make([]byte, r.IntN(300))
		for i := range rom {
			rom[i] = byte(r.IntN(256))
		}
		roundTrip(t, rom)
	}
}
