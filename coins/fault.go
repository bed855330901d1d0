package coins

import (
	"fmt"

	"github.com/coalescent/coal/errs"
)

// A FaultReason says why the machine stopped with a fault.
type FaultReason uint8

// The fault reasons. docs/coins.md lists which instructions raise which.
const (
	DataOverflow    FaultReason = iota + 1 // push past 256 bytes on the data stack
	DataUnderflow                          // pop or copy more bytes than the data stack holds
	SwapOverflow                           // the same for the swap stack
	SwapUnderflow                          //
	ReturnOverflow                         // the same for the return stack (CAL, interrupts)
	ReturnUnderflow                        //
	BadOpcode                              // the byte at PC is not an instruction
	DivideByZero                           // DIV, MOD, SDV or SMD with a zero divisor
	BadDevice                              // device slot index ≥ 16
	BadPort                                // device buffer offset + width > 64
	BadDMA                                 // DMA controller index ≥ 4
	AddressRange                           // a data RAM address or access beyond 4 GiB
	PCRange                                // the PC, an immediate or a jump target beyond 0xFFFF
	MemoryLimit                            // allocating a data RAM page would exceed Options.MaxMemory
	StepLimit                              // Options.MaxSteps instructions have run
	DeviceError                            // a device's Send returned an error
)

var reasonNames = [...]string{
	0:               "fault",
	DataOverflow:    "data stack overflow",
	DataUnderflow:   "data stack underflow",
	SwapOverflow:    "swap stack overflow",
	SwapUnderflow:   "swap stack underflow",
	ReturnOverflow:  "return stack overflow",
	ReturnUnderflow: "return stack underflow",
	BadOpcode:       "bad opcode",
	DivideByZero:    "division by zero",
	BadDevice:       "bad device index",
	BadPort:         "bad device port",
	BadDMA:          "bad dma index",
	AddressRange:    "address out of range",
	PCRange:         "pc out of range",
	MemoryLimit:     "memory limit",
	StepLimit:       "step limit",
	DeviceError:     "device error",
}

// String returns the reason as printed in fault messages, e.g.
// "data stack underflow".
func (r FaultReason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("fault(%d)", uint8(r))
}

// Kind returns the errs kind of the reason: errs.Limit for the step and
// memory limits, errs.Invalid for everything a program does wrong.
func (r FaultReason) Kind() errs.Kind {
	switch r {
	case StepLimit, MemoryLimit:
		return errs.Limit
	}
	return errs.Invalid
}

// A Fault stops the machine. It names the instruction that caused it: PC
// is that instruction's address and Op its opcode. For a step-limit fault
// they name the next instruction, which did not run.
type Fault struct {
	Reason FaultReason
	PC     uint16
	Op     Opcode
	Step   uint64 // instructions completed before the fault (Machine.Steps)
	Err    error  // the device's error, for DeviceError; nil otherwise
}

// Error returns the fault as the CLI prints it:
//
//	fault: data stack underflow at pc=0x0003 op=0x60 (ADD8)
//
// An unassigned opcode prints as "(?)".
func (f *Fault) Error() string {
	name := f.Op.Mnemonic()
	if name == "" {
		name = "?"
	}
	s := fmt.Sprintf("fault: %s at pc=0x%04x op=0x%02x (%s)", f.Reason, f.PC, byte(f.Op), name)
	if f.Err != nil {
		s += ": " + f.Err.Error()
	}
	return s
}

// Unwrap returns the fault's errs kind, so errors.Is(err, errs.Limit) and
// errs.KindOf work on faults.
func (f *Fault) Unwrap() error { return f.Reason.Kind() }
