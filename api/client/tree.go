package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// The messages of the tree's routes beyond those in types.go.
type (
	Op           = message.Op
	ImportResult = message.ImportResult
)

// OpenRaw streams what GET .../tree/PATH?raw=1 answers: a value's
// canonical bytes (its schema id, then its body) or a blob's bytes. A
// directory is an errs.Invalid error. The caller closes it.
func (c *Client) OpenRaw(ctx context.Context, world, path, at string) (io.ReadCloser, error) {
	q := url.Values{"raw": {"1"}}
	if at != "" {
		q.Set("at", at)
	}
	resp, err := c.send(ctx, request{method: http.MethodGet, path: treePath(world, path), query: q,
		header: http.Header{"Accept": {"application/octet-stream"}}})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Apply makes ops one commit (POST .../transactions) and returns it. An
// error about one op of several names it as ops[I].
func (c *Client) Apply(ctx context.Context, world string, ops []Op, msg string) (coda.ID, error) {
	b, err := json.Marshal(ops)
	if err != nil {
		return coda.ID{}, errs.E(errs.Invalid, err)
	}
	return c.ApplyJSON(ctx, world, b, msg)
}

// ApplyJSON is Apply with the ops as a JSON list (coal apply's OPS.json).
func (c *Client) ApplyJSON(ctx context.Context, world string, ops []byte, msg string) (coda.ID, error) {
	var q url.Values
	if msg != "" {
		q = url.Values{"message": {msg}}
	}
	resp, err := c.send(ctx, request{method: http.MethodPost, path: worldPath(world, "/transactions"), query: q,
		body: bytes.NewReader(ops)})
	if err != nil {
		return coda.ID{}, err
	}
	defer resp.Body.Close()
	var r CommitResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return coda.ID{}, errs.E(errs.Corrupt, err)
	}
	return r.Commit, nil
}

// Import streams a tar archive of files (archive/tar; regular files
// only, paths relative to to) to the node, which stores each file as a
// blob at to/PATH, in one commit (POST .../import). msg "" is the node's
// message ("import N files to TO").
func (c *Client) Import(ctx context.Context, world, to string, tar io.Reader, msg string) (ImportResult, error) {
	q := url.Values{"to": {to}}
	if msg != "" {
		q.Set("message", msg)
	}
	resp, err := c.send(ctx, request{method: http.MethodPost, path: worldPath(world, "/import"), query: q,
		body: tar, ctype: "application/x-tar"})
	if err != nil {
		return ImportResult{}, err
	}
	defer resp.Body.Close()
	var r ImportResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return ImportResult{}, errs.E(errs.Corrupt, err)
	}
	return r, nil
}

// Open reads what is at path as GET .../tree/PATH answers it: its kind
// (value, blob or dir; message.KindHeader) and a body the caller closes —
// a value's JSON and a newline, a blob's bytes, a directory's entries.
func (c *Client) Open(ctx context.Context, world, path, at string) (string, io.ReadCloser, error) {
	resp, err := c.send(ctx, request{method: http.MethodGet, path: treePath(world, path), query: atQuery(at)})
	if err != nil {
		return "", nil, err
	}
	return resp.Header.Get(message.KindHeader), resp.Body, nil
}
