package query

import (
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Filters are CEL expressions (docs/query.md §2) over one value: each
// field of the value's schema is a variable of the CEL type its CODA type
// maps to, and _path, _name and _id name the value's path, last segment
// and object id.

// celReserved are the CEL words a field cannot be named as a variable.
var celReserved = map[string]bool{
	"true": true, "false": true, "null": true, "in": true, "as": true, "break": true,
	"const": true, "continue": true, "else": true, "for": true, "function": true,
	"if": true, "import": true, "let": true, "loop": true, "package": true,
	"namespace": true, "return": true, "var": true, "void": true, "while": true,
}

// The variables every filter has besides the fields.
const (
	varPath = "_path"
	varName = "_name"
	varID   = "_id"
)

// celType is the CEL type of values of t (docs/query.md §2.1).
func celType(t *coda.Type) *cel.Type {
	switch {
	case t.Kind == coda.KindBool:
		return cel.BoolType
	case t.Kind == coda.KindU64:
		return cel.UintType
	case t.Kind.IsInteger():
		return cel.IntType
	case t.Kind == coda.KindF32 || t.Kind == coda.KindF64:
		return cel.DoubleType
	case t.Kind == coda.KindString, t.Kind == coda.KindLink:
		return cel.StringType
	case t.Kind == coda.KindBytes || t.Kind == coda.KindFixedBytes:
		return cel.BytesType
	case t.Kind == coda.KindList:
		return cel.ListType(celType(t.Elem))
	case t.Kind == coda.KindMap:
		switch k := celType(t.Key); k {
		case cel.StringType, cel.IntType, cel.UintType, cel.BoolType:
			return cel.MapType(k, celType(t.Elem))
		}
		return cel.MapType(cel.DynType, celType(t.Elem))
	case t.Kind == coda.KindRef || t.Kind == coda.KindRec:
		if t.Schema != nil && t.Schema.Kind == coda.KindStruct {
			return cel.MapType(cel.StringType, cel.DynType)
		}
	}
	return cel.DynType // optional (null or the value), enum, any
}

// native converts v, a value of type t, to the Go value CEL sees.
func native(t *coda.Type, v coda.Value) any {
	switch {
	case t.Kind == coda.KindBool:
		return v.AsBool()
	case t.Kind == coda.KindU64:
		return v.AsUint()
	case t.Kind.IsSigned():
		return v.AsInt()
	case t.Kind.IsInteger():
		return int64(v.AsUint())
	case t.Kind == coda.KindF32 || t.Kind == coda.KindF64:
		return v.AsFloat()
	case t.Kind == coda.KindString:
		return v.AsString()
	case t.Kind == coda.KindLink:
		return v.AsID().String()
	case t.Kind == coda.KindBytes || t.Kind == coda.KindFixedBytes:
		return v.AsBytes()
	case t.Kind == coda.KindOptional:
		if !v.IsSome() {
			return types.NullValue
		}
		return native(t.Elem, v.Index(0))
	case t.Kind == coda.KindList:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = native(t.Elem, v.Index(i))
		}
		return out
	case t.Kind == coda.KindMap:
		out := make(map[any]any, v.Len())
		for i := 0; i < v.Len(); i++ {
			e := v.Entry(i)
			out[native(t.Key, e.Key)] = native(t.Elem, e.Value)
		}
		return out
	case t.Kind == coda.KindRef || t.Kind == coda.KindRec:
		return nativeSchema(t.Schema, v)
	case t.Kind == coda.KindAny:
		if s := v.AnySchema(); s != nil && v.Len() == 1 {
			return nativeSchema(s, v.Index(0))
		}
	}
	return nil
}

// nativeSchema converts a value of schema s: a struct to a map of its
// fields, an enum to its variant's name, or {name: payload}.
func nativeSchema(s *coda.Schema, v coda.Value) any {
	if s == nil {
		return nil
	}
	if s.Kind == coda.KindStruct {
		m := make(map[string]any, len(s.Fields))
		for i := range s.Fields {
			if i < v.Len() {
				m[s.Fields[i].Name] = native(&s.Fields[i].Type, v.Index(i))
			}
		}
		return m
	}
	vr, ok := s.VariantByTag(v.Tag())
	if !ok {
		return nil
	}
	p, has := v.Payload()
	if vr.Payload == nil || !has {
		return vr.Name
	}
	return map[string]any{vr.Name: native(vr.Payload, p)}
}

// filter is a where expression compiled against one schema.
type filter struct {
	prg  cel.Program
	ast  *cel.Ast
	vars map[string]int // field name → index
}

// schemaName names s in errors: its name and id.
func schemaName(s *coda.Schema) string {
	if s == nil {
		return "no schema"
	}
	return fmt.Sprintf("schema %s (%s)", s.Name, s.ID)
}

// compileFilter checks expr against schema s. Errors name the position in
// the expression (line:column, 1-based) and the schema.
func compileFilter(expr string, s *coda.Schema) (*filter, error) {
	opts := []cel.EnvOption{cel.CrossTypeNumericComparisons(true),
		cel.Variable(varPath, cel.StringType), cel.Variable(varName, cel.StringType), cel.Variable(varID, cel.StringType)}
	vars := map[string]int{}
	if s != nil && s.Kind == coda.KindStruct {
		for i, f := range s.Fields {
			if celReserved[f.Name] || f.Name == varPath || f.Name == varName || f.Name == varID {
				continue
			}
			vars[f.Name] = i
			opts = append(opts, cel.Variable(f.Name, celType(&f.Type)))
		}
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("where: checked against %s: %v", schemaName(s), err))
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		var b strings.Builder
		for i, e := range iss.Errors() {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "where:%d:%d: %s", e.Location.Line(), e.Location.Column()+1, e.Message)
		}
		fmt.Fprintf(&b, " (checked against %s)", schemaName(s))
		return nil, errs.E(errs.Invalid, b.String())
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("where:1:1: the expression is of type %s, not bool (checked against %s)", t, schemaName(s)))
	}
	prg, err := env.Program(ast)
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("where: %v (checked against %s)", err, schemaName(s)))
	}
	return &filter{prg: prg, ast: ast, vars: vars}, nil
}

// match evaluates the filter on value v of schema s at path. An
// evaluation error (a missing map key, a null where a number was needed)
// is no match.
func (f *filter) match(s *coda.Schema, v coda.Value, path string, id coda.ID) bool {
	act := make(map[string]any, len(f.vars)+3)
	for name, i := range f.vars {
		if i < v.Len() {
			act[name] = native(&s.Fields[i].Type, v.Index(i))
		}
	}
	act[varPath] = path
	act[varName] = path[strings.LastIndexByte(path, '/')+1:]
	act[varID] = id.String()
	out, _, err := f.prg.Eval(act)
	if err != nil {
		return false
	}
	return out == types.True
}
