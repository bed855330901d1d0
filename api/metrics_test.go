package api_test

import (
	"sync"
	"testing"
	"time"

	"github.com/coalescent/coal/api"
)

type metrics struct {
	mu   sync.Mutex
	got  map[string]int
	seen chan struct{}
}

// ObserveRequest runs after the response is written, so the test waits
// for the observations on seen.
func (m *metrics) ObserveRequest(route string, status int, d time.Duration) {
	m.mu.Lock()
	m.got[route+" "+itoa(status)]++
	m.mu.Unlock()
	m.seen <- struct{}{}
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// TestMetrics: each request is observed once, by route pattern and status.
func TestMetrics(t *testing.T) {
	m := &metrics{got: map[string]int{}, seen: make(chan struct{}, 10)}
	e := newEnv(t, api.Options{Metrics: m})
	e.want(e.do("node", "GET", "/v1/worlds/default/tree/a/b", "", nil), 404)
	e.want(e.do("node", "GET", "/v1/worlds/default/tree/a/c", "", nil), 404)
	e.want(e.do("", "GET", "/v1/info", "", nil), 401)
	for range 3 {
		<-m.seen
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.got["GET /v1/worlds/{world}/tree/{path...} 404"] != 2 || m.got["GET /v1/info 401"] != 1 {
		t.Errorf("metrics %v", m.got)
	}
}
