// Package node is the coal daemon: it opens (or creates) a home, joins the
// peer-to-peer network (package swarm), serves the API over HTTP and owns
// the lifecycle — start, the HOME/api address file, clean shutdown
// (docs/node.md).
package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/ctp"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/query"
	"github.com/coalescent/coal/replica"
	"github.com/coalescent/coal/swarm"
)

// DefaultAPI is the address the API listens on by default.
const DefaultAPI = "127.0.0.1:7070"

// APIFile is the file in the home holding the running API's URL.
const APIFile = "api"

// Options configures Open. The zero value is ready to use.
type Options struct {
	// API is the listen address; "" is DefaultAPI. Port 0 picks one.
	API string
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Handler builds the API handler (the CLI passes api.New). Nil: a
	// minimal one answering GET /v1/info. Either way the node puts
	// /metrics beside it.
	Handler func(n *Node) http.Handler
	// ShutdownTimeout bounds the wait for requests in flight at shutdown;
	// 0 is 10 s.
	ShutdownTimeout time.Duration

	// The network (package swarm, docs/swarm.md), started by Open.
	//
	// Listen are the libp2p listen multiaddrs; empty: HOME/swarm.json's
	// (all interfaces, one fixed port). Tests use 127.0.0.1 port 0.
	Listen []string
	// NoMDNS turns mDNS discovery on the LAN off.
	NoMDNS bool
	// Bootstrap are full multiaddrs of peers to dial at start, besides
	// HOME/swarm.json's.
	Bootstrap []string
	// NoSwarm runs the node without any network (Swarm returns nil).
	NoSwarm bool
	// Relays are full multiaddrs of circuit relays to reserve a slot on
	// while not publicly reachable, besides HOME/swarm.json's.
	Relays []string
	// RelayService makes the node a circuit relay for others.
	RelayService bool
	// Reachability overrides AutoNAT: "private" or "public" ("" is
	// HOME/swarm.json's; tests force "private" on 127.0.0.1).
	Reachability string
	// AutoCollect is the period of automatic collect (node/autocollect.go); 0: every 5 minutes; negative: off.
	AutoCollect time.Duration
}

// Node is an open home being served. Open it, Serve it, and Serve closes
// the home when it returns.
type Node struct {
	opts    Options
	log     *slog.Logger
	home    *cdb.Home
	tokens  *Tokens
	metrics *Metrics
	created bool
	swarm   *swarm.Swarm    // nil with Options.NoSwarm
	replica *replica.Engine // world sync; nil without a swarm
	ctp     *ctp.Server     // object transfer for sync's large values; nil without a swarm
	coll    *collectState   // trust table and module collect (node/collect.go)
}

// Open opens the home in dir, first creating it (with its node token) if
// there is none. A home another process has open is errs.Unavailable:
// "home DIR is in use by another coal process (a running coal serve?)".
func Open(dir string, opts Options) (*Node, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	copts := query.With(call.With(acl.With(cdb.Options{Logger: log})))
	created := false
	h, err := cdb.Open(dir, copts)
	if errs.Is(err, errs.NotExist) {
		if _, serr := os.Stat(filepath.Join(dir, "config.json")); errors.Is(serr, os.ErrNotExist) {
			h, err = cdb.Init(dir, copts)
			created = err == nil
		}
	}
	if err != nil {
		if errs.Is(err, errs.Unavailable) {
			return nil, errs.E(errs.Op("node.Open"), errs.Unavailable, fmt.Sprintf("home %s is in use by another coal process (a running coal serve?)", dir))
		}
		return nil, err
	}
	tok, err := EnsureToken(h.Dir())
	if err != nil {
		h.Close()
		return nil, err
	}
	if created {
		log.Info("created home", "dir", h.Dir(), "key", h.NodeKey().Key())
	}
	n := &Node{opts: opts, log: log, home: h, tokens: NewTokens(h, tok), metrics: NewMetrics(h.Dir()), created: created}
	if err := n.startSwarm(); err != nil {
		h.Close()
		return nil, err
	}
	if err := n.startReplica(); err != nil {
		n.stopSwarm()
		h.Close()
		return nil, err
	}
	if err := n.startCollect(); err != nil {
		n.stopReplica()
		n.stopSwarm()
		h.Close()
		return nil, err
	}
	return n, nil
}

// Home returns the node's open home.
func (n *Node) Home() *cdb.Home { return n.home }

// Tokens returns the verifier of the home's API tokens.
func (n *Node) Tokens() *Tokens { return n.tokens }

// Metrics returns the collector /metrics exports (the API observes its
// requests into it).
func (n *Node) Metrics() *Metrics { return n.metrics }

// Logger returns the node's logger.
func (n *Node) Logger() *slog.Logger { return n.log }

// Created reports whether Open created the home.
func (n *Node) Created() bool { return n.created }

// Close stops the swarm and closes the home without serving (Serve
// closes them itself).
func (n *Node) Close() error {
	n.stopCollect()
	n.stopReplica()
	n.stopSwarm()
	return n.home.Close()
}

// Serve listens on the API address, writes HOME/api once listening, and
// serves until ctx is done; then it stops accepting, waits for requests
// in flight (each commit they made is durable: commits are synced before
// they are acknowledged), removes HOME/api and closes the home, last. ready,
// if not nil, is called with the API's URL once it accepts connections.
func (n *Node) Serve(ctx context.Context, ready func(url string)) error {
	defer n.home.Close()
	// Triggers (call): stopped after the API, with a last pass.
	defer call.NewTriggers(n.home, []cdb.Identity{n.home.NodeKey()}, n.log).Start(ctx)()
	defer n.stopSwarm()   // before the home: peers may be reading it
	defer n.stopReplica() // before the swarm
	defer n.stopCollect() // before sync and the swarm
	addr := n.opts.API
	if addr == "" {
		addr = DefaultAPI
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return errs.E(errs.Op("node.Serve"), errs.Unavailable, fmt.Errorf("listen on %s: %w", addr, err))
	}
	url := "http://" + ln.Addr().String()
	apiFile := filepath.Join(n.home.Dir(), APIFile)
	os.Remove(apiFile)
	if err := writeFileSync(apiFile, []byte(url)); err != nil {
		ln.Close()
		return err
	}
	defer os.Remove(apiFile)

	var h http.Handler
	if n.opts.Handler != nil {
		h = n.opts.Handler(n)
	} else {
		h = n.infoHandler()
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("GET /metrics", n.authed(n.metrics))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		// No Read/WriteTimeout: blobs stream and watch streams are long;
		// the API bounds each handler itself.
		ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelWarn),
	}
	n.log.Info("serving", "api", url, "home", n.home.Dir(), "key", n.home.NodeKey().Key())
	if ready != nil {
		ready(url)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	n.log.Info("shutting down")
	timeout := n.opts.ShutdownTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		n.log.Warn("requests still running at shutdown; closing them", "err", err)
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// authed requires a valid bearer token.
func (n *Node) authed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			unauthorized(w)
			return
		}
		if _, err := n.tokens.Verify(tok); err != nil {
			unauthorized(w)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="coal"`)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(`{"type":"https://coalescent.dev/errors/unauthenticated","title":"no valid bearer token","status":401}` + "\n"))
}

// infoHandler is the API used without Options.Handler: GET /v1/info.
func (n *Node) infoHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/info", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"key": n.home.NodeKey().Key(), "home": n.home.Dir()})
	})
	return n.authed(mux)
}

// ReadAPI returns the URL of the API serving the home in dir, from
// HOME/api (errs.NotExist if no node is serving it).
func ReadAPI(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, APIFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", errs.E(errs.NotExist, errs.Path(dir), "no node is serving the home")
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
