package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// handler is an API handler: it returns an error, which the adapter
// (serve) writes as a problem document.
type handler func(w http.ResponseWriter, r *http.Request, c *call) error

// call is one request's context: who acts, and its request id.
type call struct {
	who cdb.Identity
	id  string
}

type server struct {
	h    *cdb.Home
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux

	docOnce sync.Once // the OpenAPI document, made once
	doc     []byte
	docErr  error
}

// New returns the API's handler over h. Every request must carry
// "Authorization: Bearer TOKEN", which opts.Tokens maps to the identity the
// request acts as: reads go through its cdb.View, writes are signed by it.
func New(h *cdb.Home, opts Options) http.Handler {
	if opts.MaxJSON == 0 {
		opts.MaxJSON = 16 << 20
	}
	if opts.MaxBlob == 0 {
		opts.MaxBlob = 1 << 30
	}
	if opts.Timeout == 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.LongTimeout == 0 {
		opts.LongTimeout = DefaultLongTimeout
	}
	s := &server{h: h, opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	hs := s.handlers()
	for _, rt := range Routes {
		key := rt.Method + " " + rt.Pattern
		fn, ok := hs[key]
		if !ok {
			fn = func(http.ResponseWriter, *http.Request, *call) error {
				return errs.E(errs.Internal, key+": not implemented")
			}
		}
		s.mux.Handle(key, s.serve(key, untimed(rt), fn))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		id := requestID(w, r)
		writeProblem(w, id, errs.E(errs.NotExist, errs.Path(r.URL.Path), "no such route"))
	})
	return s.mux
}

// requestID echoes the request's X-Request-Id or makes one, and sets it
// on the response.
func requestID(w http.ResponseWriter, r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 128 {
		var b [12]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	w.Header().Set("X-Request-Id", id)
	return id
}

// statusWriter remembers the status written, for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serve is the one adapter between handlers and HTTP: request id, auth,
// timeout, metrics, and problem documents for errors.
func (s *server) serve(route string, stream bool, fn handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		id := requestID(w, r)
		defer func() {
			d := time.Since(start)
			if s.opts.Metrics != nil {
				s.opts.Metrics.ObserveRequest(route, w.status, d)
			}
			if s.log.Enabled(r.Context(), slog.LevelDebug) {
				s.log.Debug("api", "id", id, "route", route, "status", w.status, "dur", d)
			}
		}()
		who, err := s.auth(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="coal"`)
			writeProblem(w, id, err)
			return
		}
		switch {
		case stream:
		case isUpload(route, r):
			var stop func()
			r, stop = uploadContext(w, r, s.opts.Timeout)
			defer stop()
		default:
			ctx, cancel := context.WithTimeout(r.Context(), s.timeout(route)) // api/long.go
			defer cancel()
			r = r.WithContext(ctx)
		}
		if err := fn(w, r, &call{who: who, id: id}); err != nil {
			if w.status != 0 {
				s.log.Warn("api: error after the response started", "id", id, "route", route, "err", err)
				return
			}
			if errs.KindOf(err) == errs.Internal || errs.KindOf(err) == errs.Other {
				s.log.Error("api", "id", id, "route", route, "err", err)
			}
			writeProblem(w, id, err)
		}
	})
}

func (s *server) auth(r *http.Request) (cdb.Identity, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return cdb.Identity{}, errs.E(errs.Unauthenticated, "no bearer token (send Authorization: Bearer TOKEN)")
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" || s.opts.Tokens == nil {
		return cdb.Identity{}, errs.E(errs.Unauthenticated, "bad authorization (want Bearer TOKEN)")
	}
	id, err := s.opts.Tokens.Verify(tok)
	if err != nil {
		return cdb.Identity{}, errs.E(errs.Unauthenticated, "bad token")
	}
	return id, nil
}

// writeProblem writes err as an RFC 9457 problem document.
func writeProblem(w http.ResponseWriter, id string, err error) {
	k := errs.KindOf(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		k = errs.Limit
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		k = errs.Canceled
	}
	p := Problem{Type: k.ProblemType(), Title: title(k), Status: k.HTTPStatus(), Detail: err.Error(), Instance: id, Kind: k.String()}
	if k == errs.Other || k == errs.Internal {
		p.Status = 500
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func title(k errs.Kind) string {
	switch k {
	case errs.Invalid:
		return "invalid request"
	case errs.NotExist:
		return "not found"
	case errs.Exist:
		return "already exists"
	case errs.Permission:
		return "permission denied"
	case errs.Conflict:
		return "conflict"
	case errs.Corrupt:
		return "corrupt data"
	case errs.Limit:
		return "limit exceeded"
	case errs.Unauthenticated:
		return "unauthenticated"
	case errs.Unavailable:
		return "unavailable"
	case errs.Canceled:
		return "canceled"
	}
	return "internal error"
}

// writeJSON writes v as JSON with status (0: 200).
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errs.E(errs.Internal, err)
	}
	w.Header().Set("Content-Type", "application/json")
	if status == 0 {
		status = 200
	}
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// readBody reads a body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errs.E(errs.Limit, fmt.Sprintf("request body over %d bytes", limit))
		}
		return nil, errs.E(errs.Invalid, err)
	}
	return b, nil
}

// decodeJSON reads a JSON body into v, refusing unknown fields and naming
// the position of a syntax error.
func (s *server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r, s.opts.MaxJSON)
	if err != nil {
		return err
	}
	return unmarshal(b, v)
}

func unmarshal(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.E(errs.Invalid, jsonError("body", b, err))
	}
	if dec.More() {
		return errs.E(errs.Invalid, "body: more than one JSON value")
	}
	return nil
}

// jsonError names where in data a JSON error is: line and column.
func jsonError(name string, data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return name + ": " + err.Error()
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%s:%d:%d: %v", name, line, col, err)
}

// world opens the request's {world}.
func (s *server) world(r *http.Request) (*cdb.World, error) {
	return s.h.World(r.PathValue("world"))
}

// view opens the request's world as the caller sees it.
func (s *server) view(r *http.Request, c *call) (*cdb.View, error) {
	w, err := s.world(r)
	if err != nil {
		return nil, err
	}
	return w.As(c.who.Public), nil
}

// rev resolves a revision query parameter in v (empty: the head).
func rev(v *cdb.View, name, s string) (coda.ID, error) {
	if s == "" {
		return v.World().Head()
	}
	id, err := v.Resolve(s)
	if err != nil {
		return coda.ID{}, fmt.Errorf("%s: %w", name, err)
	}
	return id, nil
}

// treePath is the request's {path...} as a tree path.
func treePath(r *http.Request) string { return "/" + r.PathValue("path") }

func boolParam(r *http.Request, name string) bool {
	v := r.URL.Query().Get(name)
	return v == "1" || v == "true"
}

func intParam(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errs.E(errs.Invalid, fmt.Sprintf("%s: want a count, got %q", name, v))
	}
	return n, nil
}

// formatTime is how the CLI shows an HLC time.
func formatTime(t hlc.Time) string { return t.Wall().Format("2006-01-02T15:04:05.000Z") }

func summarize(c cdb.CommitInfo) CommitSummary {
	p := c.Parents
	if p == nil {
		p = []coda.ID{}
	}
	return CommitSummary{ID: c.ID, Parents: p, Tree: c.Tree, Author: c.Author, Time: formatTime(c.Time), HLC: uint64(c.Time), Message: c.Message}
}
