package store

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"github.com/coalescent/coal/coda"
)

// shortReader returns at most n bytes per Read.
type shortReader struct {
	r io.Reader
	n int
}

func (s shortReader) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

// FuzzSplit checks, for values built from the fuzzer's bytes (repeated up to
// a size that straddles the chunking threshold), that SplitBytes and
// SplitReader agree, that the chunks reassemble to the value, and that the
// manifest round-trips and passes CheckChunks and CheckAssembled.
func FuzzSplit(f *testing.F) {
	f.Add([]byte("a"), uint32(ChunkThreshold+1), uint16(1000))
	f.Add([]byte("the quick brown fox"), uint32(3*MaxChunk), uint16(7))
	f.Add(xof("fuzz", 4096), uint32(1<<20), uint16(65535))
	f.Add([]byte{}, uint32(0), uint16(1))
	f.Fuzz(func(t *testing.T, pattern []byte, size uint32, readSize uint16) {
		size %= 2 << 20
		if len(pattern) == 0 {
			pattern = []byte{0}
		}
		data := bytes.Repeat(pattern, int(size)/len(pattern)+1)[:size]
		chunks := map[coda.ID][]byte{}
		put := func(id coda.ID, c []byte) error {
			if coda.Sum(c) != id {
				t.Fatalf("chunk id mismatch")
			}
			chunks[id] = bytes.Clone(c)
			return nil
		}
		v1, err := SplitBytes(data, put)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := SplitReader(shortReader{bytes.NewReader(data), int(readSize) + 1}, put)
		if err != nil {
			t.Fatal(err)
		}
		if v1.ID != coda.Sum(data) || v2.ID != v1.ID || v1.Size != int64(len(data)) || v2.Size != v1.Size {
			t.Fatalf("ids or sizes differ")
		}
		if (v1.Manifest == nil) != (len(data) <= ChunkThreshold) || (v2.Manifest == nil) != (v1.Manifest == nil) {
			t.Fatalf("chunked %v/%v for %d bytes", v1.Manifest != nil, v2.Manifest != nil, len(data))
		}
		if v1.Manifest == nil {
			if !bytes.Equal(v1.Data, data) || !bytes.Equal(v2.Data, data) {
				t.Fatal("whole value differs")
			}
			return
		}
		if !slices.Equal(v1.Manifest.Chunks, v2.Manifest.Chunks) {
			t.Fatalf("SplitBytes and SplitReader cut differently")
		}
		var joined []byte
		for _, c := range v1.Manifest.Chunks {
			joined = append(joined, chunks[c.ID]...)
		}
		if !bytes.Equal(joined, data) {
			t.Fatal("chunks do not reassemble the value")
		}
		enc, err := v1.Manifest.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		m, err := DecodeManifest(enc)
		if err != nil || m.ID != v1.ID || !slices.Equal(m.Chunks, v1.Manifest.Chunks) {
			t.Fatalf("manifest round trip: %v", err)
		}
		get := func(id coda.ID) ([]byte, error) { return chunks[id], nil }
		if err := CheckChunks(&m, get); err != nil {
			t.Fatal(err)
		}
		read := func(id coda.ID, f func([]byte) error) error { return f(chunks[id]) }
		if err := CheckAssembled(&m, read, nil); err != nil {
			t.Fatal(err)
		}
		b := NewChunkedBlob(&m, get)
		got, err := io.ReadAll(b)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("blob read: %v", err)
		}
	})
}
