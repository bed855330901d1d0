package coda

// Decoding canonical bodies (layouts: the top of encode.go; rules:
// docs/coda.md §2 and §5). The decoder accepts exactly the bytes the
// encoder writes: every other byte string is rejected with the offset and
// field path of the first byte that makes it non-canonical.
//
// Memory: a decode allocates the Value tree (carved from a few shared
// chunks, not one allocation per value) and copies the input's strings,
// bytes and ids once, in windows of at most 32 KiB that the decoded strings
// share. Every list or map count is checked against the limits and the
// remaining input before anything is allocated for it, and values that take
// no input (bytes[0], empty structs) are counted against Limits.MaxElems, so
// the memory used is O(input size × nesting depth + Limits.MaxElems).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/coalescent/coal/errs"
)

// Resolver finds schemas by id: for decoding objects and `any` values.
// SchemaByID returns an error with kind errs.NotExist for an unknown id.
type Resolver interface {
	SchemaByID(id ID) (*Schema, error)
}

// DecodeOptions configure a decode. The zero value uses the default limits
// and no resolver (so objects and `any` values fail with errs.NotExist).
type DecodeOptions struct {
	Limits   Limits
	Resolver Resolver
}

// DecodeValue decodes data, the canonical body of a value of type t. The
// whole input must be consumed. Errors are *DecodeError (errors.Is
// errs.Invalid), or wrap one with kind errs.NotExist when an `any` names a
// schema the resolver does not know.
func DecodeValue(t *Type, data []byte, opts DecodeOptions) (Value, error) {
	d := newDecoder(data, opts)
	if err := d.checkSize(); err != nil {
		return Value{}, err
	}
	var v Value
	if err := d.value(t, &v); err != nil {
		return Value{}, err
	}
	if err := d.end(); err != nil {
		return Value{}, err
	}
	return v, nil
}

// DecodeBody decodes body, the canonical body of a value of the struct or
// enum schema s.
func DecodeBody(s *Schema, body []byte, opts DecodeOptions) (Value, error) {
	d := newDecoder(body, opts)
	if err := d.checkSize(); err != nil {
		return Value{}, err
	}
	var v Value
	if err := d.schema(s, &v); err != nil {
		return Value{}, err
	}
	if err := d.end(); err != nil {
		return Value{}, err
	}
	return v, nil
}

// DecodeObject decodes object bytes, schema id ‖ body, looking the schema
// up with opts.Resolver. Offsets in errors count from the start of data.
func DecodeObject(data []byte, opts DecodeOptions) (*Schema, Value, error) {
	d := newDecoder(data, opts)
	if err := d.checkSize(); err != nil {
		return nil, Value{}, err
	}
	if len(data) < IDSize {
		return nil, Value{}, d.errAt(len(data), "unexpected end of input: an object starts with a %d-byte schema id, have %d bytes", IDSize, len(data))
	}
	s, err := d.resolve(ID(data[:IDSize]), 0)
	if err != nil {
		return nil, Value{}, err
	}
	d.off = IDSize
	var v Value
	if err := d.schema(s, &v); err != nil {
		return nil, Value{}, err
	}
	if err := d.end(); err != nil {
		return nil, Value{}, err
	}
	return s, v, nil
}

const (
	strWindow = 32 << 10 // strings are copied out of the input in windows this big
	maxChunk  = 1024     // Values per shared allocation, at most
)

type decoder struct {
	buf   []byte // the input; shortened to the end of an `any` body while inside one
	all   []byte // the whole input
	off   int
	lim   Limits
	res   Resolver
	depth int
	zero  int // budget of zero-size elements left

	win   string // a copy of all[winAt:winAt+len(win)], shared by the strings cut from it
	winAt int

	slab []Value // Values not yet handed out
	used int     // Values handed out
}

func newDecoder(data []byte, opts DecodeOptions) decoder {
	lim := opts.Limits.WithDefaults()
	return decoder{buf: data, all: data, lim: lim, res: opts.Resolver, zero: lim.MaxElems}
}

func (d *decoder) errAt(off int, format string, args ...any) error {
	return &DecodeError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) eof(need int) error {
	return d.errAt(d.off, "unexpected end of input: need %d bytes, have %d", need, len(d.buf)-d.off)
}

func (d *decoder) checkSize() error {
	if len(d.all) > d.lim.MaxSize {
		return d.errAt(d.lim.MaxSize, "input is %d bytes, more than the size limit %d", len(d.all), d.lim.MaxSize)
	}
	return nil
}

func (d *decoder) end() error {
	if d.off != len(d.buf) {
		return d.errAt(d.off, "%d trailing bytes", len(d.buf)-d.off)
	}
	return nil
}

// dprefix puts seg in front of the path of the DecodeError in err.
func dprefix(err error, seg string) error {
	var de *DecodeError
	if errors.As(err, &de) {
		de.Path = joinPath(seg, de.Path)
	}
	return err
}

// alloc returns n zeroed Values that no one else uses, carved from a shared
// chunk. Callers check n against the limits and the input first.
func (d *decoder) alloc(n int) []Value {
	d.used += n
	if n > len(d.slab) {
		if n > maxChunk/2 {
			return make([]Value, n)
		}
		d.slab = make([]Value, d.chunkSize(n))
	}
	s := d.slab[:n:n]
	d.slab = d.slab[n:]
	return s
}

// chunkSize guesses how many Values the rest of the input needs, so that
// most decodes allocate their tree at once and waste little: at first one
// per 6 bytes of input (typical of structs with strings), later at the rate
// seen so far.
func (d *decoder) chunkSize(n int) int {
	rem := len(d.all) - d.off
	est := len(d.all)/6 + 4
	if d.used > n && d.off > 0 {
		est = int(float64(d.used) / float64(d.off) * float64(rem) * 1.25)
	}
	return min(max(est, n, 8), maxChunk)
}

// str returns all[a:b] as a string, sharing a copied window of the input.
func (d *decoder) str(a, b int) string {
	if a == b {
		return ""
	}
	if a >= d.winAt && b <= d.winAt+len(d.win) {
		return d.win[a-d.winAt : b-d.winAt]
	}
	end := min(max(a+strWindow, b), len(d.all))
	d.win = string(d.all[a:end])
	d.winAt = a
	return d.win[:b-a]
}

func (d *decoder) enter(off int) error {
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return d.errAt(off, "nesting deeper than the limit %d", d.lim.MaxDepth)
	}
	return nil
}

func (d *decoder) uvarint() (uint64, error) {
	if d.off < len(d.buf) && d.buf[d.off] < 0x80 {
		x := d.buf[d.off]
		d.off++
		return uint64(x), nil
	}
	start := d.off
	var x uint64
	for i := 0; i < 10; i++ {
		if d.off >= len(d.buf) {
			return 0, d.errAt(start, "unexpected end of input in uvarint")
		}
		b := d.buf[d.off]
		d.off++
		if i == 9 && b > 1 {
			return 0, d.errAt(start, "uvarint overflows 64 bits")
		}
		x |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			if b == 0 {
				return 0, d.errAt(start, "non-minimal uvarint")
			}
			return x, nil
		}
	}
	return 0, d.errAt(start, "uvarint longer than 10 bytes") // unreachable: the tenth byte is < 0x80
}

// length reads a byte length that must fit in the remaining input.
func (d *decoder) length() (int, error) {
	start := d.off
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if rem := len(d.buf) - d.off; n > uint64(rem) {
		return 0, d.errAt(start, "length %d exceeds the %d remaining bytes", n, rem)
	}
	return int(n), nil
}

// count reads the element count of a list or map whose elements encode to
// at least min bytes each, checking it before anything is allocated.
func (d *decoder) count(min int) (int, error) {
	start := d.off
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(d.lim.MaxElems) {
		return 0, d.errAt(start, "%d elements, more than the limit %d", n, d.lim.MaxElems)
	}
	if min > 0 {
		if rem := len(d.buf) - d.off; n > uint64(rem/min) {
			return 0, d.errAt(start, "%d elements of at least %d bytes exceed the %d remaining bytes", n, min, rem)
		}
	} else {
		d.zero -= int(n)
		if d.zero < 0 {
			return 0, d.errAt(start, "more than %d values of zero-size types in one input", d.lim.MaxElems)
		}
	}
	return int(n), nil
}

// chargeZeroFields charges the zero-size fields of struct s to the budget
// of zero-size values: nested zero-size structs could otherwise fan out to
// any number of values from no input at all.
func (d *decoder) chargeZeroFields(s *Schema, off int) error {
	if z := zeroFields(s); z > 0 {
		d.zero -= z
		if d.zero < 0 {
			return d.errAt(off, "more than %d values of zero-size types in one input", d.lim.MaxElems)
		}
	}
	return nil
}

// value decodes a value of type t into *dst, which must be the zero Value:
// only the fields that differ from zero are written, which saves the
// garbage collector's write barriers on the pointer fields of scalars.
func (d *decoder) value(t *Type, dst *Value) error {
	if t == nil {
		return d.errAt(d.off, "no type")
	}
	switch t.Kind {
	case KindBool:
		if d.off >= len(d.buf) {
			return d.eof(1)
		}
		switch d.buf[d.off] {
		case 0x00:
			dst.kind = KindBool
		case 0xFF:
			dst.kind, dst.bits = KindBool, 1
		default:
			return d.errAt(d.off, "non-canonical bool 0x%02x (want 0x00 or 0xff)", d.buf[d.off])
		}
		d.off++
	case KindU8:
		if d.off >= len(d.buf) {
			return d.eof(1)
		}
		dst.kind, dst.bits = KindU8, uint64(d.buf[d.off])
		d.off++
	case KindI8:
		if d.off >= len(d.buf) {
			return d.eof(1)
		}
		dst.kind, dst.bits = KindI8, uint64(int64(int8(d.buf[d.off])))
		d.off++
	case KindU16, KindI16:
		if len(d.buf)-d.off < 2 {
			return d.eof(2)
		}
		x := binary.LittleEndian.Uint16(d.buf[d.off:])
		if t.Kind == KindU16 {
			dst.kind, dst.bits = KindU16, uint64(x)
		} else {
			dst.kind, dst.bits = KindI16, uint64(int64(int16(x)))
		}
		d.off += 2
	case KindU32, KindI32:
		if len(d.buf)-d.off < 4 {
			return d.eof(4)
		}
		x := binary.LittleEndian.Uint32(d.buf[d.off:])
		if t.Kind == KindU32 {
			dst.kind, dst.bits = KindU32, uint64(x)
		} else {
			dst.kind, dst.bits = KindI32, uint64(int64(int32(x)))
		}
		d.off += 4
	case KindU64, KindI64:
		if len(d.buf)-d.off < 8 {
			return d.eof(8)
		}
		dst.kind, dst.bits = t.Kind, binary.LittleEndian.Uint64(d.buf[d.off:])
		d.off += 8
	case KindF32:
		if len(d.buf)-d.off < 4 {
			return d.eof(4)
		}
		x := binary.LittleEndian.Uint32(d.buf[d.off:])
		if x&0x7F800000 == 0x7F800000 && x&0x007FFFFF != 0 && x != canonicalNaN32 {
			return d.errAt(d.off, "non-canonical f32 NaN 0x%08x (the only NaN is 0x%08x)", x, canonicalNaN32)
		}
		dst.kind, dst.bits = KindF32, uint64(x)
		d.off += 4
	case KindF64:
		if len(d.buf)-d.off < 8 {
			return d.eof(8)
		}
		x := binary.LittleEndian.Uint64(d.buf[d.off:])
		if x&0x7FF0000000000000 == 0x7FF0000000000000 && x&0x000FFFFFFFFFFFFF != 0 && x != canonicalNaN64 {
			return d.errAt(d.off, "non-canonical f64 NaN 0x%016x (the only NaN is 0x%016x)", x, uint64(canonicalNaN64))
		}
		dst.kind, dst.bits = KindF64, x
		d.off += 8
	case KindString:
		n, err := d.length()
		if err != nil {
			return err
		}
		b := d.buf[d.off : d.off+n]
		if !utf8.Valid(b) {
			return d.errAt(d.off+invalidUTF8At(string(b)), "invalid UTF-8 in string")
		}
		dst.kind, dst.str = KindString, d.str(d.off, d.off+n)
		d.off += n
	case KindBytes:
		n, err := d.length()
		if err != nil {
			return err
		}
		dst.kind, dst.str = KindBytes, d.str(d.off, d.off+n)
		d.off += n
	case KindFixedBytes:
		n := int(t.N)
		if len(d.buf)-d.off < n {
			return d.eof(n)
		}
		dst.kind, dst.str = KindFixedBytes, d.str(d.off, d.off+n)
		d.off += n
	case KindLink:
		if len(d.buf)-d.off < IDSize {
			return d.eof(IDSize)
		}
		dst.kind, dst.str = KindLink, d.str(d.off, d.off+IDSize)
		d.off += IDSize
	case KindList:
		if t.Elem == nil {
			return d.errAt(d.off, "list type without element type")
		}
		if err := d.enter(d.off); err != nil {
			return err
		}
		n, err := d.count(minSize(t.Elem))
		if err != nil {
			return err
		}
		var elems []Value
		if n > 0 {
			elems = d.alloc(n)
		}
		for i := range elems {
			if err := d.value(t.Elem, &elems[i]); err != nil {
				return dprefix(err, "["+strconv.Itoa(i)+"]")
			}
		}
		dst.kind, dst.elems = KindList, elems
		d.depth--
	case KindMap:
		return d.mapValue(t, dst)
	case KindOptional:
		if t.Elem == nil {
			return d.errAt(d.off, "optional type without element type")
		}
		if err := d.enter(d.off); err != nil {
			return err
		}
		if d.off >= len(d.buf) {
			return d.eof(1)
		}
		switch d.buf[d.off] {
		case 0x00:
			d.off++
			dst.kind = KindOptional
		case 0x01:
			d.off++
			el := d.alloc(1)
			if err := d.value(t.Elem, &el[0]); err != nil {
				return err
			}
			dst.kind, dst.bits, dst.elems = KindOptional, 1, el
		default:
			return d.errAt(d.off, "non-canonical optional flag 0x%02x (want 0x00 or 0x01)", d.buf[d.off])
		}
		d.depth--
	case KindAny:
		return d.anyValue(dst)
	case KindRef, KindRec:
		if t.Schema == nil {
			return d.errAt(d.off, "unresolved schema reference %s", t)
		}
		return d.schema(t.Schema, dst)
	default:
		return d.errAt(d.off, "invalid type %s", t.Kind)
	}
	return nil
}

func (d *decoder) schema(s *Schema, dst *Value) error {
	start := d.off
	if s == nil {
		return d.errAt(start, "no schema")
	}
	if err := d.enter(start); err != nil {
		return err
	}
	switch s.Kind {
	case KindStruct:
		var elems []Value
		if len(s.Fields) > 0 {
			if err := d.chargeZeroFields(s, start); err != nil {
				return err
			}
			elems = d.alloc(len(s.Fields))
		}
		for i := range s.Fields {
			if err := d.value(&s.Fields[i].Type, &elems[i]); err != nil {
				return dprefix(err, s.Fields[i].Name)
			}
		}
		dst.kind, dst.elems = KindStruct, elems
	case KindEnum:
		tag, err := d.uvarint()
		if err != nil {
			return err
		}
		var vr *Variant
		if tag <= math.MaxUint32 {
			vr = variantByTag(s, uint32(tag))
		}
		if vr == nil {
			return d.errAt(start, "unknown tag %d of enum %s", tag, schemaName(s))
		}
		if vr.Payload == nil {
			dst.kind, dst.bits = KindEnum, tag
		} else {
			el := d.alloc(1)
			if err := d.value(vr.Payload, &el[0]); err != nil {
				return dprefix(err, vr.Name)
			}
			dst.kind, dst.bits, dst.elems = KindEnum, tag, el
		}
	default:
		return d.errAt(start, "schema %s is neither struct nor enum", schemaName(s))
	}
	d.depth--
	return nil
}

func (d *decoder) mapValue(t *Type, dst *Value) error {
	if t.Key == nil || t.Elem == nil {
		return d.errAt(d.off, "map type without key or value type")
	}
	if !keyTypeOK(t.Key) {
		return d.errAt(d.off, "%s is not a valid map key type", t.Key)
	}
	if err := d.enter(d.off); err != nil {
		return err
	}
	at := d.off
	minKey := minSize(t.Key)
	n, err := d.count(minKey + minSize(t.Elem))
	if err != nil {
		return err
	}
	if minKey == 0 && n > 1 {
		// bytes[0] has one value, so a map keyed by it has at most one
		// entry; say so before allocating for the rest.
		return d.errAt(at, "%d entries in a map whose key type %s has only one value", n, t.Key)
	}
	var elems []Value
	if n > 0 {
		elems = d.alloc(2 * n)
	}
	for i := 0; i < n; i++ {
		at = d.off
		if err := d.value(t.Key, &elems[2*i]); err != nil {
			return dprefix(err, "[#"+strconv.Itoa(i)+"]")
		}
		if i > 0 {
			if c := CompareKeys(elems[2*i-2], elems[2*i]); c >= 0 {
				msg := "map key out of order"
				if c == 0 {
					msg = "duplicate map key"
				}
				return &DecodeError{Offset: at, Path: "[" + FormatKey(t.Key, elems[2*i]) + "]", Msg: msg}
			}
		}
		if err := d.value(t.Elem, &elems[2*i+1]); err != nil {
			return dprefix(err, "["+FormatKey(t.Key, elems[2*i])+"]")
		}
	}
	dst.kind, dst.elems = KindMap, elems
	d.depth--
	return nil
}

// resolve finds the schema of an object or `any` whose id starts at off.
func (d *decoder) resolve(id ID, off int) (*Schema, error) {
	if d.res == nil {
		return nil, errs.E(errs.NotExist, &DecodeError{Offset: off, Msg: fmt.Sprintf("unknown schema %s (no resolver)", id)})
	}
	s, err := d.res.SchemaByID(id)
	if err != nil {
		kind := errs.KindOf(err)
		if kind == errs.NotExist || kind == errs.Other {
			return nil, errs.E(errs.NotExist, &DecodeError{Offset: off, Msg: fmt.Sprintf("unknown schema %s", id)})
		}
		return nil, errs.E(kind, &DecodeError{Offset: off, Msg: fmt.Sprintf("schema %s: %v", id, err)})
	}
	if s == nil {
		return nil, errs.E(errs.NotExist, &DecodeError{Offset: off, Msg: fmt.Sprintf("unknown schema %s", id)})
	}
	return s, nil
}

func (d *decoder) anyValue(dst *Value) error {
	start := d.off
	if err := d.enter(start); err != nil {
		return err
	}
	if len(d.buf)-d.off < IDSize {
		return d.eof(IDSize)
	}
	s, err := d.resolve(ID(d.buf[d.off:d.off+IDSize]), start)
	if err != nil {
		return err
	}
	d.off += IDSize
	n, err := d.length()
	if err != nil {
		return err
	}
	end := d.off + n
	outer := d.buf
	d.buf = d.buf[:end]
	el := d.alloc(1)
	if err := d.schema(s, &el[0]); err != nil {
		return err
	}
	if d.off != end {
		return d.errAt(d.off, "any body is %d bytes, its length says %d", d.off-(end-n), n)
	}
	d.buf = outer
	dst.kind, dst.str, dst.elems, dst.schema = KindAny, d.str(start, start+IDSize), el, s
	d.depth--
	return nil
}
