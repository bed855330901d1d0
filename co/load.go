package co

import "github.com/coalescent/coal/coins"

// ConsoleSlot is the device slot of the console, where the standard
// library's .co.console expects it: coins.ConsoleSlot.
const ConsoleSlot = coins.ConsoleSlot

// NewMachine returns a Core machine loaded with a program as Co lays it
// out: rom in instruction RAM at address 0 and, as the initial contents of
// data RAM, also at data address 0, so that data written with string
// literals can be read (ADR, LOD) at the address of its anchor. The copy
// counts against opts.MaxMemory.
func NewMachine(rom []byte, opts coins.Options) (*coins.Machine, error) {
	m, err := coins.New(rom, opts)
	if err != nil {
		return nil, err
	}
	if err := m.WriteMemory(0, rom); err != nil {
		return nil, err
	}
	return m, nil
}
