package coda

// The lexer of the schema language (docs/coda.md, section 3).
//
// Source is UTF-8. Whitespace (space, tab, CR, LF) and // comments separate
// tokens. Identifiers are [A-Za-z_][A-Za-z0-9_]*. Numbers are decimal without
// leading zeros, or 0x hex; a number runs to the end of the alphanumeric run,
// so "12ab" is one malformed number, not 12 then ab. Punctuation is one of
// { } ( ) < > [ ] : , = and is always a single character (so list<list<u8>>
// needs no space). Anything else is reported and skipped.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coalescent/coal/errs"
)

// Pos is a position in source text. Line and Col count from 1; Col counts
// bytes. The zero Pos is "no position".
type Pos struct {
	File      string
	Line, Col int
}

// IsValid reports whether p is a real position.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String returns "FILE:LINE:COL", or "LINE:COL" without a file name.
func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// before orders positions by file, line and column.
func (p Pos) before(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// PosError is an error in source text.
type PosError struct {
	Pos Pos
	Msg string
}

// Error returns "FILE:LINE:COL: MSG".
func (e *PosError) Error() string { return e.Pos.String() + ": " + e.Msg }

// Is makes errors.Is(err, errs.Invalid) true.
func (e *PosError) Is(target error) bool { return target == errs.Invalid }

// ErrorList is a list of errors in source text, like go/scanner's: the
// compiler reports every error it finds, sorted by position.
type ErrorList []*PosError

// Error returns all errors, one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Is makes errors.Is(list, errs.Invalid) true.
func (l ErrorList) Is(target error) bool { return target == errs.Invalid }

// Unwrap returns errs.Invalid, so that errs.KindOf(list) is Invalid too.
// (errs.KindOf follows single Unwraps only; the errors themselves are the
// list's elements.)
func (l ErrorList) Unwrap() error { return errs.Invalid }

// Err returns l sorted by position, or nil if l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}

// Sort sorts the list by position; errors at one position keep their order.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Pos.before(l[j].Pos) })
}

func (l *ErrorList) add(pos Pos, format string, args ...any) {
	*l = append(*l, &PosError{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokIdent
	tokNumber
	tokPunct // text is the one character
)

type token struct {
	kind tokenKind
	pos  Pos
	text string
	num  uint64 // tokNumber: the value (0 if malformed)
	nl   bool   // the first token on its line
}

// describe names the token in messages: `"foo"`, or "end of file".
func (t token) describe() string {
	if t.kind == tokEOF {
		return "end of file"
	}
	return strconv.Quote(t.text)
}

func (t token) is(punct byte) bool {
	return t.kind == tokPunct && t.text[0] == punct
}

func (t token) isWord(w string) bool { return t.kind == tokIdent && t.text == w }

// lex splits src into tokens, ending with one tokEOF. Lexical errors are
// added to errs; the offending text is skipped (or, for a malformed number,
// kept as a number token with value 0).
func lex(filename string, src []byte, errs *ErrorList) []token {
	var toks []token
	line, lineStart := 1, 0
	nl := true
	pos := func(off int) Pos { return Pos{File: filename, Line: line, Col: off - lineStart + 1} }
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			i++
			line, lineStart = line+1, i
			nl = true
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		}
		start := i
		tok := token{pos: pos(start), nl: nl}
		switch {
		case isLetter(c):
			for i < len(src) && (isLetter(src[i]) || isDigit(src[i])) {
				i++
			}
			tok.kind, tok.text = tokIdent, string(src[start:i])
		case isDigit(c):
			for i < len(src) && (isLetter(src[i]) || isDigit(src[i])) {
				i++
			}
			tok.kind, tok.text = tokNumber, string(src[start:i])
			n, msg := parseNumber(tok.text)
			if msg != "" {
				errs.add(tok.pos, "%s", msg)
			}
			tok.num = n
		case strings.IndexByte("{}()<>[]:,=", c) >= 0:
			i++
			tok.kind, tok.text = tokPunct, string(c)
		default:
			r, size := utf8.DecodeRune(src[i:])
			i += size
			switch {
			case r == utf8.RuneError && size == 1:
				errs.add(tok.pos, "invalid UTF-8 encoding")
			case c == '/':
				errs.add(tok.pos, `unexpected character "/" (comments start with //)`)
			default:
				errs.add(tok.pos, "unexpected character %q", string(r))
			}
			continue
		}
		nl = false
		toks = append(toks, tok)
	}
	return append(toks, token{kind: tokEOF, pos: pos(len(src)), nl: true})
}

// parseNumber parses a decimal or 0x hex number, returning an error message
// if it is malformed or does not fit in 64 bits.
func parseNumber(s string) (uint64, string) {
	digits, base := s, 10
	if len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		digits, base = s[2:], 16
	} else if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Sprintf("malformed number %q: leading zeros are not allowed", s)
	}
	if digits == "" || strings.ContainsAny(digits, "_+-") {
		return 0, fmt.Sprintf("malformed number %q", s)
	}
	n, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Sprintf("number %s does not fit in 64 bits", s)
		}
		return 0, fmt.Sprintf("malformed number %q", s)
	}
	return n, ""
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// isIdent reports whether s is an identifier of the schema language.
func isIdent(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}
