package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/coalescent/coal/coda"
)

// Item is what Get answers: a value with its JSON (Value), or for a
// blob or directory its kind and id.
type Item = Value

// Info returns the node's description.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var n Info
	err := c.do(ctx, http.MethodGet, "/v1/info", nil, nil, &n)
	return n, err
}

// Worlds lists the node's worlds.
func (c *Client) Worlds(ctx context.Context) ([]World, error) {
	var ws []World
	err := c.do(ctx, http.MethodGet, "/v1/worlds", nil, nil, &ws)
	return ws, err
}

// CreateWorld creates a world named name.
func (c *Client) CreateWorld(ctx context.Context, name string) (NewWorld, error) {
	var w NewWorld
	err := c.do(ctx, http.MethodPost, "/v1/worlds", nil, NewWorldRequest{Name: name}, &w)
	return w, err
}

// Status returns world's branch, head and root; "" is the default world.
func (c *Client) Status(ctx context.Context, world string) (Status, error) {
	var w Status
	err := c.do(ctx, http.MethodGet, worldPath(world, "/status"), nil, nil, &w)
	return w, err
}

func atQuery(at string) url.Values {
	if at == "" {
		return nil
	}
	return url.Values{"at": {at}}
}

// Get returns the value at path in the commit at names (a commit id, a
// unique prefix or a branch; "" is the head), with its JSON
// (GET .../tree/PATH?meta=1).
func (c *Client) Get(ctx context.Context, world, path, at string) (Value, error) {
	q := url.Values{"meta": {"1"}}
	if at != "" {
		q.Set("at", at)
	}
	var v Value
	err := c.do(ctx, http.MethodGet, treePath(world, path), q, nil, &v)
	return v, err
}

// List returns the entries of the directory at path (GET
// .../tree/PATH?list=1); a value or blob there is errs.Invalid, "not a
// directory".
func (c *Client) List(ctx context.Context, world, path, at string) ([]Entry, error) {
	q := url.Values{"list": {"1"}}
	if at != "" {
		q.Set("at", at)
	}
	var es []Entry
	err := c.do(ctx, http.MethodGet, treePath(world, path), q, nil, &es)
	if es == nil && err == nil {
		es = []Entry{}
	}
	return es, err
}

// OpenBlob streams the bytes of the blob at path; the caller closes it.
// With off > 0 it starts there (a Range request).
func (c *Client) OpenBlob(ctx context.Context, world, path, at string, off int64) (io.ReadCloser, error) {
	h := http.Header{"Accept": {"application/octet-stream"}}
	if off > 0 {
		h.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	resp, err := c.send(ctx, request{method: http.MethodGet, path: treePath(world, path), query: atQuery(at), header: h})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Put writes the JSON value at path, in one commit, and returns it.
// schema "" is the schema of path's directory.
func (c *Client) Put(ctx context.Context, world, path string, value []byte, schema, msg string) (coda.ID, error) {
	q := url.Values{}
	if schema != "" {
		q.Set("schema", schema)
	}
	if msg != "" {
		q.Set("message", msg)
	}
	resp, err := c.send(ctx, request{method: http.MethodPut, path: treePath(world, path), query: q,
		body: bytes.NewReader(value), ctype: "application/json"})
	if err != nil {
		return coda.ID{}, err
	}
	defer resp.Body.Close()
	var r CommitResult
	err = json.NewDecoder(resp.Body).Decode(&r)
	return r.Commit, err
}

// PutBlob streams r's bytes to path as a blob, in one commit. size is
// r's length, or -1 if unknown (the body is then sent chunked).
func (c *Client) PutBlob(ctx context.Context, world, path string, r io.Reader, size int64, msg string) (coda.ID, error) {
	var q url.Values
	if msg != "" {
		q = url.Values{"message": {msg}}
	}
	if size >= 0 {
		r = io.LimitReader(r, size)
	}
	if size == 0 {
		r = http.NoBody
	}
	resp, err := c.send(ctx, request{method: http.MethodPut, path: treePath(world, path), query: q,
		body: r, ctype: "application/octet-stream", length: size})
	if err != nil {
		return coda.ID{}, err
	}
	defer resp.Body.Close()
	var ref CommitResult
	err = json.NewDecoder(resp.Body).Decode(&ref)
	return ref.Commit, err
}

// Delete deletes path (a directory needs recursive), in one commit.
func (c *Client) Delete(ctx context.Context, world, path string, recursive bool, msg string) (coda.ID, error) {
	q := url.Values{}
	if recursive {
		q.Set("recursive", "true")
	}
	if msg != "" {
		q.Set("message", msg)
	}
	var r CommitResult
	err := c.do(ctx, http.MethodDelete, treePath(world, path), q, nil, &r)
	return r.Commit, err
}

// Log lists commits newest first from from ("" is the head), those
// touching path if it is not "", at most n if n > 0.
func (c *Client) Log(ctx context.Context, world, from, path string, n int) ([]CommitSummary, error) {
	q := url.Values{}
	if from != "" {
		q.Set("from", from)
	}
	if path != "" {
		q.Set("path", path)
	}
	if n > 0 {
		q.Set("n", strconv.Itoa(n))
	}
	var cs []CommitSummary
	err := c.do(ctx, http.MethodGet, worldPath(world, "/log"), q, nil, &cs)
	return cs, err
}

// Commit returns the commit rev names (an id, a unique prefix or a branch).
func (c *Client) Commit(ctx context.Context, world, rev string) (CommitDetail, error) {
	var cm CommitDetail
	err := c.do(ctx, http.MethodGet, worldPath(world, "/commits/"+url.PathEscape(rev)), nil, nil, &cm)
	return cm, err
}
