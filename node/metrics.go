package node

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Metrics collects what /metrics exports, in the Prometheus text format
// (version 0.0.4), written by hand: request counts by route and status,
// request latencies as a histogram by route, commits (successful writes
// through the API) and the store's size on disk. It implements the API's
// Metrics. It is safe for concurrent use.
type Metrics struct {
	dir string // the home

	mu       sync.Mutex
	requests map[reqKey]uint64
	latency  map[string]*histogram
	commits  uint64
}

type reqKey struct {
	route  string
	status int
}

// latencyBuckets are the histogram's upper bounds, in seconds.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	n      uint64
}

// NewMetrics returns an empty collector for the home in dir.
func NewMetrics(dir string) *Metrics {
	return &Metrics{dir: dir, requests: make(map[reqKey]uint64), latency: make(map[string]*histogram)}
}

// ObserveRequest records one request to route ("METHOD PATTERN") that
// answered status after d. A 2xx answer to a POST, PUT or DELETE counts
// as a commit.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{route, status}]++
	h := m.latency[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets))}
		m.latency[route] = h
	}
	s := d.Seconds()
	for i, b := range latencyBuckets {
		if s <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += s
	h.n++
	if status >= 200 && status < 300 && len(route) > 0 && (hasPrefix(route, "POST ") || hasPrefix(route, "PUT ") || hasPrefix(route, "DELETE ")) {
		m.commits++
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// storeSize is the size in bytes of the files under HOME/store.
func (m *Metrics) storeSize() int64 {
	var n int64
	filepath.WalkDir(filepath.Join(m.dir, "store"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// ServeHTTP writes the metrics in the Prometheus text format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.write(w)
}

func (m *Metrics) write(w io.Writer) {
	size := m.storeSize()
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].status < keys[j].status
	})
	fmt.Fprintln(w, "# HELP coal_http_requests_total API requests by route and status.")
	fmt.Fprintln(w, "# TYPE coal_http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "coal_http_requests_total{route=%s,status=\"%d\"} %d\n", strconv.Quote(k.route), k.status, m.requests[k])
	}
	routes := make([]string, 0, len(m.latency))
	for r := range m.latency {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	fmt.Fprintln(w, "# HELP coal_http_request_duration_seconds API request latency by route.")
	fmt.Fprintln(w, "# TYPE coal_http_request_duration_seconds histogram")
	for _, r := range routes {
		h := m.latency[r]
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "coal_http_request_duration_seconds_bucket{route=%s,le=\"%s\"} %d\n", strconv.Quote(r), strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		fmt.Fprintf(w, "coal_http_request_duration_seconds_bucket{route=%s,le=\"+Inf\"} %d\n", strconv.Quote(r), h.n)
		fmt.Fprintf(w, "coal_http_request_duration_seconds_sum{route=%s} %g\n", strconv.Quote(r), h.sum)
		fmt.Fprintf(w, "coal_http_request_duration_seconds_count{route=%s} %d\n", strconv.Quote(r), h.n)
	}
	fmt.Fprintln(w, "# HELP coal_commits_total Commits made through the API (2xx answers to POST, PUT and DELETE).")
	fmt.Fprintln(w, "# TYPE coal_commits_total counter")
	fmt.Fprintf(w, "coal_commits_total %d\n", m.commits)
	fmt.Fprintln(w, "# HELP coal_store_bytes Size of the home's store on disk.")
	fmt.Fprintln(w, "# TYPE coal_store_bytes gauge")
	fmt.Fprintf(w, "coal_store_bytes %d\n", size)
}
