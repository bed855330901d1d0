package check

import (
	"bytes"
	"testing"
	"time"

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
			if _, _, err := coda.DecodeObject(b, coda.DecodeOptions{Resolver: reg}); err != nil {
				t.Fatalf("Shrink tried a non-canonical input: %v", err)
			}
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

// FuzzShrink shrinks arbitrary bodies of a schema of every kind (spec
// cases come from people, not from Generate): no panic, and a result that
// differs from the input decodes and fails. Seeds: testdata/fuzz/FuzzShrink.
func FuzzShrink(f *testing.F) {
	reg, s := compile(f, allTypes)
	for seed := range uint64(4) {
		obj, err := Generate(NewRand(seed), s, reg, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(obj[coda.IDSize:], byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte, k byte) {
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > time.Second {
				t.Fatalf("slow: %v", d)
			}
		}()
		in := append(s.ID[:len(s.ID):len(s.ID)], body...)
		fails := func(b []byte) bool {
			if _, _, err := coda.DecodeObject(b, coda.DecodeOptions{Resolver: reg}); err != nil {
				t.Fatalf("Shrink tried a non-canonical input: %v", err)
			}
			sum := k
			for _, c := range b {
				sum ^= c
			}
			return sum&1 == 0
		}
		got := Shrink(in, s, reg, []Bound{{Field: "f64", Min: -3, Max: 1e9}, {Field: "l", MaxLen: 2}}, fails, 30)
		if bytes.Equal(got, in) {
			return
		}
		if !fails(got) {
			t.Fatalf("shrunk input does not fail")
		}
		if _, _, err := coda.DecodeObject(got, coda.DecodeOptions{Resolver: reg}); err != nil {
			t.Fatalf("shrunk input does not decode: %v", err)
		}
	})
}
