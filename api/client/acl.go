package client

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/coda"
)

// The messages of the ACL, group and schema routes.
type (
	ACLRule       = message.ACLRule
	ACLShow       = message.ACLShow
	GrantRequest  = message.GrantRequest
	RevokeRequest = message.RevokeRequest
	Group         = message.Group
	GroupRequest  = message.GroupRequest
	Schema        = message.Schema
	SchemaAdd     = message.SchemaAdd
)

// ACL returns the caller's rights on path in the commit at names ("" the
// head), where they come from and the rules behind them (coal acl show).
// A path ending in / asks about a directory's entries.
func (c *Client) ACL(ctx context.Context, world, path, at string) (ACLShow, error) {
	p := strings.TrimPrefix(path, "/")
	var out ACLShow
	err := c.do(ctx, http.MethodGet, worldPath(world, "/acl/"+escapeTreePath(p)), atQuery(at), nil, &out)
	return out, err
}

// Grant adds rights (a comma list of read, write, admin) to who's rule in
// the .acl of the directory path, in one commit. who is a principal as
// coal takes one: anyone, group:NAME, ed25519:KEY or a key of the node's
// home by name.
func (c *Client) Grant(ctx context.Context, world, path, who, rights string) (coda.ID, error) {
	var r CommitResult
	err := c.do(ctx, http.MethodPost, worldPath(world, "/acl/grant"), nil, GrantRequest{Path: path, Who: who, Rights: rights}, &r)
	return r.Commit, err
}

// Revoke removes who's rule from the .acl of the directory path, in one
// commit; removing the last admin rule of /.acl needs force.
func (c *Client) Revoke(ctx context.Context, world, path, who string, force bool) (coda.ID, error) {
	var r CommitResult
	err := c.do(ctx, http.MethodPost, worldPath(world, "/acl/revoke"), nil, RevokeRequest{Path: path, Who: who, Force: force}, &r)
	return r.Commit, err
}

// Groups lists the groups the caller may read.
func (c *Client) Groups(ctx context.Context, world string) ([]Group, error) {
	var out []Group
	err := c.do(ctx, http.MethodGet, worldPath(world, "/groups"), nil, nil, &out)
	return out, err
}

// Group returns the group name.
func (c *Client) Group(ctx context.Context, world, name string) (Group, error) {
	var out Group
	err := c.do(ctx, http.MethodGet, worldPath(world, "/groups/"+url.PathEscape(name)), nil, nil, &out)
	return out, err
}

// GroupAdd adds members (principals as for Grant) to the group name,
// creating it, in one commit.
func (c *Client) GroupAdd(ctx context.Context, world, name string, members []string) (coda.ID, error) {
	var r CommitResult
	err := c.do(ctx, http.MethodPost, worldPath(world, "/groups"), nil, GroupRequest{Name: name, Members: members}, &r)
	return r.Commit, err
}

// GroupRemove removes members from the group name, or with none deletes
// the group, in one commit.
func (c *Client) GroupRemove(ctx context.Context, world, name string, members []string) (coda.ID, error) {
	if members == nil {
		members = []string{}
	}
	var r CommitResult
	err := c.do(ctx, http.MethodDelete, worldPath(world, "/groups/"+url.PathEscape(name)), nil, GroupRequest{Members: members}, &r)
	return r.Commit, err
}
