package cdb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/internal/procs"
)

// TestGroupCommit runs many concurrent writers against one Pebble-backed
// world: every commit is acknowledged, each acknowledged one is in the
// history after the home is closed and reopened, the history is one chain
// (every commit's parent is the one before it), and each writer's commits
// appear in the order it made them.
func TestGroupCommit(t *testing.T) {
	const writers, each = 16, 20
	dir := filepath.Join(t.TempDir(), "home")
	h, err := Init(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := defaultWorld(t, h)
	withSchemas(t, w)
	acked := make([][]coda.ID, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				ci, err := w.Commit(ctx, h.NodeKey(), []Op{{Kind: Put, Path: fmt.Sprintf("/w%d/%d", g, i), Schema: "Person", Value: person("p", uint8(i))}}, "group")
				if err != nil {
					t.Error(err)
					return
				}
				acked[g] = append(acked[g], ci.ID)
			}
		})
	}
	wg.Wait()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w = defaultWorld(t, h)
	head, err := w.Head()
	if err != nil {
		t.Fatal(err)
	}
	log, err := w.Log(head, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	pos := make(map[coda.ID]int, len(log))
	for i, c := range log {
		pos[c.ID] = i
		if i+1 < len(log) && (len(c.Parents) != 1 || c.Parents[0] != log[i+1].ID) {
			t.Fatalf("log[%d] = %s has parents %v, want [%s]: the history is not one chain", i, c.ID, c.Parents, log[i+1].ID)
		}
	}
	for g, ids := range acked {
		if len(ids) != each {
			t.Fatalf("writer %d: got %d acknowledged commits, want %d", g, len(ids), each)
		}
		last := len(log)
		for i, id := range ids {
			p, ok := pos[id]
			if !ok {
				t.Fatalf("writer %d: acknowledged commit %d (%s) is not in the log after reopening", g, i, id)
			}
			if p >= last {
				t.Fatalf("writer %d: commit %d is not after commit %d in the log", g, i, i-1)
			}
			last = p
		}
	}
	if got, want := len(log), writers*each+2; got != want {
		t.Errorf("got %d commits in the log, want %d (genesis, schemas and the writes)", got, want)
	}
}

// BenchmarkGroupCommit measures durable commits per second (each a put of
// one small value, synced before it returns) with 1, 8 and 64 concurrent
// writers on one world of a Pebble-backed home, and the CPU time (user and
// system, all goroutines) a commit costs: on a shared machine that figure
// depends less on the other load than commits/s. Each sub-benchmark runs at
// the GOMAXPROCS `coal serve` sets (procs.Tune; testing resets GOMAXPROCS to
// -test.cpu's before each, and GOMAXPROCS in the environment turns it off).
func BenchmarkGroupCommit(b *testing.B) {
	for _, n := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", n), func(b *testing.B) {
			prev := runtime.GOMAXPROCS(0)
			b.Cleanup(func() { runtime.GOMAXPROCS(prev) })
			b.Logf("GOMAXPROCS %d (procs.Tune)", procs.Tune())
			h, w := pebbleHome(b)
			defer h.Close()
			var next atomic.Int64
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			var wg sync.WaitGroup
			for g := range n {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						_, err := w.Commit(ctx, h.NodeKey(), []Op{{Kind: Put, Path: fmt.Sprintf("/g%d/%d", g, i), Schema: "Person", Value: person("p", 1)}}, "bench")
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commits/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// TestPutOpsAreTheDiff checks that a commit of plain puts, whose ops are
// taken from the puts rather than from a diff of the trees, has exactly
// the ops the diff gives, in path order: paths that sort differently as
// strings and as segments, a path put twice, new and existing
// directories, a value over a tombstone.
func TestPutOpsAreTheDiff(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	put := func(p string, age uint8) Op {
		return Op{Kind: Put, Path: p, Schema: "Person", Value: person("p", age)}
	}
	batches := [][]Op{
		{put("/a/b", 1), put("/a-b", 2), put("/a/a", 3), put("/a.b/c", 4), put("/a/b", 5)},
		{put("/z", 1), put("/a/b", 6), put("/a/c/d", 7), put("/b", 8)},
		{{Kind: Delete, Path: "/b"}},
		{put("/b", 9), put("/a-b", 10)},
	}
	for i, ops := range batches {
		ci, err := w.Commit(ctx, h.NodeKey(), ops, "puts")
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		c, err := w.commit(ci.ID)
		if err != nil {
			t.Fatal(err)
		}
		parent, err := w.commit(c.Parents[0])
		if err != nil {
			t.Fatal(err)
		}
		want, err := diffOps(h.tree, parent.Tree, c.Tree)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(c.Ops) != fmt.Sprint(want) {
			t.Errorf("batch %d: ops %v, the diff gives %v", i, c.Ops, want)
		}
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errFail }

var errFail = errs.E(errs.Other, "read failed")

// TestStagedBlobs checks blob puts whose bytes are stored before the
// commit is built: of unknown length (small, and larger than a chunk), of
// a known length with fewer bytes (invalid), and a reader that fails (its
// error, nothing committed).
func TestStagedBlobs(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	small := []byte("small blob")
	big := bytes.Repeat([]byte("x"), int(store.ChunkThreshold)+10)
	for _, tc := range []struct {
		path string
		data []byte
		size int64
	}{{"/f/small", small, -1}, {"/f/big", big, -1}, {"/f/known", small, int64(len(small))}} {
		if _, err := w.Commit(ctx, h.NodeKey(), []Op{{Kind: PutBlob, Path: tc.path, Blob: bytes.NewReader(tc.data), Size: tc.size}}, "blob"); err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		b, err := w.OpenBlob(coda.ID{}, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(b)
		b.Close()
		if !bytes.Equal(got, tc.data) {
			t.Errorf("%s: read %d bytes back, want %d", tc.path, len(got), len(tc.data))
		}
	}
	head, _ := w.Head()
	_, err := w.Commit(ctx, h.NodeKey(), []Op{{Kind: PutBlob, Path: "/f/short", Blob: bytes.NewReader(small), Size: 100}}, "short")
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "expected 100") {
		t.Errorf("short blob: %v, want invalid: read 10 bytes, expected 100", err)
	}
	_, err = w.Commit(ctx, h.NodeKey(), []Op{{Kind: PutBlob, Path: "/f/fail", Blob: failReader{}, Size: -1}}, "fail")
	if !errors.Is(err, errFail) {
		t.Errorf("failing reader: %v, want its error", err)
	}
	if now, _ := w.Head(); now != head {
		t.Errorf("a failed blob put moved the head")
	}
}

// denyPolicy refuses every commit with an op under /deny (a permission
// error, as a policy gives) and allows the rest.
type denyPolicy struct{ hideSecret }

func (denyPolicy) CheckCommit(_ tree.Store, c *Commit, _ []*Commit) error {
	for _, o := range c.Ops {
		if strings.HasPrefix(o.Path, "/deny/") {
			return errs.E(errs.Permission, errs.Path(o.Path), "denied")
		}
	}
	return nil
}

// TestGroupCommitRefused runs concurrent writers of which some are always
// refused by the policy, on a Pebble home where commits are validated
// while later ones are built on them: every refused commit fails with
// permission, every other one is acknowledged (those built on a refused
// one are rebuilt), the history is one chain that holds exactly the
// acknowledged commits, and it replays.
func TestGroupCommitRefused(t *testing.T) {
	const writers, each = 12, 15
	h, err := Init(filepath.Join(t.TempDir(), "home"), Options{Policy: denyPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w := defaultWorld(t, h)
	var mu sync.Mutex
	acked := map[coda.ID]bool{}
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				dir := "/ok"
				if g%3 == 0 {
					dir = "/deny"
				}
				ci, err := w.Commit(ctx, h.NodeKey(), []Op{blobOp(fmt.Sprintf("%s/%d/%d", dir, g, i), "v")}, "m")
				if dir == "/deny" {
					if !errs.Is(err, errs.Permission) {
						t.Errorf("writer %d: refused commit gave %v, want permission", g, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("writer %d: %v", g, err)
					return
				}
				mu.Lock()
				acked[ci.ID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	head, err := w.Head()
	if err != nil {
		t.Fatal(err)
	}
	log, err := w.Log(head, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, c := range log {
		if i+1 < len(log) && (len(c.Parents) != 1 || c.Parents[0] != log[i+1].ID) {
			t.Fatalf("log[%d] is not the child of log[%d]: the history is not one chain", i, i+1)
		}
		if acked[c.ID] {
			n++
		} else if i < len(log)-1 {
			t.Errorf("commit %s in the log was not acknowledged", c.ID)
		}
	}
	if want := (writers - writers/3) * each; n != want || len(acked) != want {
		t.Errorf("%d acknowledged commits in the log, %d acknowledged; want %d", n, len(acked), want)
	}
	if _, err := w.Replay(nil); err != nil {
		t.Error(err)
	}
	// The audit log: every acknowledged commit recorded ok, once; a
	// commit recorded ok and not acknowledged (built on one that was
	// refused, then rebuilt) has a second record with its error.
	l, err := h.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := l.List(0)
	if err != nil {
		t.Fatal(err)
	}
	results := map[coda.ID][]string{}
	refused := 0
	for _, r := range recs {
		if r.Action == "commit" {
			results[r.Commit] = append(results[r.Commit], r.Result)
			if r.Result == "permission" {
				refused++
			}
		}
	}
	for id := range acked {
		if got := results[id]; len(got) != 1 || got[0] != "ok" {
			t.Errorf("acknowledged commit %s: audit results %v, want [ok]", id.Short(), got)
		}
	}
	for id, got := range results {
		if !acked[id] && got[0] == "ok" && (len(got) != 2 || got[1] == "ok") {
			t.Errorf("commit %s not acknowledged: audit results %v, want ok then an error", id.Short(), got)
		}
	}
	t.Logf("%d commits in the audit log, %d acknowledged", len(results), len(acked))
	if want := writers / 3 * each; refused != want {
		t.Errorf("%d refusals in the audit log, want %d", refused, want)
	}
}

// syncGate is a store whose Sync waits for a value on gate.
type syncGate struct {
	store.Store
	gate chan struct{}
}

func (s *syncGate) Sync() error { <-s.gate; return nil }

// TestHeadIsDurable checks that readers do not see a commit that is
// applied but not yet synced: while the store's sync is held, Head (and
// resolving the branch by name) give the previous commit; once it
// returns, the new one.
func TestHeadIsDurable(t *testing.T) {
	gs := &syncGate{Store: memstore.New(), gate: make(chan struct{}, 1)}
	gs.gate <- struct{}{} // Init's own syncs, if any, pass
	h, err := Init(filepath.Join(t.TempDir(), "home"), Options{Store: gs, Clock: testClock(), NoAudit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w := defaultWorld(t, h)
	select {
	case <-gs.gate:
	default:
	}
	before, err := w.Head()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan CommitInfo)
	go func() {
		ci, err := w.Commit(ctx, h.NodeKey(), []Op{blobOp("/a", "x")}, "m")
		if err != nil {
			t.Error(err)
		}
		done <- ci
	}()
	// Wait until the commit is applied (the store's ref moved).
	ref := headRef(w.id, w.Branch())
	for deadline := time.Now().Add(10 * time.Second); ; {
		if id, err := gs.GetRef(ref); err == nil && id != before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the commit was never applied")
		}
		time.Sleep(time.Millisecond)
	}
	if got, _ := w.Head(); got != before {
		t.Errorf("Head = %s while the commit's sync is held, want the previous head %s", got, before)
	}
	if got, _ := w.Resolve(w.Branch()); got != before {
		t.Errorf("Resolve(branch) = %s while the commit's sync is held, want %s", got, before)
	}
	gs.gate <- struct{}{}
	ci := <-done
	if got, _ := w.Head(); got != ci.ID {
		t.Errorf("Head = %s after the sync, want the commit %s", got, ci.ID)
	}
}
