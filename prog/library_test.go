package prog

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func buildLib(t *testing.T, src string, opts co.Options) (*Program, map[string]*Lib) {
	t.Helper()
	p, libs, err := BuildLibrary("t.co", []byte(src), opts)
	if err != nil {
		t.Fatalf("BuildLibrary: %v", err)
	}
	m := map[string]*Lib{}
	for _, l := range libs {
		if l.Lib == nil {
			if l.Why == "" || !l.ID.IsZero() {
				t.Fatalf("lib %s: no Lib, why %q", l.Name, l.Why)
			}
			continue
		}
		if l.Lib.Routine.ID() != l.ID {
			t.Fatalf("lib %s: id mismatch", l.Name)
		}
		m[l.Name] = l.Lib
	}
	return p, m
}

func TestSameRoutineSameID(t *testing.T) {
	// The same routine, written in two programs with other names, comments,
	// positions and helpers' names: one id.
	a, _ := buildLib(t, `^ inc LIT8 1 ADD8 ; ^ twice >inc >inc ; : loop #top LIT8 0 &top JCR8 ;`, co.Options{})
	b, _ := buildLib(t, `( other ) LIT8 3 >plus2 HALT
: step  ( n -- n+1 )  LIT8 0x01 ADD8 ;
^ plus2 >step >step ;
^ bump LIT8 1 ADD8 ;`, co.Options{})
	ids := map[string]coda.ID{}
	for _, p := range []*Program{a, b} {
		for _, e := range p.Exports {
			ids[e.Name] = e.ID
		}
	}
	if ids["inc"] != ids["bump"] || ids["twice"] != ids["plus2"] {
		t.Fatalf("ids differ: %v", ids)
	}
	if ids["inc"] == ids["twice"] {
		t.Fatal("different routines share an id")
	}
}

func TestSelfByID(t *testing.T) {
	// A routine that calls itself, statically or by id, has one id.
	a, _ := buildLib(t, `^ f >f ;`, co.Options{})
	b, _ := buildLib(t, `^ f <f ;`, co.Options{})
	if a.Exports[0].ID != b.Exports[0].ID || len(b.Imports) != 1 || b.Imports[0] != a.Exports[0].ID {
		t.Fatalf("ids %s %s imports %v", a.Exports[0].ID, b.Exports[0].ID, b.Imports)
	}
}

func TestNoID(t *testing.T) {
	p, libs := buildLib(t, `#data "x" ^ data-user *data ; ^ a >b ; ^ b >a ; ^ self >self ;`, co.Options{})
	for _, e := range p.Exports {
		has := !e.ID.IsZero()
		if has != (e.Name == "self") {
			t.Errorf("export %s: id %s", e.Name, e.ID)
		}
	}
	if len(libs) != 1 || libs["self"] == nil {
		t.Fatalf("libs %v", libs)
	}
	_, named, err := BuildLibrary("t.co", []byte(`#data "x" ^ data-user *data ; ^ a >b ; ^ b >a ;`), co.Options{})
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]string{}
	for _, l := range named {
		why[l.Name] = l.Why
	}
	if !strings.Contains(why["data-user"], "anchor data of the top-level code") || !strings.Contains(why["a"], "call each other") || why["b"] == "" {
		t.Fatalf("reasons %q", why)
	}
}

func TestLinkByID(t *testing.T) {
	_, libs := buildLib(t, `^ inc LIT8 1 ADD8 ; ^ twice >inc >inc ;`, co.Options{})
	lib := NewLibrary()
	for n, l := range libs {
		obj, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if err := lib.Add(n, obj); err != nil {
			t.Fatal(err)
		}
	}
	opts := co.Options{Resolver: co.Chain(Resolver(libs), co.StdLib())}
	// By id: the code is not in the program, Link adds it.
	p, _ := buildLib(t, `+ .lib :twice ; LIT8 1 <twice @twice DRD DRD`, opts)
	if len(p.Imports) != 1 || p.Imports[0] != libs["twice"].Routine.ID() || len(p.Links) != 2 {
		t.Fatalf("imports %v links %v", p.Imports, p.Links)
	}
	rom, err := Link(p, lib.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, rom); !bytes.Equal(got, []byte{3}) {
		t.Fatalf("stack % x, want 03", got)
	}
	// Statically: the copy imported from .lib has the same id.
	q, _ := buildLib(t, `+ .lib :twice ; LIT8 1 >twice ^ again >twice ;`, opts)
	rom, err = Link(q, NewLibrary().Lookup)
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, rom); !bytes.Equal(got, []byte{3}) {
		t.Fatalf("static: stack % x, want 03", got)
	}
	// A missing routine and a lying lookup are errors.
	if _, err := Link(p, NewLibrary().Lookup); !errors.Is(err, errs.NotExist) {
		t.Fatalf("missing: %v", err)
	}
	liar := func(coda.ID) (*Routine, error) { return libs["inc"].Routine, nil }
	if _, err := Link(p, liar); !errors.Is(err, errs.Invalid) {
		t.Fatalf("liar: %v", err)
	}
}

func TestLibModuleRoundTrip(t *testing.T) {
	src := `^ f #a LIT8 1 &a JCR8 *b JMP16 "\x00\xb0\x05" #b >g $f CAL16 ; ^ g LIT16 0x1234 DRD DRD ; : h RTN ;`
	_, libs := buildLib(t, src, co.Options{})
	mod, err := LibModule(libs)
	if err != nil {
		t.Fatal(err)
	}
	_, again := buildLib(t, string(mod), co.Options{})
	for n, l := range libs {
		if again[n] == nil || again[n].Routine.ID() != l.Routine.ID() {
			t.Fatalf("routine %s changed id through LibModule:\n%s", n, mod)
		}
	}
}

func TestLibDecodeErrors(t *testing.T) {
	_, libs := buildLib(t, `^ inc LIT8 1 ADD8 ; ^ twice >inc >inc ;`, co.Options{})
	l := libs["twice"]
	obj, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeLib(obj)
	if err != nil || back.Routine.ID() != l.Routine.ID() || len(back.Deps) != 1 {
		t.Fatalf("DecodeLib: %v", err)
	}
	for name, bad := range map[string]*Lib{
		"missing dep": {Routine: l.Routine},
		"extra dep":   {Routine: libs["inc"].Routine, Deps: l.Deps[:1:1]},
		"no rtn":      {Routine: &Routine{Code: []byte{0xb0, 1}}},
		"bad fixup":   {Routine: &Routine{Code: []byte{0xb0, 1, 0x07}, Fixups: []Fixup{{At: 0}}}},
	} {
		if _, err := bad.Encode(); !errors.Is(err, errs.Invalid) {
			t.Errorf("%s: Encode err %v, want Invalid", name, err)
		}
	}
	if _, err := DecodeLib(obj[:len(obj)-2]); !errors.Is(err, errs.Invalid) {
		t.Errorf("truncated: %v", err)
	}
}

func FuzzDecodeLib(f *testing.F) {
	_, libs, err := BuildLibrary("f.co", []byte(`^ inc LIT8 1 ADD8 ; ^ twice >inc >inc #x *x DRD DRD ;`), co.Options{})
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range libs {
		obj, err := l.Lib.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(obj)
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		l, err := DecodeLib(obj)
		if err != nil {
			if !errors.Is(err, errs.Invalid) {
				t.Fatalf("not Invalid: %v", err)
			}
			return
		}
		again, err := l.Encode()
		if err != nil || !bytes.Equal(again, obj) {
			t.Fatalf("re-encode: %v", err)
		}
		// The module made of it assembles and keeps the id.
		mod, err := LibModule(map[string]*Lib{"r": l})
		if err != nil {
			t.Fatal(err)
		}
		_, libs2, err := BuildLibrary("m.co", mod, co.Options{})
		if err != nil {
			t.Fatalf("LibModule does not assemble: %v\n%s", err, mod)
		}
		for _, x := range libs2 {
			if x.Name == "r" && x.Lib != nil && x.ID != l.Routine.ID() {
				t.Fatalf("id changed through LibModule:\n%s", mod)
			}
		}
	})
}

// FuzzBuild: any source either fails to build or builds a program that
// encodes, decodes to itself, and whose library routines keep their ids
// through the .lib module.
func FuzzBuild(f *testing.F) {
	f.Add([]byte(counterSrc))
	f.Add([]byte(`^ f #a LIT8 1 &a JCR8 *b JMP16 "\x00\xb0\x05" #b >g $f CAL16 ; ^ g LIT16 0x1234 DRD DRD ; : h RTN ;`))
	f.Add([]byte(`+ .co.console :print-byte ; LIT8 65 <print-byte ^ p <p ;`))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, named, err := BuildLibrary("f.co", src, co.Options{})
		if err != nil {
			return
		}
		obj, err := p.Encode()
		if err != nil {
			t.Fatalf("built program does not encode: %v", err)
		}
		q, err := Decode(obj)
		if err != nil {
			t.Fatalf("built program does not decode: %v", err)
		}
		if again, _ := q.Encode(); !bytes.Equal(again, obj) {
			t.Fatal("decode/encode changed the program")
		}
		libs := map[string]*Lib{}
		for _, l := range named {
			if l.Lib != nil {
				libs[l.Name] = l.Lib
			}
		}
		if len(libs) == 0 {
			return
		}
		mod, err := LibModule(libs)
		if err != nil {
			t.Fatalf("LibModule: %v", err)
		}
		_, again, err := BuildLibrary("lib.co", mod, co.Options{})
		if err != nil {
			t.Fatalf("LibModule does not build: %v\n%s", err, mod)
		}
		for _, l := range again {
			if want := libs[l.Name]; want != nil && l.ID != want.Routine.ID() {
				t.Fatalf("routine %s changed id through .lib:\n%s", l.Name, mod)
			}
		}
	})
}
