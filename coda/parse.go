package coda

// The parser of the schema language (docs/coda.md, section 3):
//
//	file     = { decl } .
//	decl     = "schema" Ident "{" { field [ "," ] } "}"
//	         | "enum" Ident "{" { variant [ "," ] } "}" .
//	field    = Ident ":" type .
//	variant  = Ident [ "(" type ")" ] [ "=" Number ] .
//	type     = Ident [ "<" type [ "," type ] ">" ] | "bytes" "[" Number "]" .
//
// The parser recovers from errors so that one run reports them all: after a
// bad field or variant it skips to the next comma, closing brace, or token
// that starts a line; after a bad declaration header, to the next
// "schema"/"enum". Like go/parser, it reports at most one syntax error per
// line, since the rest of a bad line is mostly noise.

import (
	"fmt"
	"strings"
)

// File is a parsed .coda file.
type File struct {
	Name  string
	Decls []*Decl
}

// Decl is one declaration: a schema (Kind == KindStruct) or an enum (Kind ==
// KindEnum).
type Decl struct {
	Pos      Pos    // of the "schema" or "enum" keyword
	NamePos  Pos    // of the name
	Name     string // empty if it failed to parse
	Kind     Kind   // KindStruct or KindEnum
	Fields   []*FieldDecl
	Variants []*VariantDecl // in declaration order

	bad bool // it had syntax errors: some fields or variants may be missing
}

// FieldDecl is one field of a schema declaration.
type FieldDecl struct {
	Pos  Pos
	Name string
	Type *TypeExpr
}

// VariantDecl is one variant of an enum declaration. Payload is nil for a
// variant without one; HasTag says whether the tag was written (= N).
type VariantDecl struct {
	Pos     Pos
	Name    string
	Payload *TypeExpr
	HasTag  bool
	Tag     uint64
	TagPos  Pos
}

// TypeExpr is a type as written: a name, with type arguments for list, map,
// optional and link, and a length for bytes[N].
type TypeExpr struct {
	Pos    Pos
	Name   string
	Args   []*TypeExpr
	HasLen bool // bytes[N]
	Len    uint64
}

// String writes the type back in the schema language's syntax.
func (t *TypeExpr) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *TypeExpr) write(b *strings.Builder) {
	b.WriteString(t.Name)
	if t.HasLen {
		fmt.Fprintf(b, "[%d]", t.Len)
	}
	if len(t.Args) > 0 {
		b.WriteByte('<')
		for i, a := range t.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			a.write(b)
		}
		b.WriteByte('>')
	}
}

// Parse parses a .coda file. On errors it returns the declarations it could
// parse and an ErrorList of every lexical and syntax error, sorted by
// position. Name and type errors are found by compiling (Registry.Compile).
func Parse(filename string, src []byte) (*File, error) {
	var el ErrorList
	f := parseFile(filename, src, &el)
	return f, el.Err()
}

func parseFile(filename string, src []byte, el *ErrorList) *File {
	p := &parser{toks: lex(filename, src, el), errs: el, file: filename}
	f := &File{Name: filename}
	for p.peek(0).kind != tokEOF {
		t := p.peek(0)
		if t.isWord("schema") || t.isWord("enum") {
			if d := p.decl(); d != nil {
				f.Decls = append(f.Decls, d)
			}
			continue
		}
		p.errorf(t.pos, `expected "schema" or "enum", found %s`, t.describe())
		p.next()
		p.skipToDecl()
	}
	return f
}

type parser struct {
	toks    []token
	i       int
	errs    *ErrorList
	file    string
	errLine int   // the line of the last syntax error
	depth   int   // nesting of types being parsed
	cur     *Decl // the declaration being parsed
}

// MaxTypeDepth is how deeply type constructors (list, map, optional, link)
// may nest in a schema. It keeps every schema object within the decoder's
// nesting limit (docs/coda.md, section 5) and the parser's recursion bounded.
const MaxTypeDepth = 24

func (p *parser) peek(k int) token {
	if p.i+k >= len(p.toks) {
		return p.toks[len(p.toks)-1]
	}
	return p.toks[p.i+k]
}

func (p *parser) next() token {
	t := p.peek(0)
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

// errorf reports a syntax error, at most one per line.
func (p *parser) errorf(pos Pos, format string, args ...any) {
	if p.cur != nil {
		p.cur.bad = true
	}
	if pos.Line == p.errLine {
		return
	}
	p.errLine = pos.Line
	p.errs.add(pos, format, args...)
}

// atDecl reports whether the next tokens are `schema Name {` or
// `enum Name {`: the start of a declaration even inside an unclosed block.
func (p *parser) atDecl() bool {
	t := p.peek(0)
	return (t.isWord("schema") || t.isWord("enum")) && p.peek(1).kind == tokIdent && p.peek(2).is('{')
}

// skipToDecl skips to the next "schema" or "enum" keyword.
func (p *parser) skipToDecl() {
	for {
		t := p.peek(0)
		if t.kind == tokEOF || t.isWord("schema") || t.isWord("enum") {
			return
		}
		p.next()
	}
}

// skipInBlock recovers from an error in a field or variant that began at
// token index start: it skips to the next ",", "}", declaration, or token
// that starts a line, always making progress.
func (p *parser) skipInBlock(start int) {
	if p.i == start && !p.peek(0).is('}') && p.peek(0).kind != tokEOF {
		p.next()
	}
	for {
		t := p.peek(0)
		switch {
		case t.kind == tokEOF, t.is('}'), t.nl, p.atDecl():
			return
		case t.is(','):
			p.next()
			return
		}
		p.next()
	}
}

func (p *parser) decl() *Decl {
	kw := p.next()
	d := &Decl{Pos: kw.pos, Kind: KindStruct}
	p.cur = d
	defer func() { p.cur = nil }()
	what := "schema"
	if kw.text == "enum" {
		d.Kind, what = KindEnum, "enum"
	}
	name := p.peek(0)
	if name.kind != tokIdent {
		p.errorf(name.pos, "expected %s name, found %s", what, name.describe())
		if !name.is('{') {
			p.skipToDecl()
			return nil
		}
	} else {
		p.next()
		d.Name, d.NamePos = name.text, name.pos
	}
	open := p.peek(0)
	if !open.is('{') {
		p.errorf(open.pos, `expected "{" after %s %s, found %s`, what, d.Name, open.describe())
		p.skipToDecl()
		return d
	}
	p.next()
	for {
		t := p.peek(0)
		switch {
		case t.is('}'):
			p.next()
			return d
		case t.kind == tokEOF || p.atDecl():
			p.errorf(t.pos, `expected "}" to close %s %s (opened at %d:%d), found %s`,
				what, d.Name, open.pos.Line, open.pos.Col, t.describe())
			return d
		}
		start := p.i
		ok := false
		if d.Kind == KindEnum {
			var v *VariantDecl
			if v, ok = p.variant(); ok {
				d.Variants = append(d.Variants, v)
			}
		} else {
			var f *FieldDecl
			if f, ok = p.field(); ok {
				d.Fields = append(d.Fields, f)
			}
		}
		if !ok {
			p.skipInBlock(start)
			continue
		}
		if p.peek(0).is(',') {
			p.next()
		}
	}
}

func (p *parser) field() (*FieldDecl, bool) {
	name := p.peek(0)
	if name.kind != tokIdent {
		p.errorf(name.pos, "expected field name, found %s", name.describe())
		return nil, false
	}
	p.next()
	if colon := p.peek(0); !colon.is(':') {
		p.errorf(colon.pos, `expected ":" after field name %s, found %s`, name.text, colon.describe())
		return nil, false
	}
	p.next()
	typ := p.typ()
	if typ == nil {
		return nil, false
	}
	return &FieldDecl{Pos: name.pos, Name: name.text, Type: typ}, true
}

func (p *parser) variant() (*VariantDecl, bool) {
	name := p.peek(0)
	if name.kind != tokIdent {
		p.errorf(name.pos, "expected variant name, found %s", name.describe())
		return nil, false
	}
	p.next()
	v := &VariantDecl{Pos: name.pos, Name: name.text}
	if p.peek(0).is('(') {
		p.next()
		if v.Payload = p.typ(); v.Payload == nil {
			return nil, false
		}
		if t := p.peek(0); !t.is(')') {
			p.errorf(t.pos, `expected ")" after the payload type of %s, found %s`, name.text, t.describe())
			return nil, false
		}
		p.next()
	}
	if p.peek(0).is('=') {
		p.next()
		t := p.peek(0)
		if t.kind != tokNumber {
			p.errorf(t.pos, `expected tag number after "=", found %s`, t.describe())
			return nil, false
		}
		p.next()
		v.HasTag, v.Tag, v.TagPos = true, t.num, t.pos
	}
	return v, true
}

// typ parses a type, or reports an error and returns nil.
func (p *parser) typ() *TypeExpr {
	t := p.peek(0)
	if t.kind != tokIdent {
		p.errorf(t.pos, "expected type, found %s", t.describe())
		return nil
	}
	p.next()
	x := &TypeExpr{Pos: t.pos, Name: t.text}
	nargs := 0
	p.depth++
	defer func() { p.depth-- }()
	switch t.text {
	case "list", "optional", "link":
		nargs = 1
	case "map":
		nargs = 2
	case "bytes":
		if !p.peek(0).is('[') {
			return x
		}
		p.next()
		n := p.peek(0)
		if n.kind != tokNumber {
			p.errorf(n.pos, "expected length in bytes[N], found %s", n.describe())
			return nil
		}
		p.next()
		if c := p.peek(0); !c.is(']') {
			p.errorf(c.pos, `expected "]" after bytes[%s, found %s`, n.text, c.describe())
			return nil
		}
		p.next()
		x.HasLen, x.Len = true, n.num
		return x
	default:
		if lt := p.peek(0); lt.is('<') {
			p.errorf(lt.pos, "type %s takes no type arguments", t.text)
			return nil
		}
		return x
	}
	if lt := p.peek(0); !lt.is('<') {
		p.errorf(lt.pos, `expected "<" after %s, found %s`, t.text, lt.describe())
		return nil
	}
	if p.depth > MaxTypeDepth {
		p.errorf(t.pos, "type nested more than %d deep", MaxTypeDepth)
		return nil
	}
	p.next()
	for i := 0; i < nargs; i++ {
		if i > 0 {
			if c := p.peek(0); !c.is(',') {
				p.errorf(c.pos, `expected "," after the key type of map, found %s`, c.describe())
				return nil
			}
			p.next()
		}
		a := p.typ()
		if a == nil {
			return nil
		}
		x.Args = append(x.Args, a)
	}
	if gt := p.peek(0); !gt.is('>') {
		p.errorf(gt.pos, `expected ">" to close %s<, found %s`, t.text, gt.describe())
		return nil
	}
	p.next()
	return x
}
