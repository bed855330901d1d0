package bench

import (
	"bytes"
	"io"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coda/codatest"
)

// BenchmarkWire writes and reads back a stream of 100 Profiles under a wire
// context (docs/coda.md §7), per object.
func BenchmarkWire(b *testing.B) {
	const n = 100
	s, v := codatest.Profile, codatest.ProfileValue()
	opts := coda.DecodeOptions{Resolver: codatest.NewResolver(s)}
	var buf bytes.Buffer
	write := func() error {
		buf.Reset()
		w := coda.NewWireWriter(&buf, []coda.ID{s.ID})
		for range n {
			if err := w.Write(s, v); err != nil {
				return err
			}
		}
		return w.Close()
	}
	if err := write(); err != nil {
		b.Fatal(err)
	}
	b.Run("op=write", func(b *testing.B) {
		b.SetBytes(int64(buf.Len()))
		measure(b, write)
		b.ReportMetric(float64(buf.Len())/n, "B/object")
	})
	b.Run("op=read", func(b *testing.B) {
		stream := bytes.Clone(buf.Bytes())
		b.SetBytes(int64(len(stream)))
		measure(b, func() error {
			r := coda.NewWireReader(bytes.NewReader(stream), opts)
			for {
				if _, _, err := r.Next(); err == io.EOF {
					return nil
				} else if err != nil {
					return err
				}
			}
		})
	})
}
