package replica

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"github.com/coalescent/coal/internal/procs"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/ctp"
	"github.com/coalescent/coal/relay"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

var blobSize = flag.Int64("blob.size", 1<<30, "bytes of BenchmarkBlob's value")

// TestMain removes BenchmarkBlob's homes and repository and
// BenchmarkClone's repository, which live across their runs (-count).
func TestMain(m *testing.M) {
	code := m.Run()
	if blobEnv != nil {
		blobEnv.close()
	}
	if cloneGit != nil {
		cloneGit.close()
	}
	if cloneGitRoot != "" {
		os.RemoveAll(cloneGitRoot)
	}
	os.Exit(code)
}

// blobData is the value BenchmarkBlob clones: size pseudo-random
// (incompressible) bytes, the same in every use.
func blobData(size int64) io.Reader {
	var seed [32]byte
	copy(seed[:], "coal BenchmarkBlob")
	return io.LimitReader(rand.NewChaCha8(seed), size)
}

// blobNode is a home on disk (Pebble) with a libp2p host as `coal serve`
// makes it (TCP on 127.0.0.1, Noise, Yamux, the default resource
// manager), serving CTP, with its sync engine fetching large values over
// CTP.
type blobNode struct {
	dir  string
	h    *cdb.Home
	host host.Host
	srv  *ctp.Server
	ctp  *ctp.Client
	e    *Engine
}

var blobSecurity = flag.String("blob.security", "coal", "BenchmarkBlob's libp2p security: coal (TLS 1.3, then Noise, as coal serve) or noise (Noise only)")

func newBlobNode(tb testing.TB, dir string, opts cdb.Options) *blobNode {
	tb.Helper()
	h, err := cdb.Init(dir, acl.With(opts))
	must(tb, err)
	priv, err := relay.NodeKey(h)
	must(tb, err)
	k, err := relay.HostKey(priv)
	must(tb, err)
	// Security as coal serve offers it (swarm: TLS 1.3, then Noise), or
	// Noise alone with -blob.security noise.
	sec := []libp2p.Option{libp2p.Security(libp2ptls.ID, libp2ptls.New), libp2p.Security(noise.ID, noise.New)}
	if *blobSecurity == "noise" {
		sec = sec[1:]
	}
	hst, err := libp2p.New(append([]libp2p.Option{libp2p.Identity(k), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport), libp2p.DisableRelay()}, sec...)...)
	must(tb, err)
	nd := &blobNode{dir: dir, h: h, host: hst}
	nd.srv = ctp.NewServer(ctp.WorldSource(h), ctp.ServerOptions{})
	nd.srv.Register(hst)
	nd.ctp = ctp.NewClient(hst, ctp.Options{})
	return nd
}

func (nd *blobNode) start(tb testing.TB) {
	tb.Helper()
	e, err := New(nd.h, nd.host, Options{Fetcher: nd.ctp})
	must(tb, err)
	nd.e = e
}

func (nd *blobNode) connect(tb testing.TB, to *blobNode) {
	tb.Helper()
	must(tb, nd.host.Connect(context.Background(), peer.AddrInfo{ID: to.host.ID(), Addrs: to.host.Addrs()}))
}

// holds reports whether nd's world holds head on its main branch.
func (nd *blobNode) holds(world, head coda.ID) bool {
	infos, err := nd.h.Worlds()
	if err != nil {
		return false
	}
	for _, i := range infos {
		if i.ID != world {
			continue
		}
		w, err := nd.h.World(i.Name)
		if err != nil {
			return false
		}
		h, err := w.Resolve(cdb.DefaultBranch)
		return err == nil && h == head
	}
	return false
}

func (nd *blobNode) close() {
	if nd.e != nil {
		nd.e.Close()
	}
	nd.srv.Close()
	nd.host.Close()
	nd.h.Close()
	os.RemoveAll(nd.dir)
}

// blobSetup is what BenchmarkBlob's runs share: three seeders of a world
// holding one value of -blob.size bytes at /big, the raw TCP helper, and
// a git daemon serving a repository of the same bytes.
type blobSetup struct {
	root        string
	seeders     []*blobNode
	world, head coda.ID
	size        int64
	rawtcp      string // the helper's binary
	git         *gitServer
	gitErr      error // git is missing or failed to set up
}

var (
	blobOnce sync.Once
	blobEnv  *blobSetup
)

func (s *blobSetup) close() {
	for _, nd := range s.seeders {
		nd.close()
	}
	if s.git != nil {
		s.git.close()
	}
	os.RemoveAll(s.root)
}

func setupBlob(b *testing.B) *blobSetup {
	blobOnce.Do(func() {
		root, err := os.MkdirTemp("", "coal-blob-bench-")
		must(b, err)
		s := &blobSetup{root: root, size: *blobSize}
		blobEnv = s
		t0 := time.Now()
		s.rawtcp = buildRawTCP(b, root)
		// The first seeder holds the world: a root .acl letting anyone
		// read, then the value.
		n0 := newBlobNode(b, filepath.Join(root, "seed0"), cdb.Options{NoAudit: true})
		s.seeders = append(s.seeders, n0)
		s.world, s.head = seedBlob(b, n0, s.size)
		b.Logf("seed0: %d bytes committed in %v", s.size, time.Since(t0))
		// The other two clone it through sync.
		n0.start(b)
		for i := 1; i < 3; i++ {
			nd := newBlobNode(b, filepath.Join(root, fmt.Sprintf("seed%d", i)), cdb.Options{NoAudit: true, NoWorld: true})
			s.seeders = append(s.seeders, nd)
			nd.start(b)
			for _, o := range s.seeders[:i] {
				nd.connect(b, o)
			}
			waitFor(b, 10*time.Minute, "a seeder clones the world", func() bool { return nd.holds(s.world, s.head) })
		}
		b.Logf("three seeders after %v", time.Since(t0))
		s.setupGit(b)
		b.Logf("set up in %v", time.Since(t0))
	})
	if blobEnv == nil || len(blobEnv.seeders) < 3 {
		b.Fatal("BenchmarkBlob's setup failed")
	}
	return blobEnv
}

// setupGit makes a repository holding the value as the file big, in one
// commit, packed, and serves it with git daemon on 127.0.0.1. A missing
// or failing git is recorded in gitErr.
func (s *blobSetup) setupGit(b *testing.B) {
	g, err := newGitServer(s.root)
	if err != nil {
		s.gitErr = err
		return
	}
	s.git = g
	src := g.src()
	must(b, os.MkdirAll(src, 0o755))
	f, err := os.Create(filepath.Join(src, "big"))
	must(b, err)
	_, err = io.Copy(f, blobData(s.size))
	must(b, err)
	must(b, f.Close())
	for _, args := range [][]string{{"init", "-q"}, {"add", "big"}, {"commit", "-q", "-m", "big"}, {"gc", "-q"}} {
		if err := g.run(src, nil, args...); err != nil {
			s.gitErr = err
			return
		}
	}
	os.Remove(filepath.Join(src, "big")) // the repository keeps it
	s.gitErr = g.serve()
}

// BenchmarkBlob: the clone of one value of -blob.size bytes (1 GiB,
// stored as ~16,000 content-defined chunks) through sync, into a new
// home on disk: the pull's answer brings the commits, the value's chunks
// come over CTP, each checked against its id, then every commit is
// validated. Seeders are homes on disk with libp2p hosts on 127.0.0.1
// (TCP, Noise, Yamux), in this process. Against, in the same run:
//
//   - tcp: the same number of bytes over one TCP connection on 127.0.0.1
//     from another Go process (testdata/rawtcp, built here) into
//     io.Discard: the ceiling.
//   - git: git clone --bare from git daemon on 127.0.0.1 of a repository
//     holding the same bytes as one file (packed).
//   - coal/seeders=1 and =3: a clone from one seeder, and from three at
//     once (the engine fetches the value striped over every peer that
//     announced the world).
//
// The setup (three seeders and the git repository: a few minutes) is
// done once per process and shared by -count runs.
//
// BenchmarkBlob runs its nodes with the GOMAXPROCS `coal serve` sets
// (procs.Tune; GOMAXPROCS=2 in the environment runs them without).
func BenchmarkBlob(b *testing.B) {
	b.Logf("GOMAXPROCS %d (procs.Tune)", procs.Tune())
	s := setupBlob(b)
	b.Run("tcp", func(b *testing.B) { benchRawTCP(b, s.rawtcp, s.size) })
	b.Run("git", func(b *testing.B) {
		if s.gitErr != nil {
			b.Fatalf("git clone cannot be measured: %v", s.gitErr)
		}
		b.SetBytes(s.size)
		for i := range b.N {
			dst := filepath.Join(s.root, fmt.Sprintf("gitclone%d", i))
			if err := s.git.clone(dst); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.RemoveAll(dst)
			b.StartTimer()
		}
	})
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("coal/seeders=%d", n), func(b *testing.B) {
			b.SetBytes(s.size)
			var most, bytes int64
			var cpu time.Duration
			for i := range b.N {
				b.StopTimer()
				nd := newBlobNode(b, filepath.Join(s.root, fmt.Sprintf("clone%d", i)), cdb.Options{NoAudit: true, NoWorld: true})
				cpu0 := cpuTime()
				b.StartTimer()
				for _, sd := range s.seeders[:n] {
					nd.connect(b, sd)
				}
				nd.start(b)
				waitFor(b, 10*time.Minute, "the clone holds the head", func() bool { return nd.holds(s.world, s.head) })
				b.StopTimer()
				cpu += cpuTime() - cpu0
				var sum int64
				for _, sd := range s.seeders[:n] {
					got := nd.ctp.Received(sd.host.ID()).Bytes
					sum += got
					most = max(most, got)
				}
				if sum < s.size {
					b.Fatalf("the clone fetched %d bytes over CTP, want the value's %d", sum, s.size)
				}
				bytes += sum
				nd.close()
				b.StartTimer()
			}
			// CPU time of the whole process (both sides, Pebble's background
			// work): steadier than wall time on a shared machine.
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			// The largest share one seeder gave (1: all from one).
			b.ReportMetric(float64(most)/float64(s.size), "max-share")
			b.ReportMetric(float64(bytes)/float64(b.N)/float64(s.size), "ctp-bytes/value")
		})
	}
}

// cpuTime is the process's CPU time so far (all threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// buildRawTCP builds the raw TCP helper (replica/testdata/rawtcp) into
// dir and returns its path.
func buildRawTCP(b *testing.B, dir string) string {
	bin := filepath.Join(dir, "rawtcp")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/rawtcp").CombinedOutput(); err != nil {
		b.Fatalf("build the raw TCP helper: %v\n%s", err, out)
	}
	return bin
}

// benchRawTCP is the ceiling the clones are compared with: size bytes over
// one TCP connection on 127.0.0.1 from another Go process (the helper
// rawtcp) into io.Discard, timed from the dial to the last byte.
func benchRawTCP(b *testing.B, rawtcp string, size int64) {
	b.SetBytes(size)
	for range b.N {
		b.StopTimer()
		cmd := exec.Command(rawtcp, strconv.FormatInt(size, 10))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		must(b, err)
		must(b, cmd.Start())
		addr, err := bufio.NewReader(out).ReadString('\n')
		must(b, err)
		b.StartTimer()
		c, err := net.Dial("tcp", strings.TrimSpace(addr))
		must(b, err)
		n, err := io.CopyBuffer(io.Discard, c, make([]byte, 256<<10))
		must(b, err)
		b.StopTimer()
		c.Close()
		must(b, cmd.Wait())
		if n != size {
			b.Fatalf("raw TCP: %d bytes of %d", n, size)
		}
		b.StartTimer()
	}
}

// seedBlob writes the blob benchmarks' world on nd's default world: a
// root .acl letting anyone read (nd's key may do all), then /big, size
// bytes of blobData. It returns the world and its head.
func seedBlob(b *testing.B, nd *blobNode, size int64) (world, head coda.ID) {
	w, err := nd.h.World("")
	must(b, err)
	var a acl.ACL
	a.Grant(acl.Key(nd.h.NodeKey().Public32()), acl.All)
	a.Grant(acl.Anyone, acl.Read)
	ab, err := a.Encode()
	must(b, err)
	_, err = w.Commit(bg, nd.h.NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: "/.acl", Raw: ab}}, "acl")
	must(b, err)
	ci, err := w.Commit(bg, nd.h.NodeKey(), []cdb.Op{{Kind: cdb.PutBlob, Path: "/big", Blob: blobData(size), Size: size}}, "big")
	must(b, err)
	return w.ID(), ci.ID
}
