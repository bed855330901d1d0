package api

import (
	"bytes"
	"cmp"
	"container/heap"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// keepAlive is how often an idle watch stream sends a comment line, so
// proxies and clients see it is alive.
const keepAlive = 15 * time.Second

// watch streams one server-sent event per commit of the current branch
// touching the prefix (readable by the caller):
//
//	id: COMMIT
//	event: commit
//	data: {"id", "world", "parents", "tree", "author", "time", "message", "ops", …}
//
// The stream's position is a commit, P: the head at connection, or the
// commit Last-Event-ID names. Whenever the head moves to H, the stream
// sends the commits that are ancestors of H (H included) and not of P,
// in parents-first order (oldest first among those ready), and P becomes
// H. When the last event of such a batch is not a descendant of P and of
// every other event of the batch — commits a merge brought in — the
// first merge commit of the batch that is (usually the merge itself) is
// sent after them, even if its own ops do not touch the prefix. So the
// last event of a batch names a commit whose ancestors are every commit
// sent before it: resuming from it repeats nothing. Resuming never misses
// a commit; docs/api.md ("Watch") names the two cases, both after merges,
// where it may repeat some.
func (s *server) watch(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	wd := v.World()
	stopping := shutdownOf(r)
	prefix, err := watchPrefix(r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	// Subscribe before reading the head, so no commit falls between.
	sig, cancel := s.h.Subscribe(wd.ID())
	defer cancel()
	var pos coda.ID
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		id, err := coda.ParseID(last)
		if err != nil {
			return errs.E(errs.Invalid, fmt.Sprintf("Last-Event-ID: %q is not a commit id", last))
		}
		if _, _, err := v.LoadCommit(id); err != nil {
			return errs.E(errs.Invalid, fmt.Sprintf("Last-Event-ID: unknown commit %s", id))
		}
		pos = id
	} else if pos, err = wd.Head(); err != nil {
		return err
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
		if pos, err = s.sendSince(w, v, prefix, pos); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil {
			return err
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-stopping:
			// The server is shutting down: end the stream, so that
			// Shutdown need not wait for it; the client resumes on the
			// next node with Last-Event-ID.
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

// watchPrefix is the watched prefix in canonical form, "" for all.
func watchPrefix(p string) (string, error) {
	if p == "" || p == "/" {
		return "", nil
	}
	segs, err := tree.SplitPath(p)
	if err != nil {
		return "", errs.E(errs.Invalid, errs.Path(p), fmt.Errorf("watch: path: %w", err))
	}
	return tree.JoinPath(segs), nil
}

// touches reports whether one of c's ops is at prefix or under it.
func touches(c *cdb.Commit, prefix string) bool {
	if prefix == "" {
		return true
	}
	for _, o := range c.Ops {
		if o.Path == prefix || strings.HasPrefix(o.Path, prefix+"/") {
			return true
		}
	}
	return false
}

// sendSince sends the events for the head's ancestors that are not pos's
// (see watch) and returns the new position: the head.
func (s *server) sendSince(w http.ResponseWriter, v *cdb.View, prefix string, pos coda.ID) (coda.ID, error) {
	wd := v.World()
	head, err := wd.Head()
	if err != nil || head == pos {
		return pos, err
	}
	fresh, err := newCommits(wd.LoadCommit, pos, head)
	if err != nil {
		return pos, err
	}
	// see is c as the reader sees it: nil if the reader may read none of
	// its ops, or (unless c is a cover) none under prefix.
	see := func(c *cdb.Commit, cover bool) (*cdb.Commit, error) {
		if !cover && !touches(c, prefix) {
			return nil, nil
		}
		f, err := v.Filter(c.ID)
		if err != nil {
			return nil, err
		}
		fc := readable(c, f)
		if len(c.Ops) > 0 && len(fc.Ops) == 0 || !cover && !touches(fc, prefix) {
			return nil, nil
		}
		return fc, nil
	}
	events, err := eventsOf(fresh, pos, see)
	if err != nil {
		return pos, err
	}
	// One audit record per batch, not per event (each is a synced
	// append, and a stream must keep up with many writers): the log of
	// prefix read at the batch's last event touching it, which is what
	// a one-commit Log from there records.
	for i := len(events) - 1; i >= 0; i-- {
		if touches(events[i], prefix) {
			if _, err := v.Log(events[i].ID, prefix, 1); err != nil {
				return pos, err
			}
			break
		}
	}
	for _, c := range events {
		b, err := json.Marshal(c.Info())
		if err != nil {
			return pos, err
		}
		if _, err := fmt.Fprintf(w, "id: %s\nevent: commit\ndata: %s\n\n", c.ID, b); err != nil {
			return pos, err
		}
	}
	return head, nil
}

// readable returns c with only the ops and conflicts f lets the reader
// read, as cdb.View.LoadCommit gives it (f is the view's Filter at c: a
// directory's metadata leaf is "/dir/").
func readable(c *cdb.Commit, f func(path string) bool) *cdb.Commit {
	leaf := func(p string, meta bool) string {
		if meta && p != "/" {
			return p + "/"
		}
		return p
	}
	cp := *c
	cp.Ops, cp.Conflicts = nil, nil
	for _, o := range c.Ops {
		if f(leaf(o.Path, o.Meta)) {
			cp.Ops = append(cp.Ops, o)
		}
	}
	for _, k := range c.Conflicts {
		if f(leaf(k.Path, k.Meta)) {
			cp.Conflicts = append(cp.Conflicts, k)
		}
	}
	return &cp
}

// eventsOf returns the events of a batch: fresh, the commits new since
// position pos in parents-first order (newCommits), as see returns them,
// skipping those it returns nil for; then, if the last of them is not a
// descendant of pos and of all the others, the first merge commit after
// it in fresh that is (as see returns it with cover set; none if nil).
func eventsOf(fresh []*cdb.Commit, pos coda.ID, see func(c *cdb.Commit, cover bool) (*cdb.Commit, error)) ([]*cdb.Commit, error) {
	var events []*cdb.Commit
	last := -1 // index in fresh of the last event
	for i, c := range fresh {
		e, err := see(c, false)
		if err != nil {
			return nil, err
		}
		if e != nil {
			events, last = append(events, e), i
		}
	}
	if len(events) == 0 {
		return nil, nil
	}
	in := make(map[coda.ID]*cdb.Commit, len(fresh))
	for _, c := range fresh {
		in[c.ID] = c
	}
	if covers(in, fresh[last], pos, events) {
		return events, nil
	}
	// Commits a merge brought: follow them with the merge that makes the
	// last event a safe place to resume from. (The first commit after
	// the last event that covers them all is a merge: a commit with one
	// parent covers no more than its parent, save itself.)
	for _, c := range fresh[last+1:] {
		if !c.IsMerge() || !covers(in, c, pos, events) {
			continue
		}
		e, err := see(c, true)
		if err != nil {
			return nil, err
		}
		if e != nil {
			events = append(events, e)
		}
		break
	}
	return events, nil
}

// covers reports whether pos and every commit of events are ancestors of
// c, walking only the commits of in: the ancestors of the head that are
// not pos's (a path from c to pos or to an event stays among them).
func covers(in map[coda.ID]*cdb.Commit, c *cdb.Commit, pos coda.ID, events []*cdb.Commit) bool {
	want := make(map[coda.ID]bool, len(events)+1)
	want[pos] = true
	for _, e := range events {
		want[e.ID] = true
	}
	seen := map[coda.ID]bool{c.ID: true}
	delete(want, c.ID)
	stack := []*cdb.Commit{c}
	for len(stack) > 0 && len(want) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range c.Parents {
			delete(want, p)
			if pc := in[p]; pc != nil && !seen[p] {
				seen[p] = true
				stack = append(stack, pc)
			}
		}
	}
	return len(want) == 0
}

// newCommits returns the ancestors of head (head included) that are not
// ancestors of pos, parents first, and among the commits whose parents
// are out, oldest first (by time, then id).
//
// The walk from head stops at pos's ancestors. To know them it walks back
// from pos, newest first, only as far as the oldest commit met from head:
// a commit's time is never less than its parents', so every path from
// pos to an ancestor of time t passes only through commits of time ≥ t.
// When head descends from pos along new commits (the usual case), that is
// pos itself, and the cost is the number of new commits.
func newCommits(load func(coda.ID) (*cdb.Commit, error), pos, head coda.ID) ([]*cdb.Commit, error) {
	pc, err := load(pos)
	if err != nil {
		return nil, err
	}
	old := map[coda.ID]bool{pos: true} // ancestors of pos found so far
	oq := &commitHeap{pc}
	// expand finds every ancestor of pos whose time is at least c's.
	expand := func(c *cdb.Commit) error {
		for oq.Len() > 0 && (*oq)[0].Time >= c.Time {
			o := heap.Pop(oq).(*cdb.Commit)
			for _, p := range o.Parents {
				if old[p] {
					continue
				}
				old[p] = true
				poc, err := load(p)
				if err != nil {
					return err
				}
				heap.Push(oq, poc)
			}
		}
		return nil
	}
	var fresh []*cdb.Commit
	seen := map[coda.ID]bool{head: true}
	todo := []coda.ID{head}
	for len(todo) > 0 {
		id := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		c, err := load(id)
		if err != nil {
			return nil, err
		}
		if err := expand(c); err != nil {
			return nil, err
		}
		if old[id] {
			continue
		}
		fresh = append(fresh, c)
		for _, p := range c.Parents {
			if !seen[p] {
				seen[p] = true
				todo = append(todo, p)
			}
		}
	}
	return parentsFirst(fresh), nil
}

// parentsFirst orders cs so that every commit comes after its parents in
// cs, and among the commits ready, the oldest (by time, then id) first.
func parentsFirst(cs []*cdb.Commit) []*cdb.Commit {
	in := make(map[coda.ID]bool, len(cs))
	for _, c := range cs {
		in[c.ID] = true
	}
	waiting := make(map[coda.ID]int, len(cs)) // parents in cs not yet placed
	children := make(map[coda.ID][]*cdb.Commit, len(cs))
	ready := &readyHeap{}
	for _, c := range cs {
		for _, p := range c.Parents {
			if in[p] {
				waiting[c.ID]++
				children[p] = append(children[p], c)
			}
		}
		if waiting[c.ID] == 0 {
			heap.Push(ready, c)
		}
	}
	out := make([]*cdb.Commit, 0, len(cs))
	for ready.Len() > 0 {
		c := heap.Pop(ready).(*cdb.Commit)
		out = append(out, c)
		for _, k := range children[c.ID] {
			if waiting[k.ID]--; waiting[k.ID] == 0 {
				heap.Push(ready, k)
			}
		}
	}
	return out
}

func newer(a, b *cdb.Commit) int {
	return cmp.Or(cmp.Compare(a.Time, b.Time), bytes.Compare(a.ID[:], b.ID[:]))
}

// commitHeap pops the newest commit first.
type commitHeap []*cdb.Commit

func (h commitHeap) Len() int           { return len(h) }
func (h commitHeap) Less(i, j int) bool { return newer(h[i], h[j]) > 0 }
func (h commitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *commitHeap) Push(x any)        { *h = append(*h, x.(*cdb.Commit)) }
func (h *commitHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// readyHeap pops the oldest commit first.
type readyHeap struct{ commitHeap }

func (h readyHeap) Less(i, j int) bool { return newer(h.commitHeap[i], h.commitHeap[j]) < 0 }

// shutdowns maps each *http.Server that has served a watch to a channel
// closed when its Shutdown begins: Shutdown waits for handlers to return,
// and a watch would otherwise return only when its client leaves. The
// entries stay (a pointer and a channel per server), so a watch that
// arrives on a connection still open during the shutdown sees it too.
// Only the first watch of a server, racing with its Shutdown, can miss
// it (http.Server runs the hooks registered before Shutdown only); the
// node's ShutdownTimeout ends that one.
var shutdowns sync.Map // *http.Server → chan struct{}

// shutdownOf returns a channel closed when the server serving r begins to
// shut down (nil, never closed, if r carries no *http.Server).
func shutdownOf(r *http.Request) <-chan struct{} {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return nil
	}
	ch := make(chan struct{})
	if got, loaded := shutdowns.LoadOrStore(srv, ch); loaded {
		return got.(chan struct{})
	}
	srv.RegisterOnShutdown(func() { close(ch) })
	return ch
}
