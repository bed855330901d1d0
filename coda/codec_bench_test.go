package coda_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coda/codatest"
)

// cpuTime is the CPU time this process has used. The project machine is
// shared, so wall-clock ns/op swings with other work; the benchmarks also
// report cpu-ns/op (all threads of the process, so GC work counts).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs f b.N times and reports cpu-ns/op.
func loop(b *testing.B, f func()) {
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		f()
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// The representative struct of docs/perf.md is codatest.Profile: strings,
// integers, a nested struct, a list, a map, an optional and an enum.

func BenchmarkEncode(b *testing.B) {
	v := codatest.ProfileValue()
	buf, err := coda.AppendBody(nil, codatest.Profile, v)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	loop(b, func() {
		buf, err = coda.AppendBody(buf[:0], codatest.Profile, v)
		if err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkEncodeObject(b *testing.B) {
	v := codatest.ProfileValue()
	obj, err := coda.EncodeObject(codatest.Profile, v)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(obj)))
	loop(b, func() {
		if _, err := coda.EncodeObject(codatest.Profile, v); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	buf, err := coda.AppendBody(nil, codatest.Profile, codatest.ProfileValue())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	loop(b, func() {
		if _, err := coda.DecodeBody(codatest.Profile, buf, coda.DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	v := codatest.ProfileValue()
	loop(b, func() {
		if err := coda.CheckSchema(codatest.Profile, v); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDecodeLarge decodes a list of 1000 Profiles (about 200 KB).
func BenchmarkDecodeLarge(b *testing.B) {
	vs := make([]coda.Value, 1000)
	for i := range vs {
		vs[i] = codatest.ProfileValue()
	}
	t := codatest.ListOf(codatest.Ref(codatest.Profile))
	buf, err := coda.AppendValue(nil, t, coda.List(vs...))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	loop(b, func() {
		if _, err := coda.DecodeValue(t, buf, coda.DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	})
}
