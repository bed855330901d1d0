package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// This file holds issue 6's checks that need the real `coal serve`
// process: the watch stream across broken connections and a restart, and
// kill -9 during writes.

// sseEvent is one server-sent event, complete (its blank line received).
type sseEvent struct {
	id, event, data string
}

// sseStream is an open watch. Its events arrive on events, which is
// closed when the stream ends.
type sseStream struct {
	resp   *http.Response
	events chan sseEvent
}

// openWatch opens GET base/v1/worlds/default/watch?path=prefix with the
// token, sending Last-Event-ID last if not "", and returns once the node
// has said it is watching (": watching"): every commit after that is
// owed to the stream.
func openWatch(t *testing.T, hc *http.Client, base, token, prefix, last string) *sseStream {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/v1/worlds/default/watch?path="+prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("watch %s (Last-Event-ID %q): %v", prefix, last, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("watch %s (Last-Event-ID %q): %s %s\n%s", prefix, last, resp.Status, resp.Header.Get("Content-Type"), b)
	}
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); line != ": watching\n" {
		t.Fatalf("watch %s: first line %q (%v), want \": watching\"", prefix, line, err)
	}
	s := &sseStream{resp: resp, events: make(chan sseEvent, 1024)}
	go func() {
		defer close(s.events)
		var ev sseEvent
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return // a partial line or event is lost with the connection
			}
			line = strings.TrimSuffix(line, "\n")
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					s.events <- ev
				}
				ev = sseEvent{}
			case field == "id":
				ev.id = value
			case field == "event":
				ev.event = value
			case field == "data":
				ev.data = value
			}
		}
	}()
	return s
}

// next returns the stream's next event, failing the test if the stream
// ends or none comes within 20 s.
func (s *sseStream) next(t *testing.T, what string) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatalf("watch: stream ended waiting for %s", what)
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatalf("watch: no event in 20 s waiting for %s", what)
	}
	return sseEvent{}
}

// drain returns the events still delivered after the stream broke (those
// received whole before it did), once the stream has ended.
func (s *sseStream) drain(t *testing.T) []sseEvent {
	t.Helper()
	var evs []sseEvent
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		case <-timeout:
			t.Fatal("watch: the stream did not end within 20 s of the cut")
		}
	}
}

// cutProxy forwards TCP connections to a target address and can cut all
// of them at once, as a network failure would: each side sees its peer
// vanish, and what was in flight is lost.
type cutProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  map[net.Conn]bool
	split  atomic.Bool // cut in the middle of the next read from a target
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			target := p.target
			p.mu.Unlock()
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[u] = true, true
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { p.copyBack(c, u); c.Close() }()
		}
	}()
	return p
}

// copyBack copies what the target sends to the client until either side
// ends, or a split was asked for: then it passes on half of the next read
// and cuts every connection.
func (p *cutProxy) copyBack(c, u net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := u.Read(buf)
		if n > 0 {
			if p.split.CompareAndSwap(true, false) {
				c.Write(buf[:n/2])
				p.cut()
				return
			}
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *cutProxy) url() string { return "http://" + p.ln.Addr().String() }

// retarget sends new connections to target.
func (p *cutProxy) retarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

// cut closes every connection made so far.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		// RST rather than FIN where we can: a broken network, not a
		// polite close.
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
	clear(p.conns)
}

// setupHome makes a home with schema V { n: u64  s: string } and the
// directories dirs of that schema.
func setupHome(t *testing.T, bin string, dirs ...string) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	schema := filepath.Join(t.TempDir(), "v.coda")
	if err := os.WriteFile(schema, []byte("schema V { n: u64  s: string }\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	coalRun(t, bin, "init", "--home", home)
	coalRun(t, bin, "--home", home, "schema", "add", schema)
	for _, d := range dirs {
		coalRun(t, bin, "--home", home, "mkdir", d, "--schema", "V")
	}
	return home
}

// stop sends sig to the node and waits (at most 30 s) for it to exit,
// returning how long that took.
func (p *serveProc) stop(t *testing.T, sig syscall.Signal) time.Duration {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("coal serve did not exit within 30 s of %v\n%s", sig, p.stderr.String())
	}
	if sig != syscall.SIGKILL && p.err != nil {
		t.Fatalf("coal serve after %v: %v\n%s", sig, p.err, p.stderr.String())
	}
	return time.Since(start)
}

// TestServeWatchResume checks against the real node that a watch of /x
// delivers every commit touching /x exactly once and in commit order, and
// no other commit (not /y's, not /xy's), across (1) connections cut by a
// proxy while commits stream — once between reads, once in the middle of
// an event — resumed with Last-Event-ID, and (2) a restart of the node
// (SIGTERM with the stream open, which must end it at once; commits made
// by the CLI while no node runs; a new node on the same home), resumed
// the same way. A raw SSE reader and api/client's Watch (which resumes by
// itself) watch side by side.
func TestServeWatchResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the coal binary; skipped with -short")
	}
	bin := coalBinary(t)
	home := setupHome(t, bin, "/x", "/y", "/xy")
	tokenB, err := os.ReadFile(filepath.Join(home, "token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenB))
	node := startServeProc(t, bin, home)
	px := newCutProxy(t, strings.TrimPrefix(node.url, "http://"))
	// The watch's own client: its connections go through the proxy and
	// never back to a pool the cut emptied.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	ctx := context.Background()

	var (
		mu      sync.Mutex
		want    []string              // commits touching /x, in commit order
		outside = map[string]string{} // commit → path, for commits that must not arrive
	)
	seq := 0
	// commit makes one commit through the node, cycling through /x, /y
	// and /xy, and records it.
	commitIn := func(dir string, put func(path, value string) (string, error)) error {
		seq++
		path := fmt.Sprintf("%s/k%d", dir, seq%5)
		id, err := put(path, fmt.Sprintf(`{"n": %d, "s": "watch"}`, seq))
		if err != nil {
			return fmt.Errorf("put %s: %w", path, err)
		}
		mu.Lock()
		if dir == "/x" {
			want = append(want, id)
		} else {
			outside[id] = path
		}
		mu.Unlock()
		return nil
	}
	commit := func(put func(path, value string) (string, error)) error {
		return commitIn([]string{"/x", "/y", "/x", "/xy"}[(seq+1)%4], put)
	}
	viaNode := func(p *serveProc) func(path, value string) (string, error) {
		return func(path, value string) (string, error) {
			id, err := p.c.Put(ctx, "", path, []byte(value), "", "")
			return id.String(), err
		}
	}
	// writeWhile commits through p until stop is closed or n commits are
	// made, then reports on done.
	writeWhile := func(p *serveProc, n int, stop <-chan struct{}) <-chan error {
		done := make(chan error, 1)
		go func() {
			for range n {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				if err := commit(viaNode(p)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		return done
	}
	var got []sseEvent
	receive := func(s *sseStream, n int, what string) {
		t.Helper()
		for range n {
			got = append(got, s.next(t, what))
		}
	}
	wantLen := func() int { mu.Lock(); defer mu.Unlock(); return len(want) }

	// 1. Cut the connection while commits stream, and resume; twice: once
	// between reads, once in the middle of what the node sent (the event
	// cut in two is lost with the connection, and comes again).
	s := openWatch(t, hc, px.url(), token, "/x", "")
	// And the typed client's Watch, which reconnects by itself, through
	// the same cuts.
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	tc := client.New(px.url(), token, client.Options{ReconnectDelay: 20 * time.Millisecond})
	typed, err := tc.Watch(wctx, "", "/x", "")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := writeWhile(node, 1000, stop)
	receive(s, 10, "the first 10 events")
	px.cut()
	got = append(got, s.drain(t)...)
	t.Logf("cut after %d events (%d of them still in the stream's buffers)", len(got), len(got)-10)
	s = openWatch(t, hc, px.url(), token, "/x", got[len(got)-1].id)
	receive(s, 10, "events after the first reconnect")
	px.split.Store(true)
	got = append(got, s.drain(t)...)
	t.Logf("cut in the middle of a read after %d events", len(got))
	s = openWatch(t, hc, px.url(), token, "/x", got[len(got)-1].id)
	receive(s, 10, "events after the second reconnect")
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	receive(s, wantLen()-len(got), "the rest of the commits made across the cuts")
	t.Logf("%d commits touching /x so far, %d elsewhere", wantLen(), len(outside))

	// 2. Restart the node with the stream open; commit with the CLI while
	// it is down; resume on the new node.
	if err := <-writeWhile(node, 8, nil); err != nil {
		t.Fatal(err)
	}
	receive(s, wantLen()-len(got), "commits before SIGTERM")
	took := node.stop(t, syscall.SIGTERM)
	t.Logf("coal serve stopped %v after SIGTERM with a watch open", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("coal serve took %v to stop with a watch open: the stream held the shutdown", took)
	}
	if evs := s.drain(t); len(evs) > 0 {
		t.Errorf("watch: %d events after the node stopped, with no commits made", len(evs))
	}
	direct := func(path, value string) (string, error) {
		out, err := exec.Command(bin, "--home", home, "put", path, "--json", value).Output()
		return strings.TrimSpace(string(out)), err
	}
	for range 6 {
		if err := commit(direct); err != nil {
			t.Fatal(err)
		}
	}
	node = startServeProc(t, bin, home)
	px.retarget(strings.TrimPrefix(node.url, "http://"))
	s = openWatch(t, hc, px.url(), token, "/x", got[len(got)-1].id)
	receive(s, wantLen()-len(got), "the commits made while no node ran")
	if err := <-writeWhile(node, 12, nil); err != nil {
		t.Fatal(err)
	}
	receive(s, wantLen()-len(got), "commits on the new node")

	// Nothing more may come: one last commit under /x is the next event.
	if err := commitIn("/x", viaNode(node)); err != nil {
		t.Fatal(err)
	}
	receive(s, 1, "the last commit")

	// The typed client saw the same.
	var typedIDs []string
	for len(typedIDs) < len(want) {
		select {
		case ev, ok := <-typed:
			if !ok {
				t.Fatalf("client.Watch: the channel closed after %d events", len(typedIDs))
			}
			typedIDs = append(typedIDs, ev.ID)
		case <-time.After(20 * time.Second):
			t.Fatalf("client.Watch: %d events after 20 s, want %d", len(typedIDs), len(want))
		}
	}
	if strings.Join(typedIDs, "\n") != strings.Join(want, "\n") {
		t.Errorf("client.Watch delivered %d events, want the %d commits touching /x once each in order:\n%s", len(typedIDs), len(want), diffLines(typedIDs, want))
	}

	var ids []string
	for i, ev := range got {
		if ev.event != "commit" {
			t.Errorf("event %d: type %q, want commit", i, ev.event)
		}
		var ci struct {
			ID coda.ID `json:"id"`
		}
		if err := json.Unmarshal([]byte(ev.data), &ci); err != nil || ci.ID.String() != ev.id {
			t.Errorf("event %d: id %s, data %s (%v)", i, ev.id, ev.data, err)
		}
		if p, ok := outside[ev.id]; ok {
			t.Errorf("event %d: commit %s of %s, outside /x", i, ev.id, p)
		}
		ids = append(ids, ev.id)
	}
	if strings.Join(ids, "\n") != strings.Join(want, "\n") {
		t.Errorf("watch /x delivered %d events, want the %d commits touching /x once each in order:\n%s", len(ids), len(want), diffLines(ids, want))
	}
	// The node's log of /x agrees with the commits recorded.
	log, err := node.c.Log(ctx, "", "", "/x", 0)
	if err != nil {
		t.Fatal(err)
	}
	var fromLog []string
	for i := len(log) - 1; i >= 0; i-- {
		if len(fromLog) > 0 || log[i].ID.String() == want[0] {
			fromLog = append(fromLog, log[i].ID.String())
		}
	}
	if strings.Join(fromLog, "\n") != strings.Join(want, "\n") {
		t.Errorf("GET log?path=/x from the first watched commit:\n%s", diffLines(fromLog, want))
	}
	t.Logf("%d events checked, %d commits outside /x not sent", len(got), len(outside))
}

// diffLines describes where got and want first differ, and the
// repeated and missing elements.
func diffLines(got, want []string) string {
	var b strings.Builder
	for i := range max(len(got), len(want)) {
		g, w := "-", "-"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			fmt.Fprintf(&b, "first difference at %d: got %s, want %s\n", i, g, w)
			break
		}
	}
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	for _, w := range want {
		if count[w] == 0 {
			fmt.Fprintf(&b, "missing %s\n", w)
		}
		count[w]--
	}
	for g, n := range count {
		if n > 0 {
			fmt.Fprintf(&b, "extra %s ×%d\n", g, n)
		}
	}
	return b.String()
}

var kill9Rounds = flag.Int("kill9.rounds", 4, "rounds of TestServeKill9 (each kills one coal serve with SIGKILL during writes)")

// TestServeKill9 checks that SIGKILL of `coal serve` during writes loses
// no acknowledged commit. Each round starts the node on the same home, runs
// 16 writers that PUT increasing values to paths of their own, and kills
// the node with SIGKILL after a random number of acknowledgements (201s),
// while the writers have requests in flight. Then, with the node dead,
// `coal fsck` passes and `coal log --json` (the CLI on the home directly)
// holds every acknowledged commit; on the next node, GET log holds them
// and every path holds a value at least as new as the last one
// acknowledged there (a put in flight at the kill may have landed too, but
// nothing newer than what was sent). A watch of /d, resumed with
// Last-Event-ID on each new node, receives every commit in the log once,
// in order. At the end, after SIGTERM, `coal replay` and `coal fsck`
// pass.
func TestServeKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the coal binary; skipped with -short")
	}
	const writers, pathsPer = 16, 4
	bin := coalBinary(t)
	home := setupHome(t, bin, "/d")
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	t.Logf("seed %d, %d rounds (-kill9.rounds)", seed, *kill9Rounds)
	ctx := context.Background()

	type ack struct {
		commit coda.ID
		path   string
		n      int
	}
	var (
		mu     sync.Mutex
		acks   []ack
		acked  = map[string]int{} // path → greatest n acknowledged
		tried  = map[string]int{} // path → greatest n sent
		next   [writers]int       // writer → its last n (only it touches it)
		landed int                // puts in flight at the last kill found in the store after
	)
	// check checks the home with node serving it (after a kill) against
	// every acknowledgement so far.
	check := func(node *serveProc, when string) {
		t.Helper()
		log, err := node.c.Log(ctx, "", "", "", 0)
		if err != nil {
			t.Fatalf("%s: GET log: %v", when, err)
		}
		inLog := make(map[coda.ID]bool, len(log))
		for _, c := range log {
			inLog[c.ID] = true
		}
		mu.Lock()
		defer mu.Unlock()
		for _, a := range acks {
			if !inLog[a.commit] {
				t.Fatalf("%s: acknowledged commit %s (put %s n=%d) is not in GET log", when, a.commit, a.path, a.n)
			}
		}
		landed = 0
		for path, want := range tried {
			v, err := node.c.Get(ctx, "", path, "")
			if errs.Is(err, errs.NotExist) && acked[path] == 0 {
				continue // never acknowledged, and it did not land
			}
			if err != nil {
				t.Fatalf("%s: GET %s: %v", when, path, err)
			}
			var val struct {
				N json.RawMessage `json:"n"`
			}
			if err := json.Unmarshal(v.Value, &val); err != nil {
				t.Fatalf("%s: GET %s: %s: %v", when, path, v.Value, err)
			}
			n, err := strconv.Atoi(strings.Trim(string(val.N), `"`))
			if err != nil {
				t.Fatalf("%s: GET %s: %s: n: %v", when, path, v.Value, err)
			}
			if n < acked[path] || n > want {
				t.Fatalf("%s: %s holds n=%d; acknowledged up to %d, sent up to %d", when, path, n, acked[path], want)
			}
			if n > acked[path] {
				// In flight at the kill, and durable: from now on no
				// older value may show.
				landed++
				acked[path] = n
			}
		}
	}
	// A watch of /d runs through every round, resumed on each new node
	// with Last-Event-ID: a commit's event is sent only once it is
	// durable, so the last one received survives the kill.
	tokenB, err := os.ReadFile(filepath.Join(home, "token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenB))
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	start, err := exec.Command(bin, "--home", home, "status", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var st statusJSON
	if err := json.Unmarshal(start, &st); err != nil {
		t.Fatal(err)
	}
	var watched []string // ids of the events received, in order
	lastID := st.Head.String()
	var node *serveProc
	for round := range *kill9Rounds {
		node = startServeProc(t, bin, home)
		if round > 0 {
			check(node, fmt.Sprintf("round %d, on the next node", round-1))
			t.Logf("round %d: %d puts in flight at the kill landed anyway", round-1, landed)
		}
		stream := openWatch(t, hc, node.url, token, "/d", lastID)
		target := int64(50 + rng.IntN(400)) // acknowledgements before the kill
		var (
			count   atomic.Int64
			killed  atomic.Bool
			reached = make(chan struct{})
			wg      sync.WaitGroup
			errc    = make(chan error, writers)
		)
		for w := range writers {
			wg.Go(func() {
				for !killed.Load() {
					next[w]++
					n := next[w]
					path := fmt.Sprintf("/d/w%02d-%d", w, n%pathsPer)
					mu.Lock()
					tried[path] = n
					mu.Unlock()
					id, err := node.c.Put(ctx, "", path, []byte(fmt.Sprintf(`{"n": %d, "s": "w%d"}`, n, w)), "", "")
					if err != nil {
						if !killed.Load() {
							errc <- fmt.Errorf("put %s before the kill: %w", path, err)
						}
						return
					}
					mu.Lock()
					acks = append(acks, ack{id, path, n})
					acked[path] = n
					mu.Unlock()
					if count.Add(1) == target {
						close(reached)
					}
				}
			})
		}
		select {
		case <-reached:
		case err := <-errc:
			t.Fatal(err)
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: %d of %d acknowledgements in 30 s", round, count.Load(), target)
		}
		killed.Store(true)
		node.stop(t, syscall.SIGKILL)
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
		for _, ev := range stream.drain(t) {
			watched = append(watched, ev.id)
			lastID = ev.id
		}
		mu.Lock()
		t.Logf("round %d: killed after %d acknowledgements (%d in all)", round, count.Load(), len(acks))
		mu.Unlock()

		// The node is dead (its HOME/api left behind): the CLI opens the
		// home itself.
		if out, err := exec.Command(bin, "--home", home, "fsck").CombinedOutput(); err != nil {
			t.Fatalf("round %d: coal fsck after kill -9: %v\n%s", round, err, out)
		}
		var log []struct {
			ID coda.ID `json:"id"`
		}
		if err := json.Unmarshal(coalRun(t, bin, "--home", home, "log", "--json"), &log); err != nil {
			t.Fatalf("round %d: coal log --json: %v", round, err)
		}
		inLog := make(map[coda.ID]bool, len(log))
		for _, c := range log {
			inLog[c.ID] = true
		}
		mu.Lock()
		for _, a := range acks {
			if !inLog[a.commit] {
				t.Fatalf("round %d: acknowledged commit %s (put %s n=%d) is not in coal log after kill -9", round, a.commit, a.path, a.n)
			}
		}
		mu.Unlock()
	}
	node = startServeProc(t, bin, home)
	check(node, "at the end")
	t.Logf("round %d: %d puts in flight at the kill landed anyway", *kill9Rounds-1, landed)

	// The watch got every commit since it started (acknowledged or not:
	// all that are in the log), once each, in the log's order.
	log, err := node.c.Log(ctx, "", "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range log { // newest first, back to where the watch began
		if c.ID == st.Head {
			break
		}
		want = append(want, c.ID.String())
	}
	slices.Reverse(want)
	stream := openWatch(t, hc, node.url, token, "/d", lastID)
	t.Logf("watch: %d events received before the kills, %d more owed to the last resume", len(watched), len(want)-len(watched))
	for len(watched) < len(want) {
		watched = append(watched, stream.next(t, fmt.Sprintf("the last %d of %d commits", len(want)-len(watched), len(want))).id)
	}
	if strings.Join(watched, "\n") != strings.Join(want, "\n") {
		t.Errorf("the watch of /d across %d kills delivered %d events, want the %d commits in the log once each in order:\n%s", *kill9Rounds, len(watched), len(want), diffLines(watched, want))
	}
	node.stop(t, syscall.SIGTERM)
	coalRun(t, bin, "--home", home, "replay")
	coalRun(t, bin, "--home", home, "fsck")
	t.Logf("%d acknowledged commits checked after %d kills", len(acks), *kill9Rounds)
}
