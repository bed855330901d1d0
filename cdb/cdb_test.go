package cdb

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

var ctx = context.Background()

const personCoda = `schema Person { name: string  age: u8 }
schema Pet { name: string }`

// testClock is a deterministic wall clock that advances 1 ms per read.
func testClock() func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Millisecond)
		return t
	}
}

// newHome makes a home with an in-memory store.
func newHome(t testing.TB) *Home {
	t.Helper()
	h, err := Init(filepath.Join(t.TempDir(), "home"), Options{Store: memstore.New(), Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func defaultWorld(t testing.TB, h *Home) *World {
	t.Helper()
	w, err := h.World("")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func person(name string, age uint8) coda.Value {
	return coda.Struct(coda.String(name), coda.U8(age))
}

func mustCommit(t testing.TB, w *World, ops ...Op) CommitInfo {
	t.Helper()
	ci, err := w.Commit(ctx, w.h.NodeKey(), ops, "test")
	if err != nil {
		t.Fatal(err)
	}
	return ci
}

func withSchemas(t testing.TB, w *World) {
	t.Helper()
	if _, _, err := w.AddSchemas(ctx, w.h.NodeKey(), "person.coda", []byte(personCoda)); err != nil {
		t.Fatal(err)
	}
}

func TestInitOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	h, err := Init(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := h.NodeKey().Key()
	ws, err := h.Worlds()
	if err != nil || len(ws) != 1 || ws[0].Name != DefaultWorld || ws[0].Branch != DefaultBranch {
		t.Fatalf("Worlds = %+v, %v", ws, err)
	}
	if _, err := Open(dir, Options{}); !errors.Is(err, errs.Unavailable) {
		t.Errorf("second Open: got %v, want unavailable", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(dir, Options{}); !errors.Is(err, errs.Exist) {
		t.Errorf("Init again: got %v, want exist", err)
	}
	h, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if got := h.NodeKey().Key(); got != key {
		t.Errorf("key after reopen = %s, want %s", got, key)
	}
	if !strings.HasPrefix(key, "ed25519:") || len(key) != len("ed25519:")+52 {
		t.Errorf("key %q", key)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none"), Options{}); !errors.Is(err, errs.NotExist) {
		t.Errorf("Open missing: got %v, want not-exist", err)
	}
	w, err := h.World(ws[0].ID.String()[:8])
	if err != nil || w.ID() != ws[0].ID {
		t.Fatalf("World by prefix: %v", err)
	}
}

func TestPutGet(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	mustCommit(t, w, Op{Kind: Mkdir, Path: "/people", Schema: "Person"})
	ci := mustCommit(t, w, Op{Kind: Put, Path: "/people/ann", Value: person("Ann", 33)})
	it, err := w.Get(coda.ID{}, "/people/ann")
	if err != nil {
		t.Fatal(err)
	}
	if it.Kind != ItemValue || it.Schema == nil || it.Schema.Name != "Person" || !coda.Equal(it.Value, person("Ann", 33)) {
		t.Errorf("Get = %+v", it)
	}
	if it.Stamp.Time != uint64(ci.Time) {
		t.Errorf("stamp %d, want commit time %d", it.Stamp.Time, ci.Time)
	}
	dir, err := w.Get(coda.ID{}, "/people")
	if err != nil || dir.Kind != ItemDir || dir.Schema == nil || dir.Schema.Name != "Person" {
		t.Errorf("Get dir = %+v, %v", dir, err)
	}
	data := bytes.Repeat([]byte("0123456789"), 100000)
	mustCommit(t, w, Op{Kind: PutBlob, Path: "/files/big", Blob: bytes.NewReader(data), Size: -1})
	b, err := w.OpenBlob(coda.ID{}, "/files/big")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(b)
	b.Close()
	if !bytes.Equal(got, data) {
		t.Errorf("blob: read %d bytes, want %d", len(got), len(data))
	}
	ls, err := w.List(coda.ID{}, "/")
	if err != nil || len(ls) != 3 || ls[0].Name != "files" || ls[2].Name != "sys" {
		t.Errorf("List / = %+v, %v", ls, err)
	}
	ls, _ = w.List(coda.ID{}, "/files")
	if len(ls) != 1 || ls[0].Kind != ItemBlob || ls[0].Size != int64(len(data)) {
		t.Errorf("List /files = %+v", ls)
	}
	mustCommit(t, w, Op{Kind: Move, From: "/people/ann", Path: "/people/anne"}, Op{Kind: Copy, From: "/files", Path: "/files2"})
	if _, err := w.Get(coda.ID{}, "/people/ann"); !errors.Is(err, errs.NotExist) {
		t.Errorf("moved source: %v", err)
	}
	if _, err := w.Get(coda.ID{}, "/files2/big"); err != nil {
		t.Error(err)
	}
	mustCommit(t, w, Op{Kind: Delete, Path: "/files", Recursive: true})
	if _, err := w.Get(coda.ID{}, "/files/big"); !errors.Is(err, errs.NotExist) {
		t.Errorf("deleted: %v", err)
	}
	if _, err := w.Replay(nil); err != nil {
		t.Error(err)
	}
	if err := w.Fsck(func(p string) { t.Log(p) }); err != nil {
		t.Error(err)
	}
	log, err := w.Log(coda.ID{}, "/people", 0)
	if err != nil || len(log) != 3 {
		t.Errorf("Log /people: %d commits, %v", len(log), err)
	}
}

var _ = tree.EmptyRoot
