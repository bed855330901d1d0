package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// keepAlive is how often an idle watch stream sends a comment line, so
// proxies and clients see it is alive.
const keepAlive = 15 * time.Second

// watch streams one server-sent event per commit of the current branch
// touching the prefix (readable by the caller), oldest first:
//
//	id: COMMIT
//	event: commit
//	data: {"id", "world", "parents", "tree", "author", "time", "message", "ops", …}
//
// The stream starts after the head at connection, or after the commit
// Last-Event-ID names. Which commits come "after" one is decided by the
// branch's log (newest first by time): every commit in it later than the
// last one sent. A commit merged in from another branch that is older
// than the last event is not sent itself; the merge commit that brings
// it is (docs/api.md).
func (s *server) watch(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	wd := v.World()
	prefix := r.URL.Query().Get("path")
	// Subscribe before reading the head, so no commit falls between.
	sig, cancel := s.h.Subscribe(wd.ID())
	defer cancel()
	var since hlc.Time
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		id, err := coda.ParseID(last)
		if err != nil {
			return errs.E(errs.Invalid, fmt.Sprintf("Last-Event-ID: %q is not a commit id", last))
		}
		cm, _, err := v.LoadCommit(id)
		if err != nil {
			return errs.E(errs.Invalid, fmt.Sprintf("Last-Event-ID: unknown commit %s", id))
		}
		since = cm.Time
	} else {
		head, err := wd.Head()
		if err != nil {
			return err
		}
		cm, err := wd.LoadCommit(head)
		if err != nil {
			return err
		}
		since = cm.Time
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream has no end to wait for
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, ": watching\n\n"); err != nil {
		return err
	}
	rc.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		if since, err = s.sendSince(w, v, prefix, since); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil {
			return err
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return err
			}
			rc.Flush()
		case <-sig:
		}
	}
}

// sendSince sends, oldest first, the commits of the head's log touching
// prefix whose time is after since, and returns the time to continue
// from.
func (s *server) sendSince(w http.ResponseWriter, v *cdb.View, prefix string, since hlc.Time) (hlc.Time, error) {
	wd := v.World()
	head, err := wd.Head()
	if err != nil {
		return since, err
	}
	hc, err := wd.LoadCommit(head)
	if err != nil {
		return since, err
	}
	if hc.Time <= since {
		return since, nil
	}
	var fresh []cdb.CommitInfo
	for n := 64; ; n *= 2 {
		cs, err := v.Log(head, prefix, n)
		if err != nil {
			return since, err
		}
		fresh = fresh[:0]
		done := len(cs) < n
		for _, ci := range cs {
			if ci.Time <= since {
				done = true
				break
			}
			fresh = append(fresh, ci)
		}
		if done {
			break
		}
	}
	for i := len(fresh) - 1; i >= 0; i-- {
		b, err := json.Marshal(fresh[i])
		if err != nil {
			return since, err
		}
		if _, err := fmt.Fprintf(w, "id: %s\nevent: commit\ndata: %s\n\n", fresh[i].ID, b); err != nil {
			return since, err
		}
	}
	return hc.Time, nil
}
