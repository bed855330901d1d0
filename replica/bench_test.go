package replica

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/bundle"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
)

var benchEntries = flag.Int("sync.entries", 100000, "entries in BenchmarkSyncOneChange's world")

// BenchmarkSyncOneChange: a world of -sync.entries entries (in 100
// directories) is cloned to a second node; then each iteration changes
// one entry on the first node and waits until the second holds the
// commit. It reports the objects and bytes one change moves through sync
// (docs/perf.md: O(log n), tens of objects, not thousands).
func BenchmarkSyncOneChange(b *testing.B) {
	n := *benchEntries
	nw := newNetwork(b, 2)
	n0, n1 := nw.nodes[0], nw.nodes[1]
	w := n0.defaultWorld(b)
	const batch = 10000
	for start := 0; start < n; start += batch {
		ops := make([]cdb.Op, 0, batch)
		for i := start; i < min(n, start+batch); i++ {
			ops = append(ops, putOp(fmt.Sprintf("/d%02d/e%07d", i%100, i), fmt.Sprintf("value %d", i)))
		}
		n0.commit(b, w, ops...)
	}
	nw.start()
	nw.connect()
	nw.converged(w.ID(), 10*time.Minute)
	var before PeerStats
	waitFor(b, time.Minute, "the clone is counted", func() bool {
		before = n1.e.Stats(n0.host.ID())
		return before.Pulls > 0
	})
	b.ResetTimer()
	for i := range b.N {
		ci := n0.put(b, fmt.Sprintf("/d%02d/e%07d", i%100, (i*7919)%n), fmt.Sprintf("changed %d", i))
		waitFor(b, time.Minute, "the change arrives", func() bool { return n1.inHistory(b, w.ID(), ci.ID) })
	}
	b.StopTimer()
	var after PeerStats
	waitFor(b, time.Minute, "the pulls are counted", func() bool {
		after = n1.e.Stats(n0.host.ID())
		return after.Pulls >= before.Pulls+b.N
	})
	pulls := float64(after.Pulls - before.Pulls)
	b.ReportMetric(float64(before.ObjectsRecv), "clone-objects")
	b.ReportMetric(float64(after.ObjectsRecv-before.ObjectsRecv)/pulls, "objects/change")
	b.ReportMetric(float64(after.BytesRecv-before.BytesRecv)/pulls, "bytes/change")
}

var (
	cloneEntries = flag.Int("clone.entries", 100000, "entries in BenchmarkClone's world")
	cloneOrigin  = flag.String("clone.origin", "pebble", "where BenchmarkClone's origin keeps its home: pebble (on disk, as coal serve) or mem (memstore)")
)

// cloneWorld calls put for the -clone.entries values of BenchmarkClone's
// world, in its commits of 10,000: path (no leading slash) and text.
func cloneWorld(n int, commit func(start int), put func(path, text string)) {
	const batch = 10000
	for start := 0; start < n; start += batch {
		commit(start)
		for i := start; i < min(n, start+batch); i++ {
			put(fmt.Sprintf("d%02d/e%07d", i%100, i), fmt.Sprintf("value %d", i))
		}
	}
}

// cloneGitSetup is BenchmarkClone's git repository, made once per process
// (TestMain stops its daemon); cloneGitErr says why it could not be.
var (
	cloneGitOnce sync.Once
	cloneGit     *gitServer
	cloneGitErr  error
	cloneGitRoot string
	cloneGitInfo string // git count-objects -v of the repository
	cloneGitLog  sync.Once
)

// setupCloneGit makes the repository of BenchmarkClone's world: the same
// files with the same bytes in the same ten commits (git fast-import),
// packed (git gc), served by git daemon on 127.0.0.1.
func setupCloneGit(n int) error {
	cloneGitOnce.Do(func() {
		cloneGitRoot, cloneGitErr = os.MkdirTemp("", "coal-clone-bench-")
		if cloneGitErr != nil {
			return
		}
		g, err := newGitServer(cloneGitRoot)
		if err != nil {
			cloneGitErr = err
			return
		}
		cloneGit = g
		if err := g.run(g.root, nil, "init", "-q", "--bare", g.src()); err != nil {
			cloneGitErr = err
			return
		}
		var in bytes.Buffer
		mark := 0
		cloneWorld(n, func(start int) {
			mark++
			msg := fmt.Sprintf("values %d-", start)
			fmt.Fprintf(&in, "commit refs/heads/master\nmark :%d\ncommitter bench <bench@example.org> %d +0000\ndata %d\n%s\n",
				mark, 1700000000+mark, len(msg), msg)
			if mark > 1 {
				fmt.Fprintf(&in, "from :%d\n", mark-1)
			}
		}, func(path, text string) {
			fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", path, len(text), text)
		})
		for _, args := range [][]string{{"fast-import", "--quiet"}, {"symbolic-ref", "HEAD", "refs/heads/master"}, {"gc", "-q"}} {
			if err := g.run(g.src(), bytes.NewReader(in.Bytes()), args...); err != nil {
				cloneGitErr = err
				return
			}
		}
		out, err := exec.Command(g.bin, "-C", g.src(), "count-objects", "-v").CombinedOutput()
		if err != nil {
			cloneGitErr = fmt.Errorf("git count-objects: %v\n%s", err, out)
			return
		}
		cloneGitInfo = strings.Join(strings.Fields(string(out)), " ")
		cloneGitErr = g.serve()
	})
	return cloneGitErr
}

// BenchmarkClone: a world of -clone.entries small values (`value I` at
// /dNN/eIIIIIII in 100 directories, one commit per 10,000, then a root
// .acl letting anyone read) is cloned, against git in the same run:
//
//   - git: git clone -q --bare from git daemon on 127.0.0.1 of a
//     repository of the same files in the same ten commits (git
//     fast-import, git gc), into a new directory; made once per process.
//     Skipped, saying why, if git is missing or fails.
//   - coal/cold, coal/warm: over libp2p on 127.0.0.1 TCP (TLS 1.3, as
//     coal serve prefers it, and Yamux) from an origin whose home is on
//     disk (Pebble, as coal serve keeps it; -clone.origin mem: memstore)
//     into a new home on disk: each iteration makes the home, starts its
//     engine, connects, and waits until it holds the head (validated and
//     durable). cold: the origin keeps no answer, each is made by
//     bundle.Create; warm: it keeps first clones' answers (bundle.Reuse,
//     the engine's default), one clone made before the timer starts, so
//     every timed clone is answered with the kept bytes (as git's server
//     streams the pack gc made). Each reports the objects and the
//     answer's bytes per second, the CPU time of the whole process (both
//     sides) per clone, and, if git ran before it in this process,
//     git-ratio: git's time per clone over coal's (≥ 1: as fast as git).
//   - tcp: the answer's bytes over one TCP connection on 127.0.0.1 from
//     another Go process into io.Discard (testdata/rawtcp): the ceiling.
func BenchmarkClone(b *testing.B) {
	n := *cloneEntries
	b.Run("git", func(b *testing.B) {
		if err := setupCloneGit(n); err != nil {
			b.Skipf("git clone is not measured: %v", err)
		}
		cloneGitLog.Do(func() { b.Logf("the repository: %s", cloneGitInfo) })
		b.ResetTimer() // the first run made it
		for i := range b.N {
			dst := filepath.Join(cloneGitRoot, fmt.Sprintf("clone%d", i))
			if err := cloneGit.clone(dst); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.RemoveAll(dst)
			b.StartTimer()
		}
		b.StopTimer()
		gitClone = b.Elapsed() / time.Duration(b.N)
	})
	// The origin keeps its home on disk (Pebble), as coal serve does;
	// -clone.origin mem keeps it in memory (memstore).
	nw := newNetworkOf(b, 0, true)
	oopts := cdb.Options{NoAudit: true}
	if *cloneOrigin == "mem" {
		oopts.Store = memstore.New()
	}
	n0 := nw.add("n0", acl.With(oopts))
	w := n0.defaultWorld(b)
	var ops []cdb.Op
	cloneWorld(n, func(int) {
		if len(ops) > 0 {
			n0.commit(b, w, ops...)
		}
		ops = ops[:0]
	}, func(path, text string) { ops = append(ops, putOp("/"+path, text)) })
	n0.commit(b, w, ops...)
	// Anyone may read: each clone is a new key.
	var a acl.ACL
	a.Grant(acl.Key(n0.h.NodeKey().Public32()), acl.All)
	a.Grant(acl.Anyone, acl.Read)
	n0.putACL(b, "/", a)
	head, err := w.Head()
	must(b, err)
	n0.start(b)
	// tcp: the answer's bytes over raw TCP between two processes (the
	// ceiling), once the first clone has said how many there are.
	var answer int64
	defer func() {
		if answer == 0 {
			return
		}
		dir := b.TempDir()
		rawtcp := buildRawTCP(b, dir)
		b.Run("tcp", func(b *testing.B) { benchRawTCP(b, rawtcp, answer) })
	}()
	clones := 0
	// clone makes a new home, starts its engine and connects it to n0
	// (timed only while b's timer runs), waits until it holds the head,
	// and returns its stats of n0 and the CPU time the clone took.
	clone := func(b *testing.B) (PeerStats, time.Duration) {
		b.StopTimer()
		nd := nw.add(fmt.Sprintf("clone%d", clones), acl.With(cdb.Options{NoAudit: true, NoWorld: true}))
		clones++
		cpu0 := cpuTime()
		b.StartTimer()
		nd.start(b)
		nw.connect(n0, nd)
		waitFor(b, 10*time.Minute, "the clone holds the head", func() bool { return nd.inHistory(b, w.ID(), head) })
		b.StopTimer()
		cpu := cpuTime() - cpu0
		var st PeerStats
		waitFor(b, time.Minute, "the clone is counted", func() bool {
			st = nd.e.Stats(n0.host.ID())
			return st.Pulls > 0
		})
		nd.e.Close()
		nd.host.Close()
		nd.h.Close()
		return st, cpu
	}
	// cold: the origin keeps no answer (each clone is made by
	// bundle.Create); warm: it keeps first clones' answers (bundle.Reuse),
	// one clone made before the timer starts.
	for _, warm := range []bool{false, true} {
		name := "coal/cold"
		if warm {
			name = "coal/warm"
		}
		b.Run(name, func(b *testing.B) {
			// No pull is in flight here: the last clone is closed.
			n0.e.reuse = nil
			if warm {
				n0.e.reuse = bundle.NewReuse(bundle.DefaultReuseBytes)
				clone(b)
				if rs := n0.e.ReuseStats(); rs.Stored != 1 {
					b.Fatalf("the priming clone kept no answer: %+v", rs)
				}
			}
			b.ResetTimer()
			var objects, bytes int64
			var cpu time.Duration
			for range b.N {
				st, c := clone(b)
				cpu += c
				objects += int64(st.ObjectsRecv)
				bytes += st.BytesRecv
				answer = st.BytesRecv
				b.StartTimer()
			}
			b.StopTimer()
			if rs := n0.e.ReuseStats(); warm && rs.Hits < b.N {
				b.Fatalf("warm: %d of %d clones answered from the kept bundle", rs.Hits, b.N)
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(objects)/secs, "objects/s")
			b.ReportMetric(float64(bytes)/secs/1e6, "MB/s")
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/clone")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			if gitClone > 0 {
				b.ReportMetric(gitClone.Seconds()/(secs/float64(b.N)), "git-ratio")
			}
		})
	}
}

// gitClone is the time of one git clone in BenchmarkClone/git's last run.
var gitClone time.Duration
