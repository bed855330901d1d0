package co

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// kind is the class of a token, decided by its first character (its rune).
type kind uint8

const (
	kWord       kind = iota // bare word: a mnemonic, or a number after LITn
	kString                 // "…": raw bytes
	kImport                 // +   start of an import block
	kMacroDef               // %   start of a macro definition
	kRoutineDef             // :   start of a local routine
	kExportDef              // ^   start of an exported routine
	kEnd                    // ;   end of a block or definition
	kOpen                   // [   start of a parameter list
	kClose                  // ]   end of a parameter list
	kPath                   // .a.b  import path
	kImpMacro               // %name or %name=local, inside an import block
	kImpRoutine             // :name or :name=local, inside an import block
	kUse                    // ~name  use a macro
	kArg                    // 'value argument of the preceding macro use
	kCall                   // >name  call a routine
	kExtCall                // <name  call an exported routine by content id
	kAddr                   // $name  address of a routine
	kExtAddr                // @name  content id address of an exported routine
	kAnchor                 // #name  define an anchor
	kAbs                    // *name  absolute address of an anchor
	kRel                    // &name  relative address of an anchor
	kPad                    // |HEX   pad to an absolute address
	kBreak                  // where a definition interrupted top-level code (made by the parser)
)

var kindNames = [...]string{
	kWord: "word", kString: "string", kImport: "'+'", kMacroDef: "'%'",
	kRoutineDef: "':'", kExportDef: "'^'", kEnd: "';'", kOpen: "'['", kClose: "']'",
	kPath: "import path", kImpMacro: "macro import", kImpRoutine: "routine import",
	kUse: "macro use", kArg: "macro argument", kCall: "routine call",
	kExtCall: "exported call", kAddr: "routine address", kExtAddr: "exported address",
	kAnchor: "anchor", kAbs: "absolute address", kRel: "relative address", kPad: "padding",
	kBreak: "definition",
}

func (k kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// prefixes maps the rune that starts a word to the kind of the word, for
// runes followed by a name (or path, or number).
var prefixes = map[byte]kind{
	'.': kPath, '%': kImpMacro, ':': kImpRoutine, '~': kUse, '\'': kArg,
	'>': kCall, '<': kExtCall, '$': kAddr, '@': kExtAddr, '#': kAnchor,
	'*': kAbs, '&': kRel, '|': kPad,
}

// alone maps the runes that are words by themselves to their kinds.
var alone = map[string]kind{
	"+": kImport, "%": kMacroDef, ":": kRoutineDef, "^": kExportDef, ";": kEnd,
	"[": kOpen, "]": kClose,
}

// runeChars are the characters that may not appear in names.
const runeChars = `()[]{}+%:^;.=><$@~'#*&|"`

// token is one lexical token. text is the word without its rune; for
// strings, str holds the bytes.
type token struct {
	kind kind
	text string
	str  []byte
	pos  Pos
}

// String gives the token as it was written (strings re-quoted).
func (t token) String() string {
	switch t.kind {
	case kWord:
		return t.text
	case kString:
		return quoteBytes(t.str)
	}
	for s, k := range alone {
		if k == t.kind {
			return s
		}
	}
	for c, k := range prefixes {
		if k == t.kind {
			return string(c) + t.text
		}
	}
	return t.text
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// lex splits src into tokens, skipping white space and comments. Errors are
// added to errs; lexing goes on after them.
func lex(file string, src []byte, errs *ErrorList) []token {
	var toks []token
	line, col := 1, 1
	i := 0
	advance := func(n int) {
		for ; n > 0 && i < len(src); n-- {
			if src[i] == '\n' {
				line++
				col = 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		if isSpace(c) {
			advance(1)
			continue
		}
		pos := Pos{File: file, Line: line, Col: col}
		switch c {
		case '(':
			if i+1 < len(src) && !isSpace(src[i+1]) {
				errs.Add(pos, "'(' must be followed by white space to start a comment")
			}
			j := i + 1
			for j < len(src) && src[j] != ')' {
				j++
			}
			if j == len(src) {
				errs.Add(pos, "comment not terminated")
			}
			advance(j + 1 - i)
			continue
		case ')':
			errs.Add(pos, "unexpected ')' outside a comment")
			advance(1)
			continue
		case '"':
			b, n, msg := scanString(src[i:])
			if msg != "" {
				errs.Add(pos, msg)
			} else if i+n < len(src) && !isSpace(src[i+n]) {
				errs.Add(Pos{File: file, Line: line, Col: col + n}, "string must be followed by white space")
			}
			toks = append(toks, token{kind: kString, str: b, pos: pos})
			advance(n)
			for i < len(src) && !isSpace(src[i]) { // skip the rest of a bad word
				advance(1)
			}
			continue
		}
		j := i
		for j < len(src) && !isSpace(src[j]) {
			j++
		}
		word := string(src[i:j])
		if !utf8.ValidString(word) {
			errs.Add(pos, "invalid UTF-8 in source")
		}
		if k, ok := alone[word]; ok {
			toks = append(toks, token{kind: k, pos: pos})
		} else if k, ok := prefixes[c]; ok {
			toks = append(toks, token{kind: k, text: word[1:], pos: pos})
		} else {
			toks = append(toks, token{kind: kWord, text: word, pos: pos})
		}
		advance(j - i)
	}
	return toks
}

// scanString scans a string literal at the start of s (s[0] == '"'). It
// returns the bytes, the length of the literal and an error message.
func scanString(s []byte) (b []byte, n int, msg string) {
	b = []byte{}
	i := 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return b, i + 1, ""
		case c == '\n':
			return b, i, "newline in string"
		case c == '\\':
			if i+1 >= len(s) {
				return b, i + 1, "string not terminated"
			}
			e := s[i+1]
			switch e {
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			case 'r':
				b = append(b, '\r')
			case '0':
				b = append(b, 0)
			case '\\', '"':
				b = append(b, e)
			case 'x':
				if i+3 >= len(s) || unhex(s[i+2]) < 0 || unhex(s[i+3]) < 0 {
					return b, i + 2, `\x must be followed by two hex digits`
				}
				b = append(b, byte(unhex(s[i+2])<<4|unhex(s[i+3])))
				i += 2
			default:
				return b, i + 2, fmt.Sprintf("unknown escape \\%c in string", e)
			}
			i += 2
		default:
			b = append(b, c)
			i++
		}
	}
	return b, i, "string not terminated"
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// quoteBytes writes b as a Co string literal: printable ASCII as itself
// (except '"' and '\'), everything else as \xHH.
func quoteBytes(b []byte) string {
	var s strings.Builder
	s.WriteByte('"')
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c == '\n':
			s.WriteString(`\n`)
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		default:
			fmt.Fprintf(&s, `\x%02x`, c)
		}
	}
	s.WriteByte('"')
	return s.String()
}

// validName reports why s is not a valid name, or "" if it is. Names are
// non-empty and contain no white space and no rune characters.
func validName(s string) string {
	if s == "" {
		return "missing name"
	}
	if i := strings.IndexAny(s, runeChars); i >= 0 {
		return fmt.Sprintf("character %q not allowed in name %q", s[i], s)
	}
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return fmt.Sprintf("white space in name %q", s)
		}
	}
	return ""
}

// hasParams reports whether s contains a parameter interpolation {p}.
func hasParams(s string) bool { return strings.ContainsAny(s, "{}") }
