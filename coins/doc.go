// Package coins implements the Core machine, which runs COINS: one-byte
// instructions over three 256-byte stacks (data, swap, return), an 8-byte
// hold register, 64 KiB of instruction RAM and 4 GiB of paged data RAM, with
// 16 device slots and 4 DMA controllers.
//
// The machine is deterministic: it starts no goroutines and does no I/O. The
// host attaches devices through the Device interface and drives the machine
// with Run or Step; every run is bounded by a step limit and a memory limit,
// and every error a program can cause stops it with a *Fault naming the
// program counter, the opcode and the reason. The instruction set, the
// device and DMA protocols and the ROM format are specified in docs/coins.md.
package coins
