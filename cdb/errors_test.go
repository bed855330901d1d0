package cdb

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func countObjects(t *testing.T, s store.Store) int {
	t.Helper()
	n := 0
	for _, err := range s.Objects() {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// TestBadInput: every refused write is a clear error of the right kind
// and leaves the store unchanged (same head, same objects).
func TestBadInput(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	mustCommit(t, w, Op{Kind: Mkdir, Path: "/people", Schema: "Person"},
		Op{Kind: Put, Path: "/people/ann", Value: person("Ann", 33)})
	key := h.NodeKey()
	big := strings.Repeat("x", MaxValueSize+1)
	tests := []struct {
		name string
		ops  []Op
		kind errs.Kind
		want string // in the message
	}{
		{"no ops", nil, errs.Invalid, "no ops"},
		{"empty segment", []Op{{Kind: Put, Path: "/a//b", Schema: "Pet", Value: coda.Struct(coda.String("x"))}}, errs.Invalid, "/a//b"},
		{"dot dot", []Op{{Kind: Put, Path: "/a/../b", Schema: "Pet", Value: coda.Struct(coda.String("x"))}}, errs.Invalid, ".."},
		{"root", []Op{{Kind: Put, Path: "/", Schema: "Pet", Value: coda.Struct(coda.String("x"))}}, errs.Invalid, "root"},
		{"bad utf8", []Op{{Kind: Delete, Path: "/a\xff"}}, errs.Invalid, "UTF-8"},
		{"unknown schema", []Op{{Kind: Put, Path: "/x", Schema: "Robot", Value: coda.Struct(coda.String("x"))}}, errs.Invalid, "unknown schema"},
		{"no schema", []Op{{Kind: Put, Path: "/x", Value: coda.Struct(coda.String("x"))}}, errs.Invalid, "no schema"},
		{"wrong field type", []Op{{Kind: Put, Path: "/people/bob", Value: coda.Struct(coda.String("Bob"), coda.String("old"))}}, errs.Invalid, "age"},
		{"wrong schema for dir", []Op{{Kind: Put, Path: "/people/rex", Schema: "Pet", Value: coda.Struct(coda.String("Rex"))}}, errs.Invalid, "holds values of schema Person"},
		{"blob in typed dir", []Op{{Kind: PutBlob, Path: "/people/f", Blob: bytes.NewReader([]byte("hi")), Size: 2}}, errs.Invalid, "not blobs"},
		{"oversized", []Op{{Kind: Put, Path: "/people/big", Value: person(big, 1)}}, errs.Limit, "more than"},
		{"json without schema", []Op{{Kind: Put, Path: "/j", JSON: []byte(`{"name":"x"}`)}}, errs.Invalid, "no schema"},
		{"raw garbage", []Op{{Kind: Put, Path: "/r", Raw: []byte("not an object at all, no")}}, errs.Invalid, ""},
		{"two payloads", []Op{{Kind: Put, Path: "/r", Raw: []byte("x"), JSON: []byte("1")}}, errs.Invalid, "exactly one"},
		{"delete missing", []Op{{Kind: Delete, Path: "/nope"}}, errs.NotExist, "/nope"},
		{"delete dir without -r", []Op{{Kind: Delete, Path: "/people"}}, errs.Invalid, ""},
		{"move missing", []Op{{Kind: Move, From: "/nope", Path: "/x"}}, errs.NotExist, ""},
		{"move into itself", []Op{{Kind: Move, From: "/people", Path: "/people/x"}}, errs.Invalid, "into itself"},
		{"mkdir exists", []Op{{Kind: Mkdir, Path: "/people"}}, errs.Exist, ""},
		{"put under a value", []Op{{Kind: Put, Path: "/people/ann/x", Value: person("X", 1)}}, errs.Invalid, ""},
		{"schema path not a schema", []Op{{Kind: Put, Path: "/sys/schemas/Bad", Schema: "Pet", Value: coda.Struct(coda.String("x"))}}, errs.Invalid, "not a schema"},
		{"later op fails", []Op{
			{Kind: Put, Path: "/people/cid", Value: person("Cid", 2)},
			{Kind: Delete, Path: "/nope"},
		}, errs.NotExist, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, _ := w.Head()
			n := countObjects(t, h.Store())
			_, err := w.Commit(ctx, key, tt.ops, "bad")
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %q: want kind %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if got, _ := w.Head(); got != head {
				t.Errorf("head moved")
			}
			if got := countObjects(t, h.Store()); got != n {
				t.Errorf("objects: %d, want %d", got, n)
			}
		})
	}
	// Bad revisions and schemas.
	t.Run("revisions", func(t *testing.T) {
		for _, rev := range []string{"nosuchbranch", "zzzzzzzz", "HEAD~100", coda.Sum(nil).String()} {
			if _, err := w.Resolve(rev); !errors.Is(err, errs.NotExist) {
				t.Errorf("Resolve(%q): got %v, want not-exist", rev, err)
			}
		}
		if _, err := w.Resolve("HEAD~x"); !errors.Is(err, errs.Invalid) {
			t.Errorf("HEAD~x: %v", err)
		}
		if _, err := w.Get(coda.Sum([]byte("x")), "/"); !errors.Is(err, errs.NotExist) {
			t.Errorf("Get at unknown commit: %v", err)
		}
		if _, _, err := w.Revert(ctx, key, coda.Sum([]byte("x"))); !errors.Is(err, errs.NotExist) {
			t.Errorf("Revert unknown: %v", err)
		}
		head, _ := w.Head()
		n := countObjects(t, h.Store())
		if _, _, err := w.AddSchemas(ctx, key, "bad.coda", []byte("schema { oops")); !errors.Is(err, errs.Invalid) {
			t.Errorf("AddSchemas: %v", err)
		}
		if got, _ := w.Head(); got != head || countObjects(t, h.Store()) != n {
			t.Errorf("bad schema changed the store")
		}
	})
	t.Run("ambiguous prefix", func(t *testing.T) {
		// 33 commits: two share a first character (32 letters).
		byFirst := map[byte]coda.ID{}
		var dup string
		for i := 0; dup == ""; i++ {
			ci := mustCommit(t, w, Op{Kind: Put, Path: "/people/p", Value: person(fmt.Sprint(i), 1)})
			s := ci.ID.String()
			if _, ok := byFirst[s[0]]; ok {
				dup = s[:1]
			}
			byFirst[s[0]] = ci.ID
		}
		if _, err := w.Resolve(dup); !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "ambiguous") {
			t.Errorf("Resolve(%q): got %v, want ambiguous", dup, err)
		}
		id := byFirst[dup[0]]
		if got, err := w.Resolve(id.String()[:20]); err != nil || got != id {
			t.Errorf("Resolve prefix: %v, %v", got, err)
		}
		if got, err := w.Resolve("HEAD~1"); err != nil || got == id {
			t.Errorf("HEAD~1 = %v, %v", got, err)
		}
	})
}

func TestJSON(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	mustCommit(t, w, Op{Kind: Mkdir, Path: "/people", Schema: "Person"},
		Op{Kind: Put, Path: "/people/ann", JSON: []byte(`{"name":"Ann","age":33}`)})
	it, err := w.Get(coda.ID{}, "/people/ann")
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := w.Schemas(coda.ID{})
	j, err := it.JSON(reg)
	if err != nil || string(j) != `{"name":"Ann","age":33}` {
		t.Errorf("JSON = %s, %v", j, err)
	}
	head, _ := w.Head()
	n := countObjects(t, h.Store())
	for _, tt := range []struct{ json, want string }{
		{`{"name":"Bob","age":"old"}`, "age"},
		{`{"name":"Bob","age":300}`, "age"},
		{`not json`, ""},
		{`{"name":"Bob"`, ""},
	} {
		_, err := w.Commit(ctx, h.NodeKey(), []Op{{Kind: Put, Path: "/people/bob", JSON: []byte(tt.json)}}, "")
		if !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want invalid mentioning %q", tt.json, err, tt.want)
		}
	}
	if got, _ := w.Head(); got != head || countObjects(t, h.Store()) != n {
		t.Error("bad JSON changed the store")
	}
}

// TestSchemaRemoved: deleting a schema others refer to, or that a
// directory requires, does not make the world unwritable.
func TestSchemaRemoved(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	if _, _, err := w.AddSchemas(ctx, h.NodeKey(), "team.coda", []byte(`schema Team { lead: Person }`)); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, w, Op{Kind: Mkdir, Path: "/people", Schema: "Person"},
		Op{Kind: Put, Path: "/team", Schema: "Team", Value: coda.Struct(person("Ann", 3))})
	mustCommit(t, w, Op{Kind: Delete, Path: "/sys/schemas/Person"})
	reg, err := w.Schemas(coda.ID{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Lookup("Team"); ok {
		t.Error("Team still decodes without Person")
	}
	it, err := w.Get(coda.ID{}, "/team")
	if err != nil || it.Schema != nil || len(it.Raw) == 0 {
		t.Errorf("Get /team: %+v, %v", it, err)
	}
	mustCommit(t, w, petOp("/pet", "rex"))
	_, err = w.Commit(ctx, h.NodeKey(), []Op{{Kind: Put, Path: "/people/bob", Value: person("Bob", 1)}}, "")
	if !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "no longer") {
		t.Errorf("put into a directory whose schema is gone: %v", err)
	}
	if err := w.Fsck(func(p string) { t.Error(p) }); err != nil {
		t.Error(err)
	}
}
