package replica

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/libp2p/go-libp2p/core/peer"
)

var (
	cloneMemSize = flag.Int64("clonemem.size", 256<<20, "bytes of BenchmarkCloneMemory's value")
	cloneMemProf = flag.String("clonemem.prof", "", "write a heap profile at BenchmarkCloneMemory's peak heap to this file")
)

// The environment of TestCloneMemoryChild, the puller process of
// BenchmarkCloneMemory/process.
const (
	envCloneSeeder = "COAL_CLONEMEM_SEEDER" // the seeder's multiaddr with /p2p/ID
	envCloneWorld  = "COAL_CLONEMEM_WORLD"
	envCloneHead   = "COAL_CLONEMEM_HEAD"
	envCloneDir    = "COAL_CLONEMEM_DIR"
	envCloneProf   = "COAL_CLONEMEM_PROF" // where the puller writes its heap profile (allocations since start)
)

// BenchmarkCloneMemory: the memory a clone of one large value (-clonemem.size,
// 256 MiB) through sync costs, seeder and puller in this process, homes on
// disk (Pebble). It reports the peak of the Go heap's live and unswept
// objects during the clone over the heap before it (peak-heap-MiB), the
// process's peak RSS during the clone over its RSS before (peak-rss-MiB,
// from VmHWM reset before the clone), the peak of the memory the Go
// runtime holds over its amount before (peak-go-MiB), and the ratio of the
// heap's peak to the value's size.
func BenchmarkCloneMemory(b *testing.B) {
	root := b.TempDir()
	size := *cloneMemSize
	seed := newBlobNode(b, filepath.Join(root, "seed"), cdb.Options{NoAudit: true})
	defer seed.close()
	world, head := seedBlob(b, seed, size)
	seed.start(b)
	b.Run("process", func(b *testing.B) { cloneInChild(b, root, seed, world, head, size) })
	b.Run("inprocess", func(b *testing.B) { cloneInProcess(b, root, seed, world, head, size) })
}

// cloneInProcess clones in this process (the seeder's memory counts too;
// -clonemem.prof profiles the heap).
func cloneInProcess(b *testing.B, root string, seed *blobNode, world, head coda.ID, size int64) {
	var peakHeap, peakRSS, peakGo, baseRSS float64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		runtime.GC()
		base := heapObjects()
		resetPeakRSS()
		rss0 := procStatus("VmRSS:")
		goBase := goTotal()
		nd := newBlobNode(b, filepath.Join(root, "inproc"+strconv.Itoa(i)), cdb.Options{NoAudit: true, NoWorld: true})
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var peak, peakTotal uint64
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(2 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				peakTotal = max(peakTotal, goTotal())
				if h := heapObjects(); h > peak {
					grew := h > peak+peak/8
					peak = h
					if grew && *cloneMemProf != "" && h > base+(32<<20) {
						runtime.GC() // the profile shows the heap as of the last GC
						if f, err := os.Create(*cloneMemProf); err == nil {
							_ = pprof.Lookup("heap").WriteTo(f, 0)
							f.Close()
						}
					}
				}
			}
		}()
		b.StartTimer()
		nd.connect(b, seed)
		nd.start(b)
		waitFor(b, 10*time.Minute, "the clone holds the head", func() bool { return nd.holds(world, head) })
		b.StopTimer()
		close(stop)
		wg.Wait()
		peakHeap = max(peakHeap, float64(peak-min(peak, base))/(1<<20))
		peakRSS = max(peakRSS, float64(procStatus("VmHWM:")-rss0)/(1<<20))
		peakGo = max(peakGo, float64(peakTotal-min(peakTotal, goBase))/(1<<20))
		baseRSS = float64(rss0) / (1 << 20)
		nd.close()
		b.StartTimer()
	}
	b.ReportMetric(peakHeap, "peak-heap-MiB")
	b.ReportMetric(peakRSS, "peak-rss-MiB")
	b.ReportMetric(peakGo, "peak-go-MiB")
	b.ReportMetric(baseRSS, "base-rss-MiB")
	b.ReportMetric(peakHeap*(1<<20)/float64(size), "heap/value")
}

// heapObjects is the bytes of the heap's objects, live and not yet swept.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// resetPeakRSS resets the process's VmHWM (Linux; elsewhere it does nothing).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// goTotal is the memory the Go runtime holds from the OS.
func goTotal() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// procStatus is the size a line of /proc/self/status gives (VmHWM:,
// VmRSS:; 0 where there is none).
func procStatus(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cloneInChild clones in a child process (TestCloneMemoryChild) and
// reports its peak RSS (peak-rss-MiB), the peak of what its Go runtime
// held (peak-go-MiB), and its RSS with the home and host made, before it
// connects (base-rss-MiB).
func cloneInChild(b *testing.B, root string, seed *blobNode, world, head coda.ID, size int64) {
	var rss, gomem, base float64
	for i := range b.N {
		b.StopTimer()
		addr := seed.host.Addrs()[0].String() + "/p2p/" + seed.host.ID().String()
		cmd := exec.Command(os.Args[0], "-test.run", "^TestCloneMemoryChild$", "-test.v")
		cmd.Env = append(os.Environ(), envCloneSeeder+"="+addr, envCloneWorld+"="+world.String(), envCloneHead+"="+head.String(),
			envCloneDir+"="+filepath.Join(root, "child"+strconv.Itoa(i)))
		if *cloneMemProf != "" {
			cmd.Env = append(cmd.Env, envCloneProf+"="+*cloneMemProf+".child")
		}
		b.StartTimer()
		out, err := cmd.CombinedOutput()
		b.StopTimer()
		if err != nil {
			b.Fatalf("the puller process: %v\n%s", err, out)
		}
		var r, g, b0 int64
		for _, l := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "clonemem: "); ok {
				if _, err := fmt.Sscanf(v, "peak-rss %d peak-go %d base-rss %d", &r, &g, &b0); err != nil {
					b.Fatalf("the puller process said %q: %v", v, err)
				}
			}
		}
		if r == 0 {
			b.Fatalf("the puller process reported nothing:\n%s", out)
		}
		rss, gomem, base = max(rss, float64(r)/(1<<20)), max(gomem, float64(g)/(1<<20)), max(base, float64(b0)/(1<<20))
		b.StartTimer()
	}
	b.ReportMetric(rss, "peak-rss-MiB")
	b.ReportMetric(gomem, "peak-go-MiB")
	b.ReportMetric(base, "base-rss-MiB")
	b.ReportMetric(rss*(1<<20)/float64(size), "rss/value")
}

// TestCloneMemoryChild is the puller process of BenchmarkCloneMemory: it
// clones the world from the seeder its environment names into a new home
// on disk and prints its peak RSS and the peak of what its Go runtime
// held. Without that environment it is skipped.
func TestCloneMemoryChild(t *testing.T) {
	addr := os.Getenv(envCloneSeeder)
	if addr == "" {
		t.Skip("the puller process of BenchmarkCloneMemory")
	}
	world, err := coda.ParseID(os.Getenv(envCloneWorld))
	must(t, err)
	head, err := coda.ParseID(os.Getenv(envCloneHead))
	must(t, err)
	info, err := peer.AddrInfoFromString(addr)
	must(t, err)
	nd := newBlobNode(t, os.Getenv(envCloneDir), cdb.Options{NoAudit: true, NoWorld: true})
	defer nd.close()
	base := procStatus("VmRSS:")
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var peak uint64
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
				peak = max(peak, goTotal())
			}
		}
	}()
	must(t, nd.host.Connect(bg, *info))
	nd.start(t)
	waitFor(t, 10*time.Minute, "the clone holds the head", func() bool { return nd.holds(world, head) })
	close(stop)
	fmt.Printf("clonemem: peak-rss %d peak-go %d base-rss %d\n", procStatus("VmHWM:"), <-done, base)
	if p := os.Getenv(envCloneProf); p != "" {
		f, err := os.Create(p)
		must(t, err)
		must(t, pprof.Lookup("allocs").WriteTo(f, 0))
		must(t, f.Close())
	}
}
