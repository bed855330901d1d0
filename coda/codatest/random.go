package codatest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/coalescent/coal/coda"
)

// Gen makes random schemas and values for property tests: nested types of
// every kind, recursive groups, maps with every allowed key kind, enums with
// and without payloads, and `any`. Values stay well inside the default
// limits. A Gen is not safe for concurrent use.
type Gen struct {
	R       *rand.Rand
	schemas []*coda.Schema // made so far, all usable by refs and any
	n       int            // names made so far
}

// NewGen returns a Gen seeded with seed.
func NewGen(seed uint64) *Gen {
	return &Gen{R: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Resolver knows every schema g made, and the package's hand-built ones.
func (g *Gen) Resolver() Resolver {
	r := NewResolver(Schemas()...)
	for _, s := range g.schemas {
		r[s.ID] = s
	}
	return r
}

func (g *Gen) name(prefix string) string {
	g.n++
	return fmt.Sprintf("%s%d_%x", prefix, g.n, g.R.Uint32())
}

// maxSchemas bounds how many schemas one Gen makes, which bounds how deeply
// types nest through references.
const maxSchemas = 6

// Schema returns a new random struct or enum schema; sometimes the first
// member of a new recursive group of one or two.
func (g *Gen) Schema() *coda.Schema {
	if g.n >= maxSchemas && len(g.schemas) > 0 {
		return g.schemas[g.R.IntN(len(g.schemas))]
	}
	size := 1
	recursive := g.R.IntN(3) == 0
	if recursive && g.R.IntN(2) == 0 {
		size = 2
	}
	group := make([]*coda.Schema, size)
	for i := range group {
		if g.R.IntN(2) == 0 {
			group[i] = NewStruct(g.name("S"))
		} else {
			group[i] = NewEnum(g.name("E"))
		}
	}
	Group(group...)
	for _, s := range group {
		var members []*coda.Schema
		if recursive {
			members = group
		}
		if s.Kind == coda.KindStruct {
			n := 1 + g.R.IntN(7)
			if g.R.IntN(10) == 0 {
				n = 0 // sometimes an empty struct
			}
			for i := 0; i < n; i++ {
				s.Fields = append(s.Fields, coda.Field{Name: fmt.Sprintf("f%d", i), Type: *g.fieldType(members, 3)})
			}
		} else {
			// Variant 0 has no payload, so that every recursive enum has
			// finite values; tags are sparse and sometimes large.
			tag := uint32(0)
			n := 1 + g.R.IntN(5)
			for i := 0; i < n; i++ {
				v := coda.Variant{Name: fmt.Sprintf("V%d", i), Tag: tag}
				if i > 0 && g.R.IntN(3) > 0 {
					v.Payload = g.guardedType(members, 3)
				}
				s.Variants = append(s.Variants, v)
				tag += 1 + uint32(g.R.IntN(3))*uint32(g.R.IntN(200))
			}
		}
	}
	g.schemas = append(g.schemas, group...)
	return group[0]
}

// fieldType is a struct field's type: a group member may appear directly
// only if it is an enum (its payload then guards the cycle).
func (g *Gen) fieldType(members []*coda.Schema, depth int) *coda.Type {
	if len(members) > 0 && g.R.IntN(4) == 0 {
		m := members[g.R.IntN(len(members))]
		if m.Kind == coda.KindEnum {
			return Rec(m)
		}
		return ListOf(Rec(m))
	}
	return g.typ(members, depth)
}

// guardedType may be a bare member: it sits behind an enum payload.
func (g *Gen) guardedType(members []*coda.Schema, depth int) *coda.Type {
	if len(members) > 0 && g.R.IntN(3) == 0 {
		return Rec(members[g.R.IntN(len(members))])
	}
	return g.typ(members, depth)
}

var leafKinds = []coda.Kind{
	coda.KindBool, coda.KindU8, coda.KindU16, coda.KindU32, coda.KindU64,
	coda.KindI8, coda.KindI16, coda.KindI32, coda.KindI64, coda.KindF32, coda.KindF64,
	coda.KindString, coda.KindBytes, coda.KindFixedBytes, coda.KindLink, coda.KindAny,
}

// Type returns a random type nesting at most depth constructors deep.
func (g *Gen) Type(depth int) *coda.Type { return g.typ(nil, depth) }

func (g *Gen) typ(members []*coda.Schema, depth int) *coda.Type {
	choice := g.R.IntN(11)
	if depth <= 0 {
		choice = 0
	}
	switch choice {
	case 0, 1, 2, 3:
		k := leafKinds[g.R.IntN(len(leafKinds))]
		switch k {
		case coda.KindFixedBytes:
			return Fixed([]uint32{0, 1, 3, 32}[g.R.IntN(4)])
		case coda.KindLink:
			return LinkTo(Prim(coda.KindAny))
		}
		return Prim(k)
	case 4:
		return ListOf(g.guardedType(members, depth-1))
	case 5:
		return MapOf(g.keyType(), g.guardedType(members, depth-1))
	case 6:
		return OptionalOf(g.guardedType(members, depth-1))
	case 7:
		return LinkTo(Prim(coda.KindAny))
	default:
		// A reference to an earlier schema, or a new one.
		switch {
		case len(g.schemas) > 0 && (g.n >= maxSchemas || g.R.IntN(2) == 0):
			return Ref(g.schemas[g.R.IntN(len(g.schemas))])
		case g.n < maxSchemas:
			return Ref(g.Schema())
		}
		return Prim(coda.KindString)
	}
}

var keyKinds = []coda.Kind{
	coda.KindBool, coda.KindU8, coda.KindU16, coda.KindU32, coda.KindU64,
	coda.KindI8, coda.KindI16, coda.KindI32, coda.KindI64,
	coda.KindString, coda.KindBytes, coda.KindFixedBytes, coda.KindLink, coda.KindEnum,
}

func (g *Gen) keyType() *coda.Type {
	switch k := keyKinds[g.R.IntN(len(keyKinds))]; k {
	case coda.KindFixedBytes:
		return Fixed([]uint32{0, 1, 2}[g.R.IntN(3)])
	case coda.KindLink:
		return LinkTo(Prim(coda.KindAny))
	case coda.KindEnum:
		return Ref(Color)
	default:
		return Prim(k)
	}
}

// Value returns a random value of t. budget bounds the nesting of
// recursive types: once it runs out, lists and maps are empty, optionals
// absent and recursive enums take variant 0.
func (g *Gen) Value(t *coda.Type, budget int) coda.Value {
	r := g.R
	switch t.Kind {
	case coda.KindBool:
		return coda.Bool(r.IntN(2) == 0)
	case coda.KindU8, coda.KindU16, coda.KindU32, coda.KindU64:
		w := t.Kind.Width() * 8
		return coda.Uint(t.Kind, g.bits()>>(64-w))
	case coda.KindI8, coda.KindI16, coda.KindI32, coda.KindI64:
		w := t.Kind.Width() * 8
		return coda.Int(t.Kind, int64(g.bits())>>(64-w))
	case coda.KindF32:
		switch r.IntN(6) {
		case 0:
			return coda.F32(float32(math.NaN()))
		case 1:
			return coda.F32(float32(math.Copysign(0, -1)))
		case 2:
			return coda.F32(float32(math.Inf(1 - 2*r.IntN(2))))
		}
		return coda.F32(math.Float32frombits(r.Uint32()))
	case coda.KindF64:
		switch r.IntN(6) {
		case 0:
			return coda.F64(math.NaN())
		case 1:
			return coda.F64(math.Copysign(0, -1))
		case 2:
			return coda.F64(math.Inf(1 - 2*r.IntN(2)))
		}
		return coda.F64(math.Float64frombits(r.Uint64()))
	case coda.KindString:
		return coda.String(g.text())
	case coda.KindBytes:
		return coda.Bytes(g.bytes(r.IntN(4) * r.IntN(40)))
	case coda.KindFixedBytes:
		return coda.FixedBytes(g.bytes(int(t.N)))
	case coda.KindLink:
		return coda.Link(coda.ID(g.bytes(coda.IDSize)))
	case coda.KindList:
		n := 0
		if budget > 0 {
			n = r.IntN(4) * r.IntN(4)
		}
		vs := make([]coda.Value, n)
		for i := range vs {
			vs[i] = g.Value(t.Elem, budget-1)
		}
		return coda.List(vs...)
	case coda.KindMap:
		n := 0
		if budget > 0 {
			n = r.IntN(4) * r.IntN(4)
		}
		es := make([]coda.MapEntry, 0, n)
		for i := 0; i < n; i++ {
			es = append(es, coda.MapEntry{Key: g.Value(t.Key, budget-1), Value: g.Value(t.Elem, budget-1)})
		}
		// Keep the first of equal keys: Map sorts stably.
		m := coda.Map(es...)
		es = es[:0]
		for i := 0; i < m.Len(); i++ {
			if e := m.Entry(i); i == 0 || coda.CompareKeys(m.Entry(i-1).Key, e.Key) != 0 {
				es = append(es, e)
			}
		}
		return coda.Map(es...)
	case coda.KindOptional:
		if budget <= 0 || r.IntN(3) == 0 {
			return coda.None()
		}
		return coda.Some(g.Value(t.Elem, budget-1))
	case coda.KindAny:
		var s *coda.Schema
		switch {
		case budget <= 0:
			s = Date
		case len(g.schemas) > 0 && r.IntN(4) > 0:
			s = g.schemas[r.IntN(len(g.schemas))]
		default:
			ss := Schemas()
			s = ss[r.IntN(len(ss))]
		}
		return coda.AnyOf(s, g.Value(Ref(s), budget-1))
	case coda.KindRef, coda.KindRec:
		return g.schemaValue(t.Schema, budget)
	}
	return coda.Value{}
}

func (g *Gen) schemaValue(s *coda.Schema, budget int) coda.Value {
	if s.Kind == coda.KindStruct {
		vs := make([]coda.Value, len(s.Fields))
		for i := range s.Fields {
			vs[i] = g.Value(&s.Fields[i].Type, budget-1)
		}
		return coda.Struct(vs...)
	}
	v := s.Variants[g.R.IntN(len(s.Variants))]
	if budget <= 0 {
		v = s.Variants[0]
	}
	if v.Payload == nil {
		return coda.Enum(v.Tag)
	}
	return coda.Enum(v.Tag, g.Value(v.Payload, budget-1))
}

// bits returns 64 random bits, often an edge case.
func (g *Gen) bits() uint64 {
	switch g.R.IntN(8) {
	case 0:
		return 0
	case 1:
		return math.MaxUint64
	case 2:
		return 1 << 63
	case 3:
		return uint64(g.R.IntN(300)) << 56
	}
	return g.R.Uint64()
}

func (g *Gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.R.Uint32())
	}
	return b
}

var runes = []rune{'a', 'z', '0', ' ', '"', '\\', 0, 0x7f, 'é', 'ß', '世', '界', 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF}

func (g *Gen) text() string {
	var b strings.Builder
	n := g.R.IntN(4) * g.R.IntN(12)
	for i := 0; i < n; i++ {
		if g.R.IntN(2) == 0 {
			b.WriteRune(runes[g.R.IntN(len(runes))])
		} else {
			b.WriteRune(rune('a' + g.R.IntN(26)))
		}
	}
	return b.String()
}

// Case is one random schema with a value of it.
type Case struct {
	Schema *coda.Schema
	Value  coda.Value
}

// Cases returns n random (schema, value) pairs from one generator, and a
// resolver that knows all their schemas.
func Cases(seed uint64, n int) ([]Case, Resolver) {
	var cases []Case
	var all []*coda.Schema
	for i := 0; i < n; i++ {
		g := NewGen(seed + uint64(i))
		s := g.Schema()
		for j := 0; j < 3; j++ {
			cases = append(cases, Case{s, g.Value(Ref(s), 5)})
		}
		all = append(all, g.schemas...)
	}
	r := NewResolver(slices.Concat(Schemas(), all)...)
	return cases, r
}
