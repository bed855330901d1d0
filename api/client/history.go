package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/errs"
)

// The client methods of history, branches, maintenance, bundles and keys.

type (
	DiffEntry        = message.DiffEntry
	RevertRequest    = message.RevertRequest
	RevertResult     = message.RevertResult
	ResetRequest     = message.ResetRequest
	Branch           = message.Branch
	NewBranchRequest = message.NewBranchRequest
	MergeRequest     = message.MergeRequest
	MergeResult      = message.MergeResult
	ConflictSide     = message.ConflictSide
	Conflict         = message.Conflict
	SwitchRequest    = message.SwitchRequest
	AuditRecord      = message.AuditRecord
	AuditVerify      = message.AuditVerify
	Fsck             = message.Fsck
	Replay           = message.Replay
	BundleStats      = message.BundleStats
	BundleApply      = message.BundleApply
	Key              = message.Key
	NewKeyRequest    = message.NewKeyRequest
	ImportKeyRequest = message.ImportKeyRequest
	KeyExport        = message.KeyExport
)

// Diff lists the paths that differ between commits a and b ("" is the
// head), in path order.
func (c *Client) Diff(ctx context.Context, world, a, b string) ([]DiffEntry, error) {
	q := url.Values{"a": {a}}
	if b != "" {
		q.Set("b", b)
	}
	out := []DiffEntry{}
	err := c.do(ctx, http.MethodGet, worldPath(world, "/diff"), q, nil, &out)
	return out, err
}

// Revert makes a commit undoing commit rev's ops.
func (c *Client) Revert(ctx context.Context, world, rev string) (RevertResult, error) {
	var r RevertResult
	err := c.do(ctx, http.MethodPost, worldPath(world, "/revert"), nil, RevertRequest{Commit: rev}, &r)
	return r, err
}

// Reset makes a commit whose content is that of commit to.
func (c *Client) Reset(ctx context.Context, world, to string) (CommitResult, error) {
	var r CommitResult
	err := c.do(ctx, http.MethodPost, worldPath(world, "/reset"), nil, ResetRequest{To: to}, &r)
	return r, err
}

// Branches lists world's branches.
func (c *Client) Branches(ctx context.Context, world string) ([]Branch, error) {
	out := []Branch{}
	err := c.do(ctx, http.MethodGet, worldPath(world, "/branches"), nil, nil, &out)
	return out, err
}

// NewBranch makes the branch name at commit at ("" is the head).
func (c *Client) NewBranch(ctx context.Context, world, name, at string) (Branch, error) {
	var b Branch
	err := c.do(ctx, http.MethodPost, worldPath(world, "/branches"), nil, NewBranchRequest{Name: name, At: at}, &b)
	return b, err
}

// DeleteBranch deletes the branch name (not main, not the current one;
// docs/sync.md, "Deletion"). The node records a tombstone of it.
func (c *Client) DeleteBranch(ctx context.Context, world, name string) error {
	return c.do(ctx, http.MethodDelete, worldPath(world, "/branches/"+url.PathEscape(name)), nil, nil, nil)
}

// Switch makes the branch name world's current branch.
func (c *Client) Switch(ctx context.Context, world, name string) (Branch, error) {
	var b Branch
	err := c.do(ctx, http.MethodPost, worldPath(world, "/switch"), nil, SwitchRequest{Name: name}, &b)
	return b, err
}

// Merge merges branch (or any commit) into the current branch.
func (c *Client) Merge(ctx context.Context, world, branch string) (MergeResult, error) {
	var m MergeResult
	err := c.do(ctx, http.MethodPost, worldPath(world, "/merge"), nil, MergeRequest{Branch: branch}, &m)
	return m, err
}

// Conflicts lists the conflicts of the merge commit rev ("" is the head).
func (c *Client) Conflicts(ctx context.Context, world, rev string) ([]Conflict, error) {
	var q url.Values
	if rev != "" {
		q = url.Values{"commit": {rev}}
	}
	out := []Conflict{}
	err := c.do(ctx, http.MethodGet, worldPath(world, "/conflicts"), q, nil, &out)
	return out, err
}

// Audit returns the node's audit log, oldest first; the last n records
// if n > 0. Only the node key may read it.
func (c *Client) Audit(ctx context.Context, n int) ([]AuditRecord, error) {
	var q url.Values
	if n > 0 {
		q = url.Values{"n": {fmt.Sprint(n)}}
	}
	out := []AuditRecord{}
	err := c.do(ctx, http.MethodGet, "/v1/audit", q, nil, &out)
	return out, err
}

// AuditVerify checks the audit log's hash chain.
func (c *Client) AuditVerify(ctx context.Context) (AuditVerify, error) {
	var v AuditVerify
	err := c.do(ctx, http.MethodGet, "/v1/audit/verify", nil, nil, &v)
	return v, err
}

// Fsck checks every object reachable in world ("" : every world). The
// problems found are in the answer, not an error.
func (c *Client) Fsck(ctx context.Context, world string) (Fsck, error) {
	var q url.Values
	if world != "" {
		q = url.Values{"world": {world}}
	}
	var f Fsck
	err := c.do(ctx, http.MethodGet, "/v1/fsck", q, nil, &f)
	return f, err
}

// Replay rebuilds world's history from genesis and checks it.
func (c *Client) Replay(ctx context.Context, world string) (Replay, error) {
	var r Replay
	err := c.do(ctx, http.MethodGet, worldPath(world, "/replay"), nil, nil, &r)
	return r, err
}

// CreateBundle writes to out a bundle of world's current branch (or of
// head), made as the caller, leaving out the commits reachable from since
// if it is not "", and returns what it holds. A stream cut short is an
// error (errs.Unavailable): out then holds part of a bundle.
func (c *Client) CreateBundle(ctx context.Context, world, since, head string, out io.Writer) (BundleStats, error) {
	q := url.Values{}
	if since != "" {
		q.Set("since", since)
	}
	if head != "" {
		q.Set("head", head)
	}
	resp, err := c.send(ctx, request{method: http.MethodGet, path: worldPath(world, "/bundle"), query: q})
	if err != nil {
		return BundleStats{}, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(out, resp.Body); err != nil {
		return BundleStats{}, errs.E(errs.Unavailable, fmt.Errorf("bundle: %w", err))
	}
	t := resp.Trailer.Get(message.BundleStatsTrailer)
	if t == "" {
		return BundleStats{}, errs.E(errs.Unavailable, "bundle: the node's stream ended before the bundle did")
	}
	var st BundleStats
	if err := json.Unmarshal([]byte(t), &st); err != nil {
		return BundleStats{}, errs.E(errs.Corrupt, fmt.Errorf("bundle: %s trailer: %w", message.BundleStatsTrailer, err))
	}
	return st, nil
}

// ApplyBundle validates and stores the bundle read from r in world; world
// "" is the world the bundle belongs to, created if the node has none.
func (c *Client) ApplyBundle(ctx context.Context, world string, r io.Reader) (BundleApply, error) {
	p := "/v1/bundles"
	if world != "" {
		p = worldPath(world, "/bundle")
	}
	resp, err := c.send(ctx, request{method: http.MethodPost, path: p, body: r, ctype: "application/octet-stream"})
	if err != nil {
		return BundleApply{}, err
	}
	defer resp.Body.Close()
	var a BundleApply
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return BundleApply{}, errs.E(errs.Corrupt, fmt.Errorf("decode POST %s response: %w", p, err))
	}
	return a, nil
}

// Keys lists the home's keys by name.
func (c *Client) Keys(ctx context.Context) ([]Key, error) {
	out := []Key{}
	err := c.do(ctx, http.MethodGet, "/v1/keys", nil, nil, &out)
	return out, err
}

// NewKey makes a key named name. Only the node key may.
func (c *Client) NewKey(ctx context.Context, name string) (Key, error) {
	var k Key
	err := c.do(ctx, http.MethodPost, "/v1/keys", nil, NewKeyRequest{Name: name}, &k)
	return k, err
}

// ImportKey stores the exported key export under name. Only the node key
// may.
func (c *Client) ImportKey(ctx context.Context, name string, export []byte) (Key, error) {
	var k Key
	err := c.do(ctx, http.MethodPost, "/v1/keys/import", nil, ImportKeyRequest{Name: name, Export: string(export)}, &k)
	return k, err
}

// ExportKey returns the key name in its export form, private part
// included. Only the node key may.
func (c *Client) ExportKey(ctx context.Context, name string) ([]byte, error) {
	var k KeyExport
	err := c.do(ctx, http.MethodGet, "/v1/keys/"+url.PathEscape(name)+"/export", nil, nil, &k)
	return []byte(k.Export), err
}
