package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/errs"
)

// The client methods of coal query and coal index (docs/query.md §8).

type (
	QueryRequest = message.QueryRequest
	QueryRow     = message.QueryRow
	QueryStats   = message.QueryStats
	Index        = message.Index
	IndexRequest = message.IndexRequest
)

// maxQueryLine bounds one line of a query's response (a value with its
// links followed).
const maxQueryLine = 64 << 20

// Query runs q in world and calls fn with each row as it arrives; it
// returns the last line (the commit queried, the cursor of the rest, the
// stats). An error the node met after the first row is returned with its
// kind, after the rows before it.
func (c *Client) Query(ctx context.Context, world string, q QueryRequest, fn func(QueryRow) error) (QueryRow, error) {
	b, err := json.Marshal(q)
	if err != nil {
		return QueryRow{}, errs.E(errs.Invalid, err)
	}
	resp, err := c.send(ctx, request{method: http.MethodPost, path: worldPath(world, "/query"), body: bytes.NewReader(b)})
	if err != nil {
		return QueryRow{}, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxQueryLine)
	for sc.Scan() {
		var row QueryRow
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return QueryRow{}, errs.E(errs.Corrupt, fmt.Errorf("decode query response line: %w", err))
		}
		if row.End {
			if row.Error != "" {
				k, ok := errs.KindByName(row.Kind)
				if !ok {
					k = errs.Other
				}
				return row, &errs.Error{Kind: k, Err: remoteError(row.Error)}
			}
			return row, nil
		}
		if err := fn(row); err != nil {
			return QueryRow{}, err
		}
	}
	if err := sc.Err(); err != nil {
		return QueryRow{}, errs.E(errs.Unavailable, fmt.Errorf("read query response: %w", err))
	}
	return QueryRow{}, errs.E(errs.Unavailable, "query response ended without its last line")
}

// Indexes lists the indexes on dir ("": on every directory) at revision
// at ("": the head).
func (c *Client) Indexes(ctx context.Context, world, dir, at string) ([]Index, error) {
	q := url.Values{}
	if dir != "" {
		q.Set("dir", dir)
	}
	if at != "" {
		q.Set("at", at)
	}
	out := []Index{}
	err := c.do(ctx, http.MethodGet, worldPath(world, "/indexes"), q, nil, &out)
	return out, err
}

// AddIndex declares an index on field of dir.
func (c *Client) AddIndex(ctx context.Context, world string, req IndexRequest) (CommitResult, error) {
	var r CommitResult
	err := c.do(ctx, http.MethodPost, worldPath(world, "/indexes"), nil, req, &r)
	return r, err
}

// RemoveIndex drops the index on field of dir.
func (c *Client) RemoveIndex(ctx context.Context, world, dir, field, message string) (CommitResult, error) {
	q := url.Values{"dir": {dir}, "field": {field}}
	if message != "" {
		q.Set("message", message)
	}
	var r CommitResult
	err := c.do(ctx, http.MethodDelete, worldPath(world, "/indexes"), q, nil, &r)
	return r, err
}
