package api_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/errs"
)

type tarFile struct {
	name string
	kind byte
	body string
}

func tarOf(t testing.TB, files ...tarFile) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: f.kind, Mode: 0o644, Size: int64(len(f.body))}
		if f.kind != tar.TypeReg {
			h.Size = 0
			h.Linkname = f.body
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if f.kind == tar.TypeReg {
			tw.Write([]byte(f.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestImport(t *testing.T) {
	e := newEnv(t, api.Options{})
	// As tar -C DIR -cf - . writes it.
	body := tarOf(t, tarFile{"./", tar.TypeDir, ""}, tarFile{"./a.txt", tar.TypeReg, "alpha"}, tarFile{"./sub/", tar.TypeDir, ""}, tarFile{"./sub/b.txt", tar.TypeReg, "beta!"})
	r := e.do("node", "POST", "/v1/worlds/default/import?to=/imp", "application/x-tar", body)
	e.want(r, 201)
	var res api.ImportResult
	if err := json.Unmarshal(r.body, &res); err != nil || res.Files != 2 || res.Bytes != 10 || res.Commit.IsZero() {
		t.Errorf("import: got %s (%v), want 2 files of 10 bytes", r.body, err)
	}
	r = e.do("node", "GET", "/v1/worlds/default/tree/imp/sub/b.txt", "", nil)
	e.want(r, 200)
	if string(r.body) != "beta!" || r.header.Get(api.KindHeader) != "blob" {
		t.Errorf("imported file: got %q (kind %q)", r.body, r.header.Get(api.KindHeader))
	}
	r = e.do("node", "GET", "/v1/worlds/default/commits/"+res.Commit.String(), "", nil)
	if !strings.Contains(string(r.body), `"message":"import 2 files to /imp"`) {
		t.Errorf("import commit: %s", r.body)
	}

	head := e.head()
	for _, c := range []struct {
		name, query, ctype string
		body               []byte
		status             int
		detail             string
	}{
		{"a symlink", "to=/x", "application/x-tar", tarOf(t, tarFile{"l", tar.TypeSymlink, "a.txt"}), 400, "only regular files"},
		{"a bad name", "to=/x", "application/x-tar", tarOf(t, tarFile{"../up", tar.TypeReg, "x"}), 400, "../up"},
		{"a name twice", "to=/x", "application/x-tar", tarOf(t, tarFile{"a", tar.TypeReg, "x"}, tarFile{"a", tar.TypeReg, "y"}), 400, "imported twice"},
		{"no files", "to=/x", "application/x-tar", tarOf(t), 400, "no files"},
		{"not a tar", "to=/x", "application/x-tar", []byte("hello, this is not a tar archive at all, it goes on for more than a block? no."), 400, "tar"},
		{"no to", "", "application/x-tar", body, 400, "to: no path"},
		{"a bad to", "to=/x/../y", "application/x-tar", body, 400, "/x/../y"},
		{"onto a blob", "to=/imp/a.txt", "application/x-tar", body, 400, "/imp/a.txt: not a directory"},
		{"not tar", "to=/x", "application/octet-stream", body, 400, "want application/x-tar"},
	} {
		r := e.do("node", "POST", "/v1/worlds/default/import?"+c.query, c.ctype, c.body)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, r.status, c.status, r.body)
			continue
		}
		if p := problem(t, r); !strings.Contains(p.Detail, c.detail) {
			t.Errorf("%s: detail %q, want it to contain %q", c.name, p.Detail, c.detail)
		}
	}
	// bob may not write at /x: refused before the body is read.
	r = e.do("bob", "POST", "/v1/worlds/default/import?to=/x", "application/x-tar", body)
	e.want(r, 403)
	if got := e.head(); got != head {
		t.Errorf("a refused import moved the head")
	}
	// Over the limit of one file (MaxBlob).
	small := newEnv(t, api.Options{MaxBlob: 4})
	e.want(small.do("node", "POST", "/v1/worlds/default/import?to=/x", "application/x-tar", body), 413)
}

func (e *env) head() string {
	e.t.Helper()
	r := e.do("node", "GET", "/v1/worlds/default/status", "", nil)
	var st api.Status
	if err := json.Unmarshal(r.body, &st); err != nil {
		e.t.Fatal(err)
	}
	return st.Head.String()
}

// trickle sends chunks of its data with a pause before each.
type trickle struct {
	data  []byte
	chunk int
	pause time.Duration
}

func (t *trickle) Read(p []byte) (int, error) {
	if len(t.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(t.pause) // the client's pace is what is tested
	n := copy(p[:min(len(p), t.chunk)], t.data)
	t.data = t.data[n:]
	return n, nil
}

// TestUploadTimeout: an upload is cut only when its body stops coming for
// the handler timeout, not when it takes longer than that in all.
func TestUploadTimeout(t *testing.T) {
	const timeout = 400 * time.Millisecond
	e := newEnv(t, api.Options{Timeout: timeout})
	c := client.New(e.srv.URL, "node", client.Options{})
	ctx := context.Background()

	// 12 chunks 40ms apart: 480ms in all, never idle for 400ms (a
	// margin for a loaded machine).
	data := bytes.Repeat([]byte("0123456789"), 12)
	// Of unknown size (chunked), so streamed into the store.
	if _, err := c.PutBlob(ctx, "", "/slow", &trickle{data: data, chunk: 10, pause: 40 * time.Millisecond}, -1, ""); err != nil {
		t.Fatalf("a slow but steady upload: %v", err)
	}
	b, err := c.OpenBlob(ctx, "", "/slow", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(b)
	b.Close()
	if !bytes.Equal(got, data) {
		t.Errorf("slow upload stored %q", got)
	}

	// A body that stops for longer than the timeout is cut, small (read
	// whole first) or streamed.
	head := e.head()
	for _, size := range []int64{int64(len(data)), -1} {
		stall := io.MultiReader(bytes.NewReader(data[:10]), &trickle{data: data[10:], chunk: 110, pause: 3 * timeout})
		_, err = c.PutBlob(ctx, "", "/stalled", stall, size, "")
		if err == nil {
			t.Fatalf("a stalled upload of size %d succeeded", size)
		}
		if !errs.Is(err, errs.Canceled) && !errs.Is(err, errs.Unavailable) {
			t.Errorf("a stalled upload of size %d: got %v, want it canceled (or the connection closed)", size, err)
		}
		if e.head() != head {
			t.Errorf("a stalled upload of size %d moved the head", size)
		}
	}
}

// TestTreePaths: paths that are not canonical reach the node as they
// are, and its error names them.
func TestTreePaths(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	e.putNote("/d/x", 1)
	c := client.New(e.srv.URL, "node", client.Options{})
	ctx := context.Background()
	for _, p := range []string{"/a/../b", "/a/./b", "/a//b", "//a", "/d/x/.."} {
		_, err := c.Get(ctx, "", p, "")
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), p) {
			t.Errorf("Get(%q): got %v, want an invalid-path error naming it", p, err)
		}
		if _, err := c.PutBlob(ctx, "", p, strings.NewReader("x"), 1, ""); !errs.Is(err, errs.Invalid) {
			t.Errorf("PutBlob(%q): got %v, want an invalid-path error", p, err)
		}
	}
	// A name with a slash-like escape is one segment, kept as it is.
	if _, err := c.PutBlob(ctx, "", "/d2/a%2Fb", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatal(err)
	}
	ents, err := c.List(ctx, "", "/d2", "")
	if err != nil || len(ents) != 1 || ents[0].Name != "a%2Fb" {
		t.Errorf("List /d2: got %+v, %v", ents, err)
	}

	// meta=1 describes blobs and directories; list=1 refuses a value.
	v, err := c.Get(ctx, "", "/d2/a%2Fb", "")
	if err != nil || v.Kind != "blob" || v.Size != 1 || v.At.IsZero() {
		t.Errorf("Get of a blob: %+v, %v", v, err)
	}
	v, err = c.Get(ctx, "", "/d", "")
	if err != nil || v.Kind != "dir" || v.Path != "/d" {
		t.Errorf("Get of a directory: %+v, %v", v, err)
	}
	if _, err := c.List(ctx, "", "/d/x", ""); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "/d/x: not a directory") {
		t.Errorf("List of a value: %v", err)
	}
	if _, err := c.OpenRaw(ctx, "", "/d", ""); !errs.Is(err, errs.Invalid) {
		t.Errorf("raw of a directory: %v", err)
	}
	kind, body, err := c.Open(ctx, "", "/d/x", "")
	if err != nil || kind != "value" {
		t.Fatalf("Open of a value: %q, %v", kind, err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if string(got) != `{"text":"t","n":1}`+"\n" {
		t.Errorf("Open of a value: %q", got)
	}
}

// TestTransactionNamesOp: an error about one op of several names it.
func TestTransactionNamesOp(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	ops := `[{"op":"put","path":"/a","schema":"Note","value":{"text":"a","n":1}},{"op":"put","path":"/b","schema":"Note","value":{"text":"b","n":"x"}}]`
	r := e.do("node", "POST", "/v1/worlds/default/transactions", "application/json", []byte(ops))
	e.want(r, 400)
	if p := problem(t, r); !strings.HasPrefix(p.Detail, "ops[1]: ") || !strings.Contains(p.Detail, "/b") {
		t.Errorf("detail %q, want it to name ops[1] and /b", p.Detail)
	}
}

// FuzzImport: any body POSTed to the import route is imported (201) or
// refused as invalid or over a limit — never an internal error, never a
// panic — and a refused one leaves the head where it was.
func FuzzImport(f *testing.F) {
	f.Add(tarOf(f, tarFile{"a.txt", tar.TypeReg, "alpha"}, tarFile{"sub/b", tar.TypeReg, "beta"}))
	f.Add(tarOf(f, tarFile{"./", tar.TypeDir, ""}, tarFile{"./x", tar.TypeReg, "x"}))
	f.Add(tarOf(f, tarFile{"l", tar.TypeSymlink, "a"}))
	f.Add(tarOf(f))
	f.Add([]byte("not a tar"))
	e := newEnv(f, api.Options{MaxBlob: 1 << 16})
	f.Fuzz(func(t *testing.T, body []byte) {
		e.t = t
		head := e.head()
		r := e.do("node", "POST", "/v1/worlds/default/import?to=/f", "application/x-tar", body)
		switch {
		case r.status == 201:
		case r.status == 400 || r.status == 413:
			if e.head() != head {
				t.Errorf("a refused import (%d) moved the head", r.status)
			}
		default:
			t.Errorf("status %d: %s", r.status, r.body)
		}
	})
}
