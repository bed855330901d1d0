package coins

import (
	"fmt"
	"testing"
	"time"
)

// Benchmarks report instructions per second (instr/s) and, where there is
// one, the time of the same algorithm in native Go in the same run
// (native-ns/op) and the ratio (x-native).

// countSrc counts a 32-bit counter down to zero: 7 instructions a turn.
const countSrc = `
	LIT32 %d
loop:
	LIT32 1 SUB32 DPD32 LIT32 0 NEQ32 LIT8 &loop JCR8
	HALT`

// fibSrc computes fib(n) recursively on 32-bit values.
const fibSrc = `
	LIT32 %d LIT16 @fib CAL16 HALT
fib: ( n -- fib[n] )
	DPD32 LIT32 2 LST32 LIT8 &base JCR8
	DPD32 LIT32 1 SUB32 LIT16 @fib CAL16
	SWP32 LIT32 2 SUB32 LIT16 @fib CAL16
	ADD32
base:
	RTN`

// memSrc fills n 32-bit words of data RAM with their index, then sums them.
const memSrc = `
	LIT32 0
fill: ( i )
	DPD32 LIT32 2 BSL32 ADR32 DPD32 STR32
	LIT32 1 ADD32 DPD32 LIT32 %[1]d LST32 LIT8 &fill JCR8
	DRD DRD DRD DRD
	LIT32 0 LIT32 0
sum: ( acc i )
	DPD32 LIT32 2 BSL32 ADR32 LOD32 ROT32 ADD32 SWP32
	LIT32 1 ADD32 DPD32 LIT32 %[1]d LST32 LIT8 &sum JCR8
	DRD DRD DRD DRD
	HALT`

func nativeFib(n uint32) uint32 {
	if n < 2 {
		return n
	}
	return nativeFib(n-1) + nativeFib(n-2)
}

func nativeMem(words []uint32) uint32 {
	for i := range words {
		words[i] = uint32(i)
	}
	var acc uint32
	for i := range words {
		acc += words[i]
	}
	return acc
}

var sink uint32

// runBench runs rom b.N times, checking the result, and reports
// instructions per second.
func runBench(b *testing.B, rom []byte, opts Options, check func(m *Machine) error) uint64 {
	b.Helper()
	var steps uint64
	for b.Loop() {
		m, err := New(rom, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Run(); err != nil {
			b.Fatal(err)
		}
		if err := check(m); err != nil {
			b.Fatal(err)
		}
		steps += m.Steps()
	}
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "instr/s")
	return steps
}

func BenchmarkCount(b *testing.B) {
	const n = 10_000_000
	rom := mustAsm(b, fmt.Sprintf(countSrc, n))
	runBench(b, rom, Options{MaxSteps: 1 << 40}, func(m *Machine) error {
		if got := m.Steps(); got != 7*n+2 {
			return fmt.Errorf("steps = %d, want %d", got, 7*n+2)
		}
		return nil
	})
}

func BenchmarkFib(b *testing.B) {
	const n = 27
	rom := mustAsm(b, fmt.Sprintf(fibSrc, n))
	want := nativeFib(n)
	runBench(b, rom, Options{MaxSteps: 1 << 40}, func(m *Machine) error {
		if got := le(m.DataStack()); got != uint64(want) {
			return fmt.Errorf("fib(%d) = %d, want %d", n, got, want)
		}
		return nil
	})
	vmNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	reportNative(b, vmNs, func() { sink = nativeFib(n) })
}

func BenchmarkMemory(b *testing.B) {
	const n = 1 << 20 // 4 MiB of words
	rom := mustAsm(b, fmt.Sprintf(memSrc, n))
	want := nativeMem(make([]uint32, n))
	runBench(b, rom, Options{MaxSteps: 1 << 40}, func(m *Machine) error {
		if got := le(m.DataStack()); got != uint64(want) {
			return fmt.Errorf("sum = %d, want %d", got, want)
		}
		return nil
	})
	vmNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	words := make([]uint32, n)
	reportNative(b, vmNs, func() { clear(words); sink = nativeMem(words) })
}

// reportNative times native b.N times (at least once) right after the
// machine ran, and reports its time per op and the machine's ratio to it.
func reportNative(b *testing.B, vmNs float64, native func()) {
	n := max(b.N, 1)
	start := time.Now()
	for range n {
		native()
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(n)
	b.ReportMetric(ns, "native-ns/op")
	b.ReportMetric(vmNs/ns, "x-native")
}

// le reads bytes as a little-endian number.
func le(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
