package check

import (
	"fmt"
	"math"
	"strings"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Default generation bounds (SPEC.md §2): numbers without a Bound are drawn
// from [DefaultMin, DefaultMax] (cut to their type's range), and lengths
// without one are at most DefaultMaxLen.
const (
	DefaultMin    = -1000
	DefaultMax    = 1000
	DefaultMaxLen = 8
	MaxMaxLen     = 1 << 20 // the largest MaxLen a Bound may set
)

// Bound limits the values Generate draws, and the values Shrink may move
// to, at one place of the input.
//
// Field is a dotted path: struct field names, and enum variant names for a
// variant's payload ("" is the whole input). Lists, maps and optionals add
// no segment: a Bound on a field of type list<f64> bounds the list's length
// and every element. Min and Max bound every number at the path, inclusive;
// Min == Max == 0 means no numeric bound. MaxLen bounds every length at the
// path: list elements, map entries, bytes, and the runes of a string;
// 0 means DefaultMaxLen, a negative MaxLen means 0 (always empty); at most
// MaxMaxLen.
//
// Two Bounds on one path merge: the later one's numeric range (if it has
// one) and MaxLen (if nonzero) win.
type Bound struct {
	Field    string
	Min, Max float64
	MaxLen   int
}

// limit is the merged bound at one path.
type limit struct {
	hasRange bool
	min, max float64
	maxLen   int // 0: default
}

// limits are the bounds of one schema by path.
type limits map[string]limit

// length is the largest length at path.
func (l limits) length(path string) int {
	b := l[path]
	switch {
	case b.maxLen < 0:
		return 0
	case b.maxLen == 0:
		return DefaultMaxLen
	}
	return b.maxLen
}

// compileBounds checks bounds against s and merges them by path.
func compileBounds(s *coda.Schema, bounds []Bound) (limits, error) {
	l := make(limits, len(bounds))
	root := schemaType(s)
	for i, b := range bounds {
		where := fmt.Sprintf("bound %d (%q)", i, b.Field)
		if !pathExists(root, splitPath(b.Field), 0) {
			return nil, errs.E(errs.Invalid, errs.Path(b.Field), fmt.Sprintf("check: %s names nothing in schema %s", where, schemaName(s)))
		}
		cur := l[b.Field]
		if b.Min != 0 || b.Max != 0 {
			if math.IsNaN(b.Min) || math.IsNaN(b.Max) || math.IsInf(b.Min, 0) || math.IsInf(b.Max, 0) {
				return nil, errs.E(errs.Invalid, errs.Path(b.Field), fmt.Sprintf("check: %s: bounds must be finite, have [%g, %g]", where, b.Min, b.Max))
			}
			if b.Min > b.Max {
				return nil, errs.E(errs.Invalid, errs.Path(b.Field), fmt.Sprintf("check: %s: Min %g is above Max %g", where, b.Min, b.Max))
			}
			cur.hasRange, cur.min, cur.max = true, b.Min, b.Max
		}
		if b.MaxLen > MaxMaxLen {
			return nil, errs.E(errs.Invalid, errs.Path(b.Field), fmt.Sprintf("check: %s: MaxLen %d is above %d", where, b.MaxLen, MaxMaxLen))
		}
		if b.MaxLen != 0 {
			cur.maxLen = b.MaxLen
		}
		l[b.Field] = cur
	}
	// Every prefix of a bound's path is a key too (with no bound of its
	// own), so that child can stop building paths no bound can match.
	for f := range l {
		for i := range len(f) {
			if f[i] == '.' {
				if _, ok := l[f[:i]]; !ok {
					l[f[:i]] = limit{}
				}
			}
		}
	}
	if _, ok := l[""]; !ok {
		l[""] = limit{}
	}
	return l, nil
}

// noPath is the path of values below which no bound applies: paths are
// only built while they can still match one.
const noPath = "\x00"

// child is the path of seg inside path, or noPath if no bound is at or
// below it.
func (l limits) child(path, seg string) string {
	if path == noPath {
		return noPath
	}
	p := join(path, seg)
	if _, ok := l[p]; ok {
		return p
	}
	return noPath
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, ".")
}

// pathExists reports whether segs name something below t.
func pathExists(t *coda.Type, segs []string, depth int) bool {
	if len(segs) == 0 {
		return true
	}
	if depth > coda.DefaultMaxDepth || t == nil {
		return false
	}
	switch t.Kind {
	case coda.KindList, coda.KindOptional:
		return pathExists(t.Elem, segs, depth+1)
	case coda.KindMap:
		return pathExists(t.Key, segs, depth+1) || pathExists(t.Elem, segs, depth+1)
	case coda.KindRef, coda.KindRec:
		s := t.Schema
		if s == nil {
			return false
		}
		if s.Kind == coda.KindEnum {
			for _, v := range s.Variants {
				if v.Name == segs[0] && v.Payload != nil {
					return pathExists(v.Payload, segs[1:], depth+1)
				}
			}
			return false
		}
		if i := s.FieldIndex(segs[0]); i >= 0 {
			return pathExists(&s.Fields[i].Type, segs[1:], depth+1)
		}
	}
	return false
}

// join appends a segment to a path.
func join(path, seg string) string {
	if path == "" {
		return seg
	}
	return path + "." + seg
}

// schemaType is the type of a value of schema s.
func schemaType(s *coda.Schema) *coda.Type {
	return &coda.Type{Kind: coda.KindRef, Ref: s.ID, Schema: s}
}

func schemaName(s *coda.Schema) string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID.Short()
}

// intRange returns the integers of kind k in [lo, hi] as an ordered range
// in the key space of orderKey, and false if there are none.
func intRange(k coda.Kind, lo, hi float64) (uint64, uint64, bool) {
	w := uint(k.Width()) * 8
	if k.IsSigned() {
		tmin, tmax := -math.Ldexp(1, int(w)-1), math.Ldexp(1, int(w)-1) // tmax is one above the largest
		var a, b int64
		switch {
		case lo <= tmin:
			a = int64(-1) << (w - 1)
		case math.Ceil(lo) >= tmax:
			return 0, 0, false
		default:
			a = int64(math.Ceil(lo))
		}
		switch {
		case hi >= tmax:
			b = int64(uint64(1)<<(w-1) - 1)
		case math.Floor(hi) < tmin:
			return 0, 0, false
		default:
			b = int64(math.Floor(hi))
		}
		if a > b {
			return 0, 0, false
		}
		return orderKey(k, uint64(a)), orderKey(k, uint64(b)), true
	}
	tmax := math.Ldexp(1, int(w)) // one above the largest
	var a, b uint64
	switch {
	case lo <= 0:
		a = 0
	case math.Ceil(lo) >= tmax:
		return 0, 0, false
	default:
		a = uint64(math.Ceil(lo))
	}
	switch {
	case hi >= tmax:
		b = math.MaxUint64 >> (64 - w)
	case hi < 0:
		return 0, 0, false
	default:
		b = uint64(math.Floor(hi))
	}
	if a > b {
		return 0, 0, false
	}
	return a, b, true
}

// orderKey maps an integer's bits (signed: int64 two's complement) to a
// uint64 that orders as the integers do: signed values have their sign bit
// flipped. fromKey is its inverse.
func orderKey(k coda.Kind, bits uint64) uint64 {
	if k.IsSigned() {
		return bits ^ 1<<63
	}
	return bits
}

func fromKey(k coda.Kind, key uint64) uint64 {
	if k.IsSigned() {
		return key ^ 1<<63
	}
	return key
}

// floatRange returns the range of floats of kind k in [lo, hi] (cut to the
// finite values of f32 for KindF32).
func floatRange(k coda.Kind, lo, hi float64) (float64, float64) {
	if k == coda.KindF32 {
		lo = max(lo, -math.MaxFloat32)
		hi = min(hi, math.MaxFloat32)
	}
	return lo, hi
}
