//go:build amd64 || arm64

package coins

import "unsafe"

// Fixed-width little-endian loads and stores for the interpreter loop, on
// little-endian hosts that allow unaligned access. run is too big for the
// compiler to inline encoding/binary into it, and a call per load costs more
// than the instruction it serves; these are single moves. Every index is
// masked so that the whole access lies inside its array: 9 bits into a
// 520-byte stack buffer, 12 into a page of pageSize+8 bytes, 16 into the
// 65 544 bytes of instruction RAM.

func ld8(b *stackBytes, p int) uint64  { return uint64(b[p&511]) }
func ld16(b *stackBytes, p int) uint64 { return uint64(*(*uint16)(unsafe.Pointer(&b[p&511]))) }
func ld32(b *stackBytes, p int) uint64 { return uint64(*(*uint32)(unsafe.Pointer(&b[p&511]))) }
func ld64(b *stackBytes, p int) uint64 { return *(*uint64)(unsafe.Pointer(&b[p&511])) }

func put8(b *stackBytes, p int, v uint64)  { b[p&511] = byte(v) }
func put16(b *stackBytes, p int, v uint64) { *(*uint16)(unsafe.Pointer(&b[p&511])) = uint16(v) }
func put32(b *stackBytes, p int, v uint64) { *(*uint32)(unsafe.Pointer(&b[p&511])) = uint32(v) }
func put64(b *stackBytes, p int, v uint64) { *(*uint64)(unsafe.Pointer(&b[p&511])) = v }

func imm8(c *[CodeSize + 8]byte, p uint32) uint64 { return uint64(c[p&0xFFFF]) }
func imm16(c *[CodeSize + 8]byte, p uint32) uint64 {
	return uint64(*(*uint16)(unsafe.Pointer(&c[p&0xFFFF])))
}
func imm32(c *[CodeSize + 8]byte, p uint32) uint64 {
	return uint64(*(*uint32)(unsafe.Pointer(&c[p&0xFFFF])))
}
func imm64(c *[CodeSize + 8]byte, p uint32) uint64 { return *(*uint64)(unsafe.Pointer(&c[p&0xFFFF])) }

func ld8page(p *page, off uint32) uint64 { return uint64(p[off&(pageSize-1)]) }
func ld16page(p *page, off uint32) uint64 {
	return uint64(*(*uint16)(unsafe.Pointer(&p[off&(pageSize-1)])))
}
func ld32page(p *page, off uint32) uint64 {
	return uint64(*(*uint32)(unsafe.Pointer(&p[off&(pageSize-1)])))
}
func ld64page(p *page, off uint32) uint64 { return *(*uint64)(unsafe.Pointer(&p[off&(pageSize-1)])) }

func put8page(p *page, off uint32, v uint64) { p[off&(pageSize-1)] = byte(v) }
func put16page(p *page, off uint32, v uint64) {
	*(*uint16)(unsafe.Pointer(&p[off&(pageSize-1)])) = uint16(v)
}
func put32page(p *page, off uint32, v uint64) {
	*(*uint32)(unsafe.Pointer(&p[off&(pageSize-1)])) = uint32(v)
}
func put64page(p *page, off uint32, v uint64) { *(*uint64)(unsafe.Pointer(&p[off&(pageSize-1)])) = v }
