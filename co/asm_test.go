package co

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/coalescent/coal/coins"
	"github.com/coalescent/coal/errs"
)

// bs builds bytes from mnemonics (looked up in coins) and byte values.
func bs(t *testing.T, parts ...any) []byte {
	t.Helper()
	var out []byte
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			op, ok := coins.OpcodeByMnemonic(p)
			if !ok {
				t.Fatalf("no mnemonic %s", p)
			}
			out = append(out, byte(op))
		case int:
			out = append(out, byte(p))
		case rune:
			out = append(out, byte(p))
		case []byte:
			out = append(out, p...)
		}
	}
	return out
}

func TestAssemble(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []any
	}{
		{"empty", "", nil},
		{"comment", "( nothing here )", nil},
		{"lit8", "LIT8 1 LIT8 0xff LIT8 -1", []any{"LIT8", 1, "LIT8", 0xff, "LIT8", 0xff}},
		{"lit16", "LIT16 0x1234 LIT16 -2", []any{"LIT16", 0x34, 0x12, "LIT16", 0xfe, 0xff}},
		{"lit32", "LIT32 1", []any{"LIT32", 1, 0, 0, 0}},
		{"lit64", "LIT64 0xffffffffffffffff", []any{"LIT64", 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"string", `"hi\n" "\x00\"\\"`, []any{'h', 'i', '\n', 0, '"', '\\'}},
		{"string with spaces", `"a b"`, []any{'a', ' ', 'b'}},
		{"padding", "LIT8 1 |8 ADD8", []any{"LIT8", 1, 0, 0, 0, 0, 0, 0, "ADD8"}},
		{"padding here", "|0 ADD8 |1", []any{"ADD8"}},
		{"anchor abs", "#top ADD8 *top JMP16", []any{"ADD8", "LIT16", 0, 0, "JMP16"}},
		{"anchor forward", "*end JMP16 ADD8 #end", []any{"LIT16", 5, 0, "JMP16", "ADD8"}},
		{"anchor rel back", "#top ADD8 &top JPR8", []any{"ADD8", "LIT8", 0xfc, "JPR8"}},
		{"anchor rel fwd", "&end JPR8 ADD8 #end", []any{"LIT8", 1, "JPR8", "ADD8"}},
		{"routine", ": one LIT8 1 ; >one", []any{"LIT16", 5, 0, "CAL16", "HALT", "LIT8", 1, "RTN"}},
		{"routine addr", "^ r ; $r", []any{"LIT16", 4, 0, "HALT", "RTN"}},
		{"routines only", ": a ; : b >a ;", []any{"HALT", "RTN", "LIT16", 1, 0, "CAL16", "RTN"}},
		{"recursion", ": r >r ;", []any{"HALT", "LIT16", 1, 0, "CAL16", "RTN"}},
		{"routine anchors are local", ": a #x *x DRD ; : b #x *x DRD ;",
			[]any{"HALT", "LIT16", 1, 0, "DRD", "RTN", "LIT16", 6, 0, "DRD", "RTN"}},
		{"entry anchors are global", "#data \"d\" : a *data DRD ;", []any{'d', "HALT", "LIT16", 0, 0, "DRD", "RTN"}},
		{"macro", "% two LIT8 2 ; ~two ~two", []any{"LIT8", 2, "LIT8", 2}},
		{"macro params", "% lit [ n ] LIT8 {n} ; ~lit '7 ~lit '0x10", []any{"LIT8", 7, "LIT8", 0x10}},
		{"macro unique anchors", "% loop [ id ] #{id} &{id} JPR8 ; ~loop 'a ~loop 'b",
			[]any{"LIT8", 0xfd, "JPR8", "LIT8", 0xfd, "JPR8"}},
		{"macro calls macro", "% a LIT8 1 ; % b ~a ~a ; ~b", []any{"LIT8", 1, "LIT8", 1}},
		{"higher-order macro", "% one LIT8 1 ; % twice [ m ] ~{m} ~{m} ; ~twice 'one", []any{"LIT8", 1, "LIT8", 1}},
		{"param passed on", "% at [ id ] #{id}-x *{id}-x ; % wrap [ n ] ~at '{n} ; ~wrap 'q", []any{"LIT16", 0, 0}},
		{"macro defined later", "~m % m ADD8 ;", []any{"ADD8"}},
		{"import", "+ .co.math %increment8 ; LIT8 1 ~increment8", []any{"LIT8", 1, "LIT8", 1, "ADD8"}},
		{"import renamed", "+ .co.math %increment8=inc ; ~inc", []any{"LIT8", 1, "ADD8"}},
		{"import stack", "+ .co.stack %stash8 %unstash8 ; ~stash8 ~unstash8", []any{"CDR8", "DRD", "CRD8", "DRR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Assemble("t.co", []byte(tt.src), Options{})
			if err != nil {
				t.Fatalf("Assemble(%q): %v", tt.src, err)
			}
			want := bs(t, tt.want...)
			if !bytes.Equal(got, want) {
				t.Errorf("Assemble(%q)\n got % x\nwant % x", tt.src, got, want)
			}
		})
	}
}

func TestAssembleErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // each a full error line
	}{
		{"unknown", "FOO", []string{`t.co:1:1: unknown instruction "FOO"`}},
		{"dangling number", "ADD8 5", []string{"t.co:1:6: number 5 without LIT8, LIT16, LIT32 or LIT64 before it"}},
		{"lit range", "LIT8 256", []string{"t.co:1:6: number 256 does not fit in 8 bits"}},
		{"lit range neg", "LIT8 -129", []string{"t.co:1:6: number -129 does not fit in 8 bits"}},
		{"lit16 range", "\n  LIT16 0x10000", []string{"t.co:2:9: number 0x10000 does not fit in 16 bits"}},
		{"lit missing", "LIT8", []string{"t.co:1:1: LIT8 needs a number after it"}},
		{"lit not number", "LIT8 ADD8", []string{`t.co:1:6: LIT8 needs a number after it, not "ADD8"`}},
		{"several errors", "FOO\nBAR", []string{`t.co:1:1: unknown instruction "FOO"`, `t.co:2:1: unknown instruction "BAR"`}},
		{"comment", "( oops", []string{"t.co:1:1: comment not terminated"}},
		{"comment space", "(oops )", []string{"t.co:1:1: '(' must be followed by white space to start a comment"}},
		{"close paren", ")", []string{"t.co:1:1: unexpected ')' outside a comment"}},
		{"string", `"abc`, []string{"t.co:1:1: string not terminated"}},
		{"string escape", `"\q"`, []string{`t.co:1:1: unknown escape \q in string`}},
		{"string glued", `"a"b`, []string{"t.co:1:4: string must be followed by white space"}},
		{"undefined anchor", "*nowhere", []string{"t.co:1:1: undefined anchor nowhere"}},
		{"duplicate anchor", "#a #a", []string{"t.co:1:4: anchor a already defined at t.co:1:1"}},
		{"anchor far", "&x JPR8 |100 #x", []string{"t.co:1:1: anchor x is 253 bytes away, too far for a relative address (-128..127); use *x"}},
		{"undefined routine", ">r", []string{"t.co:1:1: undefined routine r"}},
		{"undefined macro", "~m", []string{"t.co:1:1: undefined macro m"}},
		{"macro args", "% m [ a ] ; ~m", []string{"t.co:1:13: macro m takes 1 arguments (a), got 0"}},
		{"macro recursion", "% m ~m ; ~m", []string{"t.co:1:5: macro m uses itself (in macro expanded at t.co:1:10)"}},
		{"unknown param", "% m [ a ] #{b} ; ~m 'x", []string{`t.co:1:11: macro m has no parameter "b" (in macro expanded at t.co:1:18)`}},
		{"param outside", "#{a}", []string{`t.co:1:1: parameter interpolation "{a}" outside a macro`}},
		{"stray arg", "'x", []string{"t.co:1:1: argument 'x does not follow a macro use"}},
		{"dup macro", "% m ; % m ;", []string{"t.co:1:7: macro m already defined at t.co:1:1"}},
		{"dup routine", ": r ; : r ;", []string{"t.co:1:7: routine r already defined at t.co:1:1"}},
		{"unterminated", ": r ADD8", []string{"t.co:1:1: routine r not terminated (missing ';')"}},
		{"nested", ": r ADD8 : s ;", []string{"t.co:1:10: : inside routine r (missing ';' after routine r at t.co:1:1?)"}},
		{"stray end", ";", []string{"t.co:1:1: unexpected ';' at top level"}},
		{"pad back", "ADD8 ADD8 |1", []string{"t.co:1:11: padding to 0x0001, but already at 0x0002"}},
		{"pad bad", "|xyz", []string{`t.co:1:1: padding needs a hexadecimal address after '|', not "xyz"`}},
		{"pad far", "|10001", []string{"t.co:1:1: padding to 0x10001 is beyond the end of instruction RAM (0x10000)"}},
		{"too large", "|10000 ADD8", []string{"t.co: program too large: 65537 bytes (instruction RAM holds 65536)"}},
		{"literal across a definition", "LIT8 : r ; 5", []string{"t.co:1:1: LIT8 needs a number after it", "t.co:1:12: number 5 without LIT8, LIT16, LIT32 or LIT64 before it"}},
		{"argument across a definition", "% m [ a ] ; ~m % n ; 'x", []string{"t.co:1:13: macro m takes 1 arguments (a), got 0", "t.co:1:22: argument 'x does not follow a macro use"}},
		{"ext call undefined", "<r", []string{"t.co:1:1: undefined routine r"}},
		{"ext call local", ": r ; <r", []string{"t.co:1:7: <r: routine r is local (defined with ':'); only exported routines (^) are linked by content id"}},
		{"ext data anchor", "#d ^ r *d ; <r", []string{"t.co:1:8: routine r is linked by content id and cannot refer to anchor d of the top-level code"}},
		{"no module", "+ .no.such %m ;", []string{"t.co:1:12: import .no.such: no module .no.such in the standard library"}},
		{"no macro in module", "+ .co.math %nope ;", []string{"t.co:1:12: module .co.math has no macro nope"}},
		{"import clash", "+ .co.math %increment8 ; % increment8 ;", []string{"t.co:1:12: imported macro increment8 is also defined in this module"}},
		{"bad name", "% a.b ;", []string{`t.co:1:3: character '.' not allowed in name "a.b"`}},
		{"long names", "% a [ x ] ~b '{x}{x} ; % b [ x ] ~c '{x}{x} ; % c [ x ] ~d '{x}{x} ; % d [ x ] ~e '{x}{x} ; % e [ x ] ~f '{x}{x} ; % f [ x ] #{x} ; ~a 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
			[]string{"t.co:1:106: name longer than 1024 bytes after interpolation (in macro expanded at t.co:1:133)"}},
		{"blowup", "% a ADD8 ADD8 ; % b ~a ~a ~a ~a ; % c ~b ~b ~b ~b ; % d ~c ~c ~c ~c ; % e ~d ~d ~d ~d ; % f ~e ~e ~e ~e ; % g ~f ~f ~f ~f ; % h ~g ~g ~g ~g ; % i ~h ~h ~h ~h ; ~i ~i",
			[]string{"t.co:1:10: program too large: more than 65536 items after macro expansion (in macro expanded at t.co:1:161)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Assemble("t.co", []byte(tt.src), Options{})
			if err == nil {
				t.Fatalf("Assemble(%q) succeeded, want errors", tt.src)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not an ErrorList", err)
			}
			if !errors.Is(err, errs.Invalid) {
				t.Errorf("errors.Is(err, errs.Invalid) = false")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Assemble(%q) errors:\n got %q\nwant %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestResolver(t *testing.T) {
	mods := map[string]string{
		".my.lib": "^ seven LIT8 7 ; : private ; % m >seven ;",
	}
	r := Chain(StdLib(), ResolverFunc(func(path string) (string, []byte, error) {
		src, ok := mods[path]
		if !ok {
			return "", nil, errs.E(errs.NotExist, "no module "+path)
		}
		return "my/" + path, []byte(src), nil
	}))
	got, err := Assemble("t.co", []byte("+ .my.lib %m :seven ; ~m >seven"), Options{Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	want := bs(t, "LIT16", 9, 0, "CAL16", "LIT16", 9, 0, "CAL16", "HALT", "LIT8", 7, "RTN")
	if !bytes.Equal(got, want) {
		t.Errorf("got % x, want % x", got, want)
	}
	_, err = Assemble("t.co", []byte("+ .my.lib :private ;"), Options{Resolver: r})
	if err == nil || !strings.Contains(err.Error(), "routine private of .my.lib is local") {
		t.Errorf("importing a local routine: got %v", err)
	}
}

func TestProgramSource(t *testing.T) {
	src := "+ .co.math %increment8 ;\nLIT8 1 ~increment8\n>r\n: r\n  ADD8 ;"
	p, err := AssembleProgram("t.co", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr int
		want string
	}{
		{0, "t.co:2:1"},
		{1, "t.co:2:1"},
		{2, ".co.math:3:14 (in macro expanded at t.co:2:8)"},
		{4, ".co.math:3:21 (in macro expanded at t.co:2:8)"},
		{5, "t.co:3:1"},
		{9, ""}, // the HALT the assembler added has no source
		{10, "t.co:5:3 in routine r"},
		{11, "t.co:4:1 in routine r"},
	}
	for _, tt := range tests {
		s, ok := p.Source(tt.addr)
		if !ok && tt.want == "" {
			continue
		}
		if got := s.String(); !ok || got != tt.want {
			t.Errorf("Source(%d) = %q, %v; want %q", tt.addr, got, ok, tt.want)
		}
	}
	if _, ok := p.Source(len(p.ROM)); ok {
		t.Errorf("Source past the end found a span")
	}
}

func TestAllErrors(t *testing.T) {
	src := "FOO\n*nowhere\n: r BAR ;\n>r LIT8 300 &far JPR8 |200 #far"
	_, err := Assemble("t.co", []byte(src), Options{})
	want := `t.co:1:1: unknown instruction "FOO"
t.co:2:1: undefined anchor nowhere
t.co:3:5: unknown instruction "BAR"
t.co:4:9: number 300 does not fit in 8 bits
t.co:4:13: anchor far is 502 bytes away, too far for a relative address (-128..127); use *far`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}
