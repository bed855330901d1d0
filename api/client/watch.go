package client

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Event is one server-sent event of a watch: a commit that touched the
// watched prefix. ID is the event's id, which a reconnect sends back as
// Last-Event-ID to resume after it.
type Event struct {
	ID     string
	Type   string          // the SSE event name ("commit" if unnamed by the node)
	Commit coda.ID         // the commit, when the data says {"commit": ID, ...}
	Data   json.RawMessage // the event's data as sent
}

// Watch streams the commits of world that touch prefix ("" or "/" is
// all), starting after the event lastEventID ("" is from now). When the
// stream breaks it reconnects, sending the id of the last event delivered
// as Last-Event-ID, so no commit is missed or repeated. The channel is
// closed when ctx is done or the node refuses the watch (an error answer
// other than unavailable). The first connection's error is returned.
func (c *Client) Watch(ctx context.Context, world, prefix, lastEventID string) (<-chan Event, error) {
	resp, err := c.openWatch(ctx, world, prefix, lastEventID)
	if err != nil {
		return nil, err
	}
	ch := make(chan Event)
	delay := c.opts.ReconnectDelay
	if delay <= 0 {
		delay = 100 * time.Millisecond
	}
	go func() {
		defer close(ch)
		last := lastEventID
		for {
			last = readEvents(ctx, resp, last, ch)
			resp.Body.Close()
			for {
				if ctx.Err() != nil {
					return
				}
				t := time.NewTimer(delay)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				resp, err = c.openWatch(ctx, world, prefix, last)
				if err == nil {
					break
				}
				if k := errs.KindOf(err); k != errs.Unavailable && k != errs.Other && k != errs.Internal {
					return
				}
			}
		}
	}()
	return ch, nil
}

func (c *Client) openWatch(ctx context.Context, world, prefix, last string) (*http.Response, error) {
	var q url.Values
	if prefix != "" {
		q = url.Values{"path": {prefix}}
	}
	h := http.Header{"Accept": {"text/event-stream"}}
	if last != "" {
		h.Set("Last-Event-ID", last)
	}
	return c.send(ctx, request{method: http.MethodGet, path: worldPath(world, "/watch"), query: q, header: h})
}

// readEvents sends the events of one SSE stream on ch until the stream
// ends, and returns the id of the last event sent (last if none).
func readEvents(ctx context.Context, resp *http.Response, last string, ch chan<- Event) string {
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var ev Event
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(data) == 0 {
				ev = Event{}
				continue
			}
			ev.Data = json.RawMessage(strings.Join(data, "\n"))
			if ev.Type == "" {
				ev.Type = "commit"
			}
			var d struct {
				Commit coda.ID `json:"commit"`
				ID     coda.ID `json:"id"`
			}
			if json.Unmarshal(ev.Data, &d) == nil {
				ev.Commit = d.Commit
				if ev.Commit.IsZero() {
					ev.Commit = d.ID
				}
			}
			if ev.ID == "" {
				ev.ID = last
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return last
			}
			last = ev.ID
			ev, data = Event{}, nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment: keep-alive
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.ID = value
		case "event":
			ev.Type = value
		case "data":
			data = append(data, value)
		}
	}
	return last
}
