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
	f.Add([]byte(`{"version":1,"peers":[{"key":"ed25519:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","policy":"auto",` +
		`"own":{"scores":{"agree":3,"disagree":1,"weight":{"agree":2.5,"disagree":0.25,"at":1700000000000000000}}},` +
		`"shared":[{"from":"ed25519:baaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","kind":"verdicts","agree":2,"disagree":0,"at":5}]}]}`))
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
