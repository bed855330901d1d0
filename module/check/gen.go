package check

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"unicode/utf8"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Generation limits (SPEC.md §2): below level softDepth, and once the
// generator has spent its fuel (one a value, one a byte of strings and
// bytes), containers are drawn minimal (empty, absent, the cheapest
// variant) and lists and maps end early, so values stay small and
// recursive schemas finite.
const (
	softDepth = 16
	fuel      = 4096
)

// NewRand returns the generator every node uses for a seed: math/rand/v2's
// PCG-DXSM seeded with (seed, 0). SPEC.md §1 specifies it.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0))
}

// Generate returns the object bytes (schema id ‖ body) of a random value of
// schema s within bounds. It is deterministic in r: the same draws give the
// same bytes, on every platform (SPEC.md specifies the draws). Only
// r.Uint64 is used. reg is accepted for symmetry with Shrink and may be
// nil: a compiled schema carries the schemas it refers to.
//
// Values of type any are not generated (there is no principled choice of
// schema): a schema that can contain one is refused, as is a schema with
// no finite value (enum E { A(E) }) and a bound naming nothing in s.
func Generate(r *rand.Rand, s *coda.Schema, reg *coda.Registry, bounds []Bound) ([]byte, error) {
	_ = reg
	if s == nil || r == nil {
		return nil, errs.E(errs.Invalid, "check: Generate needs a schema and a generator")
	}
	lim, err := compileBounds(s, bounds)
	if err != nil {
		return nil, err
	}
	c, err := costs(s)
	if err != nil {
		return nil, err
	}
	g := &generator{r: r, lim: lim, cost: c, fuel: fuel}
	v, err := g.value(schemaType(s), "", 1)
	if err != nil {
		return nil, err
	}
	obj, err := coda.EncodeObject(s, v)
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("check: generated value of %s does not encode: %w", schemaName(s), err))
	}
	return obj, nil
}

type generator struct {
	r    *rand.Rand
	lim  limits
	cost costTable
	fuel int
}

// below returns a uniform-ish integer in [0, n): the high 64 bits of the
// 128-bit product of a draw and n. n == 0 means the whole uint64 range.
func (g *generator) below(n uint64) uint64 {
	x := g.r.Uint64()
	if n == 0 {
		return x
	}
	hi, _ := bits.Mul64(x, n)
	return hi
}

// upTo returns a draw in [0, span] (inclusive).
func (g *generator) upTo(span uint64) uint64 {
	return g.below(span + 1) // span+1 == 0 is the whole range
}

// unit returns a draw in [0, 1): the top 53 bits of a draw over 2^53.
func (g *generator) unit() float64 {
	return float64(g.r.Uint64()>>11) / (1 << 53)
}

// specials are the runes a string draws one time in four (SPEC.md §2).
var specials = []rune{' ', '0', '9', 'A', 'Z', '-', '"', '\\', '\n', 0, 0x7f, 'é', 'ß', '中', '✓', '😀'}

func (g *generator) value(t *coda.Type, path string, depth int) (coda.Value, error) {
	g.fuel--
	minimal := depth >= softDepth || g.fuel < 0
	if depth > coda.DefaultMaxDepth {
		return coda.Value{}, errs.E(errs.Invalid, errs.Path(path), fmt.Sprintf("check: values nest deeper than %d levels at %q", coda.DefaultMaxDepth, path))
	}
	switch k := t.Kind; k {
	case coda.KindBool:
		return coda.Bool(g.below(2) == 1), nil
	case coda.KindU8, coda.KindU16, coda.KindU32, coda.KindU64, coda.KindI8, coda.KindI16, coda.KindI32, coda.KindI64:
		return g.integer(k, path)
	case coda.KindF32, coda.KindF64:
		return g.float(k, path)
	case coda.KindString:
		n := g.upTo(uint64(g.lim.length(path)))
		b := make([]byte, 0, n)
		for range n {
			var c rune
			if g.below(4) < 3 {
				c = 'a' + rune(g.below(26))
			} else {
				c = specials[g.below(uint64(len(specials)))]
			}
			b = utf8.AppendRune(b, c)
		}
		g.fuel -= len(b)
		return coda.String(string(b)), nil
	case coda.KindBytes:
		n := g.upTo(uint64(g.lim.length(path)))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(g.below(256))
		}
		g.fuel -= len(b)
		return coda.Bytes(b), nil
	case coda.KindFixedBytes:
		b := make([]byte, t.N)
		for i := range b {
			b[i] = byte(g.below(256))
		}
		g.fuel -= len(b)
		return coda.FixedBytes(b), nil
	case coda.KindLink:
		var id coda.ID
		for i := 0; i < coda.IDSize; i += 8 {
			binary.LittleEndian.PutUint64(id[i:], g.r.Uint64())
		}
		return coda.Link(id), nil
	case coda.KindList:
		var n uint64
		if !minimal && g.cost.typeCost(t.Elem) < inf {
			n = g.upTo(uint64(g.lim.length(path)))
		}
		var elems []coda.Value
		for range n {
			if g.fuel < 0 {
				break // out of fuel: the list ends here
			}
			v, err := g.value(t.Elem, path, depth+1)
			if err != nil {
				return coda.Value{}, err
			}
			elems = append(elems, v)
		}
		return coda.List(elems...), nil
	case coda.KindMap:
		var n uint64
		if !minimal && g.cost.typeCost(t.Key) < inf && g.cost.typeCost(t.Elem) < inf {
			n = g.upTo(uint64(g.lim.length(path)))
		}
		var ents []coda.MapEntry
	entries:
		for range n {
			if g.fuel < 0 {
				break
			}
			key, err := g.value(t.Key, path, depth+1)
			if err != nil {
				return coda.Value{}, err
			}
			val, err := g.value(t.Elem, path, depth+1)
			if err != nil {
				return coda.Value{}, err
			}
			for _, e := range ents {
				if coda.CompareKeys(e.Key, key) == 0 {
					continue entries // a repeated key: the first one stays
				}
			}
			ents = append(ents, coda.MapEntry{Key: key, Value: val})
		}
		return coda.Map(ents...), nil
	case coda.KindOptional:
		if minimal || g.cost.typeCost(t.Elem) >= inf || g.below(2) == 0 {
			return coda.None(), nil
		}
		v, err := g.value(t.Elem, path, depth+1)
		if err != nil {
			return coda.Value{}, err
		}
		return coda.Some(v), nil
	case coda.KindRef, coda.KindRec:
		s := t.Schema
		if s == nil {
			return coda.Value{}, errs.E(errs.Invalid, errs.Path(path), "check: unresolved schema reference")
		}
		if s.Kind == coda.KindEnum {
			var v *coda.Variant
			if minimal {
				v = g.cost.cheapest(s)
			} else {
				fin := g.cost.finite(s)
				if len(fin) == 0 {
					return coda.Value{}, errs.E(errs.Invalid, errs.Path(path), fmt.Sprintf("check: enum %s has no finite value", schemaName(s)))
				}
				v = fin[g.below(uint64(len(fin)))]
			}
			if v.Payload == nil {
				return coda.Enum(v.Tag), nil
			}
			p, err := g.value(v.Payload, g.lim.child(path, v.Name), depth+1)
			if err != nil {
				return coda.Value{}, err
			}
			return coda.Enum(v.Tag, p), nil
		}
		fields := make([]coda.Value, len(s.Fields))
		for i := range s.Fields {
			f := &s.Fields[i]
			v, err := g.value(&f.Type, g.lim.child(path, f.Name), depth+1)
			if err != nil {
				return coda.Value{}, err
			}
			fields[i] = v
		}
		return coda.Struct(fields...), nil
	}
	return coda.Value{}, errs.E(errs.Invalid, errs.Path(path), fmt.Sprintf("check: cannot generate a value of type %s at %q", t, path))
}

// integer draws an integer of kind k (SPEC.md §2: lo, hi, small, uniform).
func (g *generator) integer(k coda.Kind, path string) (coda.Value, error) {
	lo, hi := float64(DefaultMin), float64(DefaultMax)
	if b := g.lim[path]; b.hasRange {
		lo, hi = b.min, b.max
	}
	a, b, ok := intRange(k, lo, hi)
	if !ok {
		return coda.Value{}, errs.E(errs.Invalid, errs.Path(path), fmt.Sprintf("check: no %s in [%g, %g] at %q", k, lo, hi, path))
	}
	var key uint64
	switch c := g.below(8); {
	case c == 0:
		key = a
	case c == 1:
		key = b
	default:
		if c <= 4 {
			sa, sb, ok := intRange(k, -10, 10)
			if sa, sb = max(sa, a), min(sb, b); ok && sa <= sb {
				key = sa + g.upTo(sb-sa)
				break
			}
		}
		key = a + g.upTo(b-a)
	}
	bits := fromKey(k, key)
	if k.IsSigned() {
		return coda.Int(k, int64(bits)), nil
	}
	return coda.Uint(k, bits), nil
}

// float draws a float of kind k (SPEC.md §2).
func (g *generator) float(k coda.Kind, path string) (coda.Value, error) {
	lo, hi := float64(DefaultMin), float64(DefaultMax)
	if b := g.lim[path]; b.hasRange {
		lo, hi = b.min, b.max
	}
	lo, hi = floatRange(k, lo, hi)
	if lo > hi {
		return coda.Value{}, errs.E(errs.Invalid, errs.Path(path), fmt.Sprintf("check: no %s in [%g, %g] at %q", k, lo, hi, path))
	}
	uniform := func() float64 {
		u := g.unit()
		// The conversions round each product: no fused multiply-add, so
		// every platform draws the same floats.
		return min(max(float64(lo*(1-u))+float64(hi*u), lo), hi)
	}
	var x float64
	switch c := g.below(8); c {
	case 0:
		x = lo
	case 1:
		x = hi
	case 2, 3, 4, 5:
		a, b := math.Ceil(lo), math.Floor(hi)
		if c <= 3 {
			a, b = math.Ceil(max(lo, -10)), math.Floor(min(hi, 10))
		}
		if a <= b && b-a < 1<<53 {
			x = a + float64(g.upTo(uint64(b-a)))
		} else {
			x = uniform()
		}
	case 6:
		u := uniform()
		x = math.Round(u*100) / 100
		if x < lo || x > hi || math.IsInf(x, 0) || math.IsNaN(x) {
			x = u
		}
	default:
		x = uniform()
	}
	if x == 0 {
		x = 0 // never -0
	}
	if k == coda.KindF64 {
		return coda.F64(x), nil
	}
	f, ok := toF32(x, lo, hi)
	if !ok {
		return coda.Value{}, errs.E(errs.Invalid, errs.Path(path), fmt.Sprintf("check: no f32 in [%g, %g] at %q", lo, hi, path))
	}
	return coda.F32(f), nil
}

// toF32 rounds x to the nearest f32, then steps it one f32 inside [lo, hi]
// if rounding left the range.
func toF32(x, lo, hi float64) (float32, bool) {
	f := float32(x)
	if float64(f) < lo {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	if float64(f) > hi {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	if f == 0 {
		f = 0
	}
	return f, float64(f) >= lo && float64(f) <= hi
}

// costTable holds, for every schema reachable from a root, the fewest
// nesting levels a finite value of it needs (inf: none has a finite value).
type costTable map[*coda.Schema]int

const inf = math.MaxInt32

// costs computes the cost table of the schemas reachable from s and checks
// that s has finite values and holds no `any`. When that check fails the
// table is returned with the error (Shrink still uses it); when a
// reference is unresolved there is no table.
func costs(s *coda.Schema) (costTable, error) {
	c := costTable{}
	var order []*coda.Schema
	var anyAt error // the first any met
	var visit func(t *coda.Type, path string, depth int) error
	visit = func(t *coda.Type, path string, depth int) error {
		if t == nil || depth > 4*coda.DefaultMaxDepth {
			return nil
		}
		switch t.Kind {
		case coda.KindAny:
			if anyAt == nil {
				anyAt = errs.E(errs.Invalid, errs.Path(path), fmt.Sprintf("check: values of type any are not generated (at %q): give the function a typed input", path))
			}
			return nil
		case coda.KindList, coda.KindOptional, coda.KindLink:
			if t.Kind == coda.KindLink {
				return nil // a link's target is not part of the value
			}
			return visit(t.Elem, path, depth+1)
		case coda.KindMap:
			if err := visit(t.Key, path, depth+1); err != nil {
				return err
			}
			return visit(t.Elem, path, depth+1)
		case coda.KindRef, coda.KindRec:
			sc := t.Schema
			if sc == nil {
				return errs.E(errs.Invalid, errs.Path(path), "check: unresolved schema reference")
			}
			if _, ok := c[sc]; ok {
				return nil
			}
			c[sc] = inf
			order = append(order, sc)
			for i := range sc.Fields {
				if err := visit(&sc.Fields[i].Type, join(path, sc.Fields[i].Name), depth+1); err != nil {
					return err
				}
			}
			for _, v := range sc.Variants {
				if err := visit(v.Payload, join(path, v.Name), depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := visit(schemaType(s), "", 0); err != nil {
		return nil, err
	}
	// Relax to the fixpoint: each round can only lower costs, and every
	// cost is at most the number of schemas times the nesting of a type.
	for changed := true; changed; {
		changed = false
		for _, sc := range order {
			if n := c.schemaCost(sc); n < c[sc] {
				c[sc] = n
				changed = true
			}
		}
	}
	if anyAt != nil {
		return c, anyAt
	}
	if c[s] >= inf {
		return c, errs.E(errs.Invalid, fmt.Sprintf("check: schema %s has no finite value (every value of it contains another)", schemaName(s)))
	}
	return c, nil
}

func (c costTable) typeCost(t *coda.Type) int {
	switch t.Kind {
	case coda.KindList, coda.KindMap, coda.KindOptional:
		return 1
	case coda.KindRef, coda.KindRec:
		if n, ok := c[t.Schema]; ok {
			return n
		}
		return inf
	case coda.KindAny:
		return inf
	}
	return 0
}

func (c costTable) schemaCost(s *coda.Schema) int {
	if s.Kind == coda.KindEnum {
		best := inf
		for _, v := range s.Variants {
			best = min(best, c.variantCost(&v))
		}
		return best
	}
	worst := 1
	for i := range s.Fields {
		n := c.typeCost(&s.Fields[i].Type)
		if n >= inf {
			return inf
		}
		worst = max(worst, 1+n)
	}
	return worst
}

func (c costTable) variantCost(v *coda.Variant) int {
	if v.Payload == nil {
		return 1
	}
	n := c.typeCost(v.Payload)
	if n >= inf {
		return inf
	}
	return 1 + n
}

// cheapest is the first variant of least cost.
func (c costTable) cheapest(s *coda.Schema) *coda.Variant {
	best, at := inf+1, 0
	for i := range s.Variants {
		if n := c.variantCost(&s.Variants[i]); n < best {
			best, at = n, i
		}
	}
	return &s.Variants[at]
}

// finite are the variants with finite values, in tag order.
func (c costTable) finite(s *coda.Schema) []*coda.Variant {
	var out []*coda.Variant
	for i := range s.Variants {
		if c.variantCost(&s.Variants[i]) < inf {
			out = append(out, &s.Variants[i])
		}
	}
	return out
}
