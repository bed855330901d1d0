package check

import (
	"bytes"
	"testing"

	"github.com/coalescent/coal/coda"
)

// FuzzGenerate compiles a schema from the fuzzer's text, generates a value
// of its first schema within one bound, and shrinks it against an
// arbitrary predicate: nothing may panic, every generated object must
// decode canonically within the bound, and a shrunk input must decode and
// still fail. Seeds: testdata/fuzz/FuzzGenerate.
func FuzzGenerate(f *testing.F) {
	f.Add(allTypes, uint64(1), "l", 0.0, 0.0, int8(3))
	f.Add(`schema T { kids: list<T>  e: E } enum E { Deep(T)  Leaf }`, uint64(2), "", 0.0, 0.0, int8(0))
	f.Add(`schema X { x: f32  y: u8 }`, uint64(3), "x", -0.5, 0.25, int8(0))
	f.Fuzz(func(t *testing.T, src string, seed uint64, field string, lo, hi float64, maxLen int8) {
		reg := coda.NewRegistry()
		list, err := reg.Compile("f.coda", []byte(src))
		if err != nil || len(list) == 0 {
			return
		}
		s := list[0]
		bounds := []Bound{{Field: field, Min: lo, Max: hi, MaxLen: int(maxLen)}}
		obj, err := Generate(NewRand(seed), s, reg, bounds)
		if err != nil {
			return
		}
		again, err := Generate(NewRand(seed), s, reg, bounds)
		if err != nil || !bytes.Equal(obj, again) {
			t.Fatalf("not deterministic: %v", err)
		}
		ds, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: reg})
		if err != nil {
			t.Fatalf("generated object does not decode: %v", err)
		}
		if ds.ID != s.ID {
			t.Fatalf("schema %s, want %s", ds.ID, s.ID)
		}
		lim, err := compileBounds(s, bounds)
		if err != nil {
			t.Fatalf("Generate accepted bounds compileBounds refuses: %v", err)
		}
		if err := checkBounds(lim, schemaType(s), "", v); err != nil {
			t.Fatalf("out of bounds: %v", err)
		}
		k := byte(seed)
		fails := func(b []byte) bool {
			sum := k
			for _, c := range b {
				sum += c
			}
			return sum%2 == 0
		}
		got := Shrink(obj, s, reg, bounds, fails, 40)
		if bytes.Equal(got, obj) {
			return
		}
		if !fails(got) {
			t.Fatalf("shrunk input does not fail")
		}
		_, sv, err := coda.DecodeObject(got, coda.DecodeOptions{Resolver: reg})
		if err != nil {
			t.Fatalf("shrunk input does not decode: %v", err)
		}
		// Shrinking never leaves the bounds: numbers move toward the
		// target within them, lengths only shrink.
		if err := checkBounds(lim, schemaType(s), "", sv); err != nil {
			t.Fatalf("shrunk out of bounds: %v (from %v to %v)", err, v, sv)
		}
	})
}
