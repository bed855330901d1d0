package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/coalescent/coal/api"
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
