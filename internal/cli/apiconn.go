package cli

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/errs"
)

// Every command that reads or changes a world goes through the REST API
// (docs/api.md) with the typed client, as Kubo's CLI does: one code path,
// so the output is the same whichever way the request travels.
//
//   - When a node serves the home (coal serve wrote HOME/api and answers),
//     the client calls it over HTTP with the home's token, or COAL_TOKEN's.
//   - Otherwise the command opens the home itself and runs the same API
//     handler (api.New) in this process, over an in-memory connection,
//     acting as the identity --as chooses (the node key by default).
//
// --as names a key of this home, which only the direct path can act as:
// a node acts as its token's identity, so with a node serving, --as is
// refused with what to do instead.

// api returns the client this command's requests go through. The caller
// must not close it; Main closes what it opened after the command.
func (e *env) api() (*client.Client, error) {
	if e.apiClient != nil {
		return e.apiClient, nil
	}
	if c := e.node(); c != nil {
		e.apiClient = c
		return c, nil
	}
	h, err := e.openHome()
	if err != nil {
		if e.nodeErr != nil && errs.Is(err, errs.Unavailable) && e.as == "" {
			// The home is in use, and its node did not answer: say why,
			// not that the command needs the home to itself.
			return nil, errs.E(errs.Unavailable, fmt.Sprintf("home %s is in use: %v", e.home, e.nodeErr))
		}
		return nil, err
	}
	who, err := e.identity(h)
	if err != nil {
		h.Close()
		return nil, err
	}
	c, stop := serveInProcess(h, who)
	e.apiClient = c
	e.closers = append(e.closers, func() error {
		stop()
		return h.Close()
	})
	return c, nil
}

// close runs the closers the command's calls registered, last first, and
// returns the first error.
func (e *env) close() error {
	var first error
	for i := len(e.closers) - 1; i >= 0; i-- {
		if err := e.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	e.closers = nil
	return first
}

// nodeToken is the bearer token the CLI calls a serving node with:
// COAL_TOKEN if set (a per-identity token, coal token new --as NAME),
// else the home's token (HOME/token).
func (e *env) nodeToken() string {
	if t := os.Getenv("COAL_TOKEN"); t != "" {
		return t
	}
	b, _ := os.ReadFile(filepath.Join(e.home, "token"))
	return strings.TrimSpace(string(b))
}

// servedError is the error for a home a node serves that this call
// cannot reach through it (--as names a key: the node acts as its
// token's identity).
func servedError(home, addr string) error {
	return errs.E(errs.Unavailable, fmt.Sprintf("home %s is served by a node at %s, which acts as its token's identity, so --as cannot choose one: make a token for that identity (coal token new --as NAME) and run the command with COAL_TOKEN=TOKEN and without --as, or stop the node", home, addr))
}

// fixedToken is the TokenVerifier of an in-process API: one random token,
// acting as one identity.
type fixedToken struct {
	token string
	who   cdb.Identity
}

func (f fixedToken) Verify(token string) (cdb.Identity, error) {
	if subtle.ConstantTimeCompare([]byte(token), []byte(f.token)) != 1 {
		return cdb.Identity{}, errs.E(errs.Permission, "unknown token")
	}
	return f.who, nil
}

// serveInProcess runs the API over h in this process, acting as who, and
// returns a client of it and a function that stops it. Requests travel
// over in-memory connections (net.Pipe); no port is opened.
func serveInProcess(h *cdb.Home, who cdb.Identity) (*client.Client, func()) {
	var b [16]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	handler := api.New(h, api.Options{
		Tokens:  fixedToken{token: token, who: who},
		Version: Version,
		// A command on its own home has no one to share it with: no
		// handler timeout and no body limit beyond the store's.
		Timeout: 365 * 24 * time.Hour,
		MaxJSON: 1 << 40,
		MaxBlob: 1 << 62,
	})
	ln := newPipeListener()
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	tr := &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return ln.dial(ctx) },
		MaxIdleConnsPerHost: 16,
		DisableCompression:  true,
	}
	c := client.New("http://coal.in-process", token, client.Options{HTTPClient: &http.Client{Transport: tr}})
	triggers := call.NewTriggers(h, []cdb.Identity{h.NodeKey(), who}, nil) // coal on: run as the trigger's author
	stop := func() {
		triggers.Pass(context.Background()) // the triggers of this command's commits
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}
	return c, stop
}

// pipeListener is a net.Listener whose connections are net.Pipe pairs
// made by dial.
type pipeListener struct {
	conns  chan net.Conn
	once   sync.Once
	closed chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

var errListenerClosed = errors.New("in-process API: listener closed")

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, errListenerClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, errListenerClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "in-process" }
