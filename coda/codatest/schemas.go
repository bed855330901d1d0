// Package codatest holds CODA test fixtures other packages reuse: schemas
// built by hand, golden vectors (a value, its type, and its canonical body
// written out byte by byte), a resolver, and generators of random schemas
// and values for property tests.
//
// The schemas here are built without the compiler, so their ids are not
// compiled schema ids: each is BLAKE3("codatest:" + name), a fixed,
// arbitrary 32-byte value. Body encodings don't depend on how an id was
// made; only `any` bodies and objects contain ids at all.
package codatest

import (
	"fmt"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// FakeID is the id the hand-built schema called name gets.
func FakeID(name string) coda.ID { return coda.Sum([]byte("codatest:" + name)) }

// Prim returns a type of a kind with no parameters (bool, integers,
// floats, string, bytes, any).
func Prim(k coda.Kind) *coda.Type { return &coda.Type{Kind: k} }

// Fixed returns bytes[n].
func Fixed(n uint32) *coda.Type { return &coda.Type{Kind: coda.KindFixedBytes, N: n} }

// ListOf returns list<t>.
func ListOf(t *coda.Type) *coda.Type { return &coda.Type{Kind: coda.KindList, Elem: t} }

// MapOf returns map<k, v>.
func MapOf(k, v *coda.Type) *coda.Type { return &coda.Type{Kind: coda.KindMap, Key: k, Elem: v} }

// OptionalOf returns optional<t>.
func OptionalOf(t *coda.Type) *coda.Type { return &coda.Type{Kind: coda.KindOptional, Elem: t} }

// LinkTo returns link<t>.
func LinkTo(t *coda.Type) *coda.Type { return &coda.Type{Kind: coda.KindLink, Elem: t} }

// Ref returns a reference to schema s (outside the referring group).
func Ref(s *coda.Schema) *coda.Type { return &coda.Type{Kind: coda.KindRef, Ref: s.ID, Schema: s} }

// Rec returns a reference to member s of the referring schema's own group.
func Rec(s *coda.Schema) *coda.Type {
	return &coda.Type{Kind: coda.KindRec, N: uint32(s.Index), Schema: s}
}

// NewStruct returns a struct schema named name (id FakeID(name)), alone in
// its group.
func NewStruct(name string, fields ...coda.Field) *coda.Schema {
	s := &coda.Schema{ID: FakeID(name), Name: name, Kind: coda.KindStruct, Fields: fields}
	s.Group = []*coda.Schema{s}
	return s
}

// NewEnum returns an enum schema named name, alone in its group. Variants
// must be given sorted by tag.
func NewEnum(name string, variants ...coda.Variant) *coda.Schema {
	s := &coda.Schema{ID: FakeID(name), Name: name, Kind: coda.KindEnum, Variants: variants}
	s.Group = []*coda.Schema{s}
	return s
}

// F is shorthand for a coda.Field.
func F(name string, t *coda.Type) coda.Field { return coda.Field{Name: name, Type: *t} }

// V is shorthand for a coda.Variant; payload may be nil.
func V(name string, tag uint32, payload *coda.Type) coda.Variant {
	return coda.Variant{Name: name, Tag: tag, Payload: payload}
}

// Group makes the schemas one recursive group, in the given order.
func Group(ss ...*coda.Schema) {
	for i, s := range ss {
		s.Group = ss
		s.Index = i
	}
}

// The hand-built schemas of the golden vectors. Declarations as in the
// schema language:
//
//	schema Blob   { data: bytes }
//	schema Date   { day: u8  month: u8  year: u32 }
//	enum   Kind   { Human  Robot(u32) }
//	schema Person { name: string  birthday: Date  nick: optional<string>
//	                tags: list<string>  scores: map<string, i64>
//	                photo: optional<link<Blob>>  kind: Kind }
//	schema Empty  { }
//	schema Zero   { z: bytes[0]  e: Empty }
//	enum   Color  { Red  Green  Blue = 7 }
//	enum   Big    { Small  Large(string) = 300 }
//	schema Tree   { value: u32  children: list<Tree> }
//	enum   Expr   { Num(i64)  Neg(Expr)  Add(Pair) }
//	schema Pair   { a: Expr  b: Expr }
//	schema Holder { item: any }
var (
	Blob   = NewStruct("Blob", F("data", Prim(coda.KindBytes)))
	Date   = NewStruct("Date", F("day", Prim(coda.KindU8)), F("month", Prim(coda.KindU8)), F("year", Prim(coda.KindU32)))
	Kind   = NewEnum("Kind", V("Human", 0, nil), V("Robot", 1, Prim(coda.KindU32)))
	Person = NewStruct("Person",
		F("name", Prim(coda.KindString)),
		F("birthday", Ref(Date)),
		F("nick", OptionalOf(Prim(coda.KindString))),
		F("tags", ListOf(Prim(coda.KindString))),
		F("scores", MapOf(Prim(coda.KindString), Prim(coda.KindI64))),
		F("photo", OptionalOf(LinkTo(Ref(Blob)))),
		F("kind", Ref(Kind)),
	)
	Empty  = NewStruct("Empty")
	Zero   = NewStruct("Zero", F("z", Fixed(0)), F("e", Ref(Empty)))
	Color  = NewEnum("Color", V("Red", 0, nil), V("Green", 1, nil), V("Blue", 7, nil))
	Big    = NewEnum("Big", V("Small", 0, nil), V("Large", 300, Prim(coda.KindString)))
	Tree   = newTree()
	Expr   = newExpr()
	Pair   = Expr.Group[1]
	Holder = NewStruct("Holder", F("item", Prim(coda.KindAny)))
)

func newTree() *coda.Schema {
	s := NewStruct("Tree")
	s.Fields = []coda.Field{F("value", Prim(coda.KindU32)), F("children", ListOf(Rec(s)))}
	return s
}

func newExpr() *coda.Schema {
	expr := NewEnum("Expr")
	pair := NewStruct("Pair")
	Group(expr, pair)
	expr.Variants = []coda.Variant{
		V("Num", 0, Prim(coda.KindI64)),
		V("Neg", 1, Rec(expr)),
		V("Add", 2, Rec(pair)),
	}
	pair.Fields = []coda.Field{F("a", Rec(expr)), F("b", Rec(expr))}
	return expr
}

// Schemas returns every hand-built schema of this package.
func Schemas() []*coda.Schema {
	return []*coda.Schema{Blob, Date, Kind, Person, Empty, Zero, Color, Big, Tree, Expr, Pair, Holder, Profile}
}

// Resolver is a coda.Resolver over a fixed set of schemas.
type Resolver map[coda.ID]*coda.Schema

// NewResolver returns a Resolver that knows ss.
func NewResolver(ss ...*coda.Schema) Resolver {
	r := Resolver{}
	for _, s := range ss {
		r[s.ID] = s
	}
	return r
}

// SchemaByID implements coda.Resolver.
func (r Resolver) SchemaByID(id coda.ID) (*coda.Schema, error) {
	if s, ok := r[id]; ok {
		return s, nil
	}
	return nil, errs.E(errs.NotExist, fmt.Sprintf("codatest: no schema %s", id))
}

// DefaultResolver knows Schemas().
var DefaultResolver = NewResolver(Schemas()...)
