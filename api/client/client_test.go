package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// fake is a handler standing in for package api's: a tree of JSON values
// and blobs, a log, and a watch stream that ends after a few events so
// that the client must reconnect.
type fake struct {
	t       *testing.T
	mu      sync.Mutex
	values  map[string][]byte
	commits []coda.ID
	perConn int // events a watch connection sends before it breaks
}

func (f *fake) problem(w http.ResponseWriter, k errs.Kind, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(k.HTTPStatus())
	json.NewEncoder(w).Encode(Problem{Type: k.ProblemType(), Title: k.String(), Status: k.HTTPStatus(), Detail: detail, Kind: k.String()})
}

func (f *fake) commit() coda.ID {
	id := coda.Sum([]byte(strconv.Itoa(len(f.commits))))
	f.commits = append(f.commits, id)
	return id
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer tok" {
		f.problem(w, errs.Unauthenticated, "no token")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := strings.CutPrefix(r.URL.Path, "/v1/worlds/default/tree")
	switch {
	case ok && r.Method == http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") == "application/json" && !json.Valid(b) {
			f.problem(w, errs.Invalid, "bad json")
			return
		}
		f.values[p] = b
		json.NewEncoder(w).Encode(CommitResult{Commit: f.commit()})
	case ok && r.Method == http.MethodGet:
		v, found := f.values[p]
		if !found {
			f.problem(w, errs.NotExist, p+": no such path")
			return
		}
		if r.URL.Query().Get("meta") == "1" {
			json.NewEncoder(w).Encode(Value{Path: p, Value: v})
			return
		}
		w.Write(v)
	case r.URL.Path == "/v1/worlds/default/watch":
		from := 0
		if id := r.Header.Get("Last-Event-ID"); id != "" {
			from = -1
			for i, c := range f.commits {
				if c.String() == id {
					from = i + 1
				}
			}
			if from < 0 {
				f.problem(w, errs.Invalid, "unknown Last-Event-ID")
				return
			}
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := from; i < len(f.commits) && i < from+f.perConn; i++ {
			fmt.Fprintf(w, ": keep-alive\nid: %s\nevent: commit\ndata: {\"id\":\"%s\"}\n\n", f.commits[i], f.commits[i])
		}
	default:
		f.problem(w, errs.NotExist, "no route")
	}
}

func newFake(t *testing.T) (*fake, *Client) {
	f := &fake{t: t, values: map[string][]byte{}, perConn: 3}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, New(srv.URL, "tok", Options{})
}

func TestErrorsKeepTheirKind(t *testing.T) {
	_, c := newFake(t)
	ctx := context.Background()
	_, err := c.Get(ctx, "", "/nope", "")
	if !errors.Is(err, errs.NotExist) {
		t.Fatalf("Get of a missing path: got %v, want a not-exist error", err)
	}
	if got, want := err.Error(), "/nope: no such path"; got != want {
		t.Errorf("error text: got %q, want %q", got, want)
	}
	bad := New(c.BaseURL(), "wrong", Options{})
	if _, err := bad.Get(ctx, "", "/a", ""); !errors.Is(err, errs.Unauthenticated) {
		t.Errorf("bad token: got %v, want an unauthenticated error", err)
	}
	down := New("http://127.0.0.1:1", "tok", Options{})
	if _, err := down.Info(ctx); !errors.Is(err, errs.Unavailable) {
		t.Errorf("no node: got %v, want an unavailable error", err)
	}
}

func TestPutGet(t *testing.T) {
	_, c := newFake(t)
	ctx := context.Background()
	id, err := c.Put(ctx, "", "/a/b", []byte(`{"n":1}`), "", "m")
	if err != nil || id.IsZero() {
		t.Fatalf("Put: %v, %v", id, err)
	}
	it, err := c.Get(ctx, "", "/a/b", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(it.Value), `{"n":1}`; got != want {
		t.Errorf("value: got %s, want %s", got, want)
	}
	blob := strings.Repeat("x", 1<<20)
	if _, err := c.PutBlob(ctx, "", "/f", strings.NewReader(blob), -1, ""); err != nil {
		t.Fatal(err)
	}
	rc, err := c.OpenBlob(ctx, "", "/f", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil || string(b) != blob {
		t.Errorf("blob: got %d bytes (%v), want %d", len(b), err, len(blob))
	}
}

// TestWatchReconnects: the fake's streams break every three events; the
// client reconnects with Last-Event-ID and delivers every commit once.
func TestWatchReconnects(t *testing.T) {
	f, c := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.mu.Lock()
	for range 10 {
		f.commit()
	}
	want := append([]coda.ID(nil), f.commits...)
	f.mu.Unlock()
	ch, err := c.Watch(ctx, "", "/", "")
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		ev, ok := <-ch
		if !ok {
			t.Fatalf("stream closed after %d events", i)
		}
		if ev.Commit != w || ev.ID != w.String() {
			t.Fatalf("event %d: got %s (id %s), want %s", i, ev.Commit, ev.ID, w)
		}
	}
	f.mu.Lock()
	w := f.commit()
	f.mu.Unlock()
	if ev := <-ch; ev.Commit != w {
		t.Fatalf("event after reconnect: got %s, want %s", ev.Commit, w)
	}
}
