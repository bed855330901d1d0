package query_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/query"
)

const schemas = `
schema Person {
  name:   string
  age:    i32
  score:  f64
  nick:   optional<string>
  tags:   list<string>
  friend: optional<link<Person>>
  active: bool
}
`

type env struct {
	t *testing.T
	h *cdb.Home
	w *cdb.World
}

func newEnv(t testing.TB) *env {
	h, err := cdb.Init(t.TempDir()+"/home", query.With(acl.With(cdb.Options{Store: memstore.New(), NoAudit: true})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	w, err := h.World("")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.AddSchemas(context.Background(), h.NodeKey(), "people.coda", []byte(schemas)); err != nil {
		t.Fatal(err)
	}
	e := &env{h: h, w: w}
	if _, err := w.Commit(context.Background(), h.NodeKey(), []cdb.Op{{Kind: cdb.Mkdir, Path: "/people", Schema: "Person"}}, "mkdir"); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) commit(t testing.TB, ops ...cdb.Op) coda.ID {
	t.Helper()
	ci, err := e.w.Commit(context.Background(), e.h.NodeKey(), ops, "test")
	if err != nil {
		t.Fatal(err)
	}
	return ci.ID
}

func person(path string, v map[string]any) cdb.Op {
	b, _ := json.Marshal(v)
	return cdb.Op{Kind: cdb.Put, Path: path, JSON: b}
}

func run(t testing.TB, v *cdb.View, q query.Query) ([]query.Row, query.Result) {
	t.Helper()
	var rows []query.Row
	res, err := query.Run(context.Background(), v, q, func(r query.Row) error { rows = append(rows, r); return nil })
	if err != nil {
		t.Fatalf("query %+v: %v", q, err)
	}
	return rows, res
}

func paths(rows []query.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Path
	}
	return out
}

var _ = fmt.Sprint
