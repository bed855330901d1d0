package coda

// The canonical encoding of values (docs/coda.md §2, §5). Bodies carry no
// tags and no field names: the schema says what comes next.
//
//	bool        00 | FF
//	u8…u64      1/2/4/8 bytes little-endian
//	i8…i64      1/2/4/8 bytes little-endian, two's complement
//	f32, f64    4/8 bytes little-endian; NaN only as 7FC00000 / 7FF8000000000000
//	string      uvarint(len) ‖ UTF-8 bytes
//	bytes       uvarint(len) ‖ bytes
//	bytes[N]    N bytes
//	list<T>     uvarint(count) ‖ T…
//	map<K,V>    uvarint(count) ‖ (K ‖ V)…      keys strictly increasing
//	optional<T> 00 | 01 ‖ T
//	link<T>     32-byte object id
//	any         schema id (32) ‖ uvarint(len) ‖ body
//	struct      field ‖ field ‖ …               declaration order
//	enum        uvarint(tag) ‖ payload?         payload iff the variant has one
//
// An object is schema id (32) ‖ body.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"sync"
	"unicode/utf8"
)

// AppendValue appends the canonical body of v as type t to dst, checking v
// as it goes. On error it returns dst unchanged (its capacity may have been
// used) and a *ValueError naming the path.
func AppendValue(dst []byte, t *Type, v Value) ([]byte, error) {
	e := encoder{buf: dst, zero: DefaultMaxElems}
	if err := e.value(t, v); err != nil {
		return dst, err
	}
	if len(e.buf)-len(dst) > DefaultMaxSize {
		return dst, &ValueError{Msg: fmt.Sprintf("encoding is %d bytes, more than the size limit %d", len(e.buf)-len(dst), DefaultMaxSize)}
	}
	return e.buf, nil
}

// AppendBody appends the canonical body of v, a value of the struct or enum
// schema s, to dst.
func AppendBody(dst []byte, s *Schema, v Value) ([]byte, error) {
	e := encoder{buf: dst, zero: DefaultMaxElems}
	if err := e.schema(s, v); err != nil {
		return dst, err
	}
	if len(e.buf)-len(dst) > DefaultMaxSize {
		return dst, &ValueError{Msg: fmt.Sprintf("encoding is %d bytes, more than the size limit %d", len(e.buf)-len(dst), DefaultMaxSize)}
	}
	return e.buf, nil
}

// EncodeObject returns the object bytes of v, a value of schema s:
// s.ID ‖ body.
func EncodeObject(s *Schema, v Value) ([]byte, error) {
	if s == nil {
		return nil, &ValueError{Msg: "no schema"}
	}
	// Encode into a recycled buffer, then copy out exactly: one allocation.
	bp := scratch.Get().(*[]byte)
	defer putScratch(bp)
	b := append((*bp)[:0], s.ID[:]...)
	b, err := AppendBody(b, s, v)
	*bp = b
	if err != nil {
		return nil, err
	}
	if len(b) > DefaultMaxSize {
		return nil, &ValueError{Msg: fmt.Sprintf("object is %d bytes, more than the size limit %d", len(b), DefaultMaxSize)}
	}
	return bytes.Clone(b), nil
}

// scratch recycles buffers for Check and ObjectID, which encode only to
// look at the result.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// putScratch returns a buffer to the pool, unless it grew too big to keep.
func putScratch(bp *[]byte) {
	if cap(*bp) > 1<<20 {
		return
	}
	*bp = (*bp)[:0]
	scratch.Put(bp)
}

// ObjectID returns the id of v as an object of schema s: Sum(EncodeObject(s, v)).
func ObjectID(s *Schema, v Value) (ID, error) {
	if s == nil {
		return ID{}, &ValueError{Msg: "no schema"}
	}
	bp := scratch.Get().(*[]byte)
	defer putScratch(bp)
	b := append((*bp)[:0], s.ID[:]...)
	b, err := AppendBody(b, s, v)
	*bp = b
	if err != nil {
		return ID{}, err
	}
	if len(b) > DefaultMaxSize {
		return ID{}, &ValueError{Msg: fmt.Sprintf("object is %d bytes, more than the size limit %d", len(b), DefaultMaxSize)}
	}
	return Sum(b), nil
}

// maxUvarintLen is the length of the longest uvarint.
const maxUvarintLen = 10

// encoder appends one value's canonical encoding to buf. It enforces the
// default limits, so that everything it writes a default decoder reads.
type encoder struct {
	buf   []byte
	depth int
	zero  int // budget of elements of zero-size types left (see Limits)
}

func mismatch(t *Type, v Value) error {
	return &ValueError{Msg: fmt.Sprintf("expected %s, got %s", t, v.kind)}
}

// enter counts one level of nesting.
func (e *encoder) enter() error {
	e.depth++
	if e.depth > DefaultMaxDepth {
		return &ValueError{Msg: fmt.Sprintf("nesting deeper than the limit %d", DefaultMaxDepth)}
	}
	return nil
}

// count checks an element count of a list or map whose elements have
// minimum encoded size min.
func (e *encoder) count(n, min int) error {
	if n > DefaultMaxElems {
		return &ValueError{Msg: fmt.Sprintf("%d elements, more than the limit %d", n, DefaultMaxElems)}
	}
	if min == 0 {
		e.zero -= n
		if e.zero < 0 {
			return &ValueError{Msg: fmt.Sprintf("more than %d values of zero-size types in one object", DefaultMaxElems)}
		}
	}
	return nil
}

func prefix(err error, seg string) error {
	if ve, ok := err.(*ValueError); ok {
		ve.Path = joinPath(seg, ve.Path)
	}
	return err
}

func (e *encoder) value(t *Type, v Value) error {
	if t == nil {
		return &ValueError{Msg: "no type"}
	}
	switch t.Kind {
	case KindBool:
		if v.kind != KindBool {
			return mismatch(t, v)
		}
		if v.bits > 1 {
			return &ValueError{Msg: fmt.Sprintf("bool with bits %d", v.bits)}
		}
		e.buf = append(e.buf, byte(-int8(v.bits))) // 0 → 0x00, 1 → 0xFF
	case KindU8, KindU16, KindU32, KindU64:
		if v.kind != t.Kind {
			return mismatch(t, v)
		}
		if w := t.Kind.Width(); w < 8 && v.bits>>(8*w) != 0 {
			return &ValueError{Msg: fmt.Sprintf("%d out of range for %s", v.bits, t.Kind)}
		}
		e.fixed(t.Kind.Width(), v.bits)
	case KindI8, KindI16, KindI32, KindI64:
		if v.kind != t.Kind {
			return mismatch(t, v)
		}
		w := t.Kind.Width()
		if w < 8 {
			x := int64(v.bits)
			if sh := 64 - 8*w; x<<sh>>sh != x {
				return &ValueError{Msg: fmt.Sprintf("%d out of range for %s", x, t.Kind)}
			}
		}
		e.fixed(w, v.bits)
	case KindF32:
		if v.kind != KindF32 {
			return mismatch(t, v)
		}
		if v.bits>>32 != 0 {
			return &ValueError{Msg: fmt.Sprintf("f32 with bits %#x", v.bits)}
		}
		if b := uint32(v.bits); b != canonicalNaN32 && math.IsNaN(float64(math.Float32frombits(b))) {
			return &ValueError{Msg: fmt.Sprintf("non-canonical f32 NaN %#08x", b)}
		}
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(v.bits))
	case KindF64:
		if v.kind != KindF64 {
			return mismatch(t, v)
		}
		if v.bits != canonicalNaN64 && math.IsNaN(math.Float64frombits(v.bits)) {
			return &ValueError{Msg: fmt.Sprintf("non-canonical f64 NaN %#016x", v.bits)}
		}
		e.buf = binary.LittleEndian.AppendUint64(e.buf, v.bits)
	case KindString:
		if v.kind != KindString {
			return mismatch(t, v)
		}
		if !utf8.ValidString(v.str) {
			return &ValueError{Msg: fmt.Sprintf("invalid UTF-8 at byte %d of the string", invalidUTF8At(v.str))}
		}
		e.buf = AppendString(e.buf, v.str)
	case KindBytes:
		if v.kind != KindBytes {
			return mismatch(t, v)
		}
		e.buf = AppendString(e.buf, v.str)
	case KindFixedBytes:
		if v.kind != KindFixedBytes {
			return mismatch(t, v)
		}
		if len(v.str) != int(t.N) {
			return &ValueError{Msg: fmt.Sprintf("expected %d bytes, got %d", t.N, len(v.str))}
		}
		e.buf = append(e.buf, v.str...)
	case KindLink:
		if v.kind != KindLink {
			return mismatch(t, v)
		}
		if len(v.str) != IDSize {
			return &ValueError{Msg: fmt.Sprintf("link of %d bytes", len(v.str))}
		}
		e.buf = append(e.buf, v.str...)
	case KindList:
		if v.kind != KindList {
			return mismatch(t, v)
		}
		if t.Elem == nil {
			return &ValueError{Msg: "list type without element type"}
		}
		if err := e.enter(); err != nil {
			return err
		}
		if err := e.count(len(v.elems), minSize(t.Elem)); err != nil {
			return err
		}
		e.buf = AppendUvarint(e.buf, uint64(len(v.elems)))
		for i := range v.elems {
			if err := e.value(t.Elem, v.elems[i]); err != nil {
				return prefix(err, "["+strconv.Itoa(i)+"]")
			}
		}
		e.depth--
	case KindMap:
		return e.mapValue(t, v)
	case KindOptional:
		if v.kind != KindOptional {
			return mismatch(t, v)
		}
		if t.Elem == nil {
			return &ValueError{Msg: "optional type without element type"}
		}
		if err := e.enter(); err != nil {
			return err
		}
		switch {
		case v.bits == 0 && len(v.elems) == 0:
			e.buf = append(e.buf, 0x00)
		case v.bits == 1 && len(v.elems) == 1:
			e.buf = append(e.buf, 0x01)
			if err := e.value(t.Elem, v.elems[0]); err != nil {
				return err
			}
		default:
			return &ValueError{Msg: "malformed optional value"}
		}
		e.depth--
	case KindAny:
		return e.anyValue(v)
	case KindRef, KindRec:
		if t.Schema == nil {
			return &ValueError{Msg: fmt.Sprintf("unresolved schema reference %s", t)}
		}
		return e.schema(t.Schema, v)
	default:
		return &ValueError{Msg: fmt.Sprintf("invalid type %s", t.Kind)}
	}
	return nil
}

// fixed appends the low w bytes of x, little-endian.
func (e *encoder) fixed(w int, x uint64) {
	switch w {
	case 1:
		e.buf = append(e.buf, byte(x))
	case 2:
		e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(x))
	case 4:
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(x))
	default:
		e.buf = binary.LittleEndian.AppendUint64(e.buf, x)
	}
}

func (e *encoder) schema(s *Schema, v Value) error {
	if s == nil {
		return &ValueError{Msg: "no schema"}
	}
	switch s.Kind {
	case KindStruct:
		if v.kind != KindStruct {
			return &ValueError{Msg: fmt.Sprintf("expected %s (struct), got %s", schemaName(s), v.kind)}
		}
		if len(v.elems) != len(s.Fields) {
			return &ValueError{Msg: fmt.Sprintf("%s has %d fields, value has %d", schemaName(s), len(s.Fields), len(v.elems))}
		}
		if err := e.enter(); err != nil {
			return err
		}
		if z := zeroFields(s); z > 0 {
			e.zero -= z
			if e.zero < 0 {
				return &ValueError{Msg: fmt.Sprintf("more than %d values of zero-size types in one object", DefaultMaxElems)}
			}
		}
		for i := range s.Fields {
			if err := e.value(&s.Fields[i].Type, v.elems[i]); err != nil {
				return prefix(err, s.Fields[i].Name)
			}
		}
		e.depth--
	case KindEnum:
		if v.kind != KindEnum {
			return &ValueError{Msg: fmt.Sprintf("expected %s (enum), got %s", schemaName(s), v.kind)}
		}
		if v.bits > math.MaxUint32 {
			return &ValueError{Msg: fmt.Sprintf("enum tag %d out of range", v.bits)}
		}
		vr := variantByTag(s, uint32(v.bits))
		if vr == nil {
			return &ValueError{Msg: fmt.Sprintf("%s has no variant with tag %d", schemaName(s), v.bits)}
		}
		if err := e.enter(); err != nil {
			return err
		}
		e.buf = AppendUvarint(e.buf, v.bits)
		switch {
		case vr.Payload == nil && len(v.elems) == 0:
		case vr.Payload == nil:
			return &ValueError{Path: vr.Name, Msg: "variant has no payload, value has one"}
		case len(v.elems) != 1:
			return &ValueError{Path: vr.Name, Msg: fmt.Sprintf("variant needs a payload of type %s, value has none", vr.Payload)}
		default:
			if err := e.value(vr.Payload, v.elems[0]); err != nil {
				return prefix(err, vr.Name)
			}
		}
		e.depth--
	default:
		return &ValueError{Msg: fmt.Sprintf("schema %s is neither struct nor enum", schemaName(s))}
	}
	return nil
}

func (e *encoder) mapValue(t *Type, v Value) error {
	if v.kind != KindMap {
		return mismatch(t, v)
	}
	if t.Key == nil || t.Elem == nil {
		return &ValueError{Msg: "map type without key or value type"}
	}
	if !keyTypeOK(t.Key) {
		return &ValueError{Msg: fmt.Sprintf("%s is not a valid map key type", t.Key)}
	}
	if len(v.elems)%2 != 0 {
		return &ValueError{Msg: "malformed map value"}
	}
	if err := e.enter(); err != nil {
		return err
	}
	n := len(v.elems) / 2
	if err := e.count(n, minSize(t.Key)+minSize(t.Elem)); err != nil {
		return err
	}
	e.buf = AppendUvarint(e.buf, uint64(n))
	for i := 0; i < n; i++ {
		k := v.elems[2*i]
		if err := e.value(t.Key, k); err != nil {
			return prefix(err, "[#"+strconv.Itoa(i)+"]")
		}
		if i > 0 {
			if c := CompareKeys(v.elems[2*i-2], k); c >= 0 {
				msg := "map keys out of order"
				if c == 0 {
					msg = "duplicate map key"
				}
				return &ValueError{Path: "[" + FormatKey(t.Key, k) + "]", Msg: msg}
			}
		}
		if err := e.value(t.Elem, v.elems[2*i+1]); err != nil {
			return prefix(err, "["+FormatKey(t.Key, k)+"]")
		}
	}
	e.depth--
	return nil
}

func (e *encoder) anyValue(v Value) error {
	if v.kind != KindAny {
		return &ValueError{Msg: fmt.Sprintf("expected any, got %s", v.kind)}
	}
	if len(v.str) != IDSize || len(v.elems) != 1 {
		return &ValueError{Msg: "malformed any value"}
	}
	s := v.schema
	if s == nil {
		return &ValueError{Msg: fmt.Sprintf("any: schema %s unknown to the encoder (build the value with AnyOf)", v.AsID())}
	}
	if string(s.ID[:]) != v.str {
		return &ValueError{Msg: fmt.Sprintf("any: schema id %s does not match its schema %s", v.AsID(), s.ID)}
	}
	if err := e.enter(); err != nil {
		return err
	}
	e.buf = append(e.buf, v.str...)
	// Reserve one length byte, the common case; move the body if it needs more.
	at := len(e.buf)
	e.buf = append(e.buf, 0)
	if err := e.schema(s, v.elems[0]); err != nil {
		return err
	}
	n := len(e.buf) - at - 1
	if extra := UvarintLen(uint64(n)) - 1; extra > 0 {
		var pad [maxUvarintLen]byte
		e.buf = append(e.buf, pad[:extra]...)
		copy(e.buf[at+1+extra:], e.buf[at+1:at+1+n])
	}
	AppendUvarint(e.buf[at:at], uint64(n))
	e.depth--
	return nil
}

// minSize is a lower bound on the encoded size of any value of t, and zero
// exactly for the types whose values all encode to nothing (bytes[0], and
// structs of only such fields). It stops looking into a struct's fields
// once it knows the struct is not zero-size, and gives up (returning 0, a
// safe lower bound) after a fixed amount of work, so a hostile schema can't
// make it slow.
func minSize(t *Type) int {
	steps := 256
	return minSizeN(t, &steps)
}

// zeroFields counts the fields of struct s whose type is zero-size: their
// values cost no input, so they count against the budget of zero-size
// values (docs/coda.md §5). Most fields are decided by their kind alone.
func zeroFields(s *Schema) int {
	n := 0
	for i := range s.Fields {
		t := &s.Fields[i].Type
		switch t.Kind {
		case KindFixedBytes:
			if t.N == 0 {
				n++
			}
		case KindRef, KindRec:
			if t.Schema != nil && t.Schema.Kind == KindStruct && minSize(t) == 0 {
				n++
			}
		}
	}
	return n
}

func minSizeN(t *Type, steps *int) int {
	switch t.Kind {
	case KindFixedBytes:
		return int(t.N)
	case KindLink:
		return IDSize
	case KindAny:
		return IDSize + 1
	case KindRef, KindRec:
		s := t.Schema
		if s == nil || s.Kind != KindStruct {
			return 1 // an enum's tag; a missing schema fails elsewhere
		}
		return structMinSize(s, steps)
	}
	if w := t.Kind.Width(); w > 0 {
		return w
	}
	return 1 // bool, string, bytes, list, map, optional: at least one byte
}

func structMinSize(s *Schema, steps *int) int {
	n := 0
	for i := range s.Fields {
		ft := &s.Fields[i].Type
		if ft.Kind == KindRef || ft.Kind == KindRec {
			if n > 0 {
				continue // already known not to be zero-size
			}
			if *steps--; *steps < 0 {
				return 0
			}
		}
		n += minSizeN(ft, steps)
	}
	return n
}

func variantByTag(s *Schema, tag uint32) *Variant {
	for i := range s.Variants {
		if s.Variants[i].Tag == tag {
			return &s.Variants[i]
		}
	}
	return nil
}

func schemaName(s *Schema) string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID.Short()
}

// invalidUTF8At returns the offset of the first invalid UTF-8 sequence in s.
func invalidUTF8At(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(s)
}
