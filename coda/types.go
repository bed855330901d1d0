package coda

import (
	"fmt"
	"strings"
)

// Kind is a type constructor. Its value is the type id byte used in the
// canonical schema form (docs/coda.md, "Type ids"); the seed's assigned ids
// (u8 0x10 … i64 0x17) are kept. The list is append-only.
type Kind uint8

// The kinds of types.
const (
	KindInvalid    Kind = 0x00
	KindBool       Kind = 0x01
	KindU8         Kind = 0x10
	KindU16        Kind = 0x11
	KindU32        Kind = 0x12
	KindU64        Kind = 0x13
	KindI8         Kind = 0x14
	KindI16        Kind = 0x15
	KindI32        Kind = 0x16
	KindI64        Kind = 0x17
	KindF32        Kind = 0x18
	KindF64        Kind = 0x19
	KindString     Kind = 0x20
	KindBytes      Kind = 0x21
	KindFixedBytes Kind = 0x22 // bytes[N]
	KindList       Kind = 0x30
	KindMap        Kind = 0x31
	KindOptional   Kind = 0x32
	KindLink       Kind = 0x33 // link<T>: a 32-byte object id
	KindAny        Kind = 0x34 // an embedded object with its schema id
	KindRef        Kind = 0x40 // a reference to another schema, by id
	KindRec        Kind = 0x41 // a reference to a member of the same recursive group, by index

	// Value-only kinds: a Value of a struct or enum schema has these kinds.
	KindStruct Kind = 0x50
	KindEnum   Kind = 0x51
)

var kindNames = map[Kind]string{
	KindBool: "bool", KindU8: "u8", KindU16: "u16", KindU32: "u32", KindU64: "u64",
	KindI8: "i8", KindI16: "i16", KindI32: "i32", KindI64: "i64", KindF32: "f32", KindF64: "f64",
	KindString: "string", KindBytes: "bytes", KindFixedBytes: "bytes[N]", KindList: "list",
	KindMap: "map", KindOptional: "optional", KindLink: "link", KindAny: "any", KindRef: "ref",
	KindRec: "rec", KindStruct: "struct", KindEnum: "enum",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(0x%02x)", uint8(k))
}

// IsInteger reports whether k is one of u8…i64.
func (k Kind) IsInteger() bool { return k >= KindU8 && k <= KindI64 }

// IsSigned reports whether k is one of i8…i64.
func (k Kind) IsSigned() bool { return k >= KindI8 && k <= KindI64 }

// Width is the size in bytes of a fixed-width number kind, else 0.
func (k Kind) Width() int {
	switch k {
	case KindU8, KindI8:
		return 1
	case KindU16, KindI16:
		return 2
	case KindU32, KindI32, KindF32:
		return 4
	case KindU64, KindI64, KindF64:
		return 8
	}
	return 0
}

// Type is a compiled type. The zero Type is invalid.
//
// Elem is the element type of list, optional and link, and the value type of
// map; Key is the key type of map. For link, Elem is the target: a Ref, a Rec
// or any. A Ref or Rec carries Schema, the resolved schema, once compiled.
type Type struct {
	Kind   Kind
	N      uint32  // bytes[N]: N; Rec: the member index in the group
	Elem   *Type   // list, map value, optional, link target
	Key    *Type   // map key
	Ref    ID      // Ref: the schema id
	Schema *Schema // Ref, Rec: the resolved schema (nil until resolved)
}

// Schema is a compiled schema: a struct (ordered fields) or an enum (tagged
// variants, each with at most one payload type).
//
// Name is the name it was declared with; it is for people and messages only
// and is not part of the ID. ID is the id of the canonical form (docs/coda.md,
// "Schema ids"). A Schema is immutable once compiled and safe to share.
type Schema struct {
	ID       ID
	Name     string
	Kind     Kind // KindStruct or KindEnum
	Fields   []Field
	Variants []Variant // sorted by Tag

	// Group and Index place the schema in its recursive group: the schemas
	// that refer to each other in a cycle are hashed together (Group[Index]
	// is this schema). A schema in no cycle is a group of one.
	Group []*Schema
	Index int
}

// Field is one field of a struct schema.
type Field struct {
	Name string
	Type Type
}

// Variant is one variant of an enum schema. Payload is nil for a variant
// without payload.
type Variant struct {
	Name    string
	Tag     uint32
	Payload *Type
}

// FieldIndex returns the index of the named field, or -1.
func (s *Schema) FieldIndex(name string) int {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return i
		}
	}
	return -1
}

// VariantByTag returns the variant with the given tag.
func (s *Schema) VariantByTag(tag uint32) (*Variant, bool) {
	// Variants are sorted by tag; enums are small, a linear scan is fine.
	for i := range s.Variants {
		if s.Variants[i].Tag == tag {
			return &s.Variants[i], true
		}
	}
	return nil, false
}

// VariantByName returns the named variant.
func (s *Schema) VariantByName(name string) (*Variant, bool) {
	for i := range s.Variants {
		if s.Variants[i].Name == name {
			return &s.Variants[i], true
		}
	}
	return nil, false
}

// String writes the type in the schema language's syntax.
func (t *Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Type) write(b *strings.Builder) {
	switch t.Kind {
	case KindFixedBytes:
		fmt.Fprintf(b, "bytes[%d]", t.N)
	case KindList, KindOptional, KindLink:
		b.WriteString(t.Kind.String())
		b.WriteByte('<')
		if t.Elem != nil {
			t.Elem.write(b)
		}
		b.WriteByte('>')
	case KindMap:
		b.WriteString("map<")
		if t.Key != nil {
			t.Key.write(b)
		}
		b.WriteString(", ")
		if t.Elem != nil {
			t.Elem.write(b)
		}
		b.WriteByte('>')
	case KindRef, KindRec:
		switch {
		case t.Schema != nil && t.Schema.Name != "":
			b.WriteString(t.Schema.Name)
		case t.Kind == KindRef:
			b.WriteString(t.Ref.String())
		default:
			fmt.Fprintf(b, "rec(%d)", t.N)
		}
	default:
		b.WriteString(t.Kind.String())
	}
}
