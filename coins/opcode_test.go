package coins

import "testing"

func TestOpcodeTable(t *testing.T) {
	n := 0
	for i := range 256 {
		op := Opcode(i)
		name := op.Mnemonic()
		if (name != "") != op.Valid() {
			t.Errorf("0x%02x: Mnemonic %q but Valid %v", i, name, op.Valid())
		}
		if !op.Valid() {
			if op.Effect() != "" {
				t.Errorf("0x%02x: unassigned but has effect %q", i, op.Effect())
			}
			continue
		}
		n++
		if i >= 0x20 && i <= 0x3F {
			t.Errorf("0x%02x (%s): 0x20-0x3F are reserved for Co source tokens", i, name)
		}
		got, ok := OpcodeByMnemonic(name)
		if !ok || got != op {
			t.Errorf("OpcodeByMnemonic(%q) = 0x%02x, %v; want 0x%02x, true", name, byte(got), ok, i)
		}
		if op.Effect() == "" {
			t.Errorf("0x%02x (%s): no stack effect", i, name)
		}
	}
	if _, ok := OpcodeByMnemonic("add8"); ok {
		t.Errorf("OpcodeByMnemonic is case-insensitive; want case-sensitive")
	}
	t.Logf("%d assigned opcodes", n)
}

func TestOpcodeNames(t *testing.T) {
	for _, tc := range []struct {
		op   Opcode
		name string
		imm  int
	}{
		{HALT, "HALT", 0}, {CAL16, "CAL16", 0}, {RTN, "RTN", 0}, {JCR8, "JCR8", 0},
		{ADF32, "ADF32", 0}, {LSF64, "LSF64", 0}, {EQF64, "EQF64", 0},
		{NOT64, "NOT64", 0}, {BSR8, "BSR8", 0}, {NEQ64, "NEQ64", 0},
		{LIT8, "LIT8", 1}, {LIT16, "LIT16", 2}, {LIT32, "LIT32", 4}, {LIT64, "LIT64", 8},
		{LOD64, "LOD64", 0}, {DPD8, "DPD8", 0}, {CDS8, "CDS8", 0}, {CDH32, "CDH32", 0},
		{CHD8, "CHD8", 0}, {DPR16, "DPR16", 0}, {CHR64, "CHR64", 0}, {CRD8, "CRD8", 0},
		{DRD, "DRD", 0}, {DRR, "DRR", 0}, {NOP, "NOP", 0}, {DMW32, "DMW32", 0},
		{DVW8, "DVW8", 0}, {DVP64, "DVP64", 0}, {ROT8, "ROT8", 0}, {SWP16, "SWP16", 0},
		{ITF64, "ITF64", 0}, {FTI32, "FTI32", 0}, {DVV, "DVV", 0}, {SLT64, "SLT64", 0},
	} {
		if got := tc.op.Mnemonic(); got != tc.name {
			t.Errorf("0x%02x.Mnemonic() = %q, want %q", byte(tc.op), got, tc.name)
		}
		if got := tc.op.ImmLen(); got != tc.imm {
			t.Errorf("%s.ImmLen() = %d, want %d", tc.name, got, tc.imm)
		}
	}
	for _, b := range []byte{0x01, 0x02, 0x03, 0x06, 0x20, 0x3F, 0x87, 0x8B} {
		if Opcode(b).Valid() {
			t.Errorf("0x%02x is assigned (%s); want unassigned", b, Opcode(b).Mnemonic())
		}
	}
}
