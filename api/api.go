package api

import (
	"log/slog"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/trust"
)

// TokenVerifier maps a bearer token to the identity it acts as. The node
// implements it; an unknown token is an error.
type TokenVerifier interface {
	Verify(token string) (cdb.Identity, error)
}

// Metrics receives one observation per request; the node exports them at
// /metrics. route is the Route's "METHOD PATTERN".
type Metrics interface {
	ObserveRequest(route string, status int, d time.Duration)
}

// Options configures New. Tokens is required; the rest may be zero.
type Options struct {
	Tokens  TokenVerifier
	Logger  *slog.Logger // nil: discard
	Metrics Metrics      // nil: none
	Version string
	// MaxJSON bounds JSON and text bodies (0: 16 MiB); MaxBlob bounds blob
	// bodies (0: 1 GiB). Larger bodies are 413 limit.
	MaxJSON int64
	MaxBlob int64
	// Timeout bounds a request's handler (0: 60s); watch streams are
	// exempt, and uploads (a blob PUT, an import) are bounded by it
	// while their body streams only when no byte arrives for that long
	// (api/tree.go).
	Timeout time.Duration
	// LongTimeout bounds the handlers of long jobs — verify, evaluate,
	// collect (api/long.go) — instead of Timeout (0: DefaultLongTimeout).
	LongTimeout time.Duration
	// Network is the node's swarm (/v1/peers; peer id and addresses in
	// /v1/info). Nil: the peers routes answer unavailable.
	Network Network
	// Sync is the node's world sync (POST .../sync, peers in .../status).
	// Nil: the sync route answers unavailable.
	Sync Syncer
	// Trust is the node's trust table (/v1/trust); nil: HOME/trust is
	// opened per request. Collector is its module collect (/v1/collect);
	// nil: that route answers unavailable.
	Trust     *trust.Store
	Collector Collector
}
