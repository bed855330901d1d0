package coda

// The JSON mapping (docs/coda.md §6), both ways:
//
//	bool                 true / false
//	u8 u16 u32 i8 i16 i32 number
//	u64 i64              "decimal string"        (in: also an integer number)
//	f32 f64              number, "NaN", "Infinity", "-Infinity", -0
//	string               string
//	bytes, bytes[N]      standard base64 with padding
//	link<T>              id text (52 characters)
//	list<T>              [ … ]
//	map<K,V>             { "key text": V, … }    keys in canonical key order
//	optional<T>          null or T; optional<optional<T>>: null or [T]
//	struct               { "field": …, … }      (in: any order, optionals may be missing)
//	enum                 "Variant" or {"Variant": payload}
//	any                  {"schema": "<id>", "value": …}
//
// Output is compact and deterministic: one value has one JSON text. Input is
// parsed into a small tree first (so duplicate keys are caught and big
// integers keep every digit), then converted against the type.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coalescent/coal/errs"
)

// maxJSONDepth bounds the nesting of a JSON input. Each CODA level takes at
// most two JSON levels (an enum's payload object, an optional's array, an
// any's wrapper), so this admits everything within DefaultMaxDepth.
const maxJSONDepth = 2*DefaultMaxDepth + 2

// path is a field path kept as a chain of small nodes from the value to the
// root, turned into text only when an error is reported.
type path struct {
	parent *path
	field  string // ".field" or "[3]" or `["key"]`, already formatted
}

func (p *path) String() string {
	if p == nil {
		return ""
	}
	var parts []string
	for q := p; q != nil; q = q.parent {
		parts = append(parts, q.field)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		s := parts[i]
		if b.Len() == 0 && strings.HasPrefix(s, ".") {
			s = s[1:]
		}
		b.WriteString(s)
	}
	return b.String()
}

// wrap places err (e.g. a resolver's errs.NotExist) at the path, keeping
// its kind.
func (p *path) wrap(err error) error {
	if p == nil {
		return err
	}
	return fmt.Errorf("%s: %w", p, err)
}

func (p *path) errorf(format string, args ...any) error {
	return &ValueError{Path: p.String(), Msg: fmt.Sprintf(format, args...)}
}

func fieldPath(p *path, name string) *path { return &path{p, "." + name} }
func indexPath(p *path, i int) *path       { return &path{p, "[" + strconv.Itoa(i) + "]"} }
func keyPath(p *path, key string) *path    { return &path{p, "[" + strconv.Quote(key) + "]"} }

// valuePath is the path of a map's value under key; entryPath the path of
// its i-th key itself (docs/coda.md §5, "Error paths").
func valuePath(p *path, t *Type, key Value) *path { return &path{p, "[" + FormatKey(t, key) + "]"} }
func entryPath(p *path, i int) *path              { return &path{p, "[#" + strconv.Itoa(i) + "]"} }

// resolve returns the schema a Ref or Rec type names.
func resolve(t *Type, r Resolver) (*Schema, error) {
	if t.Schema != nil {
		return t.Schema, nil
	}
	if t.Kind == KindRef && r != nil {
		return r.SchemaByID(t.Ref)
	}
	return nil, errs.E(errs.NotExist, fmt.Sprintf("coda: unresolved schema %s", t))
}

// schemaType is the type of a value of schema s.
func schemaType(s *Schema) *Type {
	if s == nil {
		return nil
	}
	return &Type{Kind: KindRef, Ref: s.ID, Schema: s}
}

// SchemaToJSON returns the JSON text of v, a value of schema s.
func SchemaToJSON(s *Schema, v Value, r Resolver) ([]byte, error) {
	return ToJSON(schemaType(s), v, r)
}

// SchemaFromJSON parses the JSON text of a value of schema s.
func SchemaFromJSON(s *Schema, data []byte, r Resolver) (Value, error) {
	return FromJSON(schemaType(s), data, r)
}

// ToJSON returns the JSON text of v, a value of type t. The resolver finds
// the schemas of any values (and of unresolved Refs); it may be nil if there
// are none. Values that do not fit t are reported as *ValueError naming the
// field path.
func ToJSON(t *Type, v Value, r Resolver) ([]byte, error) {
	e := jsonEncoder{r: r}
	return e.value(nil, t, v, nil, 0)
}

type jsonEncoder struct{ r Resolver }

func (e *jsonEncoder) value(b []byte, t *Type, v Value, p *path, depth int) ([]byte, error) {
	if t == nil {
		return nil, p.errorf("nil type")
	}
	if depth > DefaultMaxDepth {
		return nil, p.errorf("nesting deeper than %d", DefaultMaxDepth)
	}
	want := t.Kind
	if want == KindRef || want == KindRec {
		s, err := resolve(t, e.r)
		if err != nil {
			return nil, p.wrap(err)
		}
		return e.schemaValue(b, s, v, p, depth)
	}
	if v.kind != want {
		return nil, p.errorf("expected %s, got a %s value", t, v.kind)
	}
	switch want {
	case KindBool:
		return strconv.AppendBool(b, v.bits != 0), nil
	case KindU8, KindU16, KindU32:
		if v.bits>>(8*want.Width()) != 0 {
			return nil, p.errorf("%d out of range for %s", v.bits, want)
		}
		return strconv.AppendUint(b, v.bits, 10), nil
	case KindI8, KindI16, KindI32:
		x := int64(v.bits)
		if sh := 64 - 8*want.Width(); x<<sh>>sh != x {
			return nil, p.errorf("%d out of range for %s", x, want)
		}
		return strconv.AppendInt(b, x, 10), nil
	case KindU64:
		b = append(b, '"')
		b = strconv.AppendUint(b, v.bits, 10)
		return append(b, '"'), nil
	case KindI64:
		b = append(b, '"')
		b = strconv.AppendInt(b, int64(v.bits), 10)
		return append(b, '"'), nil
	case KindF32:
		// As the encoder does, refuse a NaN it would refuse: its JSON would
		// read back as a different value.
		if x := uint32(v.bits); x != canonicalNaN32 && math.IsNaN(float64(math.Float32frombits(x))) || v.bits>>32 != 0 {
			return nil, p.errorf("non-canonical f32 bits %#x", v.bits)
		}
		return appendJSONFloat(b, float64(math.Float32frombits(uint32(v.bits))), 32), nil
	case KindF64:
		if v.bits != canonicalNaN64 && math.IsNaN(math.Float64frombits(v.bits)) {
			return nil, p.errorf("non-canonical f64 NaN %#016x", v.bits)
		}
		return appendJSONFloat(b, math.Float64frombits(v.bits), 64), nil
	case KindString:
		if !utf8.ValidString(v.str) {
			return nil, p.errorf("invalid UTF-8 in string")
		}
		return appendJSONString(b, v.str), nil
	case KindBytes:
		return appendBase64(b, v.str), nil
	case KindFixedBytes:
		if len(v.str) != int(t.N) {
			return nil, p.errorf("expected %s, got %d bytes", t, len(v.str))
		}
		return appendBase64(b, v.str), nil
	case KindLink:
		if len(v.str) != IDSize {
			return nil, p.errorf("link of %d bytes, want %d", len(v.str), IDSize)
		}
		b = append(b, '"')
		b = append(b, ID([]byte(v.str)).String()...)
		return append(b, '"'), nil
	case KindList:
		b = append(b, '[')
		for i, x := range v.elems {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.value(b, t.Elem, x, indexPath(p, i), depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case KindMap:
		if len(v.elems)%2 != 0 {
			return nil, p.errorf("malformed map value")
		}
		b = append(b, '{')
		for i := 0; i < len(v.elems); i += 2 {
			key, err := keyText(t.Key, v.elems[i], e.r)
			if err != nil {
				return nil, entryPath(p, i/2).errorf("%v", err)
			}
			if i > 0 {
				b = append(b, ',')
				if CompareKeys(v.elems[i-2], v.elems[i]) >= 0 {
					return nil, p.errorf("map keys out of order or repeated at %q", key)
				}
			}
			b = appendJSONString(b, key)
			b = append(b, ':')
			if b, err = e.value(b, t.Elem, v.elems[i+1], valuePath(p, t.Key, v.elems[i]), depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case KindOptional:
		if v.bits == 0 || len(v.elems) == 0 {
			return append(b, "null"...), nil
		}
		nested := t.Elem != nil && t.Elem.Kind == KindOptional
		if nested {
			b = append(b, '[')
		}
		b, err := e.value(b, t.Elem, v.elems[0], p, depth+1)
		if err != nil {
			return nil, err
		}
		if nested {
			b = append(b, ']')
		}
		return b, nil
	case KindAny:
		if len(v.str) != IDSize || len(v.elems) != 1 {
			return nil, p.errorf("malformed any value")
		}
		id := ID([]byte(v.str))
		s := v.schema
		if s == nil {
			if e.r == nil {
				return nil, p.errorf("any of schema %s: no resolver", id)
			}
			var err error
			if s, err = e.r.SchemaByID(id); err != nil {
				return nil, p.wrap(err)
			}
		}
		var err error
		b = append(b, `{"schema":"`...)
		b = append(b, id.String()...)
		b = append(b, `","value":`...)
		if b, err = e.schemaValue(b, s, v.elems[0], p, depth+1); err != nil {
			return nil, err
		}
		return append(b, '}'), nil
	}
	return nil, p.errorf("unsupported type %s", t)
}

func (e *jsonEncoder) schemaValue(b []byte, s *Schema, v Value, p *path, depth int) ([]byte, error) {
	if s == nil {
		return nil, p.errorf("nil schema")
	}
	switch s.Kind {
	case KindStruct:
		if v.kind != KindStruct || len(v.elems) != len(s.Fields) {
			return nil, p.errorf("expected %s (struct of %d fields), got %s", schemaName(s), len(s.Fields), describeValue(v))
		}
		b = append(b, '{')
		for i := range s.Fields {
			f := &s.Fields[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Name)
			b = append(b, ':')
			var err error
			if b, err = e.value(b, &f.Type, v.elems[i], fieldPath(p, f.Name), depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case KindEnum:
		if v.kind != KindEnum {
			return nil, p.errorf("expected %s (enum), got %s", schemaName(s), describeValue(v))
		}
		vr, ok := s.VariantByTag(uint32(v.bits))
		if !ok || v.bits>>32 != 0 {
			return nil, p.errorf("no variant of %s has tag %d", schemaName(s), v.bits)
		}
		if vr.Payload == nil {
			if len(v.elems) != 0 {
				return nil, p.errorf("variant %s has no payload", vr.Name)
			}
			return appendJSONString(b, vr.Name), nil
		}
		if len(v.elems) != 1 {
			return nil, p.errorf("variant %s needs a payload", vr.Name)
		}
		b = append(b, '{')
		b = appendJSONString(b, vr.Name)
		b = append(b, ':')
		b, err := e.value(b, vr.Payload, v.elems[0], fieldPath(p, vr.Name), depth+1)
		if err != nil {
			return nil, err
		}
		return append(b, '}'), nil
	}
	return nil, p.errorf("schema %s is neither struct nor enum", schemaName(s))
}

func describeValue(v Value) string {
	if v.kind == KindInvalid {
		return "an invalid value"
	}
	return "a " + v.kind.String() + " value"
}

// keyText is the JSON object key of a map key.
func keyText(t *Type, k Value, r Resolver) (string, error) {
	if t == nil {
		return "", errors.New("nil key type")
	}
	if t.Kind == KindRef || t.Kind == KindRec {
		s, err := resolve(t, r)
		if err != nil {
			return "", err
		}
		if s.Kind != KindEnum || k.kind != KindEnum {
			return "", fmt.Errorf("expected %s as a map key", schemaName(s))
		}
		vr, ok := s.VariantByTag(uint32(k.bits))
		if !ok || vr.Payload != nil || len(k.elems) != 0 {
			return "", fmt.Errorf("bad %s key with tag %d", schemaName(s), k.bits)
		}
		return vr.Name, nil
	}
	if k.kind != t.Kind {
		return "", fmt.Errorf("expected %s, got a %s key", t, k.kind)
	}
	switch t.Kind {
	case KindBool:
		return strconv.FormatBool(k.bits != 0), nil
	case KindU8, KindU16, KindU32, KindU64:
		if w := t.Kind.Width(); w < 8 && k.bits>>(8*w) != 0 {
			return "", fmt.Errorf("%d out of range for %s", k.bits, t.Kind)
		}
		return strconv.FormatUint(k.bits, 10), nil
	case KindI8, KindI16, KindI32, KindI64:
		x := int64(k.bits)
		if sh := 64 - 8*t.Kind.Width(); x<<sh>>sh != x {
			return "", fmt.Errorf("%d out of range for %s", x, t.Kind)
		}
		return strconv.FormatInt(x, 10), nil
	case KindString:
		if !utf8.ValidString(k.str) {
			return "", errors.New("invalid UTF-8 in string")
		}
		return k.str, nil
	case KindBytes:
		return base64.StdEncoding.EncodeToString([]byte(k.str)), nil
	case KindFixedBytes:
		if len(k.str) != int(t.N) {
			return "", fmt.Errorf("expected %s, got %d bytes", t, len(k.str))
		}
		return base64.StdEncoding.EncodeToString([]byte(k.str)), nil
	case KindLink:
		if len(k.str) != IDSize {
			return "", fmt.Errorf("link of %d bytes", len(k.str))
		}
		return ID([]byte(k.str)).String(), nil
	}
	return "", fmt.Errorf("%s cannot be a map key", t)
}

// appendJSONFloat writes f as JSON: the shortest decimal that round-trips at
// the given width, in ECMAScript's choice of plain or exponent form (as
// encoding/json does), or one of the strings "NaN", "Infinity", "-Infinity".
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s (valid UTF-8) as a JSON string, escaping only
// what JSON requires.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendBase64(b []byte, s string) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, []byte(s))
	return append(b, '"')
}

// jnode is a parsed JSON value.
type jnode struct {
	kind  byte // 'n' null, 'b' bool, '#' number, 's' string, '[' array, '{' object
	b     bool
	s     string   // number text or string contents
	keys  []string // object keys, in input order
	elems []jnode  // array elements, or object values
}

// describe shows a JSON value in an error message.
func (n *jnode) describe() string {
	switch n.kind {
	case 'n':
		return "null"
	case 'b':
		return strconv.FormatBool(n.b)
	case '#':
		return n.s
	case 's':
		s := n.s
		if len(s) > 40 {
			cut := 37
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			s = s[:cut] + "..."
		}
		return strconv.Quote(s)
	case '[':
		return "an array"
	}
	return "an object"
}

// parseJSON parses one JSON value and nothing more, rejecting duplicate keys,
// invalid UTF-8 and nesting deeper than maxJSONDepth.
func parseJSON(data []byte) (jnode, error) {
	if !utf8.Valid(data) {
		return jnode{}, &ValueError{Msg: "invalid UTF-8 in JSON input"}
	}
	if at := loneSurrogate(data); at >= 0 {
		// encoding/json would read it as U+FFFD: a silent change of value.
		return jnode{}, &ValueError{Msg: fmt.Sprintf("unpaired surrogate escape %s at byte %d", data[at:at+6], at)}
	}
	// A syntax error is reported where it is: the token reader below can't
	// say exactly (its offset lags behind separators it has not consumed).
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off := int(se.Offset) - 1 // the offending byte
			switch msg := se.Error(); {
			case msg == "unexpected end of JSON input":
				off = len(data)
			case strings.HasSuffix(msg, "after top-level value"):
				return jnode{}, &ValueError{Msg: "trailing data after the JSON value " + where(data, off)}
			}
			return jnode{}, &ValueError{Msg: "bad JSON " + where(data, off) + ": " + se.Error()}
		}
		return jnode{}, &ValueError{Msg: "bad JSON: " + err.Error()}
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	n, err := parseNode(d, nil, 0)
	if err != nil {
		return jnode{}, err
	}
	if _, err := d.Token(); err != io.EOF {
		if err == nil {
			return jnode{}, &ValueError{Msg: fmt.Sprintf("trailing data after the JSON value at byte %d", d.InputOffset())}
		}
		return jnode{}, badJSON(d, nil, err)
	}
	return n, nil
}

// badJSON reports an error of the token reader (after the syntax check in
// parseJSON, only truncation can reach it).
func badJSON(d *json.Decoder, p *path, err error) error {
	return &ValueError{Path: p.String(), Msg: fmt.Sprintf("bad JSON near byte %d: %v", d.InputOffset(), err)}
}

// where names byte offset off of data as "at byte N (line L, column C)",
// with N counted from 0 and L, C from 1 (C in bytes).
func where(data []byte, off int) string {
	off = max(0, min(off, len(data)))
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("at byte %d (line %d, column %d)", off, line, col)
}

// loneSurrogate returns the offset of the first \uXXXX escape in a string
// of data that is a UTF-16 surrogate not part of a high–low pair, or -1.
func loneSurrogate(data []byte) int {
	inString := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(data):
			if data[i+1] != 'u' {
				i++ // skip the escaped character
				continue
			}
			r, ok := hex4(data, i+2)
			switch {
			case !ok:
				return -1 // malformed; the tokenizer reports it
			case r >= 0xD800 && r < 0xDC00:
				if lo, ok := hex4(data, i+8); i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' && ok && lo >= 0xDC00 && lo < 0xE000 {
					i += 11
					continue
				}
				return i
			case r >= 0xDC00 && r < 0xE000:
				return i
			}
			i += 5
		}
	}
	return -1
}

// hex4 reads four hex digits at data[i:].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func parseNode(d *json.Decoder, p *path, depth int) (jnode, error) {
	tok, err := d.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return jnode{}, badJSON(d, p, err)
	}
	return parseTok(d, tok, p, depth)
}

func parseTok(d *json.Decoder, tok json.Token, p *path, depth int) (jnode, error) {
	switch tok := tok.(type) {
	case nil:
		return jnode{kind: 'n'}, nil
	case bool:
		return jnode{kind: 'b', b: tok}, nil
	case json.Number:
		return jnode{kind: '#', s: string(tok)}, nil
	case string:
		return jnode{kind: 's', s: tok}, nil
	case json.Delim:
		if depth >= maxJSONDepth {
			return jnode{}, p.errorf("JSON nested deeper than %d", maxJSONDepth)
		}
		switch tok {
		case '[':
			n := jnode{kind: '['}
			for i := 0; d.More(); i++ {
				e, err := parseNode(d, indexPath(p, i), depth+1)
				if err != nil {
					return jnode{}, err
				}
				n.elems = append(n.elems, e)
			}
			if _, err := d.Token(); err != nil { // ']'
				return jnode{}, badJSON(d, p, err)
			}
			return n, nil
		case '{':
			n := jnode{kind: '{'}
			seen := map[string]bool{}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return jnode{}, badJSON(d, p, err)
				}
				k, ok := kt.(string)
				if !ok {
					return jnode{}, p.errorf("bad JSON: object key %v", kt)
				}
				if seen[k] {
					return jnode{}, p.errorf("duplicate key %q", k)
				}
				seen[k] = true
				e, err := parseNode(d, keyPath(p, k), depth+1)
				if err != nil {
					return jnode{}, err
				}
				n.keys = append(n.keys, k)
				n.elems = append(n.elems, e)
			}
			if _, err := d.Token(); err != nil { // '}'
				return jnode{}, badJSON(d, p, err)
			}
			return n, nil
		}
	}
	return jnode{}, p.errorf("bad JSON: unexpected %v", tok)
}

// FromJSON parses the JSON text of a value of type t. Struct fields may come
// in any order; unknown, duplicate and missing required fields are errors.
// Errors are *ValueError naming the field path (errors.Is(err,
// errs.Invalid)), or for an unknown schema of an any, errs.NotExist.
func FromJSON(t *Type, data []byte, r Resolver) (Value, error) {
	n, err := parseJSON(data)
	if err != nil {
		return Value{}, err
	}
	dec := jsonDecoder{r: r}
	return dec.value(t, &n, nil, 0)
}

type jsonDecoder struct{ r Resolver }

var (
	nan32 = Value{kind: KindF32, bits: canonicalNaN32}
	nan64 = Value{kind: KindF64, bits: canonicalNaN64}
)

func (d *jsonDecoder) value(t *Type, n *jnode, p *path, depth int) (Value, error) {
	if t == nil {
		return Value{}, p.errorf("nil type")
	}
	if depth > DefaultMaxDepth {
		return Value{}, p.errorf("nesting deeper than %d", DefaultMaxDepth)
	}
	k := t.Kind
	switch k {
	case KindRef, KindRec:
		s, err := resolve(t, d.r)
		if err != nil {
			return Value{}, p.wrap(err)
		}
		return d.schemaValue(s, n, p, depth)
	case KindBool:
		if n.kind != 'b' {
			break
		}
		return Bool(n.b), nil
	case KindU8, KindU16, KindU32, KindU64:
		text, ok := integerText(n, k == KindU64)
		if !ok {
			break
		}
		x, err := strconv.ParseUint(text, 10, 8*k.Width())
		if err != nil {
			return Value{}, p.errorf("expected %s, got %s (out of range)", k, n.describe())
		}
		return Uint(k, x), nil
	case KindI8, KindI16, KindI32, KindI64:
		text, ok := integerText(n, k == KindI64)
		if !ok {
			break
		}
		x, err := strconv.ParseInt(text, 10, 8*k.Width())
		if err != nil {
			return Value{}, p.errorf("expected %s, got %s (out of range)", k, n.describe())
		}
		return Int(k, x), nil
	case KindF32, KindF64:
		bits := 32
		if k == KindF64 {
			bits = 64
		}
		var f float64
		switch {
		case n.kind == '#':
			var err error
			if f, err = strconv.ParseFloat(n.s, bits); err != nil {
				return Value{}, p.errorf("expected %s, got %s (out of range)", k, n.describe())
			}
		case n.kind == 's' && n.s == "NaN":
			if k == KindF32 {
				return nan32, nil
			}
			return nan64, nil
		case n.kind == 's' && n.s == "Infinity":
			f = math.Inf(1)
		case n.kind == 's' && n.s == "-Infinity":
			f = math.Inf(-1)
		default:
			return Value{}, p.errorf("expected %s, got %s", k, n.describe())
		}
		if k == KindF32 {
			return F32(float32(f)), nil
		}
		return F64(f), nil
	case KindString:
		if n.kind != 's' {
			break
		}
		return String(n.s), nil
	case KindBytes, KindFixedBytes:
		if n.kind != 's' {
			break
		}
		b, err := base64.StdEncoding.Strict().DecodeString(n.s)
		if err != nil {
			return Value{}, p.errorf("expected %s (standard base64), got %s", t, n.describe())
		}
		if k == KindFixedBytes {
			if len(b) != int(t.N) {
				return Value{}, p.errorf("expected %s, got %d bytes", t, len(b))
			}
			return FixedBytes(b), nil
		}
		return Bytes(b), nil
	case KindLink:
		if n.kind != 's' {
			break
		}
		id, err := ParseID(n.s)
		if err != nil {
			return Value{}, p.errorf("expected %s (an id), got %s", t, n.describe())
		}
		return Link(id), nil
	case KindList:
		if n.kind != '[' {
			break
		}
		if len(n.elems) > DefaultMaxElems {
			return Value{}, p.errorf("list of %d elements exceeds the limit %d", len(n.elems), DefaultMaxElems)
		}
		elems := make([]Value, len(n.elems))
		for i := range n.elems {
			v, err := d.value(t.Elem, &n.elems[i], indexPath(p, i), depth+1)
			if err != nil {
				return Value{}, err
			}
			elems[i] = v
		}
		return Value{kind: KindList, elems: elems}, nil
	case KindMap:
		if n.kind != '{' {
			break
		}
		if len(n.elems) > DefaultMaxElems {
			return Value{}, p.errorf("map of %d entries exceeds the limit %d", len(n.elems), DefaultMaxElems)
		}
		entries := make([]MapEntry, len(n.elems))
		for i := range n.elems {
			key, err := d.key(t.Key, n.keys[i], entryPath(p, i))
			if err != nil {
				return Value{}, err
			}
			v, err := d.value(t.Elem, &n.elems[i], valuePath(p, t.Key, key), depth+1)
			if err != nil {
				return Value{}, err
			}
			entries[i] = MapEntry{key, v}
		}
		m := Map(entries...)
		// Distinct texts can name one key (ids are case-insensitive).
		for i := 2; i < len(m.elems); i += 2 {
			if CompareKeys(m.elems[i-2], m.elems[i]) == 0 {
				kt, _ := keyText(t.Key, m.elems[i], d.r)
				return Value{}, p.errorf("duplicate key %q", kt)
			}
		}
		return m, nil
	case KindOptional:
		if n.kind == 'n' {
			return None(), nil
		}
		if t.Elem != nil && t.Elem.Kind == KindOptional {
			if n.kind != '[' || len(n.elems) != 1 {
				return Value{}, p.errorf("expected %s (null or a one-element array), got %s", t, n.describe())
			}
			n = &n.elems[0]
		}
		v, err := d.value(t.Elem, n, p, depth+1)
		if err != nil {
			return Value{}, err
		}
		return Some(v), nil
	case KindAny:
		if n.kind != '{' {
			break
		}
		var idNode, valNode *jnode
		for i, key := range n.keys {
			switch key {
			case "schema":
				idNode = &n.elems[i]
			case "value":
				valNode = &n.elems[i]
			default:
				return Value{}, p.errorf("unknown field %q in any (want \"schema\" and \"value\")", key)
			}
		}
		if idNode == nil || valNode == nil {
			return Value{}, p.errorf("any needs \"schema\" and \"value\"")
		}
		if idNode.kind != 's' {
			return Value{}, fieldPath(p, "schema").errorf("expected a schema id, got %s", idNode.describe())
		}
		id, err := ParseID(idNode.s)
		if err != nil {
			return Value{}, fieldPath(p, "schema").errorf("expected a schema id, got %s", idNode.describe())
		}
		if d.r == nil {
			return Value{}, fieldPath(p, "schema").errorf("schema %s: no resolver", id)
		}
		s, err := d.r.SchemaByID(id)
		if err != nil {
			return Value{}, fieldPath(p, "schema").wrap(err)
		}
		v, err := d.schemaValue(s, valNode, p, depth+1)
		if err != nil {
			return Value{}, err
		}
		return AnyOf(s, v), nil
	default:
		return Value{}, p.errorf("unsupported type %s", t)
	}
	return Value{}, p.errorf("expected %s, got %s", t, n.describe())
}

// integerText returns the decimal text of an integer: a JSON number without
// fraction or exponent, or (when str) a string holding the canonical
// decimal form (no +, no leading zeros, no -0).
func integerText(n *jnode, str bool) (string, bool) {
	switch {
	case n.kind == '#':
		if strings.ContainsAny(n.s, ".eE") {
			return "", false
		}
		return n.s, true
	case n.kind == 's' && str && canonicalDecimal(n.s):
		return n.s, true
	}
	return "", false
}

func canonicalDecimal(s string) bool {
	if s == "-0" {
		return false
	}
	s = strings.TrimPrefix(s, "-")
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (d *jsonDecoder) schemaValue(s *Schema, n *jnode, p *path, depth int) (Value, error) {
	if s == nil {
		return Value{}, p.errorf("nil schema")
	}
	switch s.Kind {
	case KindStruct:
		if n.kind != '{' {
			return Value{}, p.errorf("expected %s (an object), got %s", schemaName(s), n.describe())
		}
		fields := make([]Value, len(s.Fields))
		for i, key := range n.keys {
			fi := s.FieldIndex(key)
			if fi < 0 {
				return Value{}, p.errorf("unknown field %q in %s", key, schemaName(s))
			}
			f := &s.Fields[fi]
			v, err := d.value(&f.Type, &n.elems[i], fieldPath(p, f.Name), depth+1)
			if err != nil {
				return Value{}, err
			}
			fields[fi] = v
		}
		for i := range fields {
			if fields[i].kind != KindInvalid {
				continue
			}
			if s.Fields[i].Type.Kind != KindOptional {
				return Value{}, p.errorf("missing field %q of %s", s.Fields[i].Name, schemaName(s))
			}
			fields[i] = None()
		}
		return Value{kind: KindStruct, elems: fields}, nil
	case KindEnum:
		switch n.kind {
		case 's':
			vr, ok := s.VariantByName(n.s)
			if !ok {
				return Value{}, p.errorf("expected %s, got %s (no such variant)", schemaName(s), n.describe())
			}
			if vr.Payload != nil {
				return Value{}, p.errorf("variant %s of %s needs a payload: {%q: …}", vr.Name, schemaName(s), vr.Name)
			}
			return Enum(vr.Tag), nil
		case '{':
			if len(n.keys) != 1 {
				return Value{}, p.errorf("expected %s: an object with exactly one variant, got %d keys", schemaName(s), len(n.keys))
			}
			vr, ok := s.VariantByName(n.keys[0])
			if !ok {
				return Value{}, p.errorf("expected %s, got variant %q (no such variant)", schemaName(s), n.keys[0])
			}
			if vr.Payload == nil {
				return Value{}, p.errorf("variant %s of %s has no payload: write %q", vr.Name, schemaName(s), vr.Name)
			}
			v, err := d.value(vr.Payload, &n.elems[0], fieldPath(p, vr.Name), depth+1)
			if err != nil {
				return Value{}, err
			}
			return Value{kind: KindEnum, bits: uint64(vr.Tag), elems: []Value{v}}, nil
		}
		return Value{}, p.errorf("expected %s (a variant name or {\"Variant\": payload}), got %s", schemaName(s), n.describe())
	}
	return Value{}, p.errorf("schema %s is neither struct nor enum", schemaName(s))
}

// key parses a JSON object key as a map key of type t.
func (d *jsonDecoder) key(t *Type, text string, p *path) (Value, error) {
	if t == nil {
		return Value{}, p.errorf("nil key type")
	}
	switch t.Kind {
	case KindRef, KindRec:
		s, err := resolve(t, d.r)
		if err != nil {
			return Value{}, p.wrap(err)
		}
		if s.Kind != KindEnum {
			return Value{}, p.errorf("%s cannot be a map key", schemaName(s))
		}
		vr, ok := s.VariantByName(text)
		if !ok || vr.Payload != nil {
			return Value{}, p.errorf("expected %s key, got %q (no such variant without payload)", schemaName(s), text)
		}
		return Enum(vr.Tag), nil
	case KindBool:
		switch text {
		case "true":
			return Bool(true), nil
		case "false":
			return Bool(false), nil
		}
	case KindU8, KindU16, KindU32, KindU64:
		if canonicalDecimal(text) {
			if x, err := strconv.ParseUint(text, 10, 8*t.Kind.Width()); err == nil {
				return Uint(t.Kind, x), nil
			}
		}
	case KindI8, KindI16, KindI32, KindI64:
		if canonicalDecimal(text) {
			if x, err := strconv.ParseInt(text, 10, 8*t.Kind.Width()); err == nil {
				return Int(t.Kind, x), nil
			}
		}
	case KindString:
		return String(text), nil
	case KindBytes, KindFixedBytes:
		if b, err := base64.StdEncoding.Strict().DecodeString(text); err == nil {
			if t.Kind == KindBytes {
				return Bytes(b), nil
			}
			if len(b) == int(t.N) {
				return FixedBytes(b), nil
			}
		}
	case KindLink:
		if id, err := ParseID(text); err == nil {
			return Link(id), nil
		}
	default:
		return Value{}, p.errorf("%s cannot be a map key", t)
	}
	return Value{}, p.errorf("expected %s key, got %q", t, text)
}
