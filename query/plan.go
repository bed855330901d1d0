package query

import (
	"bytes"
	"fmt"
	"math"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/coalescent/coal/coda"
)

// bound is what a filter pins of one field: keys lo ≤ key ≤ hi (nil: open).
type bound struct {
	field  string
	lo, hi []byte
	eq     bool
}

func (b *bound) String() string {
	switch {
	case b.eq:
		return fmt.Sprintf("%s == %x", b.field, b.lo)
	case b.lo != nil && b.hi != nil:
		return fmt.Sprintf("%x <= %s <= %x", b.lo, b.field, b.hi)
	case b.lo != nil:
		return fmt.Sprintf("%s >= %x", b.field, b.lo)
	default:
		return fmt.Sprintf("%s <= %x", b.field, b.hi)
	}
}

// empty reports whether no key is in the bound.
func (b *bound) empty() bool {
	return b.lo != nil && b.hi != nil && bytes.Compare(b.lo, b.hi) > 0
}

// conjuncts returns the terms of e's top-level &&s.
func conjuncts(e ast.Expr, out []ast.Expr) []ast.Expr {
	if e.Kind() == ast.CallKind && e.AsCall().FunctionName() == "_&&_" {
		for _, a := range e.AsCall().Args() {
			out = conjuncts(a, out)
		}
		return out
	}
	return append(out, e)
}

var flipped = map[string]string{"_==_": "_==_", "_<_": "_>_", "_<=_": "_>=_", "_>_": "_<_", "_>=_": "_<=_"}

// plan returns the bound of the best indexed field the filter pins
// (docs/query.md §6), or nil: a term `F op LITERAL` or `LITERAL op F`
// with op one of == < <= > >=, F an indexed field and the literal of F's
// kind, in the top-level conjunction. An equality is preferred to a
// range, a range with two ends to one with one, the first field to later
// ones.
func plan(f *filter, s *coda.Schema, indexed map[string]bool) *bound {
	if f == nil || s == nil || s.Kind != coda.KindStruct {
		return nil
	}
	bounds := map[string]*bound{}
	var order []string
	for _, t := range conjuncts(f.ast.NativeRep().Expr(), nil) {
		if t.Kind() != ast.CallKind {
			continue
		}
		c := t.AsCall()
		fn, ok := flipped[c.FunctionName()]
		args := c.Args()
		if !ok || len(args) != 2 {
			continue
		}
		id, lit := args[0], args[1]
		if id.Kind() == ast.LiteralKind && lit.Kind() == ast.IdentKind {
			id, lit = lit, id
		} else {
			fn = c.FunctionName()
		}
		if id.Kind() != ast.IdentKind || lit.Kind() != ast.LiteralKind {
			continue
		}
		name := id.AsIdent()
		i := s.FieldIndex(name)
		if !indexed[name] || i < 0 {
			continue
		}
		k, ok := literalKey(&s.Fields[i].Type, lit.AsLiteral())
		if !ok {
			continue
		}
		b := bounds[name]
		if b == nil {
			b = &bound{field: name}
			bounds[name] = b
			order = append(order, name)
		}
		switch fn {
		case "_==_":
			b.setLo(k)
			b.setHi(k)
			b.eq = b.eq || bytes.Equal(b.lo, b.hi)
		case "_<_", "_<=_":
			b.setHi(k)
		case "_>_", "_>=_":
			b.setLo(k)
		}
	}
	var best *bound
	score := func(b *bound) int {
		switch {
		case b.eq:
			return 3
		case b.lo != nil && b.hi != nil:
			return 2
		}
		return 1
	}
	for _, name := range order {
		if b := bounds[name]; best == nil || score(b) > score(best) {
			best = b
		}
	}
	return best
}

func (b *bound) setLo(k []byte) {
	if b.lo == nil || bytes.Compare(k, b.lo) > 0 {
		b.lo = k
	}
}

func (b *bound) setHi(k []byte) {
	if b.hi == nil || bytes.Compare(k, b.hi) < 0 {
		b.hi = k
	}
}

// literalKey is the key a CEL literal has as a value of field type t, if
// the literal is of t's kind (an int literal also for a float field).
func literalKey(t *coda.Type, v ref.Val) ([]byte, bool) {
	if t.Kind == coda.KindOptional {
		t = t.Elem
	}
	if !keyable(t) {
		return nil, false
	}
	switch x := v.(type) {
	case types.Int:
		switch {
		case t.Kind.IsInteger():
			return intKey(int64(x)), true
		case t.Kind == coda.KindF32 || t.Kind == coda.KindF64:
			return floatKey(float64(x)), true
		}
	case types.Uint:
		switch {
		case t.Kind.IsInteger():
			return uintKey(uint64(x)), true
		case t.Kind == coda.KindF32 || t.Kind == coda.KindF64:
			return floatKey(float64(x)), true
		}
	case types.Double:
		if t.Kind == coda.KindF64 || t.Kind == coda.KindF32 && float64(float32(x)) == float64(x) {
			return floatKey(float64(x)), true
		}
		if t.Kind.IsInteger() && !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) {
			return nil, false
		}
	case types.String:
		switch t.Kind {
		case coda.KindString, coda.KindRef, coda.KindRec:
			return append([]byte{keyString}, string(x)...), true
		case coda.KindLink:
			id, err := coda.ParseID(string(x))
			if err != nil {
				return nil, false
			}
			return append([]byte{keyBytes}, id[:]...), true
		}
	case types.Bytes:
		if t.Kind == coda.KindBytes || t.Kind == coda.KindFixedBytes {
			return append([]byte{keyBytes}, x...), true
		}
	case types.Bool:
		if t.Kind == coda.KindBool {
			if x {
				return []byte{keyBool, 1}, true
			}
			return []byte{keyBool, 0}, true
		}
	}
	return nil, false
}
