package coins

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// A second, naive implementation of docs/coins.md — stacks as byte slices,
// data RAM as a map, one big switch on mnemonic families — against which
// random programs check the fast interpreter (STYLE.md: fast structures
// against naive ones). It covers every instruction except the device and
// DMA ones.

type refMachine struct {
	code    []byte
	st      [3][]byte
	hold    uint64
	addr    uint32
	mem     map[uint32]byte
	pages   map[uint32]bool
	limit   uint64
	pc      int
	steps   uint64
	max     uint64
	halted  bool
	fault   FaultReason
	faultPC int
	skip    bool // the program reached a device instruction
}

func newRef(rom []byte, maxSteps, maxMem uint64) *refMachine {
	code := make([]byte, CodeSize)
	copy(code, rom)
	r := &refMachine{code: code, mem: map[uint32]byte{}, pages: map[uint32]bool{}, limit: maxMem, max: maxSteps}
	// The ROM is also the initial image of data RAM (docs/coins.md, section 2).
	for i, c := range rom {
		r.mem[uint32(i)] = c
		r.pages[uint32(i)/PageSize] = true
	}
	return r
}

type refFault struct{ r FaultReason }

type refSkip struct{}

func (r *refMachine) pop(s, w int) uint64 {
	if len(r.st[s]) < w {
		panic(refFault{underflow(s)})
	}
	var v uint64
	for i := 0; i < w; i++ { // the top byte is the most significant
		v = v<<8 | uint64(r.st[s][len(r.st[s])-1-i])
	}
	r.st[s] = r.st[s][:len(r.st[s])-w]
	return v
}

func (r *refMachine) push(s, w int, v uint64) {
	if len(r.st[s])+w > 256 {
		panic(refFault{overflow(s)})
	}
	for i := 0; i < w; i++ {
		r.st[s] = append(r.st[s], byte(v>>(8*i)))
	}
}

func (r *refMachine) peek(s, w int) uint64 {
	v := r.pop(s, w)
	r.push(s, w, v)
	return v
}

func sext(v uint64, w int) int64 { return int64(v<<(64-8*w)) >> (64 - 8*w) }

func trunc(v uint64, w int) uint64 {
	if w == 8 {
		return v
	}
	return v & (1<<(8*w) - 1)
}

func b2f(b bool) uint64 {
	if b {
		return 0xFF
	}
	return 0
}

func canon32(x float32) uint64 {
	if math.IsNaN(float64(x)) {
		return 0x7FC00000
	}
	return uint64(math.Float32bits(x))
}

func canon64(x float64) uint64 {
	if math.IsNaN(x) {
		return 0x7FF8000000000000
	}
	return math.Float64bits(x)
}

func sat(x float64, bits int) uint64 {
	lim := math.Pow(2, float64(bits-1))
	switch {
	case math.IsNaN(x):
		return 0
	case x >= lim:
		return uint64(int64(lim) - 1)
	case x < -lim:
		return uint64(-int64(lim))
	}
	return uint64(int64(math.Trunc(x)))
}

func (r *refMachine) run() {
	defer func() {
		if e := recover(); e != nil {
			if _, ok := e.(refSkip); ok {
				r.skip = true
				return
			}
			f, ok := e.(refFault)
			if !ok {
				panic(e)
			}
			r.fault, r.faultPC = f.r, r.pc
		}
	}()
	for !r.halted {
		if r.steps >= r.max {
			panic(refFault{StepLimit})
		}
		next, ok := r.step()
		if !ok {
			return
		}
		r.steps++
		if next > 0xFFFF {
			panic(refFault{PCRange})
		}
		r.pc = next
	}
}

type refState struct {
	st   [3][]byte
	hold uint64
	addr uint32
}

func (r *refMachine) snapshot() refState {
	var s refState
	for i := range r.st {
		s.st[i] = append([]byte(nil), r.st[i]...)
	}
	s.hold, s.addr = r.hold, r.addr
	return s
}

// step executes one instruction and returns the next PC; on a fault it
// restores the state and panics with the reason.
func (r *refMachine) step() (next int, ok bool) {
	saved := r.snapshot()
	defer func() {
		if e := recover(); e != nil {
			r.st, r.hold, r.addr = saved.st, saved.hold, saved.addr
			panic(e)
		}
	}()
	op := Opcode(r.code[r.pc])
	name := op.Mnemonic()
	w := 1 << (op & 3)
	next = r.pc + 1
	bin := func(f func(a, b uint64) uint64) {
		b := r.pop(0, w)
		a := r.pop(0, w)
		r.push(0, w, trunc(f(a, b), w))
	}
	cmp := func(f func(a, b uint64) bool) {
		b := r.pop(0, w)
		a := r.pop(0, w)
		r.push(0, 1, b2f(f(a, b)))
	}
	fw := 4 << (op & 1) // float width in bytes
	fbin := func(f32f func(a, b float32) float32, f64f func(a, b float64) float64) {
		b, a := r.pop(0, fw), r.pop(0, fw)
		if fw == 4 {
			r.push(0, 4, canon32(f32f(math.Float32frombits(uint32(a)), math.Float32frombits(uint32(b)))))
		} else {
			r.push(0, 8, canon64(f64f(math.Float64frombits(a), math.Float64frombits(b))))
		}
	}
	fcmp := func(f func(a, b float64) bool) {
		b, a := r.pop(0, fw), r.pop(0, fw)
		if fw == 4 {
			r.push(0, 1, b2f(f(float64(math.Float32frombits(uint32(a))), float64(math.Float32frombits(uint32(b))))))
		} else {
			r.push(0, 1, b2f(f(math.Float64frombits(a), math.Float64frombits(b))))
		}
	}
	stem := name
	if len(name) > 3 {
		stem = name[:3]
	}
	switch {
	case name == "":
		panic(refFault{BadOpcode})
	case name == "HALT":
		r.halted = true
		r.steps++
		return 0, false
	case name == "NOP":
	case name == "CAL8" || name == "CAL16":
		aw := 1 + int(op&1)
		t := r.pop(0, aw)
		if r.pc+1 > 0xFFFF {
			panic(refFault{PCRange})
		}
		r.push(2, 2, uint64(r.pc+1))
		next = int(t)
	case name == "RTN":
		next = int(r.pop(2, 2))
	case stem == "JMP" || stem == "JPR" || stem == "JPC" || stem == "JCR":
		aw := 1 + int(op&1)
		a := r.pop(0, aw)
		cond := true
		if stem == "JPC" || stem == "JCR" {
			cond = r.pop(0, 1) != 0
		}
		if cond {
			if stem == "JPR" || stem == "JCR" {
				next = r.pc + 1 + int(sext(a, aw))
				if next < 0 || next > 0xFFFF {
					panic(refFault{PCRange})
				}
			} else {
				next = int(a)
			}
		}
	case stem == "ADF" || stem == "SBF" || stem == "MLF" || stem == "DVF":
		switch stem {
		case "ADF":
			fbin(func(a, b float32) float32 { return a + b }, func(a, b float64) float64 { return a + b })
		case "SBF":
			fbin(func(a, b float32) float32 { return a - b }, func(a, b float64) float64 { return a - b })
		case "MLF":
			fbin(func(a, b float32) float32 { return a * b }, func(a, b float64) float64 { return a * b })
		default:
			fbin(func(a, b float32) float32 { return a / b }, func(a, b float64) float64 { return a / b })
		}
	case stem == "GRF":
		fcmp(func(a, b float64) bool { return a > b })
	case stem == "LSF":
		fcmp(func(a, b float64) bool { return a < b })
	case stem == "EQF":
		fcmp(func(a, b float64) bool { return a == b })
	case name == "FTF32":
		r.push(0, 4, canon32(float32(math.Float64frombits(r.pop(0, 8)))))
	case name == "FTF64":
		r.push(0, 8, canon64(float64(math.Float32frombits(uint32(r.pop(0, 4))))))
	case name == "ITF32":
		r.push(0, 4, canon32(float32(int32(r.pop(0, 4)))))
	case name == "ITF64":
		r.push(0, 8, canon64(float64(int64(r.pop(0, 8)))))
	case name == "FTI32":
		r.push(0, 4, trunc(sat(float64(math.Float32frombits(uint32(r.pop(0, 4)))), 32), 4))
	case name == "FTI64":
		r.push(0, 8, sat(math.Float64frombits(r.pop(0, 8)), 64))
	case stem == "AND":
		bin(func(a, b uint64) uint64 { return a & b })
	case stem == "OR1" || stem == "OR3" || stem == "OR6" || name == "OR8":
		bin(func(a, b uint64) uint64 { return a | b })
	case stem == "XOR":
		bin(func(a, b uint64) uint64 { return a ^ b })
	case stem == "NOT":
		r.push(0, w, trunc(^r.pop(0, w), w))
	case stem == "NEG":
		r.push(0, w, trunc(-r.pop(0, w), w))
	case stem == "BSL":
		bin(func(a, b uint64) uint64 {
			if b >= 64 {
				return 0
			}
			return a << b
		})
	case stem == "BSR":
		bin(func(a, b uint64) uint64 {
			if b >= 64 {
				return 0
			}
			return a >> b
		})
	case stem == "ADD":
		bin(func(a, b uint64) uint64 { return a + b })
	case stem == "SUB":
		bin(func(a, b uint64) uint64 { return a - b })
	case stem == "MUL":
		bin(func(a, b uint64) uint64 { return a * b })
	case stem == "DIV" || stem == "MOD" || stem == "SDV" || stem == "SMD":
		b := r.pop(0, w)
		a := r.pop(0, w)
		if b == 0 {
			panic(refFault{DivideByZero})
		}
		var x uint64
		switch stem {
		case "DIV":
			x = a / b
		case "MOD":
			x = a % b
		case "SDV":
			sa, sb := sext(a, w), sext(b, w)
			if sb == -1 {
				x = uint64(-sa) // wraps MIN to MIN
			} else {
				x = uint64(sa / sb)
			}
		default:
			sa, sb := sext(a, w), sext(b, w)
			if sb == -1 {
				x = 0
			} else {
				x = uint64(sa % sb)
			}
		}
		r.push(0, w, trunc(x, w))
	case stem == "GRT":
		cmp(func(a, b uint64) bool { return a > b })
	case stem == "LST":
		cmp(func(a, b uint64) bool { return a < b })
	case stem == "EQU":
		cmp(func(a, b uint64) bool { return a == b })
	case stem == "NEQ":
		cmp(func(a, b uint64) bool { return a != b })
	case stem == "SGT":
		cmp(func(a, b uint64) bool { return sext(a, w) > sext(b, w) })
	case stem == "SLT":
		cmp(func(a, b uint64) bool { return sext(a, w) < sext(b, w) })
	case stem == "SWP":
		b, a := r.pop(0, w), r.pop(0, w)
		r.push(0, w, b)
		r.push(0, w, a)
	case stem == "ROT":
		c, b, a := r.pop(0, w), r.pop(0, w), r.pop(0, w)
		r.push(0, w, b)
		r.push(0, w, c)
		r.push(0, w, a)
	case stem == "LIT":
		if r.pc+w > 0xFFFF {
			panic(refFault{PCRange})
		}
		var v uint64
		for i := w; i >= 1; i-- {
			v = v<<8 | uint64(r.code[r.pc+i])
		}
		r.push(0, w, v)
		next = r.pc + 1 + w
	case stem == "ADR":
		a := r.pop(0, w)
		if a >= 1<<32 {
			panic(refFault{AddressRange})
		}
		r.addr = uint32(a)
	case stem == "STR":
		v := r.pop(0, w)
		if uint64(r.addr)+uint64(w) > 1<<32 {
			panic(refFault{AddressRange})
		}
		newPages := map[uint32]bool{}
		for i := 0; i < w; i++ {
			if p := (r.addr + uint32(i)) / PageSize; !r.pages[p] {
				newPages[p] = true
			}
		}
		if uint64(len(r.pages)+len(newPages))*PageSize > r.limit {
			panic(refFault{MemoryLimit})
		}
		for p := range newPages {
			r.pages[p] = true
		}
		for i := 0; i < w; i++ {
			r.mem[r.addr+uint32(i)] = byte(v >> (8 * i))
		}
	case stem == "LOD":
		if len(r.st[0])+w > 256 {
			panic(refFault{DataOverflow})
		}
		if uint64(r.addr)+uint64(w) > 1<<32 {
			panic(refFault{AddressRange})
		}
		var v uint64
		for i := w - 1; i >= 0; i-- {
			v = v<<8 | uint64(r.mem[r.addr+uint32(i)])
		}
		r.push(0, w, v)
	case name == "DRD" || name == "DRS" || name == "DRR":
		r.pop(int(op-DRD), 1)
	case op >= 0xC0:
		from, to := int(op>>4&3), int(op>>2&3)
		var v uint64
		if from == 3 {
			v = trunc(r.hold, w)
		} else {
			v = r.peek(from, w)
		}
		if to == 3 {
			r.hold = v
		} else {
			r.push(to, w, v)
		}
	default:
		// A device or DMA instruction, reached by jumping into data: the
		// reference does not model devices.
		panic(refSkip{})
	}
	return next, true
}

// refOps are the opcodes random programs are made of: everything but the
// device and DMA instructions, with the common ones repeated.
var refOps = func() []Opcode {
	var ops []Opcode
	for i := range 256 {
		op := Opcode(i)
		if !op.Valid() || (op >= 0x80 && op <= 0x9B && op&^3 != SWP8 && op != ITF32 && op != FTI32 && op != ITF64 && op != FTI64) {
			continue
		}
		ops = append(ops, op)
		if op >= LIT8 && op <= LIT64 {
			ops = append(ops, op, op, op, op, op, op)
		}
	}
	return ops
}()

// refProgram turns fuzz bytes into a program of refOps. A prologue fills
// the data stack with twelve 64-bit values (a mix of small numbers, bit
// patterns and floats, picked by the first byte) and copies some to the swap
// and return stacks, so that the random part runs a while before it
// underflows. Then each byte picks an opcode; a LIT takes its immediate from
// the bytes that follow; ADR and the relative jumps get small literals in
// front most of the time, so that programs reach memory and loop.
func refProgram(data []byte) []byte {
	var rom []byte
	seed := uint64(0)
	if len(data) > 0 {
		seed = uint64(data[0])
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	pool := []uint64{0, 1, 2, 3, 7, 0xFF, 0x80, 0x8000, 0xFFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 63, ^uint64(0),
		math.Float64bits(1.5), math.Float64bits(-2), uint64(math.Float32bits(3.25)), math.Float64bits(math.NaN())}
	for range 12 {
		v := pool[rng.IntN(len(pool))]
		if rng.IntN(3) == 0 {
			v = rng.Uint64()
		}
		rom = append(rom, byte(LIT64))
		rom = binary.LittleEndian.AppendUint64(rom, v)
	}
	rom = append(rom, byte(CDS64), byte(CDS32), byte(CDS8), byte(CDR64), byte(CDR16), byte(CDH64))
	for i := 0; i < len(data) && len(rom) < CodeSize-16; i++ {
		op := refOps[int(data[i])%len(refOps)]
		switch {
		case op >= ADR8 && op <= ADR64 && data[i]&1 == 0:
			rom = append(rom, byte(LIT16), data[i]&0x3F, 0x10, byte(ADR16))
			continue
		case (op == JPR8 || op == JCR8) && data[i]&1 == 0:
			rom = append(rom, byte(LIT8), byte(-int8(data[i]&0x1F)), byte(op))
			continue
		}
		rom = append(rom, byte(op))
		for n := op.ImmLen(); n > 0; n-- {
			i++
			if i < len(data) {
				rom = append(rom, data[i])
			} else {
				rom = append(rom, 0)
			}
		}
	}
	return rom
}

func compareWithReference(t *testing.T, rom []byte) {
	t.Helper()
	const maxSteps, maxMem = 5000, 2 * PageSize
	ref := newRef(rom, maxSteps, maxMem)
	ref.run()
	if ref.skip {
		return
	}
	m, err := New(rom, Options{MaxSteps: maxSteps, MaxMemory: maxMem})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Run()
	var gotReason FaultReason
	if f, ok := err.(*Fault); ok {
		gotReason = f.Reason
		if int(f.PC) != ref.faultPC {
			t.Errorf("fault at pc %#x, reference %#x", f.PC, ref.faultPC)
		}
	}
	if gotReason != ref.fault {
		t.Fatalf("fault %v (%v), reference %v at pc %#x; rom % x", gotReason, err, ref.fault, ref.faultPC, rom)
	}
	if m.Steps() != ref.steps || m.Halted() != ref.halted {
		t.Errorf("steps %d halted %v, reference %d %v", m.Steps(), m.Halted(), ref.steps, ref.halted)
	}
	for i, got := range [][]byte{m.DataStack(), m.SwapStack(), m.ReturnStack()} {
		if !bytes.Equal(got, ref.st[i]) && len(got)+len(ref.st[i]) > 0 {
			t.Errorf("stack %d = [% x], reference [% x]", i, got, ref.st[i])
		}
	}
	if h := binary.LittleEndian.Uint64(func() []byte { h := m.Hold(); return h[:] }()); h != ref.hold || m.Address() != ref.addr {
		t.Errorf("hold %#x addr %#x, reference %#x %#x", h, m.Address(), ref.hold, ref.addr)
	}
	if m.MemoryUsed() != uint64(len(ref.pages))*PageSize {
		t.Errorf("memory used %d, reference %d", m.MemoryUsed(), len(ref.pages)*PageSize)
	}
	for a, v := range ref.mem {
		var got [1]byte
		m.ReadMemory(a, got[:])
		if got[0] != v {
			t.Errorf("data RAM[%#x] = %#x, reference %#x", a, got[0], v)
		}
	}
}

// TestReference runs random programs on both implementations.
func TestReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		data := make([]byte, 1+rng.IntN(200))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		compareWithReference(t, refProgram(data))
		if t.Failed() {
			return
		}
	}
}

// FuzzReference is TestReference driven by the fuzzer.
func FuzzReference(f *testing.F) {
	f.Add([]byte{0xB0, 1, 0xB0, 2, 0x60})
	f.Add([]byte("a longer seed that becomes a program of many instructions"))
	f.Fuzz(func(t *testing.T, data []byte) {
		compareWithReference(t, refProgram(data))
	})
}
