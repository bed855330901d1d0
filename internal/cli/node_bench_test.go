package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/node"
)

// BenchmarkNode measures the API over loopback (api.New on a pebble home
// behind httptest's server, driven by api/client): reads (GET a small blob)
// and durable writes (PUT of a small blob, one commit each) with 1, 8 and 64 concurrent
// clients, and a bare net/http handler returning a constant as the
// ceiling. It reports ops/s, p50/p99 latency, and the CPU time (user and
// system, server and client together: one process) an op costs, which on
// a shared machine depends less on the other load than ops/s.
//
//	go test -run '^$' -bench BenchmarkNode -benchtime 2s ./internal/cli/
func BenchmarkNode(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "home")
	h, err := cdb.Init(dir, acl.With(cdb.Options{}))
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	srv := httptest.NewServer(api.New(h, api.Options{Tokens: tokenMap{"tok": h.NodeKey()}}))
	defer srv.Close()
	c := client.New(srv.URL, "tok", client.Options{})
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"n":"1","s":"x"}`))
	}))
	defer bare.Close()
	bc := client.New(bare.URL, "", client.Options{})
	put := func(path string, i int) error {
		_, err := c.PutBlob(ctx, "", path, strings.NewReader("value"), 5, "")
		return err
	}
	if err := put("/r/v", 0); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	ops := map[string]func() error{
		"ceiling": func() error { _, err := bc.Status(ctx, ""); return err },
		"read": func() error {
			rc, err := c.OpenBlob(ctx, "", "/r/v", "", 0)
			if err != nil {
				return err
			}
			// Read the value: a body closed unread also closes its
			// connection, and the next read would dial again.
			if _, err := io.Copy(io.Discard, rc); err != nil {
				rc.Close()
				return err
			}
			return rc.Close()
		},
		"write": func() error { return put(fmt.Sprintf("/w/%d", seq.Add(1)), 0) },
	}
	for _, name := range []string{"ceiling", "read", "write"} {
		for _, n := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("%s/clients=%d", name, n), func(b *testing.B) {
				// The node's runtime settings, as coal serve sets them
				// (node.Tune; here, since testing sets GOMAXPROCS to
				// -test.cpu's before each benchmark, and wants it back).
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
				node.Tune()
				op := ops[name]
				var mu sync.Mutex
				var lat []time.Duration
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				start, cpu0 := time.Now(), cpuTime()
				for range n {
					wg.Go(func() {
						var mine []time.Duration
						for next.Add(1) <= int64(b.N) {
							t0 := time.Now()
							if err := op(); err != nil {
								b.Error(err)
								return
							}
							mine = append(mine, time.Since(t0))
						}
						mu.Lock()
						lat = append(lat, mine...)
						mu.Unlock()
					})
				}
				wg.Wait()
				el, cpu := time.Since(start), cpuTime()-cpu0
				b.StopTimer()
				slices.Sort(lat)
				if len(lat) > 0 {
					b.ReportMetric(float64(len(lat))/el.Seconds(), "ops/s")
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
					b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "cpu-µs/op")
				}
			})
		}
	}
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
