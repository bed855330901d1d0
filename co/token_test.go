package co

import (
	"bytes"
	"errors"
	"testing"

	"github.com/coalescent/coal/errs"
)

func TestTokeniseRoundTrip(t *testing.T) {
	srcs := []string{
		"",
		"   ",
		"LIT8 1 LIT8 2 ADD8\n",
		"( hello )\n+ .co.console %print-data ;\n\n~print-data 'message\nHALT\n\n#message \"Hello, \\x41\\\"world!\\n\" #message-end\n",
		"% m [ a b ] #{a} &{a} JPR8 ; ~m 'x 'y : r >r $r <r @r *x |100 ;",
		"\t( a )( b )x \"s\"y RTN16 add8 )oops\r\n",
		"^ inc LIT8 1 ADD8 ;",
	}
	for _, src := range srcs {
		tok, err := Tokenise("t.co", []byte(src))
		if err != nil {
			t.Fatalf("Tokenise(%q): %v", src, err)
		}
		back, err := Detokenise(tok)
		if err != nil {
			t.Fatalf("Detokenise(Tokenise(%q)) = %v (tokens % x)", src, err, tok)
		}
		if string(back) != src {
			t.Fatalf("round trip: got %q, want %q", back, src)
		}
	}
}

func TestTokenBytes(t *testing.T) {
	// Instructions are their opcode bytes; runes are in 0x20–0x3F; single
	// spaces are implied.
	tok, err := Tokenise("t.co", []byte("^ inc LIT8 1 ADD8 ;"))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{TokExport, TokWord, 3, 'i', 'n', 'c', 0xB0, TokWord, 1, '1', 0x60, TokEnd}
	if !bytes.Equal(tok, want) {
		t.Fatalf("got % x, want % x", tok, want)
	}
}

func TestTokeniseErrors(t *testing.T) {
	for _, src := range []string{"( open", "\"open", "x \"bad \\q\"", "\"nl\n\""} {
		_, err := Tokenise("t.co", []byte(src))
		if !errors.Is(err, errs.Invalid) {
			t.Errorf("Tokenise(%q): err = %v, want an Invalid error", src, err)
		}
	}
}

func TestDetokeniseRejects(t *testing.T) {
	for name, tok := range map[string][]byte{
		"one space":        {0xB0, TokLayout, 1, ' ', 0xB0},
		"two layouts":      {TokLayout, 1, '\n', TokLayout, 1, '\t'},
		"empty word":       {TokWord, 0},
		"mnemonic word":    {TokWord, 4, 'H', 'A', 'L', 'T'},
		"rune word":        {TokWord, 2, '>', 'x'},
		"alone word":       {TokWord, 1, ';'},
		"space in name":    {TokCall, 3, 'a', ' ', 'b'},
		"percent alone":    {TokImpMacro, 0},
		"paren in comment": {TokComment, 1, ')'},
		"bad string":       {TokString, 1, '"'},
		"reserved":         {0x3F},
		"unassigned":       {0x06},
		"long length":      {TokWord, 5, 'a'},
		"non-minimal len":  {TokWord, 0x81, 0x00, 'a'},
		"empty glue":       {0xB0, TokLayout, 0, 0xB0},
		"not space":        {TokLayout, 1, 'x'},
	} {
		if _, err := Detokenise(tok); !errors.Is(err, errs.Invalid) {
			t.Errorf("%s: Detokenise(% x): err = %v, want an Invalid error", name, tok, err)
		}
	}
}

// FuzzDetokenise: any bytes that detokenise are exactly the tokenised form
// of the text they give; and no input panics.
func FuzzDetokenise(f *testing.F) {
	f.Add([]byte{TokExport, TokWord, 3, 'i', 'n', 'c', 0xB0, TokWord, 1, '1', 0x60, TokEnd})
	f.Add([]byte{TokComment, 2, ' ', ' ', TokLayout, 0, TokWord, 1, 'x'})
	f.Fuzz(func(t *testing.T, tok []byte) {
		src, err := Detokenise(tok)
		if err != nil {
			return
		}
		again, err := Tokenise("fuzz.co", src)
		if err != nil {
			t.Fatalf("Detokenise gave %q, which does not tokenise: %v", src, err)
		}
		if !bytes.Equal(again, tok) {
			t.Fatalf("Tokenise(Detokenise(% x)) = % x (text %q)", tok, again, src)
		}
	})
}

// FuzzTokenise: every text that tokenises comes back byte for byte.
func FuzzTokenise(f *testing.F) {
	f.Add([]byte("( c )x \"s\"\n LIT8 0x10 ~m 'a ;"))
	f.Fuzz(func(t *testing.T, src []byte) {
		tok, err := Tokenise("fuzz.co", src)
		if err != nil {
			return
		}
		back, err := Detokenise(tok)
		if err != nil {
			t.Fatalf("Detokenise(Tokenise(%q)): %v", src, err)
		}
		if !bytes.Equal(back, src) {
			t.Fatalf("round trip: got %q, want %q", back, src)
		}
	})
}
