package module

import (
	"strings"
	"testing"
)

// TestJSONOffset: positions of values by path.
func TestJSONOffset(t *testing.T) {
	data := []byte("{\"a\": [1, {\"b\": \"x\"}],\n \"c\": null}")
	for _, c := range []struct {
		path []any
		want string
	}{{nil, "1:1"}, {[]any{"a"}, "1:7"}, {[]any{"a", 1, "b"}, "1:17"}, {[]any{"c"}, "2:7"}, {[]any{"zz"}, "1:1"}} {
		off, _ := jsonOffset(data, c.path)
		f := &jsonFile{name: "f", data: data}
		if got := f.posOf(off); got != c.want {
			t.Errorf("%v: %s, want %s", c.path, got, c.want)
		}
	}
}

// FuzzJSONOffset: any text and path neither panics nor gives an offset
// outside the text.
func FuzzJSONOffset(f *testing.F) {
	f.Add([]byte(`{"cases": [{"input": {"a": 1}}]}`), "cases", 0, "input")
	f.Add([]byte(`[[[`), "", 2, "")
	f.Fuzz(func(t *testing.T, data []byte, k1 string, i int, k2 string) {
		off, _ := jsonOffset(data, []any{k1, i, k2})
		if off < 0 || off > len(data) {
			t.Fatalf("offset %d outside %d bytes", off, len(data))
		}
		jf := &jsonFile{name: "f", data: data}
		if !strings.Contains(jf.posOf(off), ":") {
			t.Fatal("no position")
		}
		var v specJSON
		_ = jf.decode(&v)
	})
}
