package client

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTreePath: whatever tree path a caller gives, the node's
// {path...} receives it unchanged (less the one leading slash the client
// strips), through what net/http's client sends (the request URI) and
// what its server and ServeMux make of it (which clean URL paths). In
// memory: the request line is written and read back as on the wire.
func FuzzTreePath(f *testing.F) {
	for _, p := range []string{"/a", "a", "/", "", "/a/../b", "/a/./b", "/a//b", "//a", "/a/", "/d/x/..",
		"/a%2Fb", "/a b/ü?#", "/..", "/./", "///", "/a/%2E%2E/b", "/a;b/c"} {
		f.Add(p)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/worlds/{world}/tree/{path...}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.PathValue("path"))
	})
	f.Fuzz(func(t *testing.T, p string) {
		if !utf8.ValidString(p) {
			t.Skip() // tree paths are UTF-8 (tree.SplitPath refuses the rest)
		}
		u := "http://node" + treePath("w", p)
		out, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatalf("NewRequest %q: %v", u, err)
		}
		wire := "GET " + out.URL.RequestURI() + " HTTP/1.1\r\nHost: node\r\n\r\n"
		in, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
		if err != nil {
			t.Fatalf("path %q: the server cannot read %q: %v", p, wire, err)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, in)
		if rec.Code != 200 {
			t.Fatalf("path %q as %q: status %d (Location %q)", p, out.URL.RequestURI(), rec.Code, rec.Header().Get("Location"))
		}
		if want := strings.TrimPrefix(p, "/"); rec.Body.String() != want {
			t.Errorf("path %q as %q: the node got %q", p, out.URL.RequestURI(), rec.Body.String())
		}
	})
}

// TestPutBlobLength: a blob of known size is sent with its
// Content-Length (the node stores it without spooling); of unknown size,
// chunked; empty, with none.
func TestPutBlobLength(t *testing.T) {
	got := make(chan int64, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- r.ContentLength
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"commit":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`)
	}))
	defer srv.Close()
	c := New(srv.URL, "t", Options{})
	for _, tc := range []struct {
		size int64
		want int64
	}{{5, 5}, {-1, -1}, {0, 0}} {
		// Not a *strings.Reader: net/http would find its length itself.
		body := io.MultiReader(strings.NewReader("hello"[:max(tc.size, 0)]))
		if tc.size < 0 {
			body = io.MultiReader(strings.NewReader("hello"))
		}
		if _, err := c.PutBlob(t.Context(), "", "/b", body, tc.size, ""); err != nil {
			t.Fatal(err)
		}
		if n := <-got; n != tc.want {
			t.Errorf("size %d: the node saw Content-Length %d, want %d", tc.size, n, tc.want)
		}
	}
}
