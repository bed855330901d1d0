package query

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/coalescent/coal/coda"
)

// Keys order the values of one field bytewise as the field's values
// order (docs/query.md §4). They name index entries (hex, truncated) and
// order results (--order, cursors).
//
//	key = 0x00                              absent (optional none, no such field)
//	    | 0x01 ‖ 0x00|0x01                  bool
//	    | 0x02 ‖ be64(uint64(x) ^ 1<<63)    integer that fits i64
//	    | 0x03 ‖ be64(x)                    u64 above the i64 range
//	    | 0x04 ‖ be64(f(bits))              f32 (widened), f64: f = ^bits if negative, else bits | 1<<63
//	    | 0x05 ‖ UTF-8 bytes                string, enum variant without payload (its name)
//	    | 0x06 ‖ bytes                      bytes, bytes[N], link (the 32-byte id)
const (
	keyAbsent = 0x00
	keyBool   = 0x01
	keyInt    = 0x02
	keyBigU   = 0x03
	keyFloat  = 0x04
	keyString = 0x05
	keyBytes  = 0x06
)

// maxKeyHex is the longest key in an index entry's name: longer keys are
// cut (docs/query.md §5), which keeps the order (a prefix sorts first) and
// makes a lookup return a superset that the filter then narrows.
const maxKeyHex = 120

// maxFlatName is the longest value name whose entry is one leaf
// "KEY.NAME" (120 + 1 + 133 = 254 bytes, within a segment's 255); the
// entry of a longer name is the leaf NAME in the directory KEY.
const maxFlatName = 133

// keyable reports whether values of t have a key.
func keyable(t *coda.Type) bool {
	if t.Kind == coda.KindOptional {
		t = t.Elem
	}
	switch t.Kind {
	case coda.KindBool, coda.KindString, coda.KindBytes, coda.KindFixedBytes, coda.KindLink,
		coda.KindF32, coda.KindF64:
		return true
	case coda.KindRef, coda.KindRec:
		s := t.Schema
		if s == nil || s.Kind != coda.KindEnum {
			return false
		}
		for _, v := range s.Variants {
			if v.Payload != nil {
				return false
			}
		}
		return true
	}
	return t.Kind.IsInteger()
}

// valueKey returns the key of v, a value of type t.
func valueKey(t *coda.Type, v coda.Value) ([]byte, error) {
	if t.Kind == coda.KindOptional {
		if !v.IsSome() {
			return []byte{keyAbsent}, nil
		}
		return valueKey(t.Elem, v.Index(0))
	}
	switch {
	case t.Kind == coda.KindBool:
		b := byte(0)
		if v.AsBool() {
			b = 1
		}
		return []byte{keyBool, b}, nil
	case t.Kind.IsSigned():
		return intKey(v.AsInt()), nil
	case t.Kind.IsInteger():
		return uintKey(v.AsUint()), nil
	case t.Kind == coda.KindF32 || t.Kind == coda.KindF64:
		return floatKey(v.AsFloat()), nil
	case t.Kind == coda.KindString:
		return append([]byte{keyString}, v.AsString()...), nil
	case t.Kind == coda.KindBytes || t.Kind == coda.KindFixedBytes:
		return append([]byte{keyBytes}, v.AsBytes()...), nil
	case t.Kind == coda.KindLink:
		id := v.AsID()
		return append([]byte{keyBytes}, id[:]...), nil
	case (t.Kind == coda.KindRef || t.Kind == coda.KindRec) && t.Schema != nil && t.Schema.Kind == coda.KindEnum:
		vr, ok := t.Schema.VariantByTag(v.Tag())
		if !ok || vr.Payload != nil {
			return nil, fmt.Errorf("enum %s: variant with a payload has no key", t.Schema.Name)
		}
		return append([]byte{keyString}, vr.Name...), nil
	}
	return nil, fmt.Errorf("a value of type %s has no key (only numbers, bools, strings, bytes, links and enums without payloads)", t.String())
}

func intKey(x int64) []byte {
	b := make([]byte, 9)
	b[0] = keyInt
	binary.BigEndian.PutUint64(b[1:], uint64(x)^1<<63)
	return b
}

func uintKey(x uint64) []byte {
	if x <= math.MaxInt64 {
		return intKey(int64(x))
	}
	b := make([]byte, 9)
	b[0] = keyBigU
	binary.BigEndian.PutUint64(b[1:], x)
	return b
}

func floatKey(f float64) []byte {
	if f == 0 {
		f = 0 // -0 == 0, as CEL compares them
	}
	bits := math.Float64bits(f)
	if bits>>63 == 1 {
		bits = ^bits
	} else {
		bits |= 1 << 63
	}
	b := make([]byte, 9)
	b[0] = keyFloat
	binary.BigEndian.PutUint64(b[1:], bits)
	return b
}

// keyHex is the index segment of key k.
func keyHex(k []byte) string {
	s := hex.EncodeToString(k)
	if len(s) > maxKeyHex {
		s = s[:maxKeyHex]
	}
	return s
}

// fieldKey returns the key of field name of the struct value v of schema
// s; a missing field is absent.
func fieldKey(s *coda.Schema, v coda.Value, name string) ([]byte, error) {
	if s == nil || s.Kind != coda.KindStruct {
		return []byte{keyAbsent}, nil
	}
	i := s.FieldIndex(name)
	if i < 0 || i >= v.Len() {
		return []byte{keyAbsent}, nil
	}
	return valueKey(&s.Fields[i].Type, v.Index(i))
}
