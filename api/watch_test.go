package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/coda"
)

type sse struct {
	id, event, data string
}

// stream opens a watch and returns a function reading the next event;
// it returns once the server has said it is watching.
func (e *env) stream(ctx context.Context, query, last string) func() sse {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/v1/worlds/default/watch"+query, nil)
	req.Header.Set("Authorization", "Bearer node")
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { r.Body.Close() })
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/event-stream" {
		e.t.Fatalf("watch: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(r.Body)
	if !sc.Scan() || sc.Text() != ": watching" {
		e.t.Fatalf("watch: first line %q", sc.Text())
	}
	return func() sse {
		e.t.Helper()
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && ev.id != "":
				return ev
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
		e.t.Fatalf("watch: stream ended: %v", sc.Err())
		return ev
	}
}

func (e *env) putNote(path string, n int) string {
	e.t.Helper()
	r := e.do("node", "PUT", "/v1/worlds/default/tree"+path+"?schema=Note", "application/json", []byte(`{"text":"t","n":`+string(rune('0'+n))+`}`))
	e.want(r, 201)
	var c api.CommitResult
	json.Unmarshal(r.body, &c)
	return c.Commit.String()
}

// TestWatchResume: every commit touching the prefix is delivered exactly
// once, in order, across a reconnect with Last-Event-ID.
func TestWatchResume(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	ctx1, cancel1 := context.WithCancel(context.Background())
	next := e.stream(ctx1, "?path=/w", "")
	var want []string
	for i := range 3 {
		want = append(want, e.putNote("/w/a", i))
		e.putNote("/other", i) // not under /w: no event
		e.putNote("/wx", i)    // nor is /wx
	}
	var got []string
	for range 3 {
		ev := next()
		if ev.event != "commit" {
			t.Errorf("event %q", ev.event)
		}
		var ci struct{ ID string }
		if json.Unmarshal([]byte(ev.data), &ci); ci.ID != ev.id {
			t.Errorf("data %s, id %s", ev.data, ev.id)
		}
		got = append(got, ev.id)
	}
	cancel1()
	// Commits made while disconnected come first after the reconnect.
	want = append(want, e.putNote("/w/b", 3), e.putNote("/w/c", 4))
	next = e.stream(context.Background(), "?path=/w", got[len(got)-1])
	got = append(got, next().id, next().id)
	want = append(want, e.putNote("/w/a", 5))
	got = append(got, next().id)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events\n got %v\nwant %v", got, want)
	}

	// An unknown Last-Event-ID is refused.
	r := e.do("node", "GET", "/v1/worlds/default/watch", "", nil, "Last-Event-ID", "nonsense")
	e.want(r, 400)
}

// TestWatchMerge: commits a merge brings into the branch are sent, then
// the merge commit itself, even when the merge commit's time is the old
// head's (a merge takes the greatest time of its parents) and its own ops
// do not touch the prefix; resuming from the merge repeats nothing.
func TestWatchMerge(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	w, err := e.h.World("")
	if err != nil {
		t.Fatal(err)
	}
	base := w.Branch()
	if err := w.CreateBranch("b", coda.ID{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Switch("b"); err != nil {
		t.Fatal(err)
	}
	x := e.putNote("/w/x", 1) // on b
	if err := w.Switch(base); err != nil {
		t.Fatal(err)
	}
	e.putNote("/other", 2) // the branch moves on: newer than x
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next := e.stream(ctx, "?path=/w", "")
	r := e.do("node", "POST", "/v1/worlds/default/merge", "application/json", []byte(`{"branch":"b"}`))
	e.want(r, 200)
	var m api.MergeResult
	if err := json.Unmarshal(r.body, &m); err != nil || !m.Merge {
		t.Fatalf("merge: %s (%v), want a merge commit", r.body, err)
	}
	c := e.putNote("/w/c", 3)
	got := []string{next().id, next().id, next().id}
	want := []string{x, m.Commit.String(), c}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events\n got %v\nwant %v (the merged commit, the merge, the next commit)", got, want)
	}

	next = e.stream(ctx, "?path=/w", m.Commit.String())
	d := e.putNote("/w/d", 4)
	got = []string{next().id, next().id}
	if want := []string{c, d}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("resumed after the merge: events\n got %v\nwant %v", got, want)
	}
}

// TestWatchBadPath: a watched path that is not a path is refused before
// the stream starts.
func TestWatchBadPath(t *testing.T) {
	e := newEnv(t, api.Options{})
	for _, q := range []string{"?path=/a//b", "?path=a/", "?path=/a/../b"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/v1/worlds/default/watch"+q, nil)
		req.Header.Set("Authorization", "Bearer node")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != 400 {
			t.Errorf("watch%s: status %d, want 400", q, r.StatusCode)
		}
		r.Body.Close()
		cancel()
	}
}

// TestWatchShutdown: a server's Shutdown ends its watch streams instead
// of waiting for their clients to leave.
func TestWatchShutdown(t *testing.T) {
	e := newEnv(t, api.Options{})
	srv := httptest.NewServer(api.New(e.h, e.opts))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/worlds/default/watch", nil)
	req.Header.Set("Authorization", "Bearer node")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	sc := bufio.NewScanner(r.Body)
	if !sc.Scan() || sc.Text() != ": watching" {
		t.Fatalf("watch: first line %q", sc.Text())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a watch open: %v after %v", err, time.Since(start))
	}
	for sc.Scan() {
	}
	if err := sc.Err(); err != nil {
		t.Errorf("the stream ended with %v, want a clean end", err)
	}
}

// TestWatchACL: a watch sends only the commits the caller may read, with
// their readable ops only, and refuses a Last-Event-ID it may not see.
func TestWatchACL(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.schemas()
	e.want(e.do("node", "POST", "/v1/worlds/default/acl/grant", "application/json", []byte(`{"path":"/pub","who":"bob","rights":"read"}`)), 201)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/v1/worlds/default/watch", nil)
	req.Header.Set("Authorization", "Bearer bob")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	sc := bufio.NewScanner(r.Body)
	if !sc.Scan() || sc.Text() != ": watching" {
		t.Fatalf("watch: first line %q", sc.Text())
	}
	secret := e.putNote("/docs/a", 1)
	pub := e.putNote("/pub/a", 2)
	tr := e.do("node", "POST", "/v1/worlds/default/transactions", "application/json", []byte(`[
		{"op": "put", "path": "/docs/b", "schema": "Note", "value": {"text": "s", "n": 3}},
		{"op": "put", "path": "/pub/b", "schema": "Note", "value": {"text": "p", "n": 4}}]`))
	e.want(tr, 201)
	var both api.CommitResult
	json.Unmarshal(tr.body, &both)
	var got []api.WatchEvent
	for sc.Scan() && len(got) < 2 {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var ev api.WatchEvent
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatal(err)
			}
			got = append(got, ev)
		}
	}
	if len(got) != 2 || got[0].ID.String() != pub || got[1].ID != both.Commit || got[1].Ops != 1 {
		t.Errorf("bob's events: %+v\nwant %s, then %s with 1 op of 2", got, pub, both.Commit)
	}
	// The events are audited as bob's reads of the log.
	au := e.do("node", "GET", "/v1/audit", "", nil)
	e.want(au, 200)
	var recs []struct{ Actor, Action, Result string }
	if err := json.Unmarshal(au.body, &recs); err != nil {
		t.Fatalf("audit: %v: %s", err, au.body)
	}
	logged := false
	for _, r := range recs {
		logged = logged || r.Actor == e.bob.Key() && r.Action == "log" && r.Result == "ok"
	}
	if !logged {
		t.Errorf("no audit record of bob reading the log: %s", au.body)
	}
	res := e.do("bob", "GET", "/v1/worlds/default/watch", "", nil, "Last-Event-ID", secret)
	if res.status != 400 {
		t.Errorf("bob resuming from a commit he may not see: status %d, want 400: %s", res.status, res.body)
	}
}
