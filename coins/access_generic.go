//go:build !(amd64 || arm64)

package coins

import "encoding/binary"

// Fixed-width little-endian loads and stores for the interpreter loop; see
// access_le.go for the fast versions. Indexes are masked as there.

func ld8(b *stackBytes, p int) uint64  { return uint64(b[p&511]) }
func ld16(b *stackBytes, p int) uint64 { return uint64(binary.LittleEndian.Uint16(b[p&511:])) }
func ld32(b *stackBytes, p int) uint64 { return uint64(binary.LittleEndian.Uint32(b[p&511:])) }
func ld64(b *stackBytes, p int) uint64 { return binary.LittleEndian.Uint64(b[p&511:]) }

func put8(b *stackBytes, p int, v uint64)  { b[p&511] = byte(v) }
func put16(b *stackBytes, p int, v uint64) { binary.LittleEndian.PutUint16(b[p&511:], uint16(v)) }
func put32(b *stackBytes, p int, v uint64) { binary.LittleEndian.PutUint32(b[p&511:], uint32(v)) }
func put64(b *stackBytes, p int, v uint64) { binary.LittleEndian.PutUint64(b[p&511:], v) }

func imm8(c *[CodeSize + 8]byte, p uint32) uint64 { return uint64(c[p&0xFFFF]) }
func imm16(c *[CodeSize + 8]byte, p uint32) uint64 {
	return uint64(binary.LittleEndian.Uint16(c[p&0xFFFF:]))
}
func imm32(c *[CodeSize + 8]byte, p uint32) uint64 {
	return uint64(binary.LittleEndian.Uint32(c[p&0xFFFF:]))
}
func imm64(c *[CodeSize + 8]byte, p uint32) uint64 { return binary.LittleEndian.Uint64(c[p&0xFFFF:]) }

func ld8page(p *page, off uint32) uint64 { return uint64(p[off&(pageSize-1)]) }
func ld16page(p *page, off uint32) uint64 {
	return uint64(binary.LittleEndian.Uint16(p[off&(pageSize-1):]))
}
func ld32page(p *page, off uint32) uint64 {
	return uint64(binary.LittleEndian.Uint32(p[off&(pageSize-1):]))
}
func ld64page(p *page, off uint32) uint64 { return binary.LittleEndian.Uint64(p[off&(pageSize-1):]) }

func put8page(p *page, off uint32, v uint64) { p[off&(pageSize-1)] = byte(v) }
func put16page(p *page, off uint32, v uint64) {
	binary.LittleEndian.PutUint16(p[off&(pageSize-1):], uint16(v))
}
func put32page(p *page, off uint32, v uint64) {
	binary.LittleEndian.PutUint32(p[off&(pageSize-1):], uint32(v))
}
func put64page(p *page, off uint32, v uint64) { binary.LittleEndian.PutUint64(p[off&(pageSize-1):], v) }
