package prog

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coins"
	"github.com/coalescent/coal/errs"
)

const counterSrc = `( a counter )
LIT8 1 >inc HALT

^ inc ( n -- n+1 ) LIT8 1 ADD8 ;
^ twice ( n -- n+2 ) >inc >inc ;
: helper DPD8 ;
`

func build(t *testing.T, src string) *Program {
	t.Helper()
	p, err := Build("t.co", []byte(src), co.Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return p
}

// run loads a ROM, runs it from 0, and returns the data stack.
func run(t *testing.T, rom []byte) []byte {
	t.Helper()
	m, err := coins.New(rom, coins.Options{MaxSteps: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(); err != nil {
		t.Fatalf("run: %v", err)
	}
	return m.DataStack()
}

func TestBuildEntriesExports(t *testing.T) {
	p := build(t, counterSrc)
	if p.Coins != CoinsSpec() || p.Coins.IsZero() {
		t.Fatalf("Coins = %s", p.Coins)
	}
	var names []string
	for _, e := range p.Entries {
		names = append(names, e.Name)
	}
	if strings.Join(names, " ") != "main inc twice" {
		t.Fatalf("entries %v", names)
	}
	if len(p.Exports) != 2 || p.Exports[0].Name != "inc" || p.Exports[1].Name != "twice" {
		t.Fatalf("exports %+v", p.Exports)
	}
	for _, e := range p.Exports {
		if e.ID.IsZero() {
			t.Fatalf("export %s has no id", e.Name)
		}
	}
	if a, err := p.Entry(""); err != nil || a != 0 {
		t.Fatalf(`Entry("") = %d, %v`, a, err)
	}
	if _, err := p.Entry("helper"); !errors.Is(err, errs.NotExist) {
		t.Fatalf("Entry(helper): %v, want NotExist", err)
	}
	rom, err := Link(p, NewLibrary().Lookup)
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, rom); !bytes.Equal(got, []byte{2}) {
		t.Fatalf("main: stack % x, want 02", got)
	}
	// An entry is a stub that calls the routine and halts.
	for i, e := range p.Exports {
		a := p.Entries[i+1].Addr
		want := []byte{byte(coins.LIT16), byte(e.Addr), byte(e.Addr >> 8), byte(coins.CAL16), byte(coins.HALT)}
		if !bytes.Equal(p.Code[a:a+5], want) {
			t.Fatalf("entry %s: % x, want % x", e.Name, p.Code[a:a+5], want)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	p := build(t, counterSrc)
	obj, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if coda.ID(obj[:32]) != Schema().ID {
		t.Fatal("object does not start with the schema id")
	}
	q, err := Decode(obj)
	if err != nil {
		t.Fatal(err)
	}
	again, err := q.Encode()
	if err != nil || !bytes.Equal(again, obj) {
		t.Fatalf("re-encode differs (%v)", err)
	}
	src, err := q.Decompile()
	if err != nil || string(src) != counterSrc {
		t.Fatalf("Decompile = %q, %v", src, err)
	}
	// Build from the decompiled source gives the same object.
	r := build(t, string(src))
	if obj2, _ := r.Encode(); !bytes.Equal(obj2, obj) {
		t.Fatal("rebuild from decompiled source differs")
	}
}

func TestDecodeErrors(t *testing.T) {
	p := build(t, counterSrc)
	obj, _ := p.Encode()
	cases := map[string][]byte{
		"empty":     nil,
		"schema":    append(make([]byte, 32), obj[32:]...),
		"truncated": obj[:len(obj)-1],
		"trailing":  append(append([]byte{}, obj...), 0),
	}
	for name, b := range cases {
		_, err := Decode(b)
		if !errors.Is(err, errs.Invalid) {
			t.Errorf("%s: err = %v, want Invalid", name, err)
		}
	}
	_, err := Decode(obj[:len(obj)-1])
	if err == nil || !strings.Contains(err.Error(), "byte ") {
		t.Errorf("truncated: error %v does not name a byte offset", err)
	}
	bad := []func(*Program){
		func(q *Program) { q.Entries = q.Entries[1:] },                               // no main
		func(q *Program) { q.Entries[1].Name = "in c" },                              // bad name
		func(q *Program) { q.Entries[2].Name = "inc" },                               // repeated
		func(q *Program) { q.Entries[1].Addr = uint16(len(q.Code)) },                 // outside
		func(q *Program) { q.Exports[0].Addr = 0xffff },                              // outside
		func(q *Program) { q.Imports = []coda.ID{{1}, {1}} },                         // repeated
		func(q *Program) { q.Links = []LinkAt{{At: 1}}; q.Imports = []coda.ID{{1}} }, // not LIT16
		func(q *Program) { q.Source = []byte{0x3f} },                                 // bad source
		func(q *Program) { q.Code = make([]byte, MaxCode+1) },                        // too big
	}
	for i, f := range bad {
		q := build(t, counterSrc)
		f(q)
		if _, err := q.Encode(); !errors.Is(err, errs.Invalid) {
			t.Errorf("case %d: Encode err = %v, want Invalid", i, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, src := range []string{counterSrc, "HALT", "+ .co.console :print-byte ; LIT8 65 <print-byte"} {
		p, err := Build("f.co", []byte(src), co.Options{})
		if err != nil {
			f.Fatal(err)
		}
		obj, err := p.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(obj)
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		p, err := Decode(obj)
		if err != nil {
			if !errors.Is(err, errs.Invalid) {
				t.Fatalf("error not Invalid: %v", err)
			}
			return
		}
		again, err := p.Encode()
		if err != nil {
			t.Fatalf("decoded program does not encode: %v", err)
		}
		if !bytes.Equal(again, obj) {
			t.Fatal("decode/encode is not the identity")
		}
		_, _ = Link(p, NewLibrary().Lookup)
	})
}
