package coins

import (
	"encoding/binary"
	"errors"
	"io"
)

// The device model (docs/coins.md, "Devices"). Each of the 16 slots has a
// 64-byte output buffer the program writes with DVW, a 64-byte input buffer
// it reads with DVR, a status byte and an interrupt vector. Setting SEND in
// a DVW delivers the output buffer to the slot's device at once, and the
// device may answer in the input buffer before the next instruction runs.
// The machine never calls a device except from the device and DMA
// instructions, so a run is as deterministic as its devices.
const (
	Slots       = 16 // device slots; slot 0 is the system device
	Controllers = 4  // DMA controllers
	BufferSize  = 64 // bytes in each slot's input and output buffer
	IDSize      = 32 // bytes in a device identifier
)

// Slot status flags, set by the flags operand of DVW.
const (
	SEND  byte = 0x80 // deliver the output buffer to the device now
	DONE  byte = 0x40 // with SEND: this is the last chunk of a message
	BLOCK byte = 0x20 // hold this slot's interrupts pending until cleared
)

// DMA controller status flags. The low four bits hold the bound slot.
const (
	DMAReq   byte = 0x80 // start a transfer (DMW flags)
	DMAWrite byte = 0x40 // direction: data RAM → device; clear: device → data RAM
	DMADone  byte = 0x20 // the last transfer completed
	DMAError byte = 0x10 // the last transfer failed or the slot has no DMA device
)

// A Device sits in a slot. Hosts implement it; the machine calls it
// synchronously from the instruction that addresses it, never from another
// goroutine.
type Device interface {
	// ID returns the 32-byte identifier DVP copies into data RAM.
	ID() [IDSize]byte
	// Send receives the slot's output buffer when a DVW sets SEND; done
	// reports whether DONE was set with it. The device may write its answer
	// into in, which the program reads with DVR. An error stops the machine
	// with a DeviceError fault.
	Send(out *[BufferSize]byte, in *[BufferSize]byte, done bool) error
}

// A DMADevice is a Device that also moves blocks to or from data RAM.
type DMADevice interface {
	Device
	// Transfer carries out a DMA request. If write is true the program is
	// sending: the device reads the window (ReadAt); otherwise the device
	// writes its data into it (WriteAt). Transfer returns the number of
	// bytes moved, at most w.Len(); the controller reports it back as its
	// length. An error sets the controller's DMAError flag and leaves the
	// machine running: the program decides what to do.
	Transfer(w *Window, write bool) (n uint32, err error)
}

// A Window is the block of data RAM a DMA transfer may touch. It is valid
// only during the Transfer call it is passed to.
type Window struct {
	m     *Machine
	addr  uint32
	n     uint32
	fault bool // a write ran into the memory limit
}

// ErrMemoryLimit is returned by Window.WriteAt when data RAM is full; the
// DMA instruction then faults with MemoryLimit.
var ErrMemoryLimit = errors.New("coins: memory limit")

// Len returns the size of the window in bytes.
func (w *Window) Len() int { return int(w.n) }

// ReadAt reads data RAM at offset off of the window (io.ReaderAt).
func (w *Window) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(w.n) {
		return 0, io.EOF
	}
	n := min(int64(len(p)), int64(w.n)-off)
	w.m.mem.read(w.addr+uint32(off), p[:n])
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// WriteAt writes data RAM at offset off of the window (io.WriterAt).
func (w *Window) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(w.n) {
		return 0, io.ErrShortWrite
	}
	n := min(int64(len(p)), int64(w.n)-off)
	if !w.m.mem.write(w.addr+uint32(off), p[:n]) {
		w.fault = true
		return 0, ErrMemoryLimit
	}
	if n < int64(len(p)) {
		return int(n), io.ErrShortWrite
	}
	return int(n), nil
}

type slot struct {
	dev    Device
	dma    DMADevice // dev, if it can do DMA
	status byte
	vector uint16
	in     [BufferSize]byte
	out    [BufferSize]byte
}

type controller struct {
	status byte
	addr   uint32
	length uint32
}

// Interrupt raises an interrupt on slot i, as a device would. It is for
// hosts, between calls to Run or Step; the machine delivers it before the
// next instruction (docs/coins.md, "Interrupts"). A slot whose vector is 0
// ignores interrupts.
func (m *Machine) Interrupt(i int) error {
	if i < 0 || i >= Slots {
		return errors.New("coins: no such slot")
	}
	m.raise(i)
	return nil
}

func (m *Machine) raise(i int) {
	if m.slots[i].vector != 0 {
		m.pending |= 1 << i
	}
}

// deliver delivers every deliverable pending interrupt, highest slot first,
// so the lowest slot's handler runs first. It reports false on a return
// stack overflow.
func (m *Machine) deliver() bool {
	for i := Slots - 1; i >= 0; i-- {
		bit := uint16(1) << i
		if m.pending&bit == 0 || m.slots[i].status&BLOCK != 0 {
			continue
		}
		r := &m.st[rStack]
		if r.n+2 > stackSize {
			return false
		}
		m.pending &^= bit
		r.store(r.n, uint64(m.pc))
		r.n += 2
		m.pc = uint32(m.slots[i].vector)
	}
	return true
}

// deviceWrite carries out the delivery part of DVW on slot i.
func (m *Machine) deviceWrite(i int, flags byte) error {
	s := &m.slots[i]
	s.status = flags & (SEND | DONE | BLOCK)
	if flags&SEND == 0 {
		return nil
	}
	var err error
	if i == 0 {
		m.system(s)
	} else if s.dev != nil {
		err = s.dev.Send(&s.out, &s.in, flags&DONE != 0)
	}
	s.status &^= SEND | DONE
	return err
}

// dmaStart carries out a DMW with DMAReq set on controller c. It reports
// false if a device write ran into the memory limit.
func (m *Machine) dmaStart(c *controller) bool {
	c.status &^= DMAReq
	s := &m.slots[c.status&0x0F]
	if s.dma == nil || !inRange(uint64(c.addr), uint64(c.length)) {
		c.status |= DMAError
		c.length = 0
		m.raise(int(c.status & 0x0F))
		return true
	}
	w := Window{m: m, addr: c.addr, n: c.length}
	n, err := s.dma.Transfer(&w, c.status&DMAWrite != 0)
	if w.fault {
		return false
	}
	c.length = min(n, c.length)
	if err != nil {
		c.status |= DMAError
	} else {
		c.status |= DMADone
	}
	m.raise(int(c.status & 0x0F))
	return true
}

// System device commands (out[0] of a SEND to slot 0).
const (
	SysQuery byte = 0x00 // only refresh the input buffer
	SysCode  byte = 0x01 // set the exit code to out[1]
	SysExit  byte = 0x02 // set the exit code to out[1] and halt
	SysPrint byte = 0x03 // write out[2:2+out[1]] to the debug writer
	SysState byte = 0x04 // write a line with PC and stacks to the debug writer
)

// systemID is the system device's identifier: its name, zero-padded.
var systemID = nameID("coins.system")

func nameID(name string) [IDSize]byte {
	var id [IDSize]byte
	copy(id[:], name)
	return id
}

// system carries out a SEND to the system device in slot 0.
func (m *Machine) system(s *slot) {
	switch s.out[0] {
	case SysCode:
		m.exit = s.out[1]
	case SysExit:
		m.exit = s.out[1]
		m.halted = true
	case SysPrint:
		if m.debug != nil {
			n := min(int(s.out[1]), BufferSize-2)
			m.debug.Write(s.out[2 : 2+n])
		}
	case SysState:
		if m.debug != nil {
			io.WriteString(m.debug, m.stateLine())
		}
	}
	// The input buffer, refreshed on every SEND.
	in := &s.in
	clear(in[:])
	in[0] = m.exit
	var mask uint16
	for i := range m.slots {
		if i == 0 || m.slots[i].dev != nil {
			mask |= 1 << i
		}
	}
	binary.LittleEndian.PutUint16(in[1:], mask)
	binary.LittleEndian.PutUint64(in[3:], m.steps+1) // counting this DVW
	binary.LittleEndian.PutUint64(in[11:], m.maxSteps)
	binary.LittleEndian.PutUint64(in[19:], m.mem.used)
	binary.LittleEndian.PutUint64(in[27:], m.mem.limit)
}
