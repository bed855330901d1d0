package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/errs"
)

// Schemas lists the schemas in /sys/schemas of the commit at names ("" the
// head) that the caller may read.
func (c *Client) Schemas(ctx context.Context, world, at string) ([]Schema, error) {
	var out []Schema
	err := c.do(ctx, http.MethodGet, worldPath(world, "/schemas"), atQuery(at), nil, &out)
	if out == nil && err == nil {
		out = []Schema{}
	}
	return out, err
}

// AddSchemas compiles the .coda text src against the world's schemas and
// stores each schema it declares at /sys/schemas/NAME, in one commit.
// filename names src in error positions (FILE:LINE:COL).
func (c *Client) AddSchemas(ctx context.Context, world, filename string, src []byte) (SchemaAdd, error) {
	var q url.Values
	if filename != "" {
		q = url.Values{"filename": {filename}}
	}
	resp, err := c.send(ctx, request{method: http.MethodPost, path: worldPath(world, "/schemas"), query: q,
		body: bytes.NewReader(src), ctype: "text/plain; charset=utf-8"})
	if err != nil {
		return SchemaAdd{}, err
	}
	defer resp.Body.Close()
	var out SchemaAdd
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return SchemaAdd{}, errs.E(errs.Corrupt, err)
	}
	return out, nil
}

// SchemaText is a schema with its text (message.SchemaText).
type SchemaText = message.SchemaText

// Schema returns the schema name of /sys/schemas in the commit at names
// ("" the head), with its text in the schema language.
func (c *Client) Schema(ctx context.Context, world, name, at string) (SchemaText, error) {
	var out SchemaText
	err := c.do(ctx, http.MethodGet, worldPath(world, "/schemas/"+url.PathEscape(name)), atQuery(at), nil, &out)
	return out, err
}
