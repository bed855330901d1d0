package coins

import "encoding/binary"

// Data RAM is 4 GiB of address space held as 4 KiB pages, allocated on the
// first write to them. A two-level table finds a page: the top 10 bits of an
// address pick a directory, the next 10 a page, the low 12 the byte. Reads of
// a page never written return zeros and allocate nothing.
const (
	pageBits = 12
	pageSize = 1 << pageBits
	dirBits  = 10

	// PageSize is the size of a data RAM page, the unit Options.MaxMemory
	// counts in.
	PageSize = pageSize
)

type page [pageSize]byte

type pageDir [1 << dirBits]*page

type ram struct {
	dirs  [1 << dirBits]*pageDir
	used  uint64 // bytes of allocated pages
	limit uint64

	// A one-entry cache of the last page touched, for loops over memory.
	lastNum  uint32 // page number + 1; 0 = empty
	lastPage *page
}

// find returns the page holding addr, or nil if it was never written.
func (r *ram) find(addr uint32) *page {
	num := addr >> pageBits
	if r.lastNum == num+1 {
		return r.lastPage
	}
	dir := r.dirs[addr>>(pageBits+dirBits)]
	if dir == nil {
		return nil
	}
	p := dir[num&(1<<dirBits-1)]
	if p != nil {
		r.lastNum, r.lastPage = num+1, p
	}
	return p
}

// alloc returns the page holding addr, allocating it if needed; nil if
// that would exceed the limit.
func (r *ram) alloc(addr uint32) *page {
	if p := r.find(addr); p != nil {
		return p
	}
	if r.used+pageSize > r.limit {
		return nil
	}
	di := addr >> (pageBits + dirBits)
	dir := r.dirs[di]
	if dir == nil {
		dir = new(pageDir)
		r.dirs[di] = dir
	}
	p := new(page)
	dir[(addr>>pageBits)&(1<<dirBits-1)] = p
	r.used += pageSize
	r.lastNum, r.lastPage = addr>>pageBits+1, p
	return p
}

// load reads w bytes (1, 2, 4 or 8) little-endian at addr. The caller has
// checked that addr+w ≤ 2³².
func (r *ram) load(addr uint32, w int) uint64 {
	off := int(addr & (pageSize - 1))
	if off+w <= pageSize {
		p := r.find(addr)
		if p == nil {
			return 0
		}
		b := p[off:]
		switch w {
		case 1:
			return uint64(b[0])
		case 2:
			return uint64(binary.LittleEndian.Uint16(b))
		case 4:
			return uint64(binary.LittleEndian.Uint32(b))
		default:
			return binary.LittleEndian.Uint64(b)
		}
	}
	var buf [8]byte
	r.read(addr, buf[:w])
	return binary.LittleEndian.Uint64(buf[:])
}

// store writes the low w bytes of v little-endian at addr. It reports false
// if a page could not be allocated within the limit; the caller has checked
// that addr+w ≤ 2³².
func (r *ram) store(addr uint32, w int, v uint64) bool {
	off := int(addr & (pageSize - 1))
	if off+w <= pageSize {
		p := r.alloc(addr)
		if p == nil {
			return false
		}
		b := p[off:]
		switch w {
		case 1:
			b[0] = byte(v)
		case 2:
			binary.LittleEndian.PutUint16(b, uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(b, uint32(v))
		default:
			binary.LittleEndian.PutUint64(b, v)
		}
		return true
	}
	if !r.canWrite(addr, w) {
		return false
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], v)
	return r.write(addr, buf[:w])
}

// canWrite reports whether writing n bytes at addr fits in the limit, so
// that small writes spanning two pages are all or nothing.
func (r *ram) canWrite(addr uint32, n int) bool {
	need := uint64(0)
	for a, end := uint64(addr)&^(pageSize-1), uint64(addr)+uint64(n); a < end; a += pageSize {
		if r.find(uint32(a)) == nil {
			need += pageSize
		}
	}
	return r.used+need <= r.limit
}

// read copies len(p) bytes from addr into p; the caller has checked the range.
func (r *ram) read(addr uint32, p []byte) {
	for len(p) > 0 {
		off := int(addr & (pageSize - 1))
		n := min(len(p), pageSize-off)
		if pg := r.find(addr); pg != nil {
			copy(p[:n], pg[off:])
		} else {
			clear(p[:n])
		}
		p = p[n:]
		addr += uint32(n)
	}
}

// write copies p to addr, allocating pages; it reports false, having written
// a prefix, if the limit stops it. The caller has checked the range.
func (r *ram) write(addr uint32, p []byte) bool {
	for len(p) > 0 {
		off := int(addr & (pageSize - 1))
		n := min(len(p), pageSize-off)
		pg := r.alloc(addr)
		if pg == nil {
			return false
		}
		copy(pg[off:], p[:n])
		p = p[n:]
		addr += uint32(n)
	}
	return true
}

// inRange reports whether n bytes at addr lie inside the 4 GiB space.
func inRange(addr uint64, n uint64) bool { return addr+n <= 1<<32 }
