// Package webui is the node's web UI: hand-written HTML, CSS and JavaScript
// modules embedded in the binary and served by `coal serve` at `/` beside
// the API (/v1) and /metrics. Nothing is fetched from elsewhere: the
// Content-Security-Policy allows only the node's own origin, so the UI
// works offline. docs/webui.md describes the pages and what they call.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// CSP is the Content-Security-Policy of every answer: the node's own
// scripts, styles and API only; no inline script or style, no frames, no
// plugins, forms post nowhere else.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// asset is one embedded file, with its content type and hash.
type asset struct {
	body  []byte
	ctype string
	etag  string // quoted; the first 16 bytes of the body's SHA-256, in hex
	hash  string // the etag without quotes, for ?v= in index.html
}

// Handler serves the UI: GET or HEAD of `/` is index.html, `/ui/NAME` an
// embedded file. Each answer carries an ETag (its content hash); a
// request naming that hash (`?v=HASH`, as index.html does for its
// assets) may be cached for a year, anything else is revalidated. Any
// other path, a directory or a name not embedded is 404; other methods
// are 405. Names are looked up in a fixed table, never in a file system,
// so no path reaches outside it.
func Handler() http.Handler {
	assets := map[string]*asset{}
	fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return nil
		}
		assets[strings.TrimPrefix(p, "static/")] = newAsset(p, b)
		return nil
	})
	// index.html names its assets with their hashes, so a new binary's
	// UI is never mixed with a cached old one.
	if idx := assets["index.html"]; idx != nil {
		b := idx.body
		for name, a := range assets {
			b = bytes.ReplaceAll(b, []byte("/ui/"+name+"\""), []byte("/ui/"+name+"?v="+a.hash+"\""))
		}
		assets["index.html"] = newAsset("index.html", b)
	}
	return &handler{assets: assets}
}

func newAsset(name string, b []byte) *asset {
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:16])
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".html":
		ct = "text/html; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	return &asset{body: b, ctype: ct, etag: `"` + h + `"`, hash: h}
}

type handler struct{ assets map[string]*asset }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	var name string
	switch p := r.URL.Path; {
	case p == "/" || p == "/index.html":
		name = "index.html"
	case strings.HasPrefix(p, "/ui/"):
		name = strings.TrimPrefix(p, "/ui/")
	}
	a := h.assets[name]
	if a == nil || name == "" {
		http.Error(w, "404 not found: "+r.URL.Path, http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hd.Set("Content-Type", a.ctype)
	hd.Set("ETag", a.etag)
	if v := r.URL.Query().Get("v"); v != "" && v == a.hash {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	http.ServeContent(w, r, "", timeZero, bytes.NewReader(a.body))
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// timeZero: embedded files have no modification time; ServeContent then
// sends no Last-Modified and relies on the ETag.
var timeZero = time.Time{}
