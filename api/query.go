package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/query"
)

// The routes of coal query and coal index (docs/query.md §8).

type (
	QueryRequest = message.QueryRequest
	QueryRow     = message.QueryRow
	QueryStats   = message.QueryStats
	Index        = message.Index
	IndexRequest = message.IndexRequest
)

func init() {
	for name, t := range map[string]reflect.Type{
		"QueryRequest": reflect.TypeFor[QueryRequest](), "QueryRow": reflect.TypeFor[QueryRow](),
		"QueryStats": reflect.TypeFor[QueryStats](), "Index": reflect.TypeFor[Index](),
		"IndexRequest": reflect.TypeFor[IndexRequest](),
	} {
		jsonTypes[name] = t
	}
}

func (s *server) queryHandlers() map[string]handler {
	return map[string]handler{
		"POST /v1/worlds/{world}/query":     s.query,
		"GET /v1/worlds/{world}/indexes":    s.indexes,
		"POST /v1/worlds/{world}/indexes":   s.indexAdd,
		"DELETE /v1/worlds/{world}/indexes": s.indexRemove,
	}
}

// query streams the rows of a query as JSON lines, then a last line with
// end set. An error found before the first row is a problem response; one
// after it ends the stream with its last line's error.
func (s *server) query(w http.ResponseWriter, r *http.Request, c *call) error {
	var req QueryRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	var at coda.ID
	if req.At != "" {
		if at, err = rev(v, "at", req.At); err != nil {
			return err
		}
	}
	q := query.Query{Prefix: req.Prefix, Recursive: req.Recursive, Where: req.Where, Follow: req.Follow,
		Depth: req.Depth, Select: req.Select, Order: req.Order, Limit: req.Limit, Cursor: req.Cursor,
		At: at, History: req.History, NoIndex: req.NoIndex}
	enc := json.NewEncoder(w)
	fl, _ := w.(http.Flusher)
	started, n := false, 0
	start := func() {
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			started = true
		}
	}
	res, err := query.Run(r.Context(), v, q, func(row query.Row) error {
		start()
		out := QueryRow{Path: row.Path, ID: row.ID, Commit: row.Commit, Value: row.Value}
		if row.Schema != nil {
			out.Schema = row.Schema.Name
		}
		if err := enc.Encode(out); err != nil {
			return errs.E(errs.Canceled, err)
		}
		if n++; n%64 == 0 && fl != nil {
			fl.Flush()
		}
		return nil
	})
	if err != nil && !started {
		return err
	}
	start()
	end := QueryRow{End: true, At: res.At, Next: res.Next,
		Stats: &QueryStats{Plan: res.Stats.Plan, Read: res.Stats.Read, Matched: res.Stats.Matched}}
	if err != nil {
		end.Error, end.Kind = err.Error(), errs.KindOf(err).String()
	}
	return enc.Encode(end)
}

// indexes lists the indexes on dir, or on every directory the caller may
// list under / (a walk of the directories).
func (s *server) indexes(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	at, err := rev(v, "at", r.URL.Query().Get("at"))
	if err != nil {
		return err
	}
	out := []Index{}
	var walk func(dir string, all bool) error
	walk = func(dir string, all bool) error {
		ents, err := v.List(at, dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if e.Kind != cdb.ItemDir {
				continue
			}
			sub := joinPath(dir, e.Name)
			if e.Name == query.IndexDir {
				fs, err := v.List(at, sub)
				if err != nil {
					return err
				}
				for _, f := range fs {
					if f.Kind == cdb.ItemDir {
						out = append(out, Index{Dir: dir, Field: f.Name, Path: joinPath(sub, f.Name)})
					}
				}
				continue
			}
			if all {
				if err := walk(sub, true); err != nil {
					return err
				}
			}
		}
		return nil
	}
	dir := r.URL.Query().Get("dir")
	if dir == "" {
		err = walk("/", true)
	} else {
		err = walk(dir, false)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, 0, out)
}

func joinPath(dir, name string) string {
	return strings.TrimSuffix(dir, "/") + "/" + name
}

// indexDir returns the schema of the directory an index is on, checking
// that field can be indexed.
func (s *server) indexDir(r *http.Request, c *call, dir, field string) error {
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	it, err := v.Get(coda.ID{}, dir)
	if err != nil {
		return err
	}
	if it.Kind != cdb.ItemDir {
		return errs.E(errs.Invalid, errs.Path(dir), "not a directory: an index is declared on a directory")
	}
	return query.CheckIndex(it.Schema, field)
}

func (s *server) indexAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	var req IndexRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.indexDir(r, c, req.Dir, req.Field); err != nil {
		return err
	}
	msg := req.Message
	if msg == "" {
		msg = fmt.Sprintf("index %s on %s", req.Field, req.Dir)
	}
	return s.commit(w, r, c, []cdb.Op{{Kind: cdb.Mkdir, Path: query.IndexPath(req.Dir, req.Field)}}, msg)
}

func (s *server) indexRemove(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	dir, field := q.Get("dir"), q.Get("field")
	if field == "" || strings.Contains(field, "/") {
		return errs.E(errs.Invalid, fmt.Sprintf("field: want a field name, got %q", field))
	}
	msg := q.Get("message")
	if msg == "" {
		msg = fmt.Sprintf("drop index %s on %s", field, dir)
	}
	p := query.IndexPath(dir, field)
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	if _, err := v.Get(coda.ID{}, p); err != nil {
		return errs.E(errs.NotExist, errs.Path(dir), fmt.Sprintf("no index on field %q", field))
	}
	return s.commit(w, r, c, []cdb.Op{{Kind: cdb.Delete, Path: p, Recursive: true}}, msg)
}
