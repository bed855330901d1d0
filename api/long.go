package api

import "time"

// DefaultLongTimeout bounds the handlers of long jobs (Options.LongTimeout).
const DefaultLongTimeout = time.Hour

// longRoutes are the routes that run long jobs: verify and evaluate run
// every spec and bench of a module, and collect re-checks the Results it
// receives, which can take far longer than a request should; a sync round
// with every peer is bounded by its own 5 minutes (syncTimeout). They run
// under Options.LongTimeout instead of Options.Timeout; a client that
// goes away (its connection closes) cancels them sooner, and a verify or
// evaluate canceled commits nothing (docs/api.md, "Limits").
var longRoutes = map[string]bool{
	"POST /v1/worlds/{world}/modules/{name}/verify":   true,
	"POST /v1/worlds/{world}/modules/{name}/evaluate": true,
	"POST /v1/collect":             true,
	"POST /v1/worlds/{world}/sync": true,
}

// LongRoute reports whether the route (METHOD PATTERN) runs a long job,
// bounded by Options.LongTimeout rather than Options.Timeout.
func LongRoute(route string) bool { return longRoutes[route] }

// timeout is the bound of route's handler.
func (s *server) timeout(route string) time.Duration {
	if longRoutes[route] {
		return max(s.opts.LongTimeout, s.opts.Timeout)
	}
	return s.opts.Timeout
}
