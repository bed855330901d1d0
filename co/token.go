package co

import (
	"encoding/binary"
	"fmt"

	"github.com/coalescent/coal/coins"
	"github.com/coalescent/coal/errs"
)

// The tokenised form of Co source (decision 9, docs/co.md §15): a source as
// a sequence of tokens, each one byte, followed for some by a string
// (uvarint length ‖ bytes). An instruction mnemonic is its COINS opcode
// byte; every other token is a byte in 0x20–0x3F, the range COINS reserves
// for them. The form keeps every byte of the text: Detokenise(Tokenise(src))
// is src, and every token stream Detokenise accepts is the Tokenise of its
// result, so equal sources have equal token streams and the other way round.
const (
	TokLayout   byte = 0x20 // white space between tokens, other than one space (string)
	TokExport   byte = 0x21 // ^ (exported routine definition)
	TokString   byte = 0x22 // "…" (string: the text between the quotes, escapes as written)
	TokAnchor   byte = 0x23 // #name
	TokAddr     byte = 0x24 // $name
	TokMacroDef byte = 0x25 // % (macro definition)
	TokRel      byte = 0x26 // &name
	TokArg      byte = 0x27 // 'arg
	TokComment  byte = 0x28 // ( … ) (string: the text between the parentheses)
	TokWord     byte = 0x29 // any other word: a number, an unknown or interpolated word (string)
	TokAbs      byte = 0x2A // *name
	TokImport   byte = 0x2B // + (import block)
	TokImpMacro byte = 0x2C // %name in an import block
	TokImpRout  byte = 0x2D // :name in an import block
	TokPath     byte = 0x2E // .a.b (string: the text after the first '.')
	TokOpen     byte = 0x2F // [
	TokClose    byte = 0x30 // ]
	TokUse      byte = 0x31 // ~name
	TokPad      byte = 0x32 // |HEX
	TokExtAddr  byte = 0x33 // @name
	TokRoutine  byte = 0x3A // : (local routine definition)
	TokEnd      byte = 0x3B // ;
	TokExtCall  byte = 0x3C // <name
	TokCall     byte = 0x3E // >name
)

// prefixTok maps the rune of a word with a name to its token, and back.
var prefixTok = map[byte]byte{
	'#': TokAnchor, '$': TokAddr, '&': TokRel, '\'': TokArg, '*': TokAbs,
	'%': TokImpMacro, ':': TokImpRout, '.': TokPath, '~': TokUse, '|': TokPad,
	'@': TokExtAddr, '<': TokExtCall, '>': TokCall,
}

// aloneTok maps the words that are runes by themselves to their tokens.
var aloneTok = map[string]byte{
	"^": TokExport, "%": TokMacroDef, "+": TokImport, "[": TokOpen, "]": TokClose,
	":": TokRoutine, ";": TokEnd,
}

var tokPrefix, tokAlone = func() (p [256]byte, a [256]string) {
	for r, t := range prefixTok {
		p[t] = r
	}
	for w, t := range aloneTok {
		a[t] = w
	}
	return
}()

// maxSource bounds a tokenised or text source: 16 MiB.
const maxSource = 16 << 20

// Tokenise returns the tokenised form of the Co source src. It fails, with
// the position, only where the text cannot be split into words: a comment
// or a string literal that is not terminated, or a string with a bad
// escape. It does not check that the source assembles.
func Tokenise(file string, src []byte) ([]byte, error) {
	if len(src) > maxSource {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("%s: source of %d bytes is larger than %d", file, len(src), maxSource))
	}
	w := &tokWriter{out: make([]byte, 0, len(src)/2+8)}
	line, col := 1, 1
	i := 0
	advance := func(n int) {
		for ; n > 0; n-- {
			if src[i] == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
			i++
		}
	}
	first := true
	for i < len(src) {
		// The layout before the word (or at the end).
		j := i
		for j < len(src) && isSpace(src[j]) {
			j++
		}
		ws := src[i:j]
		if j == len(src) {
			if len(ws) > 0 {
				w.str(TokLayout, ws)
			}
			break
		}
		if !impliedLayout(first, ws) {
			w.str(TokLayout, ws)
		}
		advance(j - i)
		first = false
		pos := Pos{File: file, Line: line, Col: col}
		switch src[i] {
		case '(':
			k := i + 1
			for k < len(src) && src[k] != ')' {
				k++
			}
			if k == len(src) {
				return nil, ErrorList{{Pos: pos, Msg: "comment not terminated"}}
			}
			w.str(TokComment, src[i+1:k])
			advance(k + 1 - i)
			continue
		case '"':
			_, n, msg := scanString(src[i:])
			if msg != "" {
				return nil, ErrorList{{Pos: pos, Msg: msg}}
			}
			w.str(TokString, src[i+1:i+n-1])
			advance(n)
			continue
		}
		k := i
		for k < len(src) && !isSpace(src[k]) {
			k++
		}
		w.word(string(src[i:k]))
		advance(k - i)
	}
	return w.out, nil
}

// impliedLayout reports whether the white space ws before a word needs no
// layout token: none before the first word, one space between words, and
// none after a comment or string (the only places where words can touch).
func impliedLayout(first bool, ws []byte) bool {
	if first {
		return len(ws) == 0
	}
	return len(ws) == 1 && ws[0] == ' '
}

type tokWriter struct {
	out  []byte
	last byte // the last token written
}

func (w *tokWriter) str(t byte, s []byte) {
	w.last = t
	w.out = append(w.out, t)
	w.out = binary.AppendUvarint(w.out, uint64(len(s)))
	w.out = append(w.out, s...)
}

// word writes the token of a word that is not a comment or a string.
func (w *tokWriter) word(s string) {
	if t, ok := aloneTok[s]; ok {
		w.last = t
		w.out = append(w.out, t)
		return
	}
	if t, ok := prefixTok[s[0]]; ok {
		w.str(t, []byte(s[1:]))
		return
	}
	if op, ok := coins.OpcodeByMnemonic(s); ok && op.Mnemonic() == s {
		w.last = byte(op)
		w.out = append(w.out, byte(op))
		return
	}
	w.str(TokWord, []byte(s))
}

// Detokenise returns the Co source text of a tokenised source. It accepts
// only the streams Tokenise produces; anything else is an error naming the
// byte offset.
func Detokenise(tok []byte) ([]byte, error) {
	if len(tok) > maxSource {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("co: tokenised source of %d bytes is larger than %d", len(tok), maxSource))
	}
	out := make([]byte, 0, 2*len(tok))
	bad := func(off int, format string, args ...any) error {
		return errs.E(errs.Invalid, fmt.Sprintf("co: tokenised source: byte %d: ", off)+fmt.Sprintf(format, args...))
	}
	var last byte // previous token; 0 with first set means none
	first := true
	layoutBefore := false
	for i := 0; i < len(tok); {
		start := i
		t := tok[i]
		i++
		var s []byte
		hasStr := t == TokLayout || t == TokString || t == TokComment || t == TokWord || tokPrefix[t] != 0
		if hasStr {
			n, k := binary.Uvarint(tok[i:])
			if k <= 0 {
				return nil, bad(i, "bad length")
			}
			if k != uvarintLen(n) {
				return nil, bad(i, "length not in its shortest form")
			}
			i += k
			if n > uint64(len(tok)-i) {
				return nil, bad(i, "length %d runs past the end (%d bytes left)", n, len(tok)-i)
			}
			s = tok[i : i+int(n)]
			i += int(n)
		}
		if t == TokLayout {
			if layoutBefore {
				return nil, bad(start, "two layout tokens in a row")
			}
			for _, c := range s {
				if !isSpace(c) {
					return nil, bad(start, "layout holds %q, which is not white space", c)
				}
			}
			atEnd := i == len(tok)
			switch {
			case (first || atEnd) && len(s) == 0:
				return nil, bad(start, "empty layout at the start or end")
			case !first && !atEnd && len(s) == 1 && s[0] == ' ':
				return nil, bad(start, "layout of one space between tokens (it is implied)")
			case !first && !atEnd && len(s) == 0 && last != TokComment && last != TokString:
				return nil, bad(start, "empty layout between words")
			}
			out = append(out, s...)
			layoutBefore = true
			continue
		}
		if !first && !layoutBefore {
			out = append(out, ' ')
		}
		first, layoutBefore, last = false, false, t
		switch {
		case t == TokComment:
			for _, c := range s {
				if c == ')' {
					return nil, bad(start, "comment holds ')'")
				}
			}
			out = append(out, '(')
			out = append(out, s...)
			out = append(out, ')')
		case t == TokString:
			q := make([]byte, 0, len(s)+2)
			q = append(append(append(q, '"'), s...), '"')
			if _, n, msg := scanString(q); msg != "" || n != len(q) {
				return nil, bad(start, "bad string literal %s", q)
			}
			out = append(out, q...)
		case t == TokWord:
			switch {
			case len(s) == 0:
				return nil, bad(start, "empty word")
			case s[0] == '(' || s[0] == '"' || prefixTok[s[0]] != 0:
				return nil, bad(start, "word %q starts with a rune", s)
			case aloneTok[string(s)] != 0:
				return nil, bad(start, "word %q is a rune", s)
			}
			if op, ok := coins.OpcodeByMnemonic(string(s)); ok && op.Mnemonic() == string(s) {
				return nil, bad(start, "word %q is an instruction (its opcode is its token)", s)
			}
			if err := noSpace(s); err != "" {
				return nil, bad(start, "word %q %s", s, err)
			}
			out = append(out, s...)
		case tokPrefix[t] != 0:
			w := string(tokPrefix[t]) + string(s)
			if aloneTok[w] != 0 {
				return nil, bad(start, "%q is a rune by itself, not a name token", w)
			}
			if err := noSpace(s); err != "" {
				return nil, bad(start, "name %q %s", s, err)
			}
			out = append(out, w...)
		case tokAlone[t] != "":
			out = append(out, tokAlone[t]...)
		case t < 0x20 || t > 0x3F:
			op := coins.Opcode(t)
			if !op.Valid() {
				return nil, bad(start, "0x%02x is neither an instruction nor a token", t)
			}
			out = append(out, op.Mnemonic()...)
		default:
			return nil, bad(start, "0x%02x is not a token", t)
		}
	}
	return out, nil
}

func noSpace(s []byte) string {
	for _, c := range s {
		if isSpace(c) {
			return "holds white space"
		}
	}
	return ""
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
