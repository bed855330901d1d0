package coins

import (
	"encoding/binary"
	"math"
)

// The interpreter loop. One switch on the opcode, a jump table; the data
// stack and the PC live in locals; nothing allocates and no interface is
// called except by the device and DMA instructions. Every check happens
// before any state changes, so a faulting instruction leaves the machine as
// it was (docs/coins.md, "Faults").

// width returns the operand width in bytes of a family opcode.
func width(op Opcode) int { return 1 << (op & 3) }

// signed sign-extends the low w bytes of v.
func signed(v uint64, w int) int64 {
	s := 64 - 8*uint(w)
	return int64(v<<s) >> s
}

func flag(b bool) uint64 {
	if b {
		return 0xFF
	}
	return 0
}

const (
	nan32 = 0x7FC00000
	nan64 = 0x7FF8000000000000
)

// f32 and f64 return a float result's bits, with any NaN made the one
// canonical quiet NaN, so results never depend on the host's FPU.
func f32(x float32) uint64 {
	if x != x {
		return nan32
	}
	return uint64(math.Float32bits(x))
}

func f64(x float64) uint64 {
	if x != x {
		return nan64
	}
	return math.Float64bits(x)
}

// fti converts a float to a w-byte signed integer: toward zero, NaN to 0,
// out of range to the nearest bound.
func fti(x float64, w int) uint64 {
	lo := -math.Ldexp(1, 8*w-1)
	switch {
	case x != x:
		return 0
	case x >= -lo:
		return uint64(1)<<(8*w-1) - 1
	case x <= lo:
		return uint64(1) << (8*w - 1)
	}
	return uint64(int64(x))
}

// run executes instructions until the machine stops or has completed stop
// steps in all. It returns nil unless the machine faults.
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
		d      = &m.st[dStack]
		code   = &m.code
		pc     = m.pc
		start  = pc
		steps  = m.steps
		reason FaultReason
	)
	for {
		if pc > 0xFFFF {
			// The instruction at start ran off the end of instruction RAM.
			m.steps = steps
			return m.stop(PCRange, start)
		}
		if steps >= stop {
			break
		}
		start = pc
		op := Opcode(code[uint16(pc)])
		switch op {
		case HALT:
			m.halted = true
			m.pc, m.steps = pc, steps+1
			return nil

		case CAL8, CAL16:
			w := 1 + int(op&1)
			if d.n < w {
				reason = DataUnderflow
				goto fault
			}
			ret := pc + 1
			if ret > 0xFFFF {
				reason = PCRange
				goto fault
			}
			r := &m.st[rStack]
			if r.n+2 > stackSize {
				reason = ReturnOverflow
				goto fault
			}
			pc = uint32(d.at(d.n, w))
			d.n -= w
			r.store(r.n, uint64(ret))
			r.n += 2
			steps++
			continue

		case RTN:
			r := &m.st[rStack]
			if r.n < 2 {
				reason = ReturnUnderflow
				goto fault
			}
			pc = uint32(r.at(r.n, 2))
			r.n -= 2
			steps++
			continue

		case JMP8, JMP16:
			w := 1 + int(op&1)
			if d.n < w {
				reason = DataUnderflow
				goto fault
			}
			pc = uint32(d.at(d.n, w))
			d.n -= w
			steps++
			continue

		case JPR8, JPR16:
			w := 1 + int(op&1)
			if d.n < w {
				reason = DataUnderflow
				goto fault
			}
			t := int64(pc) + 1 + signed(d.at(d.n, w), w)
			if t < 0 || t > 0xFFFF {
				reason = PCRange
				goto fault
			}
			d.n -= w
			pc = uint32(t)
			steps++
			continue

		case JPC8, JPC16, JCR8, JCR16:
			w := 1 + int(op&1)
			if d.n < w+1 {
				reason = DataUnderflow
				goto fault
			}
			a := d.at(d.n, w)
			cond := d.b[8+d.n-w-1]
			t := int64(pc) + 1
			if cond != 0 {
				if op >= JCR8 {
					t += signed(a, w)
				} else {
					t = int64(a)
				}
			}
			if cond != 0 && (t < 0 || t > 0xFFFF) {
				reason = PCRange
				goto fault
			}
			d.n -= w + 1
			pc = uint32(t)
			steps++
			continue

		case ADF32, SBF32, MLF32, DVF32:
			if d.n < 8 {
				reason = DataUnderflow
				goto fault
			}
			a := math.Float32frombits(uint32(d.at(d.n-4, 4)))
			b := math.Float32frombits(uint32(d.at(d.n, 4)))
			var x float32
			switch op {
			case ADF32:
				x = a + b
			case SBF32:
				x = a - b
			case MLF32:
				x = a * b
			default:
				x = a / b
			}
			d.n -= 4
			d.store(d.n-4, f32(x))

		case ADF64, SBF64, MLF64, DVF64:
			if d.n < 16 {
				reason = DataUnderflow
				goto fault
			}
			a := math.Float64frombits(d.at(d.n-8, 8))
			b := math.Float64frombits(d.at(d.n, 8))
			var x float64
			switch op {
			case ADF64:
				x = a + b
			case SBF64:
				x = a - b
			case MLF64:
				x = a * b
			default:
				x = a / b
			}
			d.n -= 8
			d.store(d.n-8, f64(x))

		case GRF32, LSF32, EQF32:
			if d.n < 8 {
				reason = DataUnderflow
				goto fault
			}
			a := math.Float32frombits(uint32(d.at(d.n-4, 4)))
			b := math.Float32frombits(uint32(d.at(d.n, 4)))
			var f bool
			switch op {
			case GRF32:
				f = a > b
			case LSF32:
				f = a < b
			default:
				f = a == b
			}
			d.n -= 8
			d.b[8+d.n] = byte(flag(f))
			d.n++

		case GRF64, LSF64, EQF64:
			if d.n < 16 {
				reason = DataUnderflow
				goto fault
			}
			a := math.Float64frombits(d.at(d.n-8, 8))
			b := math.Float64frombits(d.at(d.n, 8))
			var f bool
			switch op {
			case GRF64:
				f = a > b
			case LSF64:
				f = a < b
			default:
				f = a == b
			}
			d.n -= 16
			d.b[8+d.n] = byte(flag(f))
			d.n++

		case FTF32: // ( f64 -- f32 )
			if d.n < 8 {
				reason = DataUnderflow
				goto fault
			}
			x := float32(math.Float64frombits(d.at(d.n, 8)))
			d.n -= 4
			d.store(d.n-4, f32(x))

		case FTF64: // ( f32 -- f64 )
			if d.n < 4 {
				reason = DataUnderflow
				goto fault
			}
			if d.n+4 > stackSize {
				reason = DataOverflow
				goto fault
			}
			x := float64(math.Float32frombits(uint32(d.at(d.n, 4))))
			d.store(d.n-4, f64(x))
			d.n += 4

		case ITF32:
			if d.n < 4 {
				reason = DataUnderflow
				goto fault
			}
			d.store(d.n-4, f32(float32(int32(d.at(d.n, 4)))))

		case ITF64:
			if d.n < 8 {
				reason = DataUnderflow
				goto fault
			}
			d.store(d.n-8, f64(float64(int64(d.at(d.n, 8)))))

		case FTI32:
			if d.n < 4 {
				reason = DataUnderflow
				goto fault
			}
			d.store(d.n-4, fti(float64(math.Float32frombits(uint32(d.at(d.n, 4)))), 4))

		case FTI64:
			if d.n < 8 {
				reason = DataUnderflow
				goto fault
			}
			d.store(d.n-8, fti(math.Float64frombits(d.at(d.n, 8)), 8))

		case AND8, AND16, AND32, AND64,
			OR8, OR16, OR32, OR64,
			XOR8, XOR16, XOR32, XOR64,
			BSL8, BSL16, BSL32, BSL64,
			BSR8, BSR16, BSR32, BSR64,
			ADD8, ADD16, ADD32, ADD64,
			SUB8, SUB16, SUB32, SUB64,
			MUL8, MUL16, MUL32, MUL64:
			w := width(op)
			if d.n < 2*w {
				reason = DataUnderflow
				goto fault
			}
			b := d.at(d.n, w)
			a := d.at(d.n-w, w)
			var x uint64
			switch op &^ 3 {
			case AND8:
				x = a & b
			case OR8:
				x = a | b
			case XOR8:
				x = a ^ b
			case BSL8:
				x = a << b
			case BSR8:
				x = a >> b
			case ADD8:
				x = a + b
			case SUB8:
				x = a - b
			default:
				x = a * b
			}
			d.n -= w
			d.store(d.n-w, x)

		case DIV8, DIV16, DIV32, DIV64,
			MOD8, MOD16, MOD32, MOD64,
			SDV8, SDV16, SDV32, SDV64,
			SMD8, SMD16, SMD32, SMD64:
			w := width(op)
			if d.n < 2*w {
				reason = DataUnderflow
				goto fault
			}
			b := d.at(d.n, w)
			a := d.at(d.n-w, w)
			if b == 0 {
				reason = DivideByZero
				goto fault
			}
			var x uint64
			switch op &^ 3 {
			case DIV8:
				x = a / b
			case MOD8:
				x = a % b
			case SDV8:
				x = uint64(signed(a, w) / signed(b, w))
			default:
				x = uint64(signed(a, w) % signed(b, w))
			}
			d.n -= w
			d.store(d.n-w, x)

		case GRT8, GRT16, GRT32, GRT64,
			LST8, LST16, LST32, LST64,
			EQU8, EQU16, EQU32, EQU64,
			NEQ8, NEQ16, NEQ32, NEQ64,
			SGT8, SGT16, SGT32, SGT64,
			SLT8, SLT16, SLT32, SLT64:
			w := width(op)
			if d.n < 2*w {
				reason = DataUnderflow
				goto fault
			}
			b := d.at(d.n, w)
			a := d.at(d.n-w, w)
			var f bool
			switch op &^ 3 {
			case GRT8:
				f = a > b
			case LST8:
				f = a < b
			case EQU8:
				f = a == b
			case NEQ8:
				f = a != b
			case SGT8:
				f = signed(a, w) > signed(b, w)
			default:
				f = signed(a, w) < signed(b, w)
			}
			d.n -= 2 * w
			d.b[8+d.n] = byte(flag(f))
			d.n++

		case NOT8, NOT16, NOT32, NOT64, NEG8, NEG16, NEG32, NEG64:
			w := width(op)
			if d.n < w {
				reason = DataUnderflow
				goto fault
			}
			a := d.at(d.n, w)
			if op >= NEG8 {
				a = -a
			} else {
				a = ^a
			}
			d.store(d.n-w, a)

		case SWP8, SWP16, SWP32, SWP64:
			w := width(op)
			if d.n < 2*w {
				reason = DataUnderflow
				goto fault
			}
			b := d.at(d.n, w)
			a := d.at(d.n-w, w)
			d.store(d.n-2*w, b)
			d.store(d.n-w, a)

		case ROT8, ROT16, ROT32, ROT64:
			w := width(op)
			if d.n < 3*w {
				reason = DataUnderflow
				goto fault
			}
			c := d.at(d.n, w)
			b := d.at(d.n-w, w)
			a := d.at(d.n-2*w, w)
			d.store(d.n-3*w, b)
			d.store(d.n-2*w, c)
			d.store(d.n-w, a)

		case LIT8, LIT16, LIT32, LIT64:
			w := width(op)
			if pc+uint32(w) > 0xFFFF {
				reason = PCRange
				goto fault
			}
			if d.n+w > stackSize {
				reason = DataOverflow
				goto fault
			}
			d.store(d.n, binary.LittleEndian.Uint64(code[pc+1:]))
			d.n += w
			pc += uint32(w)

		case ADR8, ADR16, ADR32, ADR64:
			w := width(op)
			if d.n < w {
				reason = DataUnderflow
				goto fault
			}
			a := d.at(d.n, w)
			if a > math.MaxUint32 {
				reason = AddressRange
				goto fault
			}
			m.addr = uint32(a)
			d.n -= w

		case STR8, STR16, STR32, STR64:
			w := width(op)
			if d.n < w {
				reason = DataUnderflow
				goto fault
			}
			if !inRange(uint64(m.addr), uint64(w)) {
				reason = AddressRange
				goto fault
			}
			if !m.mem.store(m.addr, w, d.at(d.n, w)) {
				reason = MemoryLimit
				goto fault
			}
			d.n -= w

		case LOD8, LOD16, LOD32, LOD64:
			w := width(op)
			if d.n+w > stackSize {
				reason = DataOverflow
				goto fault
			}
			if !inRange(uint64(m.addr), uint64(w)) {
				reason = AddressRange
				goto fault
			}
			d.store(d.n, m.mem.load(m.addr, w))
			d.n += w

		case DPD8, DPD16, DPD32, DPD64:
			w := width(op)
			if d.n < w {
				reason = DataUnderflow
				goto fault
			}
			if d.n+w > stackSize {
				reason = DataOverflow
				goto fault
			}
			d.store(d.n, d.at(d.n, w))
			d.n += w

		case DRD:
			if d.n < 1 {
				reason = DataUnderflow
				goto fault
			}
			d.n--

		case DRS, DRR:
			s := &m.st[op-DRD]
			if s.n < 1 {
				reason = underflow(int(op - DRD))
				goto fault
			}
			s.n--

		case NOP:

		case CDS8, CDS16, CDS32, CDS64,
			CDR8, CDR16, CDR32, CDR64,
			CDH8, CDH16, CDH32, CDH64,
			CSD8, CSD16, CSD32, CSD64,
			DPS8, DPS16, DPS32, DPS64,
			CSR8, CSR16, CSR32, CSR64,
			CSH8, CSH16, CSH32, CSH64,
			CRD8, CRD16, CRD32, CRD64,
			CRS8, CRS16, CRS32, CRS64,
			DPR8, DPR16, DPR32, DPR64,
			CRH8, CRH16, CRH32, CRH64,
			CHD8, CHD16, CHD32, CHD64,
			CHS8, CHS16, CHS32, CHS64,
			CHR8, CHR16, CHR32, CHR64:
			w := width(op)
			from, to := int(op>>4&3), int(op>>2&3)
			var v uint64
			if from == hStack {
				v = m.hold << (64 - 8*uint(w)) >> (64 - 8*uint(w))
			} else {
				s := &m.st[from]
				if s.n < w {
					reason = underflow(from)
					goto fault
				}
				v = s.at(s.n, w)
			}
			if to == hStack {
				m.hold = v
			} else {
				s := &m.st[to]
				if s.n+w > stackSize {
					reason = overflow(to)
					goto fault
				}
				s.store(s.n, v)
				s.n += w
			}

		case DVR8, DVR16, DVR32, DVR64:
			w := width(op)
			if d.n < 2 {
				reason = DataUnderflow
				goto fault
			}
			i, port := int(d.b[8+d.n-1]), int(d.b[8+d.n-2])
			if i >= Slots {
				reason = BadDevice
				goto fault
			}
			if port+w > BufferSize {
				reason = BadPort
				goto fault
			}
			if d.n-2+w > stackSize {
				reason = DataOverflow
				goto fault
			}
			var buf [8]byte
			copy(buf[:], m.slots[i].in[port:port+w])
			d.n -= 2
			d.store(d.n, binary.LittleEndian.Uint64(buf[:]))
			d.n += w

		case DVW8, DVW16, DVW32, DVW64:
			w := width(op)
			if d.n < w+3 {
				reason = DataUnderflow
				goto fault
			}
			i, flags, port := int(d.b[8+d.n-1]), d.b[8+d.n-2], int(d.b[8+d.n-3])
			if i >= Slots {
				reason = BadDevice
				goto fault
			}
			if port+w > BufferSize {
				reason = BadPort
				goto fault
			}
			var buf [8]byte
			binary.LittleEndian.PutUint64(buf[:], d.at(d.n-3, w))
			copy(m.slots[i].out[port:], buf[:w])
			d.n -= w + 3
			m.pc, m.steps = pc, steps
			if err := m.deviceWrite(i, flags); err != nil {
				m.fault = &Fault{Reason: DeviceError, PC: uint16(start), Op: op, Step: steps, Err: err}
				return m.fault
			}
			if m.halted {
				m.steps = steps + 1
				return nil
			}
			if m.pending != 0 {
				pc++
				steps++
				goto interrupts
			}

		case DVP8, DVP16, DVP32, DVP64:
			w := width(op)
			if d.n < w+1 {
				reason = DataUnderflow
				goto fault
			}
			i := int(d.b[8+d.n-1])
			if i >= Slots {
				reason = BadDevice
				goto fault
			}
			a := d.at(d.n-1, w)
			if !inRange(a, IDSize) {
				reason = AddressRange
				goto fault
			}
			var id [IDSize]byte
			if i == 0 {
				id = systemID
			} else if dev := m.slots[i].dev; dev != nil {
				id = dev.ID()
			}
			if !m.mem.canWrite(uint32(a), IDSize) {
				reason = MemoryLimit
				goto fault
			}
			if !m.mem.write(uint32(a), id[:]) {
				reason = MemoryLimit
				goto fault
			}
			d.n -= w + 1

		case DVV:
			if d.n < 3 {
				reason = DataUnderflow
				goto fault
			}
			i := int(d.b[8+d.n-1])
			if i >= Slots {
				reason = BadDevice
				goto fault
			}
			v := uint16(d.at(d.n-1, 2))
			m.slots[i].vector = v
			if v == 0 {
				m.pending &^= 1 << i
			}
			d.n -= 3

		case DMR:
			if d.n < 1 {
				reason = DataUnderflow
				goto fault
			}
			i := int(d.b[8+d.n-1])
			if i >= Controllers {
				reason = BadDMA
				goto fault
			}
			if d.n-1+8 > stackSize {
				reason = DataOverflow
				goto fault
			}
			c := &m.dma[i]
			d.store(d.n-1, uint64(c.length)|uint64(c.addr)<<32)
			d.n += 7

		case DMW8, DMW16, DMW32:
			w := width(op)
			if d.n < 2*w+2 {
				reason = DataUnderflow
				goto fault
			}
			i, flags := int(d.b[8+d.n-1]), d.b[8+d.n-2]
			if i >= Controllers {
				reason = BadDMA
				goto fault
			}
			c := &m.dma[i]
			c.addr = uint32(d.at(d.n-2, w))
			c.length = uint32(d.at(d.n-2-w, w))
			c.status = flags &^ (DMADone | DMAError)
			d.n -= 2*w + 2
			if flags&DMAReq != 0 {
				m.pc, m.steps = pc, steps
				if !m.dmaStart(c) {
					m.fault = &Fault{Reason: MemoryLimit, PC: uint16(start), Op: op, Step: steps}
					return m.fault
				}
				if m.pending != 0 {
					pc++
					steps++
					goto interrupts
				}
			}

		case DMP:
			if d.n < 2 {
				reason = DataUnderflow
				goto fault
			}
			i, mask := int(d.b[8+d.n-1]), d.b[8+d.n-2]
			if i >= Controllers {
				reason = BadDMA
				goto fault
			}
			d.n--
			d.b[8+d.n-1] = byte(flag(m.dma[i].status&mask != 0))

		default:
			reason = BadOpcode
			goto fault
		}
		pc++
		steps++
		continue

	interrupts:
		m.pc = pc
		if !m.deliver() {
			m.steps = steps
			return m.stop(ReturnOverflow, pc)
		}
		pc = m.pc
	}
	m.pc, m.steps = pc, steps
	if pc > 0xFFFF {
		return m.stop(PCRange, start)
	}
	if steps >= m.maxSteps {
		return m.stop(StepLimit, pc)
	}
	return nil

fault:
	m.steps = steps
	return m.stop(reason, start)
}

func overflow(stack int) FaultReason  { return DataOverflow + 2*FaultReason(stack) }
func underflow(stack int) FaultReason { return DataUnderflow + 2*FaultReason(stack) }
