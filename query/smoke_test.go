package query_test

import (
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/query"
)

func TestSmoke(t *testing.T) {
	e := newEnv(t)
	e.commit(t,
		person("/people/alice", map[string]any{"name": "alice", "age": 30, "score": 1.5, "nick": nil, "tags": []string{"a"}, "friend": nil, "active": true}),
		person("/people/bob", map[string]any{"name": "bob", "age": 40, "score": 2.5, "nick": "b", "tags": []string{}, "friend": nil, "active": false}),
	)
	v := e.w.As(e.h.NodeKey().Public)
	rows, res := run(t, v, query.Query{Prefix: "/people", Where: "age > 35"})
	if got := paths(rows); !slices.Equal(got, []string{"/people/bob"}) {
		t.Fatalf("got %v (%+v)", got, res)
	}
	e.commit(t, cdb.Op{Kind: cdb.Mkdir, Path: "/people/.index/age"})
	rows, res = run(t, v, query.Query{Prefix: "/people", Where: "age == 30"})
	if got := paths(rows); !slices.Equal(got, []string{"/people/alice"}) || res.Stats.Plan[:5] != "index" {
		t.Fatalf("got %v (%+v)", got, res)
	}
	e.commit(t, person("/people/carol", map[string]any{"name": "carol", "age": 30, "score": 0, "nick": nil, "tags": []string{}, "friend": nil, "active": true}))
	rows, res = run(t, v, query.Query{Prefix: "/people", Where: "age == 30"})
	if got := paths(rows); !slices.Equal(got, []string{"/people/alice", "/people/carol"}) || res.Stats.Read != 2 {
		t.Fatalf("got %v (%+v)", got, res)
	}
	t.Logf("%s", rows[0].Value)
}
