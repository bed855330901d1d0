//go:build ignore

// gen_exec writes exec_gen.go (or the file named by its argument), the
// interpreter's hot loop: one case per opcode with the width a constant, so
// that every load, store, mask and bounds check is specialised. Run it with
// go generate; TestGeneratedLoop checks that exec_gen.go is current.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"strings"
)

var widths = []struct{ bits, bytes int }{{8, 1}, {16, 2}, {32, 4}, {64, 8}}

var out bytes.Buffer

// emit writes a template with {W} (bits), {w} (bytes), {2w}, {3w}, {w1}
// (bytes+1), {OP} and {X} (an expression) replaced.
func emit(tmpl string, op string, bits, w int, x string) {
	tmpl = strings.ReplaceAll(tmpl, "{X}", x)
	r := strings.NewReplacer("{OP}", op, "{W}", fmt.Sprint(bits), "{w}", fmt.Sprint(w),
		"{2w}", fmt.Sprint(2*w), "{3w}", fmt.Sprint(3*w), "{2w-1}", fmt.Sprint(2*w-1),
		"{w1}", fmt.Sprint(w+1), "{256-w}", fmt.Sprint(256-w))
	out.WriteString(r.Replace(tmpl))
}

const binary = `
		case {OP}{W}:
			if dn < {2w} {
				reason = DataUnderflow
				goto fault
			}
			a, b := ld{W}(d, dn-{2w}), ld{W}(d, dn-{w})
			put{W}(d, dn-{2w}, {X})
			dn -= {w}
`

const division = `
		case {OP}{W}:
			if dn < {2w} {
				reason = DataUnderflow
				goto fault
			}
			a, b := ld{W}(d, dn-{2w}), ld{W}(d, dn-{w})
			if b == 0 {
				reason = DivideByZero
				goto fault
			}
			put{W}(d, dn-{2w}, {X})
			dn -= {w}
`

const compare = `
		case {OP}{W}:
			if dn < {2w} {
				reason = DataUnderflow
				goto fault
			}
			a, b := ld{W}(d, dn-{2w}), ld{W}(d, dn-{w})
			d[(dn-{2w})&511] = flagByte({X})
			dn -= {2w-1}
`

const unary = `
		case {OP}{W}:
			if dn < {w} {
				reason = DataUnderflow
				goto fault
			}
			a := ld{W}(d, dn-{w})
			put{W}(d, dn-{w}, {X})
`

const rest = `
		case SWP{W}:
			if dn < {2w} {
				reason = DataUnderflow
				goto fault
			}
			a, b := ld{W}(d, dn-{2w}), ld{W}(d, dn-{w})
			put{W}(d, dn-{2w}, b)
			put{W}(d, dn-{w}, a)

		case ROT{W}:
			if dn < {3w} {
				reason = DataUnderflow
				goto fault
			}
			a, b, c := ld{W}(d, dn-{3w}), ld{W}(d, dn-{2w}), ld{W}(d, dn-{w})
			put{W}(d, dn-{3w}, b)
			put{W}(d, dn-{2w}, c)
			put{W}(d, dn-{w}, a)

		case LIT{W}:
			if dn > {256-w} {
				reason = DataOverflow
				goto fault
			}
			if pc >= 0xFFFF-{w} {
				if pc > 0xFFFF-{w} {
					reason = PCRange
					goto fault
				}
				// The immediate ends instruction RAM: the LIT runs, and
				// then there is no next instruction.
				put{W}(d, dn, imm{W}(code, pc+1))
				m.steps, ds.n = steps+1, dn+{w}
				return m.stop(PCRange, pc)
			}
			put{W}(d, dn, imm{W}(code, pc+1))
			dn += {w}
			pc += {w}

		case ADR{W}:
			if dn < {w} {
				reason = DataUnderflow
				goto fault
			}
			a := ld{W}(d, dn-{w})
			if a > math.MaxUint32 {
				reason = AddressRange
				goto fault
			}
			m.addr = uint32(a)
			dn -= {w}

		case STR{W}:
			if dn < {w} {
				reason = DataUnderflow
				goto fault
			}
			a := m.addr
			if uint64(a)+{w} > 1<<32 {
				reason = AddressRange
				goto fault
			}
			v := ld{W}(d, dn-{w})
			if off := a & (pageSize - 1); m.mem.lastNum == a>>pageBits+1 && off <= pageSize-{w} {
				put{W}page(m.mem.lastPage, off, v)
			} else {
				// Store the loop state and load it again after the call,
				// so that it is not live across it (see run).
				m.pc, m.steps, ds.n = pc, steps, dn
				ok := m.mem.store(a, {w}, v)
				pc, steps, dn = m.pc, m.steps, ds.n
				if !ok {
					reason = MemoryLimit
					goto fault
				}
			}
			dn -= {w}

		case LOD{W}:
			if dn > {256-w} {
				reason = DataOverflow
				goto fault
			}
			a := m.addr
			if uint64(a)+{w} > 1<<32 {
				reason = AddressRange
				goto fault
			}
			var v uint64
			if off := a & (pageSize - 1); m.mem.lastNum == a>>pageBits+1 && off <= pageSize-{w} {
				v = ld{W}page(m.mem.lastPage, off)
			} else {
				m.pc, m.steps, ds.n = pc, steps, dn
				v = m.mem.load(a, {w})
				pc, steps, dn = m.pc, m.steps, ds.n
			}
			put{W}(d, dn, v)
			dn += {w}
`

// A stack copy: {SB}/{SN} and {DB}/{DN} are the source and destination
// stack buffers and depths.
const copyStacks = `
		case {OP}{W}:
			if {SN} < {w} {
				reason = {SU}
				goto fault
			}
			if {DN} > {256-w} {
				reason = {DO}
				goto fault
			}
			put{W}({DB}, {DN}, ld{W}({SB}, {SN}-{w}))
			{DN} += {w}
`

const copyToHold = `
		case {OP}{W}:
			if {SN} < {w} {
				reason = {SU}
				goto fault
			}
			m.hold = ld{W}({SB}, {SN}-{w})
`

const copyFromHold = `
		case {OP}{W}:
			if {DN} > {256-w} {
				reason = {DO}
				goto fault
			}
			put{W}({DB}, {DN}, m.hold)
			{DN} += {w}
`

type stackNames struct{ letter, buf, depth, under, over string }

var stacks = []stackNames{
	{"D", "d", "dn", "DataUnderflow", "DataOverflow"},
	{"S", "&ss.b", "ss.n", "SwapUnderflow", "SwapOverflow"},
	{"R", "&rs.b", "rs.n", "ReturnUnderflow", "ReturnOverflow"},
}

// emitCopies writes the stack-copy matrix, C0-FB.
func emitCopies(bits, w int) {
	for _, from := range stacks {
		for _, to := range stacks {
			op := "C" + from.letter + to.letter
			if from == to {
				op = "DP" + from.letter
			}
			emit(strings.NewReplacer("{SB}", from.buf, "{SN}", from.depth, "{SU}", from.under,
				"{DB}", to.buf, "{DN}", to.depth, "{DO}", to.over).Replace(copyStacks), op, bits, w, "")
		}
		emit(strings.NewReplacer("{SB}", from.buf, "{SN}", from.depth, "{SU}", from.under).Replace(copyToHold),
			"C"+from.letter+"H", bits, w, "")
		emit(strings.NewReplacer("{DB}", from.buf, "{DN}", from.depth, "{DO}", from.over).Replace(copyFromHold),
			"CH"+from.letter, bits, w, "")
	}
}

// Control flow: W is 8 or 16.
const control = `
		case CAL{W}:
			if dn < {w} {
				reason = DataUnderflow
				goto fault
			}
			if pc == 0xFFFF {
				reason = PCRange
				goto fault
			}
			if rs.n > 254 {
				reason = ReturnOverflow
				goto fault
			}
			put16(&rs.b, rs.n, uint64(pc+1))
			rs.n += 2
			pc = uint32(ld{W}(d, dn-{w}))
			dn -= {w}
			steps++
			continue

		case JMP{W}:
			if dn < {w} {
				reason = DataUnderflow
				goto fault
			}
			pc = uint32(ld{W}(d, dn-{w}))
			dn -= {w}
			steps++
			continue

		case JPR{W}:
			if dn < {w} {
				reason = DataUnderflow
				goto fault
			}
			t := int64(pc) + 1 + int64(int{W}(ld{W}(d, dn-{w})))
			if uint64(t) > 0xFFFF {
				reason = PCRange
				goto fault
			}
			dn -= {w}
			pc = uint32(t)
			steps++
			continue

		case JPC{W}:
			if dn < {w1} {
				reason = DataUnderflow
				goto fault
			}
			if d[(dn-{w1})&511] != 0 {
				pc = uint32(ld{W}(d, dn-{w}))
			} else if pc == 0xFFFF {
				m.steps, ds.n = steps+1, dn-{w1}
				return m.stop(PCRange, pc)
			} else {
				pc++
			}
			dn -= {w1}
			steps++
			continue

		case JCR{W}:
			if dn < {w1} {
				reason = DataUnderflow
				goto fault
			}
			t := int64(pc) + 1
			if d[(dn-{w1})&511] != 0 {
				t += int64(int{W}(ld{W}(d, dn-{w})))
				if uint64(t) > 0xFFFF {
					reason = PCRange
					goto fault
				}
			} else if t > 0xFFFF {
				m.steps, ds.n = steps+1, dn-{w1}
				return m.stop(PCRange, pc)
			}
			dn -= {w1}
			pc = uint32(t)
			steps++
			continue
`

func main() {
	out.WriteString(`// Code generated by gen_exec.go; DO NOT EDIT.

package coins

import "math"

// run executes instructions until the machine stops or has completed stop
// steps in all. It returns nil unless the machine faults.
//
// The loop keeps PC, the step count and the data stack depth in locals and
// handles the common instructions itself, one case per opcode and width;
// everything else goes to slow. The locals are stored to the machine before
// any call and loaded again after it, so that they are never live across a
// call and stay in registers. Every check comes before any change, so a
// faulting instruction changes nothing.
func (m *Machine) run(stop uint64) error {
	if m.fault != nil {
		return m.fault
	}
	if m.halted {
		return nil
	}
	if m.pending != 0 && !m.deliver() {
		return m.stop(ReturnOverflow, m.pc)
	}
	var (
		ds     = &m.st[dStack]
		ss     = &m.st[sStack]
		rs     = &m.st[rStack]
		d      = &ds.b
		dn     = ds.n
		code   = &m.code
		pc     = m.pc
		steps  = m.steps
		reason FaultReason
	)
	for steps < stop {
		switch Opcode(code[uint16(pc)]) {
		case HALT:
			m.halted = true
			m.pc, m.steps, ds.n = pc, steps+1, dn
			return nil

		case RTN:
			if rs.n < 2 {
				reason = ReturnUnderflow
				goto fault
			}
			pc = uint32(ld16(&rs.b, rs.n-2))
			rs.n -= 2
			steps++
			continue

		case DRD:
			if dn < 1 {
				reason = DataUnderflow
				goto fault
			}
			dn--

		case DRS:
			if ss.n < 1 {
				reason = SwapUnderflow
				goto fault
			}
			ss.n--

		case DRR:
			if rs.n < 1 {
				reason = ReturnUnderflow
				goto fault
			}
			rs.n--

		case NOP:
`)
	for _, w := range widths[:2] {
		emit(control, "", w.bits, w.bytes, "")
	}
	for _, w := range widths {
		for _, f := range []struct{ op, x string }{
			{"AND", "a & b"}, {"OR", "a | b"}, {"XOR", "a ^ b"}, {"BSL", "a << b"}, {"BSR", "a >> b"},
			{"ADD", "a + b"}, {"SUB", "a - b"}, {"MUL", "a * b"},
		} {
			emit(binary, f.op, w.bits, w.bytes, f.x)
		}
		for _, f := range []struct{ op, x string }{
			{"DIV", "a / b"}, {"MOD", "a % b"},
			{"SDV", "uint64(int{W}(a) / int{W}(b))"}, {"SMD", "uint64(int{W}(a) % int{W}(b))"},
		} {
			emit(division, f.op, w.bits, w.bytes, f.x)
		}
		for _, f := range []struct{ op, x string }{
			{"GRT", "a > b"}, {"LST", "a < b"}, {"EQU", "a == b"}, {"NEQ", "a != b"},
			{"SGT", "int{W}(a) > int{W}(b)"}, {"SLT", "int{W}(a) < int{W}(b)"},
		} {
			emit(compare, f.op, w.bits, w.bytes, f.x)
		}
		emit(unary, "NOT", w.bits, w.bytes, "^a")
		emit(unary, "NEG", w.bits, w.bytes, "-a")
		emit(rest, "", w.bits, w.bytes, "")
		emitCopies(w.bits, w.bytes)
	}
	out.WriteString(`
		default:
			m.pc, m.steps, ds.n = pc, steps, dn
			if m.slow() {
				if m.fault != nil {
					return m.fault
				}
				return nil
			}
			pc, steps, dn = m.pc, m.steps, ds.n
			continue
		}
		steps++
		if pc == 0xFFFF {
			// The last byte of instruction RAM was an instruction.
			m.steps, ds.n = steps, dn
			return m.stop(PCRange, pc)
		}
		pc++
	}
	m.pc, m.steps, ds.n = pc, steps, dn
	if steps >= m.maxSteps {
		return m.stop(StepLimit, pc)
	}
	return nil

fault:
	m.steps, ds.n = steps, dn
	return m.stop(reason, pc)
}
`)
	dst := "exec_gen.go"
	if len(os.Args) > 1 {
		dst = os.Args[1]
	}
	src, err := format.Source(out.Bytes())
	if err != nil {
		os.WriteFile(dst, out.Bytes(), 0o644)
		fail(err)
	}
	if err := os.WriteFile(dst, src, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen_exec:", err)
	os.Exit(1)
}
