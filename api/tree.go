package api

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func init() { jsonTypes["ImportResult"] = reflect.TypeFor[ImportResult]() }

// Uploads and the handler timeout. A blob PUT or an import streams a body
// of any size at the client's pace, so it cannot be bounded by a fixed
// time: while its body is being read, the timeout (Options.Timeout) is
// idle-based — the request fails if no byte of the body arrives for that
// long — and once the body has been read, the rest of the handler (the
// commit) has that long again, as every other request does. The bytes are
// stored before the commit takes the world's write lock (cdb stages
// blobs), so a slow upload holds up no other writer.

// smallBlob is the largest blob PUT (by Content-Length) that is read
// whole before its commit, rather than streamed into the store: the
// commit then needs no staging and no early rights check.
const smallBlob = 1 << 20

// uploadRoutes are the routes whose bodies are uploads: their requests
// with a body other than JSON get the idle-based timeout.
var uploadRoutes = map[string]bool{
	"PUT /v1/worlds/{world}/tree/{path...}": true,
	"POST /v1/worlds/{world}/import":        true,
}

// isUpload reports whether r, on route, streams an upload.
func isUpload(route string, r *http.Request) bool {
	if !uploadRoutes[route] {
		return false
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct != "application/json"
}

var errIdle = errors.New("api: no byte of the request body for the handler timeout")

// uploadError is err, the error of an upload's handler, as the caller
// should see it: a body over the limit is errs.Limit, one cut for being
// idle is errs.Canceled saying so.
func uploadError(r *http.Request, err error, limit int64) error {
	switch {
	case err == nil:
		return nil
	case isMaxBytes(err):
		return errs.E(errs.Limit, fmt.Sprintf("request body over %d bytes", limit))
	case errors.Is(context.Cause(r.Context()), errIdle):
		return errs.E(errs.Canceled, fmt.Errorf("request body: %w", errIdle))
	}
	return err
}

// uploadContext returns r with the upload timeout of d: its context is
// canceled, and a blocked read of its body interrupted, once no byte has
// arrived for d, or d after the body ended. stop releases the timer.
func uploadContext(w http.ResponseWriter, r *http.Request, d time.Duration) (*http.Request, func()) {
	ctx, cancel := context.WithCancelCause(r.Context())
	rc := http.NewResponseController(w)
	t := time.AfterFunc(d, func() {
		cancel(errIdle)
		// Wake a read blocked on a silent client; not every
		// connection can (errors are ignored: the context is done).
		rc.SetReadDeadline(time.Now())
	})
	r = r.WithContext(ctx)
	r.Body = &idleBody{ReadCloser: r.Body, t: t, d: d}
	return r, func() {
		t.Stop()
		cancel(nil)
	}
}

// idleBody restarts its timer whenever a read makes progress, and once
// more at the body's end.
type idleBody struct {
	io.ReadCloser
	mu   sync.Mutex
	t    *time.Timer
	d    time.Duration
	done bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	if !b.done && (n > 0 || err != nil) {
		b.done = err != nil
		b.t.Reset(b.d)
	}
	b.mu.Unlock()
	return n, err
}

// checkWrite refuses, before an upload's body is read, a caller who may
// not write path at the head (the commit would be refused after storing
// every byte).
func (s *server) checkWrite(r *http.Request, c *call, paths ...string) error {
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	return acl.CheckWriteAt(wd, c.who.Public32(), paths)
}

// importFiles reads a tar archive: each regular file is one ImportFile,
// named by its path in the archive less a leading ./; directories are
// skipped; anything else is an error naming the entry.
func importFiles(tr *tar.Reader, maxFile int64) func() (cdb.ImportFile, error) {
	return func() (cdb.ImportFile, error) {
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return cdb.ImportFile{}, io.EOF
			}
			if err != nil {
				if isMaxBytes(err) {
					return cdb.ImportFile{}, err
				}
				return cdb.ImportFile{}, errs.E(errs.Invalid, errs.Path("body"), fmt.Errorf("tar: %w", err))
			}
			// tar -C DIR -cf - . names its entries ./NAME.
			name := strings.TrimPrefix(h.Name, "./")
			switch h.Typeflag {
			case tar.TypeDir:
				continue
			case tar.TypeReg:
			default:
				return cdb.ImportFile{}, errs.E(errs.Invalid, errs.Path(h.Name), fmt.Sprintf("tar entry of type %q: only regular files and directories are imported", h.Typeflag))
			}
			if h.Size > maxFile {
				return cdb.ImportFile{}, errs.E(errs.Limit, errs.Path(h.Name), fmt.Sprintf("file of %d bytes, over %d", h.Size, maxFile))
			}
			return cdb.ImportFile{Name: name, Body: tr, Size: h.Size, Where: h.Name}, nil
		}
	}
}

func (s *server) importTar(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	to := q.Get("to")
	if to == "" {
		return errs.E(errs.Invalid, "to: no path (the directory to import into)")
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-tar" {
		return errs.E(errs.Invalid, fmt.Sprintf("body: Content-Type %q, want application/x-tar", ct))
	}
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	if err := s.checkWrite(r, c, strings.TrimSuffix(to, "/")+"/"); err != nil {
		return err
	}
	var files, bytes int64
	tr := tar.NewReader(r.Body)
	ci, err := wd.ImportStream(r.Context(), c.who, to, importFiles(tr, s.opts.MaxBlob), q.Get("message"), func(n int, b int64) {
		files, bytes = int64(n), b
	})
	if err != nil {
		return uploadError(r, err, s.opts.MaxBlob)
	}
	return writeJSON(w, http.StatusCreated, ImportResult{Commit: ci.ID, Files: files, Bytes: bytes})
}

// opError names the op an error is about, as ops[I], when the error names
// a path that exactly one of several ops has.
func opError(ops []cdb.Op, err error) error {
	if len(ops) < 2 {
		return err
	}
	p := errPath(err)
	if p == "" {
		return err
	}
	found := -1
	for i, o := range ops {
		if canonPath(o.Path) == p || o.From != "" && canonPath(o.From) == p {
			if found >= 0 {
				return err
			}
			found = i
		}
	}
	if found < 0 {
		return err
	}
	return errs.E(errs.KindOf(err), fmt.Errorf("ops[%d]: %w", found, err))
}

// errPath returns the first path an *errs.Error in err's chain names.
func errPath(err error) string {
	for err != nil {
		var e *errs.Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Path != "" {
			return e.Path
		}
		err = e.Err
	}
	return ""
}

// canonPath is p with a leading slash, as errors name paths.
func canonPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/" + p
	}
	return p
}

// ImportResult answers POST .../import.
type ImportResult = message.ImportResult

// KindHeader names what a GET .../tree/PATH body is (message.KindHeader).
const KindHeader = message.KindHeader

// list answers GET .../tree/PATH?list=1: the entries of the directory at
// p, reading nothing else first (one list in the audit log); a path that
// holds a value or a blob is errs.Invalid, "not a directory".
func (s *server) list(w http.ResponseWriter, v *cdb.View, at coda.ID, p string) error {
	ents, err := v.List(at, p)
	if errs.Is(err, errs.NotExist) {
		if it, gerr := v.Get(at, p); gerr == nil && it.Kind != cdb.ItemDir {
			return errs.E(errs.Invalid, errs.Path(it.Path), "not a directory")
		}
	}
	if err != nil {
		return err
	}
	w.Header().Set(KindHeader, string(cdb.ItemDir))
	out := []Entry{}
	for _, e := range ents {
		out = append(out, Entry{Name: e.Name, Dir: e.Kind == cdb.ItemDir, Kind: string(e.Kind), ID: e.ID, Size: e.Size, Withheld: e.Withheld})
	}
	return writeJSON(w, 0, out)
}
