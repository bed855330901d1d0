package webui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/coalescent/coal/api/webui"
)

func get(t *testing.T, h http.Handler, method, target string, hdr ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIndex: / is the page, HTML, with the CSP, revalidated, and its
// assets named by their content hashes.
func TestIndex(t *testing.T) {
	h := webui.Handler()
	r := get(t, h, "GET", "/")
	if r.StatusCode != 200 {
		t.Fatalf("GET /: %d", r.StatusCode)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := r.Header.Get("Content-Security-Policy"); csp != webui.CSP || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-cache" || r.Header.Get("ETag") == "" {
		t.Errorf("headers %v", r.Header)
	}
	b := body(t, r)
	m := regexp.MustCompile(`/ui/app\.js\?v=([0-9a-f]{32})"`).FindStringSubmatch(b)
	if m == nil {
		t.Fatalf("index.html names app.js without its hash:\n%s", b)
	}
	// No inline script or style: the CSP would refuse them.
	if strings.Contains(b, "<script>") || strings.Contains(b, "style=") || strings.Contains(b, "<style") {
		t.Errorf("inline script or style in index.html")
	}
	// The asset by its hash is immutable; its ETag is that hash.
	a := get(t, h, "GET", "/ui/app.js?v="+m[1])
	if a.StatusCode != 200 || a.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || a.Header.Get("ETag") != `"`+m[1]+`"` {
		t.Errorf("GET app.js by hash: %d %v", a.StatusCode, a.Header)
	}
	// Revalidation by ETag.
	nm := get(t, h, "GET", "/ui/app.js", "If-None-Match", `"`+m[1]+`"`)
	if nm.StatusCode != 304 {
		t.Errorf("If-None-Match: %d, want 304", nm.StatusCode)
	}
	// A stale hash is not cached for long.
	if s := get(t, h, "GET", "/ui/app.js?v=0000"); s.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("stale ?v=: Cache-Control %q", s.Header.Get("Cache-Control"))
	}
}

func TestContentTypes(t *testing.T) {
	h := webui.Handler()
	for path, want := range map[string]string{
		"/ui/app.js":    "text/javascript; charset=utf-8",
		"/ui/sse.js":    "text/javascript; charset=utf-8",
		"/ui/lib.js":    "text/javascript; charset=utf-8",
		"/ui/style.css": "text/css; charset=utf-8",
		"/index.html":   "text/html; charset=utf-8",
	} {
		r := get(t, h, "GET", path)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != want {
			t.Errorf("%s: %d %q, want 200 %q", path, r.StatusCode, r.Header.Get("Content-Type"), want)
		}
		if r.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no CSP", path)
		}
		if len(body(t, r)) == 0 {
			t.Errorf("%s: empty", path)
		}
	}
	if r := get(t, h, "HEAD", "/ui/app.js"); r.StatusCode != 200 {
		t.Errorf("HEAD: %d", r.StatusCode)
	}
}

// TestNotFound: unknown names, directories, traversal attempts and other
// methods answer no file.
func TestNotFound(t *testing.T) {
	h := webui.Handler()
	for _, p := range []string{
		"/ui/", "/ui", "/ui/nope.js", "/static/app.js", "/ui/static/app.js",
		"/ui/../go.mod", "/ui/%2e%2e/webui.go", "/ui/..%2fwebui.go", "/ui/%2E%2E%2F%2E%2E%2Fgo.mod",
		"/webui.go", "/ui/./app.js", "/ui//app.js", "/favicon.ico", "/v2/info",
	} {
		r := get(t, h, "GET", p)
		b := body(t, r)
		if r.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		}
		if strings.Contains(b, "package webui") || strings.Contains(b, "<a href") || strings.Contains(b, "module ") {
			t.Errorf("GET %s leaked a file or a listing:\n%s", p, b)
		}
		if r.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no CSP on the 404", p)
		}
	}
	if r := get(t, h, "POST", "/"); r.StatusCode != 405 || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d Allow %q", r.StatusCode, r.Header.Get("Allow"))
	}
}

// TestScriptGuards keeps the scripts within what the CSP and docs/webui.md
// promise: no HTML parsing of strings (innerHTML, outerHTML,
// insertAdjacentHTML, document.write), no eval or Function, no inline
// event handlers or styles in index.html, and every module a script
// imports is an embedded file served at /ui/.
func TestScriptGuards(t *testing.T) {
	files, err := filepath.Glob("static/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("static files: %v %v", files, err)
	}
	bad := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setTimeout\(\s*["'\x60]`)
	imp := regexp.MustCompile(`(?m)^import .* from "\./([^"]+)";`)
	h := webui.Handler()
	imports := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		if m := bad.FindString(src); m != "" {
			t.Errorf("%s: %q: the scripts build the DOM from nodes and never run strings", f, m)
		}
		if strings.HasSuffix(f, ".html") && regexp.MustCompile(`(?i)\son[a-z]+=|\sstyle=|<script>|<style`).MatchString(src) {
			t.Errorf("%s: an inline handler, style or script (the CSP forbids them)", f)
		}
		for _, m := range imp.FindAllStringSubmatch(src, -1) {
			imports++
			if r := get(t, h, "GET", "/ui/"+m[1]); r.StatusCode != 200 {
				t.Errorf("%s imports ./%s: GET /ui/%s is %d", f, m[1], m[1], r.StatusCode)
			}
		}
	}
	if imports < 2 {
		t.Errorf("found %d imports, want app.js's two (sse.js, lib.js)", imports)
	}
}
