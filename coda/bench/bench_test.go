package bench

// Comparative benchmarks (docs/perf.md, "CODA" and "BLAKE3"). Run with
//
//	go test -run '^$' -bench . -count 6 ./coda/bench | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /codec bench.txt
//
// Each benchmark's sub-benchmarks are the contenders, so benchstat can set
// them side by side.
//
// Besides wall time (sec/op), every benchmark reports cpu-ns/op: the
// process's CPU time (all threads, so garbage collection counts) per
// operation. On a shared, overloaded machine wall time mostly measures the
// scheduler; CPU time still measures the code.

import (
	"encoding/json"
	"fmt"
	"testing"

	zeebo "github.com/zeebo/blake3"
	"google.golang.org/protobuf/proto"
	luke "lukechampine.com/blake3"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coda/bench/benchpb"
	"github.com/coalescent/coal/coda/codatest"
)

func samplePB() *benchpb.Profile {
	p := sampleProfile()
	m := &benchpb.Profile{
		Id: p.ID, Name: p.Name, Email: p.Email, Age: p.Age, Verified: p.Verified,
		Birthday: &benchpb.Date{Day: uint32(p.Birthday.Day), Month: uint32(p.Birthday.Month), Year: p.Birthday.Year},
		Tags:     p.Tags, Scores: p.Scores, Friends: p.Friends, Nick: p.Nick,
		Kind: &benchpb.Profile_Human{Human: &benchpb.Human{}},
	}
	if p.Kind.Robot {
		m.Kind = &benchpb.Profile_Robot{Robot: p.Kind.Serial}
	}
	return m
}

// contender is one way to encode and decode the sample Profile.
type contender struct {
	name   string
	encode func(dst []byte) ([]byte, error) // encodes the sample, reusing dst
	decode func(b []byte) error             // decodes b into a fresh value
}

func contenders() []contender {
	p, pb := sampleProfile(), samplePB()
	v := codatest.ProfileValue()
	s := codatest.Profile
	return []contender{
		{"coda-hand",
			func(dst []byte) ([]byte, error) { return p.AppendCODA(dst[:0]), nil },
			func(b []byte) error { var x Profile; return x.DecodeCODA(b) }},
		{"coda-dynamic",
			func(dst []byte) ([]byte, error) { return coda.AppendBody(dst[:0], s, v) },
			func(b []byte) error { _, err := coda.DecodeBody(s, b, coda.DecodeOptions{}); return err }},
		{"protobuf",
			func(dst []byte) ([]byte, error) { return proto.MarshalOptions{}.MarshalAppend(dst[:0], pb) },
			func(b []byte) error { var x benchpb.Profile; return proto.Unmarshal(b, &x) }},
		{"protobuf-det", // deterministic: map entries sorted, as CODA's always are
			func(dst []byte) ([]byte, error) {
				return proto.MarshalOptions{Deterministic: true}.MarshalAppend(dst[:0], pb)
			},
			func(b []byte) error { var x benchpb.Profile; return proto.Unmarshal(b, &x) }},
		{"json",
			func(dst []byte) ([]byte, error) { return json.Marshal(p) },
			func(b []byte) error { var x Profile; return json.Unmarshal(b, &x) }},
	}
}

// measure runs op in a benchmark loop, reporting allocations and CPU time.
func measure(b *testing.B, op func() error) {
	b.ReportAllocs()
	n := 0
	start := cpuTime()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
}

func BenchmarkEncode(b *testing.B) {
	for _, c := range contenders() {
		b.Run("codec="+c.name, func(b *testing.B) {
			buf, err := c.encode(nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			measure(b, func() (err error) { buf, err = c.encode(buf); return err })
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range contenders() {
		b.Run("codec="+c.name, func(b *testing.B) {
			buf, err := c.encode(nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			measure(b, func() error { return c.decode(buf) })
		})
	}
}

// BenchmarkRoundTrip is encode then decode, the figure the targets are set on.
func BenchmarkRoundTrip(b *testing.B) {
	for _, c := range contenders() {
		b.Run("codec="+c.name, func(b *testing.B) {
			buf, err := c.encode(nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			measure(b, func() (err error) {
				if buf, err = c.encode(buf); err != nil {
					return err
				}
				return c.decode(buf)
			})
		})
	}
}

// BenchmarkDateDecode is the fixed-size struct: no allocation.
func BenchmarkDateDecode(b *testing.B) {
	buf := (&Date{Day: 1, Month: 2, Year: 2024}).AppendCODA(nil)
	var d Date
	measure(b, func() error { return d.DecodeCODA(buf) })
}

// TestContendersAgree keeps the benchmarks honest: every contender decodes
// what it encodes, and the hand-written and protobuf messages carry the same
// data.
func TestContendersAgree(t *testing.T) {
	for _, c := range contenders() {
		b, err := c.encode(nil)
		if err != nil {
			t.Fatalf("%s encode: %v", c.name, err)
		}
		if err := c.decode(b); err != nil {
			t.Fatalf("%s decode: %v", c.name, err)
		}
	}
	b, err := proto.Marshal(samplePB())
	if err != nil {
		t.Fatal(err)
	}
	var pb benchpb.Profile
	if err := proto.Unmarshal(b, &pb); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&pb, samplePB()) {
		t.Errorf("protobuf round trip differs")
	}
}

var blake3Sizes = []int{64, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 1 << 20}

func BenchmarkBLAKE3(b *testing.B) {
	for _, size := range blake3Sizes {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i)
		}
		b.Run(fmt.Sprintf("size=%d/lib=zeebo", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			measure(b, func() error { _ = zeebo.Sum256(data); return nil })
		})
		b.Run(fmt.Sprintf("size=%d/lib=lukechampine", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			measure(b, func() error { _ = luke.Sum256(data); return nil })
		})
	}
}

func TestBLAKE3LibrariesAgree(t *testing.T) {
	for _, size := range append(blake3Sizes, 0, 1, 1023, 1025) {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		if zeebo.Sum256(data) != luke.Sum256(data) {
			t.Errorf("size %d: zeebo and lukechampine disagree", size)
		}
	}
}
