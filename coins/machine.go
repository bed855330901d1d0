package coins

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/coalescent/coal/errs"
)

// Limits and defaults.
const (
	CodeSize  = 1 << 16 // bytes of instruction RAM; the largest ROM
	StackSize = 256     // bytes in each of the data, swap and return stacks

	DefaultMaxSteps  = 1_000_000_000 // Options.MaxSteps when zero
	DefaultMaxMemory = 64 << 20      // Options.MaxMemory when zero
)

const stackSize = StackSize

// The stacks, in the order of the stack-copy opcodes' FF and TT fields.
const (
	dStack = 0
	sStack = 1
	rStack = 2
	hStack = 3 // the hold register, not a stack
)

// Options configure a Machine. The zero value is a machine with the default
// limits, only the system device, and no debug output or trace.
type Options struct {
	// MaxSteps is the number of instructions a machine may run over its
	// life; the next one faults with StepLimit. Zero means DefaultMaxSteps.
	MaxSteps uint64
	// MaxMemory bounds the data RAM pages the program may allocate, in
	// bytes (pages are PageSize bytes). Zero means DefaultMaxMemory. The
	// page table adds 8 KiB for each 4 MiB region touched, 8 MiB at most.
	MaxMemory uint64
	// Devices are attached to the slots of the same index. Slot 0 holds
	// the built-in system device and must be nil.
	Devices [Slots]Device
	// Debug receives the system device's debug output; nil discards it.
	Debug io.Writer
	// Trace, if not nil, is called before each instruction with the
	// machine, the instruction's address and its opcode. It must not
	// change the machine.
	Trace func(m *Machine, pc uint16, op Opcode)
	// Start is the address execution starts at: 0, the ROM's first
	// byte, unless a host runs one of a program's named entry points
	// (docs/calls.md).
	Start uint16
}

// A Machine is one Core: its state and its devices. It is not safe for
// concurrent use; the host drives it with Run or Step.
type Machine struct {
	// code is instruction RAM, with 8 bytes of slack so that reading an
	// immediate never needs a bounds check of its own.
	code [CodeSize + 8]byte
	st   [3]stack
	hold uint64
	pc   uint32 // the next instruction; ≤ 0xFFFF (run-off faults before it is stored)
	addr uint32 // the data RAM address register

	steps    uint64
	maxSteps uint64
	halted   bool
	fault    *Fault
	exit     byte

	mem     ram
	slots   [Slots]slot
	dma     [Controllers]controller
	pending uint16 // slots with an interrupt waiting to be delivered

	debug io.Writer
	trace func(m *Machine, pc uint16, op Opcode)
}

// stack is a 256-byte stack holding n bytes. Bytes above the top are
// garbage and never observed.
type stack struct {
	n int
	b stackBytes
}

// store writes v from logical position p up (see put).
func (s *stack) store(p int, v uint64) { put(&s.b, p, v) }

func (s *stack) bytes() []byte { return append([]byte(nil), s.b[:s.n]...) }

// New returns a machine with rom loaded at instruction address 0 and PC 0.
// A ROM is raw bytes, at most CodeSize of them; instruction RAM past its end
// is zero, which is HALT.
func New(rom []byte, opts Options) (*Machine, error) {
	if len(rom) > CodeSize {
		return nil, errs.E(errs.Op("coins.New"), errs.Invalid, fmt.Sprintf("ROM is %d bytes; the limit is %d", len(rom), CodeSize))
	}
	if opts.Devices[0] != nil {
		return nil, errs.E(errs.Op("coins.New"), errs.Invalid, "slot 0 holds the system device")
	}
	m := &Machine{
		maxSteps: opts.MaxSteps,
		pc:       uint32(opts.Start),
		debug:    opts.Debug,
		trace:    opts.Trace,
	}
	if m.maxSteps == 0 {
		m.maxSteps = DefaultMaxSteps
	}
	m.mem.limit = opts.MaxMemory
	if m.mem.limit == 0 {
		m.mem.limit = DefaultMaxMemory
	}
	copy(m.code[:], rom)
	// The ROM is also the initial image of data RAM, so a program can read
	// its own data (strings, tables) with LOD and hand it to devices by DMA.
	if !m.mem.write(0, rom) {
		return nil, errs.E(errs.Op("coins.New"), errs.Limit, fmt.Sprintf("the %d-byte ROM image exceeds the memory limit of %d bytes", len(rom), m.mem.limit))
	}
	for i, d := range opts.Devices {
		m.slots[i].dev = d
		m.slots[i].dma, _ = d.(DMADevice)
	}
	return m, nil
}

// Run runs the machine until it halts (nil), faults or reaches its step
// limit (a *Fault). Once stopped it returns the same result again.
func (m *Machine) Run() error {
	if m.trace == nil {
		return m.run(m.maxSteps)
	}
	for {
		if err := m.Step(); err != nil || m.halted {
			return err
		}
	}
}

// Step runs one instruction, delivering any pending interrupts first. It
// returns nil if the machine is still running or has halted, and the
// *Fault if it has faulted.
func (m *Machine) Step() error {
	if m.fault == nil && !m.halted && m.trace != nil && m.steps < m.maxSteps {
		if m.pending != 0 && !m.deliver() {
			return m.stop(ReturnOverflow, m.pc)
		}
		if m.pc <= 0xFFFF {
			m.trace(m, uint16(m.pc), Opcode(m.code[m.pc]))
		}
	}
	return m.run(min(m.steps+1, m.maxSteps))
}

// Halted reports whether the program has halted (HALT or a system-device
// exit). A faulted machine has not halted.
func (m *Machine) Halted() bool { return m.halted }

// Fault returns the fault that stopped the machine, or nil.
func (m *Machine) Fault() *Fault { return m.fault }

// ExitCode returns the exit code the program set through the system device
// (0 if it never did).
func (m *Machine) ExitCode() int { return int(m.exit) }

// Steps returns the number of instructions completed.
func (m *Machine) Steps() uint64 { return m.steps }

// PC returns the address of the next instruction (of the HALT, once halted;
// of the faulting instruction, once faulted).
func (m *Machine) PC() uint16 { return uint16(m.pc) }

// DataStack returns a copy of the data stack, bottom first.
func (m *Machine) DataStack() []byte { return m.st[dStack].bytes() }

// SwapStack returns a copy of the swap stack, bottom first.
func (m *Machine) SwapStack() []byte { return m.st[sStack].bytes() }

// ReturnStack returns a copy of the return stack, bottom first.
func (m *Machine) ReturnStack() []byte { return m.st[rStack].bytes() }

// Hold returns the hold register, byte 0 first.
func (m *Machine) Hold() [8]byte {
	var h [8]byte
	binary.LittleEndian.PutUint64(h[:], m.hold)
	return h
}

// Address returns the data RAM address register.
func (m *Machine) Address() uint32 { return m.addr }

// MemoryUsed returns the bytes of data RAM pages allocated.
func (m *Machine) MemoryUsed() uint64 { return m.mem.used }

// ReadMemory copies data RAM at addr into p.
func (m *Machine) ReadMemory(addr uint32, p []byte) error {
	if !inRange(uint64(addr), uint64(len(p))) {
		return errs.E(errs.Op("coins.ReadMemory"), errs.Invalid, "range beyond 4 GiB")
	}
	m.mem.read(addr, p)
	return nil
}

// WriteMemory copies p into data RAM at addr, as a host preparing a run
// would; the pages it allocates count against the memory limit.
func (m *Machine) WriteMemory(addr uint32, p []byte) error {
	if !inRange(uint64(addr), uint64(len(p))) {
		return errs.E(errs.Op("coins.WriteMemory"), errs.Invalid, "range beyond 4 GiB")
	}
	if !m.mem.write(addr, p) {
		return errs.E(errs.Op("coins.WriteMemory"), errs.Limit, "memory limit")
	}
	return nil
}

// stop records a fault at the instruction at pc and returns it.
func (m *Machine) stop(r FaultReason, pc uint32) error {
	pc &= 0xFFFF
	m.pc = pc
	m.fault = &Fault{Reason: r, PC: uint16(pc), Op: Opcode(m.code[pc]), Step: m.steps}
	return m.fault
}

func (m *Machine) stateLine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pc=%04x steps=%d", m.pc, m.steps)
	for i, name := range []string{"d", "s", "r"} {
		fmt.Fprintf(&b, " %s=[% x]", name, m.st[i].bytes())
	}
	h := m.Hold()
	fmt.Fprintf(&b, " h=[% x]\n", h[:])
	return b.String()
}
