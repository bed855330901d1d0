package coins

import (
	"encoding/binary"
	"math"
)

// slow executes the instructions run leaves out: floats, the device and
// DMA instructions, and the bytes that are not instructions. The loop state is in the machine. It reports whether the
// machine stopped (halted or faulted).
func (m *Machine) slow() bool {
	var (
		op     = Opcode(m.code[m.pc])
		ds     = &m.st[dStack]
		d      = &ds.b
		dn     = ds.n
		pc     = m.pc
		steps  = m.steps
		reason FaultReason
	)
	switch op {
	case ADF32, SBF32, MLF32, DVF32:
		if dn < 8 {
			reason = DataUnderflow
			goto fault
		}
		a := math.Float32frombits(uint32(ld(d, dn-4, 4)))
		b := math.Float32frombits(uint32(ld(d, dn, 4)))
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
		dn -= 4
		put(d, dn-4, f32(x))

	case ADF64, SBF64, MLF64, DVF64:
		if dn < 16 {
			reason = DataUnderflow
			goto fault
		}
		a := math.Float64frombits(ld(d, dn-8, 8))
		b := math.Float64frombits(ld(d, dn, 8))
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
		dn -= 8
		put(d, dn-8, f64(x))

	case GRF32, LSF32, EQF32:
		if dn < 8 {
			reason = DataUnderflow
			goto fault
		}
		a := math.Float32frombits(uint32(ld(d, dn-4, 4)))
		b := math.Float32frombits(uint32(ld(d, dn, 4)))
		var f bool
		switch op {
		case GRF32:
			f = a > b
		case LSF32:
			f = a < b
		default:
			f = a == b
		}
		dn -= 8
		d[dn] = flagByte((f))
		dn++

	case GRF64, LSF64, EQF64:
		if dn < 16 {
			reason = DataUnderflow
			goto fault
		}
		a := math.Float64frombits(ld(d, dn-8, 8))
		b := math.Float64frombits(ld(d, dn, 8))
		var f bool
		switch op {
		case GRF64:
			f = a > b
		case LSF64:
			f = a < b
		default:
			f = a == b
		}
		dn -= 16
		d[dn] = flagByte((f))
		dn++

	case FTF32: // ( f64 -- f32 )
		if dn < 8 {
			reason = DataUnderflow
			goto fault
		}
		x := float32(math.Float64frombits(ld(d, dn, 8)))
		dn -= 4
		put(d, dn-4, f32(x))

	case FTF64: // ( f32 -- f64 )
		if dn < 4 {
			reason = DataUnderflow
			goto fault
		}
		if dn+4 > stackSize {
			reason = DataOverflow
			goto fault
		}
		x := float64(math.Float32frombits(uint32(ld(d, dn, 4))))
		put(d, dn-4, f64(x))
		dn += 4

	case ITF32:
		if dn < 4 {
			reason = DataUnderflow
			goto fault
		}
		put(d, dn-4, f32(float32(int32(ld(d, dn, 4)))))

	case ITF64:
		if dn < 8 {
			reason = DataUnderflow
			goto fault
		}
		put(d, dn-8, f64(float64(int64(ld(d, dn, 8)))))

	case FTI32:
		if dn < 4 {
			reason = DataUnderflow
			goto fault
		}
		put(d, dn-4, fti(float64(math.Float32frombits(uint32(ld(d, dn, 4)))), 4))

	case FTI64:
		if dn < 8 {
			reason = DataUnderflow
			goto fault
		}
		put(d, dn-8, fti(math.Float64frombits(ld(d, dn, 8)), 8))

	case DVR8, DVR16, DVR32, DVR64:
		w := width(op)
		if dn < 2 {
			reason = DataUnderflow
			goto fault
		}
		i, port := int(d[dn-1]), int(d[dn-2])
		if i >= Slots {
			reason = BadDevice
			goto fault
		}
		if port+w > BufferSize {
			reason = BadPort
			goto fault
		}
		if dn-2+w > stackSize {
			reason = DataOverflow
			goto fault
		}
		var buf [8]byte
		copy(buf[:], m.slots[i].in[port:port+w])
		dn -= 2
		put(d, dn, binary.LittleEndian.Uint64(buf[:]))
		dn += w

	case DVW8, DVW16, DVW32, DVW64:
		w := width(op)
		if dn < w+3 {
			reason = DataUnderflow
			goto fault
		}
		i, flags, port := int(d[dn-1]), d[dn-2], int(d[dn-3])
		if i >= Slots {
			reason = BadDevice
			goto fault
		}
		if port+w > BufferSize {
			reason = BadPort
			goto fault
		}
		var buf [8]byte
		binary.LittleEndian.PutUint64(buf[:], ld(d, dn-3, w))
		copy(m.slots[i].out[port:], buf[:w])
		dn -= w + 3
		m.pc, m.steps, ds.n = pc, steps, dn
		if err := m.deviceWrite(i, flags); err != nil {
			m.fault = &Fault{Reason: DeviceError, PC: uint16(pc), Op: op, Step: steps, Err: err}
			return true
		}
		if m.halted {
			m.steps = steps + 1
			return true
		}

	case DVP8, DVP16, DVP32, DVP64:
		w := width(op)
		if dn < w+1 {
			reason = DataUnderflow
			goto fault
		}
		i := int(d[dn-1])
		if i >= Slots {
			reason = BadDevice
			goto fault
		}
		a := ld(d, dn-1, w)
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
		dn -= w + 1

	case DVV:
		if dn < 3 {
			reason = DataUnderflow
			goto fault
		}
		i := int(d[dn-1])
		if i >= Slots {
			reason = BadDevice
			goto fault
		}
		v := uint16(ld(d, dn-1, 2))
		m.slots[i].vector = v
		if v == 0 {
			m.pending &^= 1 << i
		}
		dn -= 3

	case DMR:
		if dn < 1 {
			reason = DataUnderflow
			goto fault
		}
		i := int(d[dn-1])
		if i >= Controllers {
			reason = BadDMA
			goto fault
		}
		if dn-1+8 > stackSize {
			reason = DataOverflow
			goto fault
		}
		c := &m.dma[i]
		put(d, dn-1, uint64(c.length)|uint64(c.addr)<<32)
		dn += 7

	case DMW8, DMW16, DMW32:
		w := width(op)
		if dn < 2*w+2 {
			reason = DataUnderflow
			goto fault
		}
		i, flags := int(d[dn-1]), d[dn-2]
		if i >= Controllers {
			reason = BadDMA
			goto fault
		}
		c := &m.dma[i]
		c.addr = uint32(ld(d, dn-2, w))
		c.length = uint32(ld(d, dn-2-w, w))
		c.status = flags &^ (DMADone | DMAError)
		dn -= 2*w + 2
		if flags&DMAReq != 0 {
			m.pc, m.steps, ds.n = pc, steps, dn
			if !m.dmaStart(i) {
				m.fault = &Fault{Reason: MemoryLimit, PC: uint16(pc), Op: op, Step: steps}
				return true
			}
		}

	case DMP:
		if dn < 2 {
			reason = DataUnderflow
			goto fault
		}
		i, mask := int(d[dn-1]), d[dn-2]
		if i >= Controllers {
			reason = BadDMA
			goto fault
		}
		dn--
		d[dn-1] = flagByte((m.dma[i].status&mask != 0))

	default:
		reason = BadOpcode
		goto fault
	}
	steps++
	if pc == 0xFFFF {
		m.steps, ds.n = steps, dn
		m.stop(PCRange, pc)
		return true
	}
	pc++
	m.pc, m.steps, ds.n = pc, steps, dn
	// Device and DMA instructions may have raised an interrupt or
	// unblocked a slot.
	if m.pending != 0 && !m.deliver() {
		m.stop(ReturnOverflow, m.pc)
		return true
	}
	return false

fault:
	m.steps, ds.n = steps, dn
	m.stop(reason, pc)
	return true
}
