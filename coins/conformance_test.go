package coins

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

// The per-opcode conformance table, in the spirit of Uxn's opctest: each
// case places one instruction in instruction RAM, sets up the stacks and
// registers, runs one step and compares the whole state, or the fault. A
// faulting instruction must leave the state as it was.

// st is the observable state a case sets up and checks.
type st struct {
	d, s, r []byte
	h       uint64
	a       uint32
	pc      int // PC after the step; 0 means "the next instruction"
	mem     map[uint32][]byte
}

type opCase struct {
	name  string
	at    uint16 // where the instruction is placed
	code  []byte // the instruction and its immediates
	in    st
	want  st // zero-valued s, r, h, a, mem mean "unchanged"
	fault FaultReason
	check func(t *testing.T, m *Machine)
	setup func(m *Machine)
}

// u returns x as w little-endian bytes.
func u(w int, x uint64) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], x)
	return append([]byte(nil), b[:w]...)
}

func i(w int, x int64) []byte { return u(w, uint64(x)) }

func cat(parts ...[]byte) []byte {
	out := []byte{}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func b(x ...byte) []byte { return append([]byte{}, x...) }

func f32b(x float32) []byte { return u(4, uint64(math.Float32bits(x))) }
func f64b(x float64) []byte { return u(8, math.Float64bits(x)) }

// sx returns x as a w-byte two's-complement value.
func sx(w int, x int64) uint64 { return uint64(x) & max64(w) }

func max64(w int) uint64 { return math.MaxUint64 >> (64 - 8*uint(w)) }
func min64(w int) int64  { return -1 << (8*w - 1) }

var widths = [4]int{1, 2, 4, 8}

// wop returns the family member of base with width w bytes.
func wop(base Opcode, w int) Opcode {
	switch w {
	case 1:
		return base
	case 2:
		return base + 1
	case 4:
		return base + 2
	}
	return base + 3
}

func opName(op Opcode) string { return fmt.Sprintf("%s", op) }

func conformanceCases() []opCase {
	var cs []opCase
	add := func(c opCase) { cs = append(cs, c) }
	// d1 is a case on the data stack only.
	d1 := func(name string, op Opcode, in, want []byte) {
		add(opCase{name: name, code: b(byte(op)), in: st{d: in}, want: st{d: want}})
	}
	fault := func(name string, op Opcode, in st, r FaultReason) {
		add(opCase{name: name, code: b(byte(op)), in: in, fault: r})
	}

	// HALT and NOP.
	add(opCase{name: "HALT", code: b(byte(HALT)), in: st{d: b(1)}, want: st{d: b(1), pc: 0}, check: func(t *testing.T, m *Machine) {
		if !m.Halted() || m.PC() != 0 || m.Steps() != 1 {
			t.Errorf("halted %v pc %d steps %d, want true 0 1", m.Halted(), m.PC(), m.Steps())
		}
	}})
	d1("NOP", NOP, b(1, 2), b(1, 2))

	// Binary integer families, every width.
	type vec struct{ a, b, r uint64 }
	bin := map[Opcode][]func(w int) vec{
		ADD8: {func(w int) vec { return vec{2, 3, 5} }, func(w int) vec { return vec{max64(w), 1, 0} }},
		SUB8: {func(w int) vec { return vec{5, 3, 2} }, func(w int) vec { return vec{0, 1, max64(w)} }},
		MUL8: {func(w int) vec { return vec{3, 4, 12} }, func(w int) vec { return vec{1 << (8*w - 1), 2, 0} }, func(w int) vec { return vec{max64(w), max64(w), 1} }},
		DIV8: {func(w int) vec { return vec{7, 2, 3} }, func(w int) vec { return vec{max64(w), 1, max64(w)} }, func(w int) vec { return vec{2, 7, 0} }},
		MOD8: {func(w int) vec { return vec{7, 2, 1} }, func(w int) vec { return vec{max64(w), 16, 15} }},
		AND8: {func(w int) vec { return vec{0xC, 0xA, 0x8} }, func(w int) vec { return vec{max64(w), 0x5A, 0x5A} }},
		OR8:  {func(w int) vec { return vec{0xC, 0xA, 0xE} }},
		XOR8: {func(w int) vec { return vec{0xC, 0xA, 0x6} }, func(w int) vec { return vec{max64(w), 1, max64(w) - 1} }},
		BSL8: {func(w int) vec { return vec{1, 3, 8} }, func(w int) vec { return vec{1, uint64(8*w - 1), 1 << (8*w - 1)} },
			func(w int) vec { return vec{1, uint64(8 * w), 0} }, func(w int) vec { return vec{0x81, uint64(8*w - 7), 1 << (8*w - 7)} }},
		BSR8: {func(w int) vec { return vec{8, 3, 1} }, func(w int) vec { return vec{1 << (8*w - 1), uint64(8*w - 1), 1} },
			func(w int) vec { return vec{max64(w), uint64(8 * w), 0} }},
		GRT8: {func(w int) vec { return vec{2, 1, 0xFF} }, func(w int) vec { return vec{1, 2, 0} }, func(w int) vec { return vec{max64(w), 0, 0xFF} }, func(w int) vec { return vec{3, 3, 0} }},
		LST8: {func(w int) vec { return vec{1, 2, 0xFF} }, func(w int) vec { return vec{2, 1, 0} }, func(w int) vec { return vec{0, max64(w), 0xFF} }},
		EQU8: {func(w int) vec { return vec{5, 5, 0xFF} }, func(w int) vec { return vec{5, 6, 0} }, func(w int) vec { return vec{max64(w), max64(w), 0xFF} }},
		NEQ8: {func(w int) vec { return vec{5, 5, 0} }, func(w int) vec { return vec{5, 6, 0xFF} }},
		SDV8: {func(w int) vec { return vec{sx(w, -7), 2, sx(w, -3)} },
			func(w int) vec { return vec{7, sx(w, -2), sx(w, -3)} },
			func(w int) vec { return vec{sx(w, min64(w)), max64(w), sx(w, min64(w))} }},
		SMD8: {func(w int) vec { return vec{sx(w, -7), 2, sx(w, -1)} },
			func(w int) vec { return vec{7, sx(w, -2), 1} },
			func(w int) vec { return vec{sx(w, min64(w)), max64(w), 0} }},
		SGT8: {func(w int) vec { return vec{0, max64(w), 0xFF} }, func(w int) vec { return vec{max64(w), 0, 0} }, func(w int) vec { return vec{2, 1, 0xFF} }},
		SLT8: {func(w int) vec { return vec{max64(w), 0, 0xFF} }, func(w int) vec { return vec{0, max64(w), 0} }, func(w int) vec { return vec{1, 1, 0} }},
	}
	compare := map[Opcode]bool{GRT8: true, LST8: true, EQU8: true, NEQ8: true, SGT8: true, SLT8: true}
	for _, base := range []Opcode{ADD8, SUB8, MUL8, DIV8, MOD8, AND8, OR8, XOR8, BSL8, BSR8, GRT8, LST8, EQU8, NEQ8, SDV8, SMD8, SGT8, SLT8} {
		for _, w := range widths {
			op := wop(base, w)
			for k, f := range bin[base] {
				v := f(w)
				want := u(w, v.r)
				if compare[base] {
					want = b(byte(v.r))
				}
				d1(fmt.Sprintf("%s/%d", op, k), op, cat(b(0xAA), u(w, v.a), u(w, v.b)), cat(b(0xAA), want))
			}
			fault(fmt.Sprintf("%s/underflow", op), op, st{d: make([]byte, 2*w-1)}, DataUnderflow)
			switch base {
			case DIV8, MOD8, SDV8, SMD8:
				fault(fmt.Sprintf("%s/zero", op), op, st{d: cat(u(w, 5), u(w, 0))}, DivideByZero)
			}
		}
	}

	// Unary and permutations.
	for _, w := range widths {
		mx := max64(w)
		d1(fmt.Sprintf("NOT/%d", w), wop(NOT8, w), cat(b(7), u(w, 0)), cat(b(7), u(w, mx)))
		d1(fmt.Sprintf("NOT/%d/b", w), wop(NOT8, w), u(w, 0x0F), u(w, mx^0x0F))
		d1(fmt.Sprintf("NEG/%d", w), wop(NEG8, w), u(w, 1), u(w, mx))
		d1(fmt.Sprintf("NEG/%d/0", w), wop(NEG8, w), u(w, 0), u(w, 0))
		d1(fmt.Sprintf("NEG/%d/min", w), wop(NEG8, w), u(w, uint64(min64(w))), u(w, uint64(min64(w))))
		d1(fmt.Sprintf("SWP/%d", w), wop(SWP8, w), cat(b(9), u(w, 0x0102030405060708&mx), u(w, mx)), cat(b(9), u(w, mx), u(w, 0x0102030405060708&mx)))
		d1(fmt.Sprintf("ROT/%d", w), wop(ROT8, w), cat(u(w, 1), u(w, 2), u(w, mx)), cat(u(w, 2), u(w, mx), u(w, 1)))
		fault(fmt.Sprintf("NOT/%d/underflow", w), wop(NOT8, w), st{d: make([]byte, w-1)}, DataUnderflow)
		fault(fmt.Sprintf("NEG/%d/underflow", w), wop(NEG8, w), st{d: make([]byte, w-1)}, DataUnderflow)
		fault(fmt.Sprintf("SWP/%d/underflow", w), wop(SWP8, w), st{d: make([]byte, 2*w-1)}, DataUnderflow)
		fault(fmt.Sprintf("ROT/%d/underflow", w), wop(ROT8, w), st{d: make([]byte, 3*w-1)}, DataUnderflow)
	}

	// Floats.
	nan32b, nan64b := u(4, nan32), u(8, nan64)
	d1("ADF32", ADF32, cat(f32b(1.5), f32b(2.25)), f32b(3.75))
	d1("SBF32", SBF32, cat(f32b(1), f32b(3)), f32b(-2))
	d1("MLF32", MLF32, cat(f32b(1.5), f32b(-4)), f32b(-6))
	d1("DVF32", DVF32, cat(f32b(1), f32b(4)), f32b(0.25))
	d1("DVF32/inf", DVF32, cat(f32b(1), f32b(0)), f32b(float32(math.Inf(1))))
	d1("DVF32/nan", DVF32, cat(f32b(0), f32b(0)), nan32b)
	d1("ADF32/nan-payload", ADF32, cat(u(4, 0xFFC01234), f32b(1)), nan32b)
	d1("ADF64", ADF64, cat(f64b(1.5), f64b(2.25)), f64b(3.75))
	d1("SBF64", SBF64, cat(f64b(1), f64b(3)), f64b(-2))
	d1("MLF64", MLF64, cat(f64b(1e200), f64b(1e200)), f64b(math.Inf(1)))
	d1("DVF64", DVF64, cat(f64b(1), f64b(8)), f64b(0.125))
	d1("DVF64/nan", DVF64, cat(f64b(math.Inf(1)), f64b(math.Inf(-1))), nan64b)
	d1("GRF32", GRF32, cat(f32b(2), f32b(1)), b(0xFF))
	d1("GRF32/f", GRF32, cat(f32b(1), f32b(2)), b(0))
	d1("GRF64", GRF64, cat(f64b(-1), f64b(-2)), b(0xFF))
	d1("LSF32", LSF32, cat(f32b(1), f32b(2)), b(0xFF))
	d1("LSF64", LSF64, cat(f64b(2), f64b(1)), b(0))
	d1("LSF64/nan", LSF64, cat(nan64b, f64b(1)), b(0))
	d1("EQF32", EQF32, cat(f32b(0), f32b(float32(math.Copysign(0, -1)))), b(0xFF))
	d1("EQF32/nan", EQF32, cat(nan32b, nan32b), b(0))
	d1("EQF64", EQF64, cat(f64b(0.1), f64b(0.1)), b(0xFF))
	d1("EQF64/f", EQF64, cat(f64b(0.1), f64b(0.2)), b(0))
	d1("FTF32", FTF32, cat(b(1), f64b(1.5)), cat(b(1), f32b(1.5)))
	d1("FTF32/round", FTF32, f64b(0.1), f32b(0.1))
	d1("FTF32/nan", FTF32, nan64b, nan32b)
	d1("FTF64", FTF64, cat(b(1), f32b(-2.5)), cat(b(1), f64b(-2.5)))
	d1("ITF32", ITF32, i(4, -3), f32b(-3))
	d1("ITF32/round", ITF32, i(4, 16777217), f32b(16777216))
	d1("ITF64", ITF64, i(8, -1<<62), f64b(-(1 << 62)))
	d1("FTI32", FTI32, f32b(-3.7), i(4, -3))
	d1("FTI32/nan", FTI32, nan32b, i(4, 0))
	d1("FTI32/big", FTI32, f32b(1e10), i(4, math.MaxInt32))
	d1("FTI32/small", FTI32, f32b(-1e10), i(4, math.MinInt32))
	d1("FTI64", FTI64, f64b(12345.9), i(8, 12345))
	d1("FTI64/big", FTI64, f64b(1e19), i(8, math.MaxInt64))
	d1("FTI64/small", FTI64, f64b(math.Inf(-1)), i(8, math.MinInt64))
	d1("FTI64/nan", FTI64, nan64b, i(8, 0))
	for _, op := range []Opcode{ADF32, SBF32, MLF32, DVF32, GRF32, LSF32, EQF32} {
		fault(op.String()+"/underflow", op, st{d: make([]byte, 7)}, DataUnderflow)
	}
	for _, op := range []Opcode{ADF64, SBF64, MLF64, DVF64, GRF64, LSF64, EQF64} {
		fault(op.String()+"/underflow", op, st{d: make([]byte, 15)}, DataUnderflow)
	}
	fault("FTF32/underflow", FTF32, st{d: make([]byte, 7)}, DataUnderflow)
	fault("FTF64/underflow", FTF64, st{d: make([]byte, 3)}, DataUnderflow)
	fault("FTF64/overflow", FTF64, st{d: make([]byte, 254)}, DataOverflow)
	fault("ITF32/underflow", ITF32, st{d: make([]byte, 3)}, DataUnderflow)
	fault("ITF64/underflow", ITF64, st{d: make([]byte, 7)}, DataUnderflow)
	fault("FTI32/underflow", FTI32, st{d: make([]byte, 3)}, DataUnderflow)
	fault("FTI64/underflow", FTI64, st{d: make([]byte, 7)}, DataUnderflow)

	// Control flow.
	jump := func(name string, op Opcode, at uint16, in []byte, pc int, want []byte) {
		if want == nil {
			want = b()
		}
		add(opCase{name: name, at: at, code: b(byte(op)), in: st{d: in}, want: st{d: want, pc: pc}})
	}
	jump("JMP8", JMP8, 0x100, b(7, 0x42), 0x42, b(7))
	jump("JMP16", JMP16, 0x100, u(2, 0xBEEF), 0xBEEF, nil)
	jump("JPR8/back", JPR8, 0x100, i(1, -1), 0x100, nil)
	jump("JPR8/fwd", JPR8, 0x100, i(1, 127), 0x180, nil)
	jump("JPR8/min", JPR8, 0x100, i(1, -128), 0x81, nil)
	jump("JPR16", JPR16, 0x200, i(2, -0x100), 0x101, nil)
	jump("JPR16/fwd", JPR16, 0x200, i(2, 0x1000), 0x1201, nil)
	jump("JPC8/taken", JPC8, 0x100, b(9, 1, 0x42), 0x42, b(9))
	jump("JPC8/not", JPC8, 0x100, b(9, 0, 0x42), 0x101, b(9))
	jump("JPC16/taken", JPC16, 0x100, cat(b(0x80), u(2, 0x1234)), 0x1234, nil)
	jump("JPC16/not", JPC16, 0x100, cat(b(0), u(2, 0x1234)), 0x101, nil)
	jump("JCR8/taken", JCR8, 0x100, b(0xFF, 0xFE), 0xFF, nil)
	jump("JCR8/not", JCR8, 0x100, b(0, 0xFE), 0x101, nil)
	jump("JCR16/taken", JCR16, 0x100, cat(b(1), i(2, 0x100)), 0x201, nil)
	jump("JCR16/not", JCR16, 0x100, cat(b(0), i(2, -0x100)), 0x101, nil)
	add(opCase{name: "JPR8/range", code: b(byte(JPR8)), in: st{d: i(1, -2)}, fault: PCRange})
	add(opCase{name: "JPR16/range", at: 0xFFF0, code: b(byte(JPR16)), in: st{d: i(2, 0x100)}, fault: PCRange})
	add(opCase{name: "JCR8/range", code: b(byte(JCR8)), in: st{d: b(1, 0x80)}, fault: PCRange})
	add(opCase{name: "JCR16/not-range", at: 5, code: b(byte(JCR16)), in: st{d: cat(b(0), i(2, -100))}, want: st{d: b(), pc: 6}})
	for _, op := range []Opcode{JMP8, JPR8} {
		fault(op.String()+"/underflow", op, st{}, DataUnderflow)
	}
	for _, op := range []Opcode{JMP16, JPR16, JPC8} {
		fault(op.String()+"/underflow", op, st{d: b(1)}, DataUnderflow)
	}
	for _, op := range []Opcode{JPC16, JCR16} {
		fault(op.String()+"/underflow", op, st{d: b(1, 1)}, DataUnderflow)
	}
	fault("JCR8/underflow", JCR8, st{d: b(1)}, DataUnderflow)
	add(opCase{name: "CAL8", at: 0x1234, code: b(byte(CAL8)), in: st{d: b(5, 0x40), r: b(9)}, want: st{d: b(5), r: b(9, 0x35, 0x12), pc: 0x40}})
	add(opCase{name: "CAL16", at: 0x10, code: b(byte(CAL16)), in: st{d: u(2, 0xABCD)}, want: st{d: b(), r: b(0x11, 0), pc: 0xABCD}})
	add(opCase{name: "CAL16/overflow", code: b(byte(CAL16)), in: st{d: u(2, 5), r: make([]byte, 255)}, fault: ReturnOverflow})
	add(opCase{name: "CAL16/underflow", code: b(byte(CAL16)), in: st{d: b(5)}, fault: DataUnderflow})
	add(opCase{name: "CAL8/underflow", code: b(byte(CAL8)), in: st{}, fault: DataUnderflow})
	add(opCase{name: "CAL8/end", at: 0xFFFF, code: b(byte(CAL8)), in: st{d: b(5)}, fault: PCRange})
	add(opCase{name: "RTN", at: 0x10, code: b(byte(RTN)), in: st{r: b(7, 0x34, 0x12)}, want: st{r: b(7), pc: 0x1234}})
	add(opCase{name: "RTN/underflow", code: b(byte(RTN)), in: st{r: b(1)}, fault: ReturnUnderflow})

	// Literals.
	for _, w := range widths {
		op := wop(LIT8, w)
		imm := u(w, 0x8877665544332211)
		add(opCase{name: op.String(), code: cat(b(byte(op)), imm), in: st{d: b(1)}, want: st{d: cat(b(1), imm), pc: 1 + w}})
		add(opCase{name: op.String() + "/overflow", code: cat(b(byte(op)), imm), in: st{d: make([]byte, 257-w)}, fault: DataOverflow})
		add(opCase{name: op.String() + "/end", at: uint16(0x10000 - w), code: b(byte(op)), fault: PCRange})
	}

	// Data RAM.
	for _, w := range widths {
		v := u(w, 0x8877665544332211)
		adr := wop(ADR8, w)
		add(opCase{name: adr.String(), code: b(byte(adr)), in: st{d: cat(b(3), u(w, 0xFFFFFFFF))}, want: st{d: b(3), a: uint32(max64(min(w, 4)))}})
		fault(adr.String()+"/underflow", adr, st{d: make([]byte, w-1)}, DataUnderflow)
		str := wop(STR8, w)
		add(opCase{name: str.String(), code: b(byte(str)), in: st{d: cat(b(3), v), a: 0x1FFE}, want: st{d: b(3), a: 0x1FFE, mem: map[uint32][]byte{0x1FFE: v}}})
		add(opCase{name: str.String() + "/top", code: b(byte(str)), in: st{d: v, a: uint32(1<<32 - w)}, want: st{d: b(), a: uint32(1<<32 - w), mem: map[uint32][]byte{uint32(1<<32 - w): v}}})
		if w > 1 {
			add(opCase{name: str.String() + "/range", code: b(byte(str)), in: st{d: v, a: uint32(1<<32 - w + 1)}, fault: AddressRange})
		}
		fault(str.String()+"/underflow", str, st{d: make([]byte, w-1)}, DataUnderflow)
		lod := wop(LOD8, w)
		add(opCase{name: lod.String(), code: b(byte(lod)), in: st{d: b(3), a: 0xFFE, mem: map[uint32][]byte{0xFFE: v}}, want: st{d: cat(b(3), v)}})
		add(opCase{name: lod.String() + "/untouched", code: b(byte(lod)), in: st{a: 0x7000_0000}, want: st{d: make([]byte, w)},
			check: func(t *testing.T, m *Machine) {
				if got := m.MemoryUsed(); got != 0 {
					t.Errorf("MemoryUsed = %d after reading untouched RAM, want 0", got)
				}
			}})
		add(opCase{name: lod.String() + "/range", code: b(byte(lod)), in: st{a: 0xFFFF_FFFF}, fault: AddressRange, want: st{}})
		fault(lod.String()+"/overflow", lod, st{d: make([]byte, 257-w)}, DataOverflow)
		if w == 1 {
			cs[len(cs)-2].fault = 0 // LOD8 at 0xFFFFFFFF is in range
			cs[len(cs)-2].want = st{d: b(0)}
		}
	}
	fault("ADR64/range", ADR64, st{d: u(8, 1<<32)}, AddressRange)

	// Stack copies: every source, destination and width.
	stacks := []string{"D", "S", "R", "H"}
	for from := range 4 {
		for to := range 4 {
			if from == 3 && to == 3 {
				continue
			}
			for _, w := range widths {
				op := Opcode(0xC0 | from<<4 | to<<2 | bits(w))
				v := u(w, 0xF8F7F6F5F4F3F2F1)
				in := st{d: b(0xD0), s: b(0x50), r: b(0x70), h: 0x1122334455667788}
				want := st{d: b(0xD0), s: b(0x50), r: b(0x70), h: in.h}
				get := func(s *st, k int) *[]byte { return []*[]byte{&s.d, &s.s, &s.r}[k] }
				if from == 3 {
					v = u(w, in.h)
				} else {
					*get(&in, from) = cat(*get(&in, from), v)
					*get(&want, from) = cat(*get(&want, from), v)
				}
				if to == 3 {
					want.h = binary.LittleEndian.Uint64(append(append([]byte{}, v...), make([]byte, 8-w)...))
				} else {
					*get(&want, to) = cat(*get(&want, to), v)
				}
				add(opCase{name: fmt.Sprintf("%s/%s%s", op, stacks[from], stacks[to]), code: b(byte(op)), in: in, want: want})
				if from != 3 {
					under := st{}
					*get(&under, from) = make([]byte, w-1)
					fault(op.String()+"/underflow", op, under, underflow(from))
				}
				if to != 3 {
					over := st{d: make([]byte, 8), s: make([]byte, 8), r: make([]byte, 8)}
					*get(&over, to) = make([]byte, 257-w)
					if from == to {
						*get(&over, to) = make([]byte, max(257-w, w))
					}
					if from != to || w <= 128 {
						fault(op.String()+"/overflow", op, over, overflow(to))
					}
				}
			}
		}
	}
	d1("DRD", DRD, b(1, 2), b(1))
	add(opCase{name: "DRS", code: b(byte(DRS)), in: st{s: b(1, 2)}, want: st{s: b(1)}})
	add(opCase{name: "DRR", code: b(byte(DRR)), in: st{r: b(1, 2)}, want: st{r: b(1)}})
	fault("DRD/underflow", DRD, st{}, DataUnderflow)
	fault("DRS/underflow", DRS, st{d: b(1)}, SwapUnderflow)
	fault("DRR/underflow", DRR, st{d: b(1)}, ReturnUnderflow)

	// Devices (the protocols are tested in device_test.go; here each
	// instruction's stack effect and faults).
	for _, w := range widths {
		dvr := wop(DVR8, w)
		add(opCase{name: dvr.String(), code: b(byte(dvr)), in: st{d: b(9, 2, 5)}, want: st{d: cat(b(9), u(w, 0x0807060504030201&max64(w)))},
			setup: func(m *Machine) { copy(m.slots[5].in[:], []byte{0xFF, 0xFF, 1, 2, 3, 4, 5, 6, 7, 8}) }})
		add(opCase{name: dvr.String() + "/last", code: b(byte(dvr)), in: st{d: b(byte(64-w), 15)}, want: st{d: make([]byte, w)}})
		fault(dvr.String()+"/slot", dvr, st{d: b(0, 16)}, BadDevice)
		fault(dvr.String()+"/port", dvr, st{d: b(byte(65-w), 1)}, BadPort)
		fault(dvr.String()+"/underflow", dvr, st{d: b(1)}, DataUnderflow)
		dvw := wop(DVW8, w)
		add(opCase{name: dvw.String(), code: b(byte(dvw)), in: st{d: cat(b(9), u(w, 0x8877665544332211), b(3, BLOCK|0x1F, 7))}, want: st{d: b(9)},
			check: func(t *testing.T, m *Machine) {
				s := m.slots[7]
				if got, want := s.out[3:3+w], u(w, 0x8877665544332211); !bytes.Equal(got, want) {
					t.Errorf("out[3:] = % x, want % x", got, want)
				}
				if s.status != BLOCK {
					t.Errorf("status = %#x, want %#x", s.status, BLOCK)
				}
			}})
		fault(dvw.String()+"/slot", dvw, st{d: cat(u(w, 0), b(0, 0, 16))}, BadDevice)
		fault(dvw.String()+"/port", dvw, st{d: cat(u(w, 0), b(byte(65-w), 0, 1))}, BadPort)
		fault(dvw.String()+"/underflow", dvw, st{d: make([]byte, w+2)}, DataUnderflow)
		dvp := wop(DVP8, w)
		add(opCase{name: dvp.String(), code: b(byte(dvp)), in: st{d: cat(u(w, 0x40), b(0))}, want: st{d: b(), mem: map[uint32][]byte{0x40: systemID[:]}}})
		add(opCase{name: dvp.String() + "/empty", code: b(byte(dvp)), in: st{d: cat(u(w, 0x40), b(9)), mem: map[uint32][]byte{0x40: bytes.Repeat(b(1), 32)}}, want: st{d: b(), mem: map[uint32][]byte{0x40: make([]byte, 32)}}})
		fault(dvp.String()+"/slot", dvp, st{d: cat(u(w, 0x40), b(16))}, BadDevice)
		fault(dvp.String()+"/underflow", dvp, st{d: make([]byte, w)}, DataUnderflow)
		if w >= 4 {
			fault(dvp.String()+"/range", dvp, st{d: cat(u(w, 0xFFFF_FFE1), b(0))}, AddressRange)
		}
	}
	add(opCase{name: "DVV", code: b(byte(DVV)), in: st{d: cat(b(1), u(2, 0x1234), b(4))}, want: st{d: b(1)},
		check: func(t *testing.T, m *Machine) {
			if got := m.slots[4].vector; got != 0x1234 {
				t.Errorf("vector = %#x, want 0x1234", got)
			}
		}})
	fault("DVV/slot", DVV, st{d: cat(u(2, 1), b(16))}, BadDevice)
	fault("DVV/underflow", DVV, st{d: b(1, 2)}, DataUnderflow)
	add(opCase{name: "DMR", code: b(byte(DMR)), in: st{d: b(7, 3)}, want: st{d: cat(b(7), u(4, 0x100), u(4, 0xABCD))},
		setup: func(m *Machine) { m.dma[3] = controller{status: 1, addr: 0xABCD, length: 0x100} }})
	fault("DMR/ctrl", DMR, st{d: b(4)}, BadDMA)
	fault("DMR/underflow", DMR, st{}, DataUnderflow)
	fault("DMR/overflow", DMR, st{d: make([]byte, 250)}, DataOverflow)
	for _, w := range widths[:3] {
		dmw := wop(DMW8, w)
		add(opCase{name: dmw.String(), code: b(byte(dmw)), in: st{d: cat(b(1), u(w, 0x44332211), u(w, 0x88776655), b(DMAWrite|0x30|5, 2))}, want: st{d: b(1)},
			check: func(t *testing.T, m *Machine) {
				c := m.dma[2]
				want := controller{status: DMAWrite | 5, addr: uint32(0x88776655 & max64(w)), length: uint32(0x44332211 & max64(w))}
				if c != want {
					t.Errorf("controller = %+v, want %+v", c, want)
				}
			}})
		fault(dmw.String()+"/ctrl", dmw, st{d: cat(u(w, 0), u(w, 0), b(0, 4))}, BadDMA)
		fault(dmw.String()+"/underflow", dmw, st{d: make([]byte, 2*w+1)}, DataUnderflow)
	}
	add(opCase{name: "DMP", code: b(byte(DMP)), in: st{d: b(7, DMADone|DMAError, 1)}, want: st{d: b(7, 0xFF)},
		setup: func(m *Machine) { m.dma[1].status = DMADone | 3 }})
	add(opCase{name: "DMP/f", code: b(byte(DMP)), in: st{d: b(7, DMAError, 1)}, want: st{d: b(7, 0)},
		setup: func(m *Machine) { m.dma[1].status = DMADone | 3 }})
	fault("DMP/ctrl", DMP, st{d: b(0xFF, 4)}, BadDMA)
	fault("DMP/underflow", DMP, st{d: b(1)}, DataUnderflow)

	// Bytes that are not instructions.
	for k := range 256 {
		if op := Opcode(k); !op.Valid() {
			fault(fmt.Sprintf("0x%02x", k), op, st{d: b(1, 2, 3)}, BadOpcode)
		}
	}
	return cs
}

func bits(w int) int {
	switch w {
	case 1:
		return 0
	case 2:
		return 1
	case 4:
		return 2
	}
	return 3
}

func TestConformance(t *testing.T) {
	for _, c := range conformanceCases() {
		t.Run(c.name, func(t *testing.T) {
			rom := make([]byte, int(c.at)+len(c.code))
			copy(rom[c.at:], c.code)
			m, err := New(rom, Options{MaxMemory: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			setState(m, c.in)
			m.pc = uint32(c.at)
			if c.setup != nil {
				c.setup(m)
			}
			err = m.Step()
			want := c.want
			if c.fault != 0 {
				f, ok := err.(*Fault)
				if !ok {
					t.Fatalf("Step() = %v, want a %q fault", err, c.fault)
				}
				if f.Reason != c.fault || f.PC != c.at || f.Op != Opcode(c.code[0]) || f.Step != 0 {
					t.Fatalf("fault = %+v, want %q at pc %#x op %#x step 0", f, c.fault, c.at, c.code[0])
				}
				want = c.in
				want.pc = int(c.at)
			} else if err != nil {
				t.Fatalf("Step() = %v, want nil", err)
			} else if want.pc == 0 && Opcode(c.code[0]) != HALT {
				want.pc = int(c.at) + 1
			}
			if want.s == nil {
				want.s = c.in.s
			}
			if want.r == nil {
				want.r = c.in.r
			}
			if want.d == nil {
				want.d = c.in.d
			}
			if want.h == 0 {
				want.h = c.in.h
			}
			if want.a == 0 {
				want.a = c.in.a
			}
			if want.mem == nil {
				want.mem = c.in.mem
			}
			compareState(t, m, want)
			if c.check != nil {
				c.check(t, m)
			}
		})
	}
}

func setState(m *Machine, s st) {
	for k, v := range [][]byte{s.d, s.s, s.r} {
		copy(m.st[k].b[8:], v)
		m.st[k].n = len(v)
	}
	m.hold, m.addr = s.h, s.a
	for a, v := range s.mem {
		if err := m.WriteMemory(a, v); err != nil {
			panic(err)
		}
	}
}

func compareState(t *testing.T, m *Machine, want st) {
	t.Helper()
	for k, name := range []string{"data", "swap", "return"} {
		got := m.st[k].bytes()
		w := [][]byte{want.d, want.s, want.r}[k]
		if !bytes.Equal(got, w) && (len(got) != 0 || len(w) != 0) {
			t.Errorf("%s stack = [% x], want [% x]", name, got, w)
		}
	}
	if m.hold != want.h {
		t.Errorf("hold = %#x, want %#x", m.hold, want.h)
	}
	if m.addr != want.a {
		t.Errorf("address register = %#x, want %#x", m.addr, want.a)
	}
	if int(m.pc) != want.pc {
		t.Errorf("pc = %#x, want %#x", m.pc, want.pc)
	}
	for a, v := range want.mem {
		got := make([]byte, len(v))
		m.ReadMemory(a, got)
		if !bytes.Equal(got, v) {
			t.Errorf("data RAM[%#x] = [% x], want [% x]", a, got, v)
		}
	}
}

// TestConformanceCoversEveryOpcode checks that the table above has at least
// one case for every byte, instruction or not.
func TestConformanceCoversEveryOpcode(t *testing.T) {
	var seen [256]bool
	for _, c := range conformanceCases() {
		seen[c.code[0]] = true
	}
	for k, ok := range seen {
		if !ok {
			t.Errorf("0x%02x (%s) has no conformance case", k, Opcode(k))
		}
	}
}
