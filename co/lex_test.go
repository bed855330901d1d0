package co

import (
	"fmt"
	"strings"
	"testing"
)

func TestLex(t *testing.T) {
	tests := []struct {
		src  string
		want string // tokens as kind:text@line:col, space-separated
	}{
		{"", ""},
		{"ADD8", "word:ADD8@1:1"},
		{"  LIT8\t0x10\n", "word:LIT8@1:3 word:0x10@1:8"},
		{"( a comment ) ADD8", "word:ADD8@1:15"},
		{"( multi\nline ) ADD8", "word:ADD8@2:8"},
		{"+ .co.stack %a %b=c :r ;", "'+':@1:1 import path:co.stack@1:3 macro import:a@1:13 macro import:b=c@1:16 routine import:r@1:21 ';':@1:24"},
		{"% m [ p q ] ;", "'%':@1:1 word:m@1:3 '[':@1:5 word:p@1:7 word:q@1:9 ']':@1:11 ';':@1:13"},
		{": r ; ^ e ;", "':':@1:1 word:r@1:3 ';':@1:5 '^':@1:7 word:e@1:9 ';':@1:11"},
		{"~m 'a >r <x $r @x", "macro use:m@1:1 macro argument:a@1:4 routine call:r@1:7 exported call:x@1:10 routine address:r@1:13 exported address:x@1:16"},
		{"#a *a &a |100", "anchor:a@1:1 absolute address:a@1:4 relative address:a@1:7 padding:100@1:10"},
		{`"a b" "\n"`, `string:"a b"@1:1 string:"\n"@1:7`},
		{"#{id}-end", "anchor:{id}-end@1:1"},
	}
	for _, tt := range tests {
		var errs ErrorList
		toks := lex("t.co", []byte(tt.src), &errs)
		if err := errs.Err(); err != nil {
			t.Errorf("lex(%q): %v", tt.src, err)
			continue
		}
		var got []string
		for _, tok := range toks {
			text := tok.text
			if tok.kind == kString {
				text = quoteBytes(tok.str)
			}
			got = append(got, fmt.Sprintf("%s:%s@%d:%d", tok.kind, text, tok.pos.Line, tok.pos.Col))
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("lex(%q)\n got %s\nwant %s", tt.src, g, tt.want)
		}
	}
}

func TestQuoteBytes(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("hi"), {0, 1, 0x7f, 0xff, '"', '\\', '\n', '\t'}} {
		q := quoteBytes(b)
		got, n, msg := scanString([]byte(q))
		if msg != "" || n != len(q) || string(got) != string(b) {
			t.Errorf("scanString(quoteBytes(%q) = %s) = %q, %d, %q", b, q, got, n, msg)
		}
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		s     string
		n     int
		v     uint64
		msg   string
		isNum bool
	}{
		{"0", 1, 0, "", true},
		{"255", 1, 255, "", true},
		{"256", 1, 0, "number 256 does not fit in 8 bits", true},
		{"-128", 1, 0x80, "", true},
		{"-129", 1, 0, "number -129 does not fit in 8 bits", true},
		{"0xFFFF", 2, 0xffff, "", true},
		{"-1", 8, 1<<64 - 1, "", true},
		{"18446744073709551615", 8, 1<<64 - 1, "", true},
		{"18446744073709551616", 8, 0, "number 18446744073709551616 does not fit in 64 bits", true},
		{"-0x1", 1, 0, `bad number "-0x1": a hexadecimal literal cannot be negative`, true},
		{"0x", 1, 0, "", false},
		{"12a", 1, 0, "", false},
		{"abc", 1, 0, "", false},
		{"-", 1, 0, "", false},
	}
	for _, tt := range tests {
		v, msg, isNum := parseNumber(tt.s, tt.n)
		if v != tt.v || msg != tt.msg || isNum != tt.isNum {
			t.Errorf("parseNumber(%q, %d) = %#x, %q, %v; want %#x, %q, %v", tt.s, tt.n, v, msg, isNum, tt.v, tt.msg, tt.isNum)
		}
	}
}
