package coda

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Value is a dynamic CODA value of any type. Values are immutable: the
// constructors copy what they are given, and accessors never expose memory a
// caller could change. The zero Value is invalid (Kind() == KindInvalid).
//
// A Value does not carry its type: the same Value is checked, encoded and
// decoded against a Type or Schema given alongside it.
type Value struct {
	kind Kind
	// bits holds: bool (0 or 1); unsigned integers; signed integers as
	// int64 two's complement; float bits (f32 in the low 32 bits);
	// enum tag; optional presence (0 or 1).
	bits uint64
	// str holds: string, bytes and bytes[N] contents; a link's id (32
	// bytes); an any's schema id (32 bytes).
	str string
	// elems holds: list elements; map entries as key0, value0, key1, …
	// (sorted by key, see CompareKeys); struct fields in order; an enum's
	// payload (0 or 1 values); an optional's value (0 or 1); an any's body.
	elems []Value
	// schema is an any's schema when known (AnyOf, or decoded): the encoder
	// needs it to encode the body. It is not part of the value: Equal
	// compares the schema id in str.
	schema *Schema
}

// MapEntry is one key/value pair of a map Value.
type MapEntry struct{ Key, Value Value }

// Bool returns a bool value.
func Bool(b bool) Value {
	if b {
		return Value{kind: KindBool, bits: 1}
	}
	return Value{kind: KindBool}
}

// Uint returns an unsigned integer value of kind k (KindU8…KindU64). The
// value is not range-checked here; Check and Encode reject out-of-range values.
func Uint(k Kind, x uint64) Value { return Value{kind: k, bits: x} }

// Int returns a signed integer value of kind k (KindI8…KindI64).
func Int(k Kind, x int64) Value { return Value{kind: k, bits: uint64(x)} }

// U8 … I64 are shorthands for Uint and Int.
func U8(x uint8) Value   { return Uint(KindU8, uint64(x)) }
func U16(x uint16) Value { return Uint(KindU16, uint64(x)) }
func U32(x uint32) Value { return Uint(KindU32, uint64(x)) }
func U64(x uint64) Value { return Uint(KindU64, x) }
func I8(x int8) Value    { return Int(KindI8, int64(x)) }
func I16(x int16) Value  { return Int(KindI16, int64(x)) }
func I32(x int32) Value  { return Int(KindI32, int64(x)) }
func I64(x int64) Value  { return Int(KindI64, x) }

// Canonical NaNs (docs/coda.md §2): every NaN is this one value.
const (
	canonicalNaN32 = 0x7FC00000
	canonicalNaN64 = 0x7FF8000000000000
)

// F32 returns an f32 value. Every NaN becomes the canonical NaN.
func F32(x float32) Value {
	if x != x {
		return Value{kind: KindF32, bits: canonicalNaN32}
	}
	return Value{kind: KindF32, bits: uint64(math.Float32bits(x))}
}

// F64 returns an f64 value. Every NaN becomes the canonical NaN.
func F64(x float64) Value {
	if x != x {
		return Value{kind: KindF64, bits: canonicalNaN64}
	}
	return Value{kind: KindF64, bits: math.Float64bits(x)}
}

// String returns a string value. Encode rejects invalid UTF-8.
func String(s string) Value { return Value{kind: KindString, str: s} }

// Bytes returns a bytes value holding a copy of b.
func Bytes(b []byte) Value { return Value{kind: KindBytes, str: string(b)} }

// FixedBytes returns a bytes[N] value holding a copy of b (N = len(b)).
func FixedBytes(b []byte) Value { return Value{kind: KindFixedBytes, str: string(b)} }

// List returns a list value of the given elements (copied).
func List(elems ...Value) Value { return Value{kind: KindList, elems: slices.Clone(elems)} }

// Map returns a map value. Entries are sorted into canonical key order
// (CompareKeys); duplicate keys are kept here and rejected by Check and Encode.
func Map(entries ...MapEntry) Value {
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b MapEntry) int { return CompareKeys(a.Key, b.Key) })
	elems := make([]Value, 0, 2*len(sorted))
	for _, e := range sorted {
		elems = append(elems, e.Key, e.Value)
	}
	return Value{kind: KindMap, elems: elems}
}

// None returns an absent optional value.
func None() Value { return Value{kind: KindOptional} }

// Some returns a present optional value.
func Some(v Value) Value { return Value{kind: KindOptional, bits: 1, elems: []Value{v}} }

// Link returns a link value pointing at the object id.
func Link(id ID) Value { return Value{kind: KindLink, str: string(id[:])} }

// Any returns an any value: v, an object of the schema with id schema.
// The encoder needs the schema itself to encode v: use AnyOf when you have
// it (Check and AppendValue reject an any whose schema they cannot see).
func Any(schema ID, v Value) Value {
	return Value{kind: KindAny, str: string(schema[:]), elems: []Value{v}}
}

// AnyOf returns an any value: v, an object of schema s. Decoded any values
// carry their schema the same way.
func AnyOf(s *Schema, v Value) Value {
	return Value{kind: KindAny, str: string(s.ID[:]), elems: []Value{v}, schema: s}
}

// AnySchema returns an any value's schema, or nil if it is not known (the
// value was built with Any rather than AnyOf).
func (v Value) AnySchema() *Schema {
	if v.kind != KindAny {
		return nil
	}
	return v.schema
}

// Struct returns a struct value with the given field values, in field order.
func Struct(fields ...Value) Value { return Value{kind: KindStruct, elems: slices.Clone(fields)} }

// Enum returns an enum value of the variant with the given tag, with at most
// one payload value.
func Enum(tag uint32, payload ...Value) Value {
	return Value{kind: KindEnum, bits: uint64(tag), elems: slices.Clone(payload)}
}

// Kind returns the value's kind: a type kind, or KindStruct / KindEnum.
func (v Value) Kind() Kind { return v.kind }

// IsValid reports whether v is not the zero Value.
func (v Value) IsValid() bool { return v.kind != KindInvalid }

// AsBool returns a bool value's value.
func (v Value) AsBool() bool { return v.bits != 0 }

// AsUint returns an unsigned integer value's value.
func (v Value) AsUint() uint64 { return v.bits }

// AsInt returns a signed integer value's value.
func (v Value) AsInt() int64 { return int64(v.bits) }

// AsFloat returns an f32 or f64 value's value as a float64.
func (v Value) AsFloat() float64 {
	if v.kind == KindF32 {
		return float64(math.Float32frombits(uint32(v.bits)))
	}
	return math.Float64frombits(v.bits)
}

// Bits returns the raw bits of a number, bool, enum tag or optional presence.
func (v Value) Bits() uint64 { return v.bits }

// AsString returns a string value's contents (or bytes' contents as a string).
func (v Value) AsString() string { return v.str }

// AsBytes returns a copy of a bytes or bytes[N] value's contents.
func (v Value) AsBytes() []byte { return []byte(v.str) }

// AsID returns a link's target, or an any's schema id. It returns the zero
// ID for other kinds.
func (v Value) AsID() ID {
	var id ID
	if len(v.str) == IDSize && (v.kind == KindLink || v.kind == KindAny) {
		copy(id[:], v.str)
	}
	return id
}

// Len returns the number of list elements, map entries, struct fields, or
// the byte length of a string, bytes or bytes[N].
func (v Value) Len() int {
	switch v.kind {
	case KindMap:
		return len(v.elems) / 2
	case KindString, KindBytes, KindFixedBytes:
		return len(v.str)
	}
	return len(v.elems)
}

// Index returns list element or struct field i.
func (v Value) Index(i int) Value { return v.elems[i] }

// Entry returns map entry i, in canonical key order.
func (v Value) Entry(i int) MapEntry { return MapEntry{v.elems[2*i], v.elems[2*i+1]} }

// Lookup returns the map value stored under key.
func (v Value) Lookup(key Value) (Value, bool) {
	lo, hi := 0, v.Len()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := CompareKeys(v.elems[2*m], key)
		switch {
		case c == 0:
			return v.elems[2*m+1], true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return Value{}, false
}

// Tag returns an enum value's variant tag.
func (v Value) Tag() uint32 { return uint32(v.bits) }

// Payload returns an enum's payload, an optional's value, or an any's body,
// and whether there is one.
func (v Value) Payload() (Value, bool) {
	if len(v.elems) == 0 || (v.kind != KindEnum && v.kind != KindOptional && v.kind != KindAny) {
		return Value{}, false
	}
	return v.elems[0], true
}

// IsSome reports whether an optional value is present.
func (v Value) IsSome() bool { return v.kind == KindOptional && len(v.elems) == 1 }

// Equal reports whether a and b are the same value. Floats compare by bits,
// so NaN equals NaN and -0 differs from +0, as their encodings do.
func Equal(a, b Value) bool {
	if a.kind != b.kind || a.bits != b.bits || a.str != b.str || len(a.elems) != len(b.elems) {
		return false
	}
	for i := range a.elems {
		if !Equal(a.elems[i], b.elems[i]) {
			return false
		}
	}
	return true
}

// CompareKeys orders map keys canonically: integers numerically, bools false
// before true, string, bytes, bytes[N] and link bytewise (a prefix sorts
// first), enums without payload by tag. Keys of different kinds order by kind.
func CompareKeys(a, b Value) int {
	if a.kind != b.kind {
		return cmp.Compare(a.kind, b.kind)
	}
	switch a.kind {
	case KindI8, KindI16, KindI32, KindI64:
		return cmp.Compare(int64(a.bits), int64(b.bits))
	case KindString, KindBytes, KindFixedBytes, KindLink:
		return strings.Compare(a.str, b.str)
	}
	return cmp.Compare(a.bits, b.bits)
}

// String formats v for people (tests, debugging); it is not a stable format.
// Structs print as {a, b}, enums as #tag or #tag(payload), lists as [a, b],
// maps as {k: v}, optionals as none or some(v), any as any(id, v).
func (v Value) String() string {
	var b strings.Builder
	v.format(&b)
	return b.String()
}

func (v Value) format(b *strings.Builder) {
	list := func(open, sep, close string, vs []Value, pairs bool) {
		b.WriteString(open)
		for i, e := range vs {
			if i > 0 {
				if pairs && i%2 == 1 {
					b.WriteString(": ")
				} else {
					b.WriteString(sep)
				}
			}
			e.format(b)
		}
		b.WriteString(close)
	}
	switch v.kind {
	case KindInvalid:
		b.WriteString("invalid")
	case KindBool:
		b.WriteString(strconv.FormatBool(v.bits != 0))
	case KindU8, KindU16, KindU32, KindU64:
		b.WriteString(strconv.FormatUint(v.bits, 10))
	case KindI8, KindI16, KindI32, KindI64:
		b.WriteString(strconv.FormatInt(int64(v.bits), 10))
	case KindF32:
		b.WriteString(strconv.FormatFloat(v.AsFloat(), 'g', -1, 32))
	case KindF64:
		b.WriteString(strconv.FormatFloat(v.AsFloat(), 'g', -1, 64))
	case KindString:
		b.WriteString(strconv.Quote(v.str))
	case KindBytes, KindFixedBytes:
		fmt.Fprintf(b, "0x%x", v.str)
	case KindLink:
		b.WriteString("link(" + v.AsID().String() + ")")
	case KindList:
		list("[", ", ", "]", v.elems, false)
	case KindMap:
		list("{", ", ", "}", v.elems, true)
	case KindOptional:
		if len(v.elems) == 0 {
			b.WriteString("none")
		} else {
			list("some(", "", ")", v.elems, false)
		}
	case KindAny:
		b.WriteString("any(" + v.AsID().String() + ", ")
		list("", "", ")", v.elems, false)
	case KindStruct:
		list("{", ", ", "}", v.elems, false)
	case KindEnum:
		b.WriteString("#" + strconv.FormatUint(v.bits, 10))
		if len(v.elems) > 0 {
			list("(", "", ")", v.elems, false)
		}
	default:
		b.WriteString(v.kind.String())
	}
}
