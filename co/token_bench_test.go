package co

import (
	"testing"
)

// stdSource is the standard library's text, concatenated: a realistic
// source of comments, definitions and code.
func stdSource(b *testing.B) []byte {
	var src []byte
	for _, m := range StdModules() {
		_, s, err := resolveStd(m)
		if err != nil {
			b.Fatal(err)
		}
		src = append(append(src, s...), '\n')
	}
	return src
}

// BenchmarkTokenise turns the standard library's text into tokens.
func BenchmarkTokenise(b *testing.B) {
	src := stdSource(b)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Tokenise("std.co", src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDetokenise turns them back into text.
func BenchmarkDetokenise(b *testing.B) {
	src := stdSource(b)
	tok, err := Tokenise("std.co", src)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Detokenise(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLex is the peer: the assembler's lexer on the same text.
func BenchmarkLex(b *testing.B) {
	src := stdSource(b)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		var el ErrorList
		lex("std.co", src, &el)
	}
}
