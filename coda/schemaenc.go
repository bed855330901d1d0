package coda

// The canonical form of compiled schemas (docs/coda.md, section 4): a value
// of the schema of schemas, written by hand here for speed and checked
// against the generic codec by tests.
//
//	Schema   uvarint(len group) ‖ Def* ‖ u32 index
//	Def      0x00 ‖ uvarint(len fields) ‖ Field*          struct
//	         0x01 ‖ uvarint(len variants) ‖ Variant*      enum, sorted by tag
//	Field    uvarint(len name) ‖ name ‖ Type
//	Variant  uvarint(len name) ‖ name ‖ u32 tag ‖ (0x00 | 0x01 ‖ Type)
//	Type     kind byte (the Type enum's tag, one-byte uvarint), then
//	         bytes[N]: u32 N · list, optional, link: Type · map: Type Type
//	         Ref: 32-byte schema id · Rec: u32 member index · others: nothing
//
// A schema object is MetaID ‖ Schema; its BLAKE3 is the schema's id, except
// for member 0 of the schema of schemas itself (see meta.go).

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/coalescent/coal/errs"
)

// AppendSchemaBody appends the canonical encoding of s: the value
// Schema{group: s.Group's definitions, index: s.Index}. A schema without a
// Group is treated as a group of one.
func AppendSchemaBody(dst []byte, s *Schema) []byte {
	group, index := s.Group, s.Index
	if len(group) == 0 {
		group, index = []*Schema{s}, 0
	}
	dst = AppendUvarint(dst, uint64(len(group)))
	for _, m := range group {
		dst = appendDef(dst, m, false)
	}
	return binary.LittleEndian.AppendUint32(dst, uint32(index))
}

// SchemaObject returns s's schema object: MetaID ‖ AppendSchemaBody(s). Its
// Sum is s.ID, except for MetaSchema, whose id is the Sum of the body alone.
func SchemaObject(s *Schema) []byte {
	m := MetaID()
	return AppendSchemaBody(append(make([]byte, 0, 256), m[:]...), s)
}

// memberID computes the id of a group member: BLAKE3(M ‖ body).
func memberID(m ID, s *Schema) ID { return Sum(AppendSchemaBody(m[:], s)) }

// appendDef appends a member's Def. With recZero, every Rec index is written
// as 0: the first label of the canonical member order.
func appendDef(dst []byte, s *Schema, recZero bool) []byte {
	if s.Kind == KindEnum {
		dst = append(dst, 1)
		dst = AppendUvarint(dst, uint64(len(s.Variants)))
		for i := range s.Variants {
			v := &s.Variants[i]
			dst = AppendString(dst, v.Name)
			dst = binary.LittleEndian.AppendUint32(dst, v.Tag)
			if v.Payload == nil {
				dst = append(dst, 0)
			} else {
				dst = appendType(append(dst, 1), v.Payload, recZero)
			}
		}
		return dst
	}
	dst = append(dst, 0)
	dst = AppendUvarint(dst, uint64(len(s.Fields)))
	for i := range s.Fields {
		dst = AppendString(dst, s.Fields[i].Name)
		dst = appendType(dst, &s.Fields[i].Type, recZero)
	}
	return dst
}

func appendType(dst []byte, t *Type, recZero bool) []byte {
	dst = append(dst, byte(t.Kind)) // every type kind is below 0x80: a one-byte uvarint
	switch t.Kind {
	case KindFixedBytes:
		dst = binary.LittleEndian.AppendUint32(dst, t.N)
	case KindList, KindOptional, KindLink:
		dst = appendType(dst, t.Elem, recZero)
	case KindMap:
		dst = appendType(dst, t.Key, recZero)
		dst = appendType(dst, t.Elem, recZero)
	case KindRef:
		dst = append(dst, t.Ref[:]...)
	case KindRec:
		n := t.N
		if recZero {
			n = 0
		}
		dst = binary.LittleEndian.AppendUint32(dst, n)
	}
	return dst
}

// SchemaValue returns s's canonical form as a dynamic Value of MetaSchema:
// the value AppendSchemaBody encodes.
func SchemaValue(s *Schema) Value {
	group, index := s.Group, s.Index
	if len(group) == 0 {
		group, index = []*Schema{s}, 0
	}
	defs := make([]Value, len(group))
	for i, m := range group {
		if m.Kind == KindEnum {
			vs := make([]Value, len(m.Variants))
			for j := range m.Variants {
				v := &m.Variants[j]
				p := None()
				if v.Payload != nil {
					p = Some(typeValue(v.Payload))
				}
				vs[j] = Struct(String(v.Name), U32(v.Tag), p)
			}
			defs[i] = Enum(1, List(vs...))
			continue
		}
		fs := make([]Value, len(m.Fields))
		for j := range m.Fields {
			fs[j] = Struct(String(m.Fields[j].Name), typeValue(&m.Fields[j].Type))
		}
		defs[i] = Enum(0, List(fs...))
	}
	return Struct(List(defs...), U32(uint32(index)))
}

func typeValue(t *Type) Value {
	switch t.Kind {
	case KindFixedBytes:
		return Enum(uint32(t.Kind), U32(t.N))
	case KindList, KindOptional, KindLink:
		return Enum(uint32(t.Kind), typeValue(t.Elem))
	case KindMap:
		return Enum(uint32(t.Kind), Struct(typeValue(t.Key), typeValue(t.Elem)))
	case KindRef:
		return Enum(uint32(t.Kind), FixedBytes(t.Ref[:]))
	case KindRec:
		return Enum(uint32(t.Kind), U32(t.N))
	}
	return Enum(uint32(t.Kind))
}

// forEachRec calls fn with every Rec type in s's definition, in encoding order.
func forEachRec(s *Schema, fn func(*Type)) {
	var walk func(t *Type)
	walk = func(t *Type) {
		switch t.Kind {
		case KindList, KindOptional, KindLink:
			walk(t.Elem)
		case KindMap:
			walk(t.Key)
			walk(t.Elem)
		case KindRec:
			fn(t)
		}
	}
	for i := range s.Fields {
		walk(&s.Fields[i].Type)
	}
	for i := range s.Variants {
		if s.Variants[i].Payload != nil {
			walk(s.Variants[i].Payload)
		}
	}
}

// groupLabels returns the labels hₙ of the canonical member order
// (docs/coda.md, section 4) of a group whose Rec indexes refer to positions
// in group.
func groupLabels(group []*Schema) []ID {
	n := len(group)
	labels := make([]ID, n)
	targets := make([][]uint32, n)
	var buf []byte
	for i, m := range group {
		buf = appendDef(buf[:0], m, true)
		labels[i] = Sum(buf)
		forEachRec(m, func(t *Type) { targets[i] = append(targets[i], t.N) })
	}
	next := make([]ID, n)
	for k := 1; k <= n; k++ {
		for i := range group {
			buf = append(buf[:0], labels[i][:]...)
			for _, t := range targets[i] {
				buf = append(buf, labels[t][:]...)
			}
			next[i] = Sum(buf)
		}
		labels, next = next, labels
	}
	return labels
}

// DecodeSchemaObject decodes a schema object (MetaID ‖ body) into compiled
// form: the whole group, in canonical order, with IDs, Group and Index set.
// The object's own schema is the member at the index it stores, which is
// also the one whose ID is Sum(data) (DecodeSchema returns it). Schema names
// are not stored, so Name is empty; field and variant names are. References
// to other schemas are resolved through r (nil: none can be).
//
// The object must be canonical and describe a valid schema: every rule of
// docs/coda.md sections 3 and 4 that can be checked without source text is
// checked, including the canonical member order, so that one schema has one
// schema object.
func DecodeSchemaObject(data []byte, r Resolver) ([]*Schema, error) {
	g, _, err := decodeSchemaObject(data, r)
	return g, err
}

// DecodeSchema is DecodeSchemaObject, returning the object's own schema.
func DecodeSchema(data []byte, r Resolver) (*Schema, error) {
	g, i, err := decodeSchemaObject(data, r)
	if err != nil {
		return nil, err
	}
	return g[i], nil
}

func decodeSchemaObject(data []byte, r Resolver) ([]*Schema, int, error) {
	m := MetaID()
	if len(data) > DefaultMaxSize {
		return nil, 0, errs.E(errs.Limit, fmt.Sprintf("coda: schema object of %d bytes, more than the limit %d", len(data), DefaultMaxSize))
	}
	if len(data) < IDSize {
		return nil, 0, &DecodeError{Offset: len(data), Msg: "unexpected end of input in schema id"}
	}
	if !bytes.Equal(data[:IDSize], m[:]) {
		return nil, 0, &DecodeError{Msg: fmt.Sprintf("not a schema object: its schema is %s, not the schema of schemas", ID(data[:IDSize]))}
	}
	body := data[IDSize:]
	// The schema of schemas is the one group that is not a strongly
	// connected component in canonical order; it is recognised by its bytes.
	if len(body) == len(meta.groupBytes)+4 && bytes.Equal(body[:len(meta.groupBytes)], meta.groupBytes) {
		idx := binary.LittleEndian.Uint32(body[len(meta.groupBytes):])
		if idx >= uint32(len(meta.group)) {
			return nil, 0, &DecodeError{Offset: len(data) - 4, Msg: fmt.Sprintf("index %d out of range: the group has %d members", idx, len(meta.group))}
		}
		return meta.group, int(idx), nil
	}
	d := &schemaDecoder{r: NewReader(body), res: r}
	g, idx, err := d.object()
	if err != nil {
		if de, ok := err.(*DecodeError); ok {
			de.Offset += IDSize
		}
		return nil, 0, err
	}
	return g, idx, nil
}

type schemaDecoder struct {
	r     *Reader
	res   Resolver
	group []*Schema
	// checks to run once the whole group is known
	keys  []pendingType // map keys
	links []pendingType // link targets
	offs  []int         // offset of each member's Def
}

type pendingType struct {
	t    *Type
	off  int
	path schemaPath
}

// schemaPath locates an error in a schema object: group[def], or its
// fields[elem] or variants[elem]. It is formatted only for errors.
type schemaPath struct {
	def, elem int // -1: none
	variant   bool
}

var noPath = schemaPath{-1, -1, false}

func (p schemaPath) String() string {
	switch {
	case p.def < 0:
		return ""
	case p.elem < 0:
		return fmt.Sprintf("group[%d]", p.def)
	case p.variant:
		return fmt.Sprintf("group[%d].variants[%d]", p.def, p.elem)
	}
	return fmt.Sprintf("group[%d].fields[%d]", p.def, p.elem)
}

func (d *schemaDecoder) errorf(off int, path schemaPath, format string, args ...any) error {
	return &DecodeError{Offset: off, Path: path.String(), Msg: fmt.Sprintf(format, args...)}
}

func (d *schemaDecoder) object() ([]*Schema, int, error) {
	// Every Def takes at least 2 bytes.
	n, err := d.r.Len(2, DefaultMaxElems)
	if err != nil {
		return nil, 0, err
	}
	if n == 0 {
		return nil, 0, d.r.Errorf("empty group")
	}
	if n > MaxGroupSize {
		return nil, 0, d.r.Errorf("group of %d schemas, more than %d", n, MaxGroupSize)
	}
	d.group = make([]*Schema, n)
	for i := range d.group {
		d.group[i] = &Schema{Group: d.group, Index: i}
	}
	for i, s := range d.group {
		d.offs = append(d.offs, d.r.Offset())
		if err := d.def(s, schemaPath{i, -1, false}); err != nil {
			return nil, 0, err
		}
	}
	idxOff := d.r.Offset()
	idx, err := d.r.U32()
	if err != nil {
		return nil, 0, err
	}
	if err := d.r.End(); err != nil {
		return nil, 0, err
	}
	if idx >= uint32(n) {
		return nil, 0, d.errorf(idxOff, noPath, "index %d out of range: the group has %d members", idx, n)
	}
	if err := d.check(); err != nil {
		return nil, 0, err
	}
	for _, s := range d.group {
		s.ID = memberID(MetaID(), s)
	}
	return d.group, int(idx), nil
}

func (d *schemaDecoder) def(s *Schema, path schemaPath) error {
	off := d.r.Offset()
	tag, err := d.r.Uvarint()
	if err != nil {
		return err
	}
	switch tag {
	case 0:
		s.Kind = KindStruct
		n, err := d.r.Len(2, DefaultMaxElems) // name length and type: at least 2 bytes
		if err != nil {
			return err
		}
		s.Fields = make([]Field, n)
		seen := make(map[string]bool, n)
		for i := range s.Fields {
			f := &s.Fields[i]
			fpath := schemaPath{path.def, i, false}
			if f.Name, err = d.name(fpath); err != nil {
				return err
			}
			if seen[f.Name] {
				return d.errorf(d.r.Offset(), fpath, "duplicate field %q", f.Name)
			}
			seen[f.Name] = true
			if err := d.typ(&f.Type, fpath, 0); err != nil {
				return err
			}
		}
	case 1:
		s.Kind = KindEnum
		n, err := d.r.Len(6, DefaultMaxElems) // name length, tag and payload flag: at least 6 bytes
		if err != nil {
			return err
		}
		if n == 0 {
			return d.errorf(off, path, "enum with no variants")
		}
		s.Variants = make([]Variant, n)
		seen := make(map[string]bool, n)
		for i := range s.Variants {
			v := &s.Variants[i]
			vpath := schemaPath{path.def, i, true}
			if v.Name, err = d.name(vpath); err != nil {
				return err
			}
			if seen[v.Name] {
				return d.errorf(d.r.Offset(), vpath, "duplicate variant %q", v.Name)
			}
			seen[v.Name] = true
			tagOff := d.r.Offset()
			if v.Tag, err = d.r.U32(); err != nil {
				return err
			}
			if i > 0 && v.Tag <= s.Variants[i-1].Tag {
				return d.errorf(tagOff, vpath, "variant tags not strictly increasing: %d after %d", v.Tag, s.Variants[i-1].Tag)
			}
			flagOff := d.r.Offset()
			flag, err := d.r.Byte()
			if err != nil {
				return err
			}
			switch flag {
			case 0:
			case 1:
				v.Payload = new(Type)
				if err := d.typ(v.Payload, vpath, 0); err != nil {
					return err
				}
			default:
				return d.errorf(flagOff, vpath, "non-canonical optional flag 0x%02x", flag)
			}
		}
	default:
		return d.errorf(off, path, "unknown Def tag %d", tag)
	}
	return nil
}

func (d *schemaDecoder) name(path schemaPath) (string, error) {
	off := d.r.Offset()
	b, err := d.r.StringBytes(DefaultMaxSize)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", d.errorf(off, path, "invalid UTF-8 in name")
	}
	if !isIdent(string(b)) {
		return "", d.errorf(off, path, "name %q is not an identifier", b)
	}
	return string(b), nil
}

func (d *schemaDecoder) typ(t *Type, path schemaPath, depth int) error {
	off := d.r.Offset()
	tag, err := d.r.Uvarint()
	if err != nil {
		return err
	}
	t.Kind = Kind(tag)
	if tag != uint64(t.Kind) || !isTypeKind(t.Kind) {
		return d.errorf(off, path, "unknown type tag 0x%x", tag)
	}
	switch t.Kind {
	case KindFixedBytes:
		if t.N, err = d.r.U32(); err != nil {
			return err
		}
		if t.N > MaxFixedBytes {
			return d.errorf(off, path, "bytes[%d] longer than %d", t.N, MaxFixedBytes)
		}
	case KindList, KindOptional, KindLink, KindMap:
		if depth >= MaxTypeDepth {
			return d.errorf(off, path, "type nested more than %d deep", MaxTypeDepth)
		}
		if t.Kind == KindMap {
			t.Key = new(Type)
			if err := d.typ(t.Key, path, depth+1); err != nil {
				return err
			}
			d.keys = append(d.keys, pendingType{t.Key, off, path})
		}
		t.Elem = new(Type)
		if err := d.typ(t.Elem, path, depth+1); err != nil {
			return err
		}
		if t.Kind == KindLink {
			d.links = append(d.links, pendingType{t.Elem, off, path})
		}
	case KindRef:
		if t.Ref, err = d.r.ID(); err != nil {
			return err
		}
		if t.Schema, err = d.resolve(t.Ref); err != nil {
			// Not a DecodeError: keep the resolver's kind (not-exist).
			return fmt.Errorf("coda: schema object at byte %d (%s): %w", IDSize+off, path, err)
		}
	case KindRec:
		if t.N, err = d.r.U32(); err != nil {
			return err
		}
		if t.N >= uint32(len(d.group)) {
			return d.errorf(off, path, "rec(%d) out of range: the group has %d members", t.N, len(d.group))
		}
		t.Schema = d.group[t.N]
	}
	return nil
}

func (d *schemaDecoder) resolve(id ID) (*Schema, error) {
	if s := builtinByID(id); s != nil {
		return s, nil
	}
	if d.res == nil {
		return nil, errs.E(errs.NotExist, fmt.Sprintf("coda: unknown schema %s", id))
	}
	s, err := d.res.SchemaByID(id)
	if err != nil {
		return nil, fmt.Errorf("resolve schema %s: %w", id, err)
	}
	return s, nil
}

// check runs the rules that need the whole group: map keys, link targets,
// strong connectivity, finiteness and the canonical member order.
func (d *schemaDecoder) check() error {
	for _, k := range d.keys {
		if !isKeyType(k.t) {
			return d.errorf(k.off, k.path, "invalid map key type %s", k.t)
		}
	}
	for _, l := range d.links {
		if l.t.Kind != KindRef && l.t.Kind != KindRec && l.t.Kind != KindAny {
			return d.errorf(l.off, l.path, "invalid link target %s", l.t)
		}
	}
	n := len(d.group)
	edges := make([][]int, n)
	direct := make([][]int, n)
	for i, s := range d.group {
		forEachRec(s, func(t *Type) { edges[i] = append(edges[i], int(t.N)) })
		for _, f := range s.Fields {
			if f.Type.Kind == KindRec {
				direct[i] = append(direct[i], int(f.Type.N))
			}
		}
	}
	if n > 1 {
		if comps := tarjan(n, edges); len(comps) != 1 {
			return d.errorf(0, noPath, "the group is not strongly connected")
		}
	}
	for _, c := range tarjan(n, direct) {
		if len(c) > 1 || slicesContains(direct[c[0]], c[0]) {
			return d.errorf(d.offs[c[0]], schemaPath{c[0], -1, false}, "infinite type: a cycle of struct fields")
		}
	}
	if n == 1 {
		return nil
	}
	labels := groupLabels(d.group)
	for i := 1; i < n; i++ {
		if bytes.Compare(labels[i-1][:], labels[i][:]) >= 0 {
			return d.errorf(d.offs[i], schemaPath{i, -1, false}, "group members not in canonical order, or two members are the same type")
		}
	}
	return nil
}

func slicesContains(s []int, x int) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// isTypeKind reports whether k is a tag of the Type enum.
func isTypeKind(k Kind) bool {
	switch {
	case k == KindBool, k >= KindU8 && k <= KindF64, k >= KindString && k <= KindFixedBytes,
		k >= KindList && k <= KindAny, k == KindRef, k == KindRec:
		return true
	}
	return false
}

// isKeyType reports whether t may be a map key: bool, an integer, string,
// bytes, bytes[N], link, or an enum none of whose variants has a payload.
func isKeyType(t *Type) bool {
	switch t.Kind {
	case KindBool, KindString, KindBytes, KindFixedBytes, KindLink:
		return true
	case KindRef, KindRec:
		return t.Schema != nil && isKeyEnum(t.Schema)
	}
	return t.Kind.IsInteger()
}

func isKeyEnum(s *Schema) bool {
	if s.Kind != KindEnum || len(s.Variants) == 0 {
		return false
	}
	for _, v := range s.Variants {
		if v.Payload != nil {
			return false
		}
	}
	return true
}
