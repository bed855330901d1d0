// Package client is the typed Go client of a coal node's REST API (/v1,
// docs/api.md). The CLI reaches a running node only through it.
//
// Errors the node answers with (RFC 9457 problem documents) come back as
// *errs.Error values of the problem's kind, so errors.Is(err, errs.NotExist)
// works across the wire as it does against a home opened directly.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coalescent/coal/errs"
)

// Options configures a Client. The zero value is usable.
type Options struct {
	// HTTPClient makes the requests; nil means a client of its own with
	// keep-alive connections to the node.
	HTTPClient *http.Client
	// ReconnectDelay is how long Watch waits before reconnecting after its
	// stream broke; zero means 100ms.
	ReconnectDelay time.Duration
}

// Client calls one node's API with one bearer token. It is safe for
// concurrent use.
type Client struct {
	base  string // without a trailing slash
	token string
	hc    *http.Client
	opts  Options
}

// New returns a client of the node at baseURL (http://127.0.0.1:7070, say)
// that authenticates with token.
func New(baseURL, token string, opts Options) *Client {
	hc := opts.HTTPClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 256
		hc = &http.Client{Transport: t}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, hc: hc, opts: opts}
}

// BaseURL is the node's address the client was made with.
func (c *Client) BaseURL() string { return c.base }

// problemPrefix is what every problem type starts with (errs.Kind.ProblemType).
const problemPrefix = "https://coal.dev/problems/"

// kind is the errs.Kind the problem names: by its kind member, its type,
// or failing both its HTTP status.
func problemKind(p *Problem, status int) errs.Kind {
	if k, ok := errs.KindByName(p.Kind); ok && p.Kind != "" {
		return k
	}
	if name, ok := strings.CutPrefix(p.Type, problemPrefix); ok {
		if k, ok := errs.KindByName(name); ok {
			return k
		}
	}
	switch status {
	case http.StatusBadRequest:
		return errs.Invalid
	case http.StatusNotFound:
		return errs.NotExist
	case http.StatusConflict:
		return errs.Conflict
	case http.StatusForbidden:
		return errs.Permission
	case http.StatusRequestEntityTooLarge:
		return errs.Limit
	case http.StatusUnauthorized:
		return errs.Unauthenticated
	case http.StatusServiceUnavailable:
		return errs.Unavailable
	case 499:
		return errs.Canceled
	}
	return errs.Other
}

// responseError turns an error response into an *errs.Error of the kind
// its problem document names. The message is the problem's detail (which
// the node writes as the error's text), or its title, or the status.
func responseError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil || (p.Type == "" && p.Detail == "" && p.Kind == "") {
		msg := strings.TrimSpace(string(body))
		if msg == "" {
			msg = resp.Status
		}
		return errs.E(problemKind(&p, resp.StatusCode), "coal node: "+msg)
	}
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	if msg == "" {
		msg = resp.Status
	}
	return &errs.Error{Kind: problemKind(&p, resp.StatusCode), Err: remoteError(msg)}
}

// remoteError is the text of an error the node reported.
type remoteError string

func (r remoteError) Error() string { return string(r) }

// request is one API call.
type request struct {
	method string
	path   string     // under the base URL, starting with /v1/
	query  url.Values // may be nil
	body   io.Reader  // may be nil
	ctype  string     // the body's Content-Type; application/json if empty and body is set
	header http.Header
	// length is the body's length when net/http cannot tell it from the
	// body (a file, a pipe): 0 unknown (sent chunked), n > 0 n bytes.
	length int64
}

// send makes the request and returns the response if its status is 2xx;
// otherwise the error the node reported. The caller closes the body.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, r.body)
	if err != nil {
		return nil, errs.E(errs.Invalid, err)
	}
	if r.length > 0 {
		// Sent with Content-Length, not chunked: the node can then take
		// the size as given instead of spooling the body to learn it.
		req.ContentLength = r.length
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if r.body != nil {
		ct := r.ctype
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errs.E(errs.Canceled, err)
		}
		return nil, errs.E(errs.Unavailable, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp, nil
}

// do makes a JSON call: in (if not nil) is the request body, out (if not
// nil) receives the response body.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	r := request{method: method, path: path, query: query}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return errs.E(errs.Invalid, err)
		}
		r.body = bytes.NewReader(b)
	}
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err := io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return errs.E(errs.Corrupt, fmt.Errorf("decode %s %s response: %w", method, path, err))
	}
	return nil
}

// worldPath is /v1/worlds/WORLD followed by rest; the empty world is the
// node's default world.
func worldPath(world, rest string) string {
	if world == "" {
		world = "default"
	}
	return "/v1/worlds/" + url.PathEscape(world) + rest
}

// treePath is the URL path of a tree path in world.
func treePath(world, p string) string {
	return worldPath(world, "/tree/"+escapeTreePath(strings.TrimPrefix(p, "/")))
}

// escapeTreePath escapes a tree path (without its leading slash) for a
// URL so that the node receives it unchanged, even one that is not
// canonical: the node, not the client, says what is wrong with a path.
// Servers clean URL paths ("/a/../b" to "/b", "//" to "/"), but not
// escaped bytes: a segment "." or ".." goes as %2E, and a path with an
// empty segment (other than after a trailing slash) goes with every
// separator as %2F, as one URL segment.
func escapeTreePath(p string) string {
	segs := strings.Split(p, "/")
	sep := "/"
	for i, s := range segs {
		if s == "" && i < len(segs)-1 {
			sep = "%2F"
		}
		switch s {
		case ".", "..":
			segs[i] = strings.Repeat("%2E", len(s))
		default:
			segs[i] = url.PathEscape(s)
		}
	}
	return strings.Join(segs, sep)
}
