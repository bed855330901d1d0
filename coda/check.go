package coda

// Checking values against types. A value is valid exactly when the encoder
// accepts it, so Check runs the encoder and throws the bytes away: there is
// one set of rules, not two that could drift apart.

import (
	"fmt"
	"math"
	"strconv"

	"github.com/coalescent/coal/errs"
)

// ValueError reports a value that does not fit its type. Path names the
// field where it fails ("birthday.day", "tags[3]", `scores["k"]`,
// "kind.Robot"; `m[#2]` is the key of a map's entry 2), empty for the whole
// value. errors.Is(err, errs.Invalid) is true.
type ValueError struct {
	Path string
	Msg  string
}

func (e *ValueError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Is makes errors.Is(err, errs.Invalid) true for value errors.
func (e *ValueError) Is(target error) bool { return target == errs.Invalid }

// joinPath puts seg in front of path: a field name is followed by a dot
// unless an index comes next ("tags[3]", "birthday.day", "a[1].b").
func joinPath(seg, path string) string {
	switch {
	case path == "":
		return seg
	case path[0] == '[':
		return seg + path
	}
	return seg + "." + path
}

// Check reports whether v is a valid value of type t: whether AppendValue
// would encode it. Errors are *ValueError.
func Check(t *Type, v Value) error {
	bp := scratch.Get().(*[]byte)
	defer putScratch(bp)
	b, err := AppendValue((*bp)[:0], t, v)
	*bp = b
	return err
}

// CheckSchema reports whether v is a valid value of schema s.
func CheckSchema(s *Schema, v Value) error {
	bp := scratch.Get().(*[]byte)
	defer putScratch(bp)
	b, err := AppendBody((*bp)[:0], s, v)
	*bp = b
	return err
}

// keyTypeOK reports whether t may be a map key (docs/coda.md §2, "Map key
// order"): bool, integers, string, bytes, bytes[N], link, or an enum with no
// payloads.
func keyTypeOK(t *Type) bool {
	switch t.Kind {
	case KindBool, KindU8, KindU16, KindU32, KindU64, KindI8, KindI16, KindI32, KindI64,
		KindString, KindBytes, KindFixedBytes, KindLink:
		return true
	case KindRef, KindRec:
		s := t.Schema
		if s == nil || s.Kind != KindEnum {
			return false
		}
		for i := range s.Variants {
			if s.Variants[i].Payload != nil {
				return false
			}
		}
		return true
	}
	return false
}

// FormatKey writes a map key of type t for paths in error messages:
// strings quoted, integers in decimal, bools, bytes and fixed bytes as hex
// (0x…), links as id text, enum keys by variant name.
func FormatKey(t *Type, k Value) string {
	switch k.kind {
	case KindString:
		return strconv.Quote(k.str)
	case KindBool:
		return strconv.FormatBool(k.bits != 0)
	case KindU8, KindU16, KindU32, KindU64:
		return strconv.FormatUint(k.bits, 10)
	case KindI8, KindI16, KindI32, KindI64:
		return strconv.FormatInt(int64(k.bits), 10)
	case KindBytes, KindFixedBytes:
		return fmt.Sprintf("0x%x", k.str)
	case KindLink:
		return k.AsID().String()
	case KindEnum:
		if t != nil && t.Schema != nil {
			if vr := variantByTag(t.Schema, uint32(k.bits)); vr != nil && k.bits <= math.MaxUint32 {
				return vr.Name
			}
		}
		return "#" + strconv.FormatUint(k.bits, 10)
	}
	return k.kind.String()
}
