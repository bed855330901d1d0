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
