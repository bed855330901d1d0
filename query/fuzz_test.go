package query

import (
	"encoding/base64"
	"testing"
)

// FuzzCursor checks that decoding any cursor text never panics, and that
// a cursor that decodes re-encodes to one that decodes the same.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(cursor{V: 1, Query: "0011223344556677", At: "aaaa", Path: "/a/b", Key: "0500"}))
	f.Add("")
	f.Add("!!")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"v":2}`)))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s, "0011223344556677")
		if err != nil {
			return
		}
		d, err := decodeCursor(encodeCursor(*c), "0011223344556677")
		if err != nil || *d != *c {
			t.Fatalf("re-encoded cursor %+v decodes as %+v, %v", c, d, err)
		}
	})
}

// FuzzFilter checks that compiling any expression never panics and that
// an error names a position.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{"true", "_name == \"a\"", "_path.startsWith(\"/a\") && size(_id) > 3", "(", "1 +", "\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := compileFilter(s, nil); err != nil && len(err.Error()) == 0 {
			t.Fatal("an empty error")
		}
	})
}
