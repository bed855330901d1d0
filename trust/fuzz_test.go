package trust

import (
	"bytes"
	"testing"

	"github.com/coalescent/coal/errs"
)

// FuzzDecode: trust file text either decodes into rows that encode back
// to a file which decodes to the same rows, or fails as invalid.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"version":1,"peers":[]}`))
	f.Add([]byte(`{"version":1,"peers":[{"key":"ed25519:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","policy":"deny"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := Decode(data)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error %v is not invalid", err)
			}
			return
		}
		s := New(Options{Seed: 1})
		s.rows = rows
		enc := s.encodeLocked()
		rows2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v\n%s", err, enc)
		}
		s2 := New(Options{Seed: 1})
		s2.rows = rows2
		if !bytes.Equal(enc, s2.encodeLocked()) {
			t.Fatal("encode → decode → encode changed the bytes")
		}
		_ = s.List()
		_ = s.Share(nil)
	})
}
