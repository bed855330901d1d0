package coda

// The low-level canonical primitives shared by the generic codec and the
// hand-written codecs of coal's own types. Layouts (docs/coda.md):
//
//	uvarint   unsigned LEB128, minimal: 7 bits a byte, low group first, high
//	          bit set on every byte but the last; at most 10 bytes; the last
//	          byte is never 0x00 unless the whole number is 0 (one byte).
//	u16…u64   little-endian, fixed width
//	bool      0x00 false, 0xFF true
//	string    uvarint byte length, then UTF-8 bytes
//	id        32 raw bytes

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/coalescent/coal/errs"
)

// Limits bound what a decoder accepts. The zero Limits means the defaults.
type Limits struct {
	MaxSize  int // largest encoding accepted, in bytes (default DefaultMaxSize)
	MaxDepth int // deepest nesting of lists, maps, optionals, structs, enums and anys (default DefaultMaxDepth)
	MaxElems int // most elements in one list or map (default DefaultMaxElems)
}

// Default limits (docs/coda.md, "Limits").
const (
	DefaultMaxSize  = 1 << 30 // 1 GiB: the largest object; bigger data is chunked by the store
	DefaultMaxDepth = 64
	DefaultMaxElems = 1 << 24
)

// WithDefaults returns l with zero fields replaced by the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElems <= 0 {
		l.MaxElems = DefaultMaxElems
	}
	return l
}

// AppendUvarint appends the minimal unsigned LEB128 encoding of x.
func AppendUvarint(dst []byte, x uint64) []byte {
	for x >= 0x80 {
		dst = append(dst, byte(x)|0x80)
		x >>= 7
	}
	return append(dst, byte(x))
}

// UvarintLen is the length of AppendUvarint's encoding of x.
func UvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// AppendBool appends 0xFF for true, 0x00 for false.
func AppendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 0xFF)
	}
	return append(dst, 0x00)
}

// AppendString appends a length-prefixed string (or bytes).
func AppendString(dst []byte, s string) []byte {
	dst = AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// AppendBytes appends a length-prefixed byte string.
func AppendBytes(dst []byte, b []byte) []byte {
	dst = AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// DecodeError reports where and why a byte string is not a canonical
// encoding. Offset is the byte offset in the input; Path is the field path
// of the value being decoded (e.g. "birthday.day", "tags[3]").
type DecodeError struct {
	Offset int
	Path   string
	Msg    string
}

func (e *DecodeError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("coda: decode at byte %d (%s): %s", e.Offset, e.Path, e.Msg)
	}
	return fmt.Sprintf("coda: decode at byte %d: %s", e.Offset, e.Msg)
}

// Is makes errors.Is(err, errs.Invalid) true for decode errors.
func (e *DecodeError) Is(target error) bool { return target == errs.Invalid }

// Reader reads canonical primitives from a byte slice, rejecting every
// non-canonical form. Errors carry the byte offset. The zero Reader reads an
// empty input; use NewReader.
type Reader struct {
	buf []byte
	off int
}

// NewReader returns a Reader over b (not copied: b must not change while read).
func NewReader(b []byte) *Reader { return &Reader{buf: b} }

// Offset is the number of bytes consumed.
func (r *Reader) Offset() int { return r.off }

// Remaining is the number of bytes left.
func (r *Reader) Remaining() int { return len(r.buf) - r.off }

// Errorf returns a *DecodeError at the current offset.
func (r *Reader) Errorf(format string, args ...any) error {
	return &DecodeError{Offset: r.off, Msg: fmt.Sprintf(format, args...)}
}

// End returns an error if bytes remain.
func (r *Reader) End() error {
	if r.off != len(r.buf) {
		return r.Errorf("%d trailing bytes", len(r.buf)-r.off)
	}
	return nil
}

// Byte reads one byte.
func (r *Reader) Byte() (byte, error) {
	if r.off >= len(r.buf) {
		return 0, r.Errorf("unexpected end of input")
	}
	b := r.buf[r.off]
	r.off++
	return b, nil
}

// Take returns the next n bytes (aliasing the input).
func (r *Reader) Take(n int) ([]byte, error) {
	if n < 0 || n > len(r.buf)-r.off {
		return nil, r.Errorf("unexpected end of input: need %d bytes, have %d", n, len(r.buf)-r.off)
	}
	b := r.buf[r.off : r.off+n : r.off+n]
	r.off += n
	return b, nil
}

// Uvarint reads a minimal unsigned LEB128 number.
func (r *Reader) Uvarint() (uint64, error) {
	start := r.off
	var x uint64
	for i := 0; i < 10; i++ {
		if r.off >= len(r.buf) {
			r.off = start
			return 0, r.Errorf("unexpected end of input in uvarint")
		}
		b := r.buf[r.off]
		r.off++
		if i == 9 && b > 1 {
			r.off = start
			return 0, r.Errorf("uvarint overflows 64 bits")
		}
		x |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			if b == 0 && i > 0 {
				r.off = start
				return 0, r.Errorf("non-minimal uvarint")
			}
			return x, nil
		}
	}
	r.off = start
	return 0, r.Errorf("uvarint longer than 10 bytes")
}

// Len reads a uvarint length and checks it against the remaining input
// (each unit needs at least minUnit bytes) and max.
func (r *Reader) Len(minUnit, max int) (int, error) {
	start := r.off
	n, err := r.Uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(max) {
		r.off = start
		return 0, r.Errorf("length %d exceeds limit %d", n, max)
	}
	if minUnit > 0 && n > uint64(r.Remaining()/minUnit) {
		r.off = start
		return 0, r.Errorf("length %d exceeds the %d remaining bytes", n, r.Remaining())
	}
	return int(n), nil
}

// Bool reads 0x00 or 0xFF.
func (r *Reader) Bool() (bool, error) {
	b, err := r.Byte()
	if err != nil {
		return false, err
	}
	switch b {
	case 0x00:
		return false, nil
	case 0xFF:
		return true, nil
	}
	r.off--
	return false, r.Errorf("non-canonical bool 0x%02x (want 0x00 or 0xff)", b)
}

// U16 reads a little-endian u16.
func (r *Reader) U16() (uint16, error) {
	b, err := r.Take(2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

// U32 reads a little-endian u32.
func (r *Reader) U32() (uint32, error) {
	b, err := r.Take(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

// U64 reads a little-endian u64.
func (r *Reader) U64() (uint64, error) {
	b, err := r.Take(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// ID reads a 32-byte id.
func (r *Reader) ID() (ID, error) {
	var id ID
	b, err := r.Take(IDSize)
	if err != nil {
		return id, err
	}
	copy(id[:], b)
	return id, nil
}

// StringBytes reads a length-prefixed byte string (aliasing the input).
func (r *Reader) StringBytes(max int) ([]byte, error) {
	n, err := r.Len(1, max)
	if err != nil {
		return nil, err
	}
	return r.Take(n)
}
