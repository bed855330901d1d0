package coda

// The built-in schemas: the schema of schemas (docs/coda.md, section 4),
// built by hand because it cannot be compiled by itself, and Blob.
//
//	schema Schema  { group: list<Def>  index: u32 }                       // 0
//	enum   Def     { Struct(list<Field>) = 0  Enum(list<Variant>) = 1 }   // 1
//	schema Field   { name: string  type: Type }                           // 2
//	schema Variant { name: string  tag: u32  payload: optional<Type> }    // 3
//	enum   Type    { Bool = 0x01 … Ref(bytes[32]) = 0x40  Rec(u32) = 0x41 } // 4
//	schema MapType { key: Type  value: Type }                             // 5
//
// The group is fixed in this order (it is not a strongly connected component
// and is not re-ordered), and its member 0's id is BLAKE3 of its body alone:
// an object cannot contain its own hash.

// MaxFixedBytes is the largest N of bytes[N].
const MaxFixedBytes = 65536

// The group indexes of the schema of schemas.
const (
	metaSchema = iota
	metaDef
	metaField
	metaVariant
	metaType
	metaMapType
)

type metaSchemas struct {
	id         ID
	group      []*Schema
	groupBytes []byte // the encoded group, without the index
	blob       *Schema
}

var meta = buildMeta()

func buildMeta() *metaSchemas {
	g := make([]*Schema, 6)
	for i := range g {
		g[i] = &Schema{Group: g, Index: i}
	}
	rec := func(i int) Type { return Type{Kind: KindRec, N: uint32(i), Schema: g[i]} }
	ptr := func(t Type) *Type { return &t }
	prim := func(k Kind) Type { return Type{Kind: k} }

	g[metaSchema].Name, g[metaSchema].Kind = "Schema", KindStruct
	g[metaSchema].Fields = []Field{
		{"group", Type{Kind: KindList, Elem: ptr(rec(metaDef))}},
		{"index", prim(KindU32)},
	}
	g[metaDef].Name, g[metaDef].Kind = "Def", KindEnum
	g[metaDef].Variants = []Variant{
		{"Struct", 0, &Type{Kind: KindList, Elem: ptr(rec(metaField))}},
		{"Enum", 1, &Type{Kind: KindList, Elem: ptr(rec(metaVariant))}},
	}
	g[metaField].Name, g[metaField].Kind = "Field", KindStruct
	g[metaField].Fields = []Field{
		{"name", prim(KindString)},
		{"type", rec(metaType)},
	}
	g[metaVariant].Name, g[metaVariant].Kind = "Variant", KindStruct
	g[metaVariant].Fields = []Field{
		{"name", prim(KindString)},
		{"tag", prim(KindU32)},
		{"payload", Type{Kind: KindOptional, Elem: ptr(rec(metaType))}},
	}
	g[metaType].Name, g[metaType].Kind = "Type", KindEnum
	g[metaType].Variants = []Variant{
		{"Bool", uint32(KindBool), nil},
		{"U8", uint32(KindU8), nil},
		{"U16", uint32(KindU16), nil},
		{"U32", uint32(KindU32), nil},
		{"U64", uint32(KindU64), nil},
		{"I8", uint32(KindI8), nil},
		{"I16", uint32(KindI16), nil},
		{"I32", uint32(KindI32), nil},
		{"I64", uint32(KindI64), nil},
		{"F32", uint32(KindF32), nil},
		{"F64", uint32(KindF64), nil},
		{"String", uint32(KindString), nil},
		{"Bytes", uint32(KindBytes), nil},
		{"FixedBytes", uint32(KindFixedBytes), ptr(prim(KindU32))},
		{"List", uint32(KindList), ptr(rec(metaType))},
		{"Map", uint32(KindMap), ptr(rec(metaMapType))},
		{"Optional", uint32(KindOptional), ptr(rec(metaType))},
		{"Link", uint32(KindLink), ptr(rec(metaType))},
		{"Any", uint32(KindAny), nil},
		{"Ref", uint32(KindRef), &Type{Kind: KindFixedBytes, N: IDSize}},
		{"Rec", uint32(KindRec), ptr(prim(KindU32))},
	}
	g[metaMapType].Name, g[metaMapType].Kind = "MapType", KindStruct
	g[metaMapType].Fields = []Field{
		{"key", rec(metaType)},
		{"value", rec(metaType)},
	}

	m := &metaSchemas{group: g}
	body := AppendSchemaBody(nil, g[metaSchema])
	m.groupBytes = body[:len(body)-4]
	m.id = Sum(body)
	for _, s := range g[1:] {
		s.ID = memberID(m.id, s)
	}
	g[metaSchema].ID = m.id

	blob := &Schema{Name: "Blob", Kind: KindStruct, Fields: []Field{{"data", prim(KindBytes)}}}
	blob.Group = []*Schema{blob}
	blob.ID = memberID(m.id, blob)
	m.blob = blob
	return m
}

// MetaID returns M, the id of the schema of schemas: the schema of every
// schema object.
func MetaID() ID { return meta.id }

// MetaSchema returns the schema of schemas (`Schema`, member 0 of its group;
// the other members are MetaSchema().Group[1:]).
func MetaSchema() *Schema { return meta.group[metaSchema] }

// BlobSchema returns the built-in Blob: schema Blob { data: bytes }.
func BlobSchema() *Schema { return meta.blob }

// builtinByID returns the built-in schema with the given id, or nil.
func builtinByID(id ID) *Schema {
	if id == meta.blob.ID {
		return meta.blob
	}
	for _, s := range meta.group {
		if s.ID == id {
			return s
		}
	}
	return nil
}
