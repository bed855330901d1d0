package api_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
)

// publishDirect publishes the circle into e's default world without the
// API (whose ordinary routes a test may have made unusable).
func (e *env) publishDirect(t *testing.T) {
	t.Helper()
	w, err := e.h.World("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := module.Publish(context.Background(), w, e.h.NodeKey(), filepath.Join("..", "examples", "modules", "circle")); err != nil {
		t.Fatal(err)
	}
}

// TestLongJobs: verify and evaluate run under Options.LongTimeout, not
// the request timeout that bounds the other routes: with a request
// timeout of 1 ns, build (an ordinary route) is cut short (499) while
// verify and evaluate run to the end; with a long-job timeout of 1 ns,
// verify is cut short too, and commits nothing. The OpenAPI document
// says which routes are long jobs.
func TestLongJobs(t *testing.T) {
	mod := "/v1/worlds/default/modules/" + circle
	e := newEnv(t, api.Options{Timeout: time.Nanosecond})
	e.publishDirect(t)
	e.want(e.do("node", "POST", mod+"/verify", "", nil), 200)
	e.want(e.do("node", "POST", mod+"/evaluate", "", nil), 200)
	r := e.do("node", "POST", mod+"/build", "", nil)
	e.want(r, 499)
	if p := problem(t, r); p.Kind != errs.Canceled.String() {
		t.Fatalf("build under a 1 ns timeout: %+v", p)
	}

	short := newEnv(t, api.Options{Timeout: time.Nanosecond, LongTimeout: time.Nanosecond})
	short.publishDirect(t)
	w, _ := short.h.World("")
	head, _ := w.Head()
	r = short.do("node", "POST", mod+"/verify", "", nil)
	short.want(r, 499)
	if h, _ := w.Head(); h != head {
		t.Fatal("a verify cut short committed")
	}

	doc := api.OpenAPI("test")["paths"].(map[string]any)
	for path, long := range map[string]bool{mod[len("/v1"):] + "/verify": true, mod[len("/v1"):] + "/evaluate": true, "/collect": true, mod[len("/v1"):] + "/build": false} {
		p := "/v1" + strings.Replace(path, "default/modules/"+circle, "{world}/modules/{name}", 1)
		op := doc[p].(map[string]any)["post"].(map[string]any)
		desc, _ := op["description"].(string)
		if strings.Contains(desc, "long job") != long {
			t.Errorf("OpenAPI %s: description %q, want a long job %v", p, desc, long)
		}
	}
}

// TestLongJobClientGone: a verify whose client has gone away (its
// request context canceled) stops, answers 499 and commits nothing.
func TestLongJobClientGone(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.publishDirect(t)
	w, _ := e.h.World("")
	head, _ := w.Head()
	h := api.New(e.h, e.opts)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "POST", "/v1/worlds/default/modules/"+circle+"/verify", nil)
	req.Header.Set("Authorization", "Bearer node")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 499 {
		t.Fatalf("verify for a client gone: status %d, want 499: %s", rec.Code, rec.Body)
	}
	if h, _ := w.Head(); h != head {
		t.Fatal("a verify whose client went away committed")
	}
}
