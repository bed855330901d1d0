package check

import (
	"math"
	"strings"
	"testing"

	"github.com/coalescent/coal/coda"
)

// decodeT decodes object bytes of s.
func decodeT(t testing.TB, reg *coda.Registry, obj []byte) coda.Value {
	t.Helper()
	_, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: reg})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// pred wraps a predicate on the decoded value, counting calls.
func pred(t testing.TB, reg *coda.Registry, calls *int, f func(v coda.Value) bool) func([]byte) bool {
	return func(obj []byte) bool {
		*calls++
		return f(decodeT(t, reg, obj))
	}
}

func encodeT(t testing.TB, s *coda.Schema, v coda.Value) []byte {
	t.Helper()
	obj, err := coda.EncodeObject(s, v)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestShrinkFloatAboveTen(t *testing.T) {
	reg, s := compile(t, `schema X { x: f64 }`)
	// From any failing start the documented result is 11 (SPEC.md §3).
	starts := []float64{10.37, 11, 12, 537.23, 999.999, 1e300, 10.000001, 65536.5}
	for _, x := range starts {
		calls := 0
		got := Shrink(encodeT(t, s, coda.Struct(coda.F64(x))), s, reg, nil,
			pred(t, reg, &calls, func(v coda.Value) bool { return v.Index(0).AsFloat() > 10 }), 1000)
		if g := decodeT(t, reg, got).Index(0).AsFloat(); g != 11 {
			t.Errorf("x > 10 from %v: shrunk to %v, want 11 (%d calls)", x, g, calls)
		}
	}
	// Random starts: Generate then shrink.
	for seed := range uint64(50) {
		obj, err := Generate(NewRand(seed), s, reg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if decodeT(t, reg, obj).Index(0).AsFloat() <= 10 {
			continue
		}
		calls := 0
		got := Shrink(obj, s, reg, nil, pred(t, reg, &calls, func(v coda.Value) bool { return v.Index(0).AsFloat() > 10 }), 1000)
		if g := decodeT(t, reg, got).Index(0).AsFloat(); g != 11 {
			t.Errorf("seed %d: shrunk to %v, want 11", seed, g)
		}
	}
}

func TestShrinkFloatDecimals(t *testing.T) {
	reg, s := compile(t, `schema X { x: f64 }`)
	calls := 0
	// Fails between 0.1 and 0.2 (exclusive): no integer fails, one decimal does.
	got := Shrink(encodeT(t, s, coda.Struct(coda.F64(0.1734))), s, reg, nil,
		pred(t, reg, &calls, func(v coda.Value) bool { x := v.Index(0).AsFloat(); return x > 0.1 && x < 0.2 }), 1000)
	if g := decodeT(t, reg, got).Index(0).AsFloat(); g != 0.17 && g != 0.15 && g != 0.11 {
		t.Errorf("shrunk to %v, want two decimals", g)
	} else if g != 0.11 {
		t.Errorf("shrunk to %v, want 0.11 (two decimals, nearest 0)", g)
	}
	// Negative: x < -3.5 shrinks to -4.
	got = Shrink(encodeT(t, s, coda.Struct(coda.F64(-800.3))), s, reg, nil,
		pred(t, reg, &calls, func(v coda.Value) bool { return v.Index(0).AsFloat() < -3.5 }), 1000)
	if g := decodeT(t, reg, got).Index(0).AsFloat(); g != -4 {
		t.Errorf("x < -3.5: shrunk to %v, want -4", g)
	}
}

func TestShrinkInts(t *testing.T) {
	reg, s := compile(t, `schema X { a: i32  b: u64  c: i8 }`)
	calls := 0
	in := encodeT(t, s, coda.Struct(coda.I32(-123456), coda.U64(math.MaxUint64), coda.I8(-128)))
	got := Shrink(in, s, reg, nil, pred(t, reg, &calls, func(v coda.Value) bool {
		return v.Index(0).AsInt() < -17 && v.Index(1).AsUint() >= 1000
	}), 10000)
	v := decodeT(t, reg, got)
	if a, b, c := v.Index(0).AsInt(), v.Index(1).AsUint(), v.Index(2).AsInt(); a != -18 || b != 1000 || c != 0 {
		t.Errorf("shrunk to a=%d b=%d c=%d, want -18 1000 0", a, b, c)
	}
	// Bounds: never below 3 even though the predicate always holds.
	got = Shrink(in, s, reg, []Bound{{Field: "a", Min: -1e6, Max: -50}, {Field: "c", Min: 3, Max: 50}}, func([]byte) bool { return true }, 1000)
	v = decodeT(t, reg, got)
	if a, c := v.Index(0).AsInt(), v.Index(2).AsInt(); a != -50 || c != 3 {
		t.Errorf("always-failing with bounds: a=%d c=%d, want -50 3", a, c)
	}
}

func TestShrinkStructure(t *testing.T) {
	reg, s := compile(t, allTypes)
	// Always fails: everything goes to its minimal value.
	for seed := range uint64(20) {
		obj, err := Generate(NewRand(seed), s, reg, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := Shrink(obj, s, reg, nil, func([]byte) bool { return true }, 1000)
		want := encodeT(t, s, (&shrinker{cost: mustCosts(t, s)}).minimal(schemaType(s), "", 0).value())
		if string(got) != string(want) && string(obj) != string(want) {
			t.Errorf("seed %d: always-failing input shrunk to %v, want the minimal %v", seed, decodeT(t, reg, got), decodeT(t, reg, want))
		}
	}
	// A list predicate: some element > 5 → [6]; the string holds a 'z' → "z".
	reg, s = compile(t, `schema L { l: list<i32>  s: string  o: optional<u8>  e: E } enum E { A B(u8) C(string) }`)
	in := encodeT(t, s, coda.Struct(
		coda.List(coda.I32(1), coda.I32(900), coda.I32(-4), coda.I32(77)),
		coda.String("hello, zebra"),
		coda.Some(coda.U8(9)),
		coda.Enum(2, coda.String("q")),
	))
	calls := 0
	got := Shrink(in, s, reg, nil, pred(t, reg, &calls, func(v coda.Value) bool {
		l := v.Index(0)
		big := false
		for i := range l.Len() {
			big = big || l.Index(i).AsInt() > 5
		}
		return big && strings.Contains(v.Index(1).AsString(), "z") && v.Index(3).Tag() >= 1
	}), 1000)
	v := decodeT(t, reg, got)
	if l := v.Index(0); l.Len() != 1 || l.Index(0).AsInt() != 6 {
		t.Errorf("list shrunk to %v, want [6]", l)
	}
	if s := v.Index(1).AsString(); s != "z" {
		t.Errorf("string shrunk to %q, want \"z\"", s)
	}
	if v.Index(2).IsSome() {
		t.Errorf("optional not absent: %v", v.Index(2))
	}
	if e := v.Index(3); e.Tag() != 1 {
		t.Errorf("enum shrunk to %v, want B(0)", e)
	} else if p, _ := e.Payload(); p.AsUint() != 0 {
		t.Errorf("enum payload %v, want 0", p)
	}
	if calls > 1000 {
		t.Errorf("%d calls, budget 1000", calls)
	}
}

func mustCosts(t testing.TB, s *coda.Schema) costTable {
	c, err := costs(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestShrinkBudgetAndDeterminism(t *testing.T) {
	reg, s := compile(t, allTypes)
	obj, err := Generate(NewRand(7), s, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	fails := func(b []byte) bool { return len(b)%3 != 0 } // arbitrary, deterministic
	for _, budget := range []int{1, 5, 50} {
		calls := 0
		a := Shrink(obj, s, reg, nil, func(b []byte) bool { calls++; return fails(b) }, budget)
		if calls > budget {
			t.Errorf("budget %d: %d calls", budget, calls)
		}
		b := Shrink(obj, s, reg, nil, fails, budget)
		if string(a) != string(b) {
			t.Errorf("budget %d: two runs differ", budget)
		}
		if string(a) != string(obj) && !fails(a) {
			t.Errorf("budget %d: result does not fail", budget)
		}
	}
	// Not an object of s: returned as is.
	if got := Shrink([]byte("short"), s, reg, nil, fails, 10); string(got) != "short" {
		t.Errorf("garbage input changed")
	}
}

// BenchmarkShrink shrinks a random All against a predicate on one deep
// field, counting the predicate's calls.
func BenchmarkShrink(b *testing.B) {
	reg, s := compile(b, allTypes)
	var ins [][]byte
	for seed := range uint64(16) {
		obj, err := Generate(NewRand(seed), s, reg, nil)
		if err != nil {
			b.Fatal(err)
		}
		ins = append(ins, obj)
	}
	calls := 0
	fails := func(obj []byte) bool {
		calls++
		_, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: reg})
		return err == nil && v.Index(10).AsFloat() > 10 // f64 > 10
	}
	i := 0
	for b.Loop() {
		Shrink(ins[i%len(ins)], s, reg, nil, fails, 1000)
		i++
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/shrink")
}

// TestShrinkAny: Generate refuses `any`, but Shrink takes inputs holding
// one (a spec case) and shrinks around it.
func TestShrinkAny(t *testing.T) {
	reg, s := compile(t, `schema A { x: any  o: optional<any>  n: i64 } schema B { b: u8 }`)
	bs, _ := reg.Lookup("B")
	in := encodeT(t, s, coda.Struct(coda.AnyOf(bs, coda.Struct(coda.U8(7))), coda.Some(coda.AnyOf(bs, coda.Struct(coda.U8(9)))), coda.I64(-5000)))
	calls := 0
	got := Shrink(in, s, reg, nil, pred(t, reg, &calls, func(v coda.Value) bool { return v.Index(2).AsInt() < -100 }), 500)
	v := decodeT(t, reg, got)
	if v.Index(1).IsSome() || v.Index(2).AsInt() != -101 {
		t.Errorf("shrunk to %v, want the optional absent and n = -101", v)
	}
	if p, _ := v.Index(0).Payload(); p.Index(0).AsUint() != 7 {
		t.Errorf("the any changed: %v", v.Index(0))
	}
}
