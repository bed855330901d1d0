package store

import (
	"bytes"
	"io"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/zeebo/blake3"
)

// xof returns n bytes of the BLAKE3 extendable output of seed: a portable
// test input, so that another implementation can check its chunker against
// the same vectors.
func xof(seed string, n int) []byte {
	h := blake3.New()
	h.WriteString(seed)
	b := make([]byte, n)
	io.ReadFull(h.Digest(), b)
	return b
}

// TestGearGolden pins the gear table derivation.
func TestGearGolden(t *testing.T) {
	for i, want := range map[int]uint64{0: gearGolden[0], 1: gearGolden[1], 255: gearGolden[2]} {
		if gear[i] != want {
			t.Errorf("gear[%d] = %#016x, want %#016x", i, gear[i], want)
		}
	}
}

// TestCutGolden pins the chunk boundaries of a 2 MiB test input; it must
// never change, since chunk ids travel on the wire.
func TestCutGolden(t *testing.T) {
	data := xof("coal/store/cdc-test", 2<<20)
	var got []int
	for rest := data; len(rest) > 0; {
		n := Cut(rest)
		got = append(got, n)
		rest = rest[n:]
	}
	if !slices.Equal(got, cutGolden) {
		t.Errorf("chunk lengths of the test input:\n got %d\nwant %d", got, cutGolden)
	}
}

func TestCutBounds(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"zeros", make([]byte, 3<<20)},
		{"random", xof("bounds", 3<<20)},
		{"text", bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog. "), 70000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rest := tt.data
			for len(rest) > 0 {
				n := Cut(rest)
				if n > MaxChunk || (n <= MinChunk && n != len(rest)) {
					t.Fatalf("Cut = %d with %d bytes left", n, len(rest))
				}
				rest = rest[n:]
			}
		})
	}
}

// TestChunkerMatchesCut checks the streaming chunker against Cut on whole
// slices, with readers that return short reads.
func TestChunkerMatchesCut(t *testing.T) {
	data := xof("chunker", 5<<20+12345)
	var want []int
	for rest := data; len(rest) > 0; {
		n := Cut(rest)
		want = append(want, n)
		rest = rest[n:]
	}
	for name, r := range map[string]io.Reader{
		"plain":   bytes.NewReader(data),
		"half":    iotest.HalfReader(bytes.NewReader(data)),
		"dataerr": iotest.DataErrReader(bytes.NewReader(data)),
	} {
		c := NewChunker(r)
		var got []int
		var joined []byte
		for {
			chunk, err := c.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, len(chunk))
			joined = append(joined, chunk...)
		}
		if !slices.Equal(got, want) || !bytes.Equal(joined, data) {
			t.Errorf("%s: chunker gave %d chunks, Cut %d (bytes equal: %v)", name, len(got), len(want), bytes.Equal(joined, data))
		}
	}
}
