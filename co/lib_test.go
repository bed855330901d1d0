package co

import (
	"fmt"
	"strings"
	"testing"
)

// TestStdLib loads every module of the standard library and uses every
// macro and routine in it, so each must parse and expand cleanly.
func TestStdLib(t *testing.T) {
	mods := StdModules()
	want := []string{".co.console", ".co.loop", ".co.math", ".co.stack", ".co.system"}
	if strings.Join(mods, " ") != strings.Join(want, " ") {
		t.Errorf("StdModules() = %v, want %v", mods, want)
	}
	for _, path := range mods {
		t.Run(path, func(t *testing.T) {
			_, src, err := StdLib().Resolve(path)
			if err != nil {
				t.Fatal(err)
			}
			var errs ErrorList
			m := parse(path, lex(path, src, &errs), &errs)
			if err := errs.Err(); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "+ %s", path)
			for name := range m.macros {
				fmt.Fprintf(&b, " %%%s", name)
			}
			for _, r := range m.order {
				if r.exported {
					fmt.Fprintf(&b, " :%s", r.name)
				}
			}
			b.WriteString(" ;\n")
			for name, mac := range m.macros {
				fmt.Fprintf(&b, "~%s", name)
				for i := range mac.params {
					fmt.Fprintf(&b, " 'p%d", i)
				}
				b.WriteString("\n")
			}
			for _, r := range m.order {
				if r.exported {
					fmt.Fprintf(&b, ">%s\n", r.name)
				}
			}
			// Arguments p0, p1 … name anchors and macros that do not
			// exist; errors about them are expected, no others.
			_, err = Assemble("use.co", []byte(b.String()), Options{})
			if err == nil {
				return
			}
			for _, e := range err.(ErrorList) {
				if !strings.Contains(e.Msg, " p0") && !strings.Contains(e.Msg, " p1") {
					t.Errorf("%s:\n%v", b.String(), e)
				}
			}
		})
	}
}

// TestStdLibRun runs small programs that use the standard library.
func TestStdLibRun(t *testing.T) {
	tests := []struct {
		src, input, want string
	}{
		{"+ .co.console :print-hex8 ; LIT8 0xa5 >print-hex8 LIT8 0x0f >print-hex8", "",
			"stdout \"a50f\"\nstack \nexit 0\n"},
		{"+ .co.console :print-dec8 %space ; LIT8 0 >print-dec8 ~space LIT8 255 >print-dec8", "",
			"stdout \"0 255\"\nstack \nexit 0\n"},
		{"+ .co.console :print-dec16 ; LIT16 65535 >print-dec16", "",
			"stdout \"65535\"\nstack \nexit 0\n"},
		{"+ .co.loop %times ; + .co.console %newline ; % star LIT8 0x2a ~emit ; + .co.console %emit ; LIT8 3 ~times 'x 'star ~newline", "",
			"stdout \"***\\n\"\nstack \nexit 0\n"},
		{"+ .co.console :read-byte ; >read-byte >read-byte >read-byte", "ab",
			"stdout \"\"\nstack 61 ff 62 ff 00 00\nexit 0\n"},
		{"+ .co.system %exit-code ; + .co.math %increment8 %decrement8 %double8 %zero?8 ; LIT8 20 ~double8 ~increment8 ~decrement8 ~exit-code LIT8 0 ~zero?8", "",
			"stdout \"\"\nstack ff\nexit 40\n"},
		{"+ .co.stack %stash8 %unstash8 %swap8 %unswap8 %hold8 %unhold8 %dup8 %drop8 %drop16 ; LIT8 1 ~stash8 LIT8 2 ~swap8 LIT8 3 ~hold8 ~unhold8 ~unswap8 ~unstash8 ~dup8 LIT16 7 ~drop16 LIT8 9 ~drop8", "",
			"stdout \"\"\nstack 03 02 01 01\nexit 0\n"},
		{"+ .co.stack %stash16 %unstash16 %swap16 %unswap16 %dup16 ; LIT16 0x0102 ~stash16 LIT16 0x0304 ~swap16 ~unstash16 ~unswap16 ~dup16", "",
			"stdout \"\"\nstack 02 01 04 03 04 03\nexit 0\n"},
		{"+ .co.stack %nip8 %over8 %over16 ; LIT8 1 LIT8 2 ~over8 ~nip8 LIT16 0x0a0b LIT16 0x0c0d ~over16", "",
			"stdout \"\"\nstack 01 01 0b 0a 0d 0c 0b 0a\nexit 0\n"},
	}
	for _, tt := range tests {
		rom, err := Assemble("t.co", []byte(tt.src), Options{})
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		got := runProgram(t, rom, []byte(tt.input))
		got = got[:strings.Index(got, "steps ")]
		if got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.src, got, tt.want)
		}
	}
}
