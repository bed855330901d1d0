package api_test

import (
	"sync"
	"testing"
	"time"

	"github.com/coalescent/coal/api"
)

type metrics struct {
	mu  sync.Mutex
	got map[string]int
}

func (m *metrics) ObserveRequest(route string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got[route+" "+itoa(status)]++
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
	m := &metrics{got: map[string]int{}}
	e := newEnv(t, api.Options{Metrics: m})
	e.want(e.do("node", "GET", "/v1/worlds/default/tree/a/b", "", nil), 404)
	e.want(e.do("node", "GET", "/v1/worlds/default/tree/a/c", "", nil), 404)
	e.want(e.do("", "GET", "/v1/info", "", nil), 401)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.got["GET /v1/worlds/{world}/tree/{path...} 404"] != 2 || m.got["GET /v1/info 401"] != 1 {
		t.Errorf("metrics %v", m.got)
	}
}
