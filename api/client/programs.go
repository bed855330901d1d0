package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/errs"
)

// The program and library routes' messages.
type (
	ProgramAdd    = message.ProgramAdd
	ProgramEntry  = message.ProgramEntry
	ProgramSource = message.ProgramSource
	LibEntry      = message.LibEntry
	LibRoutine    = message.LibRoutine
	LibNote       = message.LibNote
)

func escapePath(p string) string {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// AddProgram builds the Co source src (named file in error positions) in
// the world and stores the Program at path, its library routines under
// /lib (POST .../programs/PATH, coal prog add).
func (c *Client) AddProgram(ctx context.Context, world, path, file string, src []byte, msg string) (ProgramAdd, error) {
	var res ProgramAdd
	q := url.Values{}
	if file != "" {
		q.Set("filename", file)
	}
	if msg != "" {
		q.Set("message", msg)
	}
	resp, err := c.send(ctx, request{method: http.MethodPost, path: worldPath(world, "/programs/"+escapePath(path)),
		query: q, body: bytes.NewReader(src), ctype: "text/plain; charset=utf-8"})
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return res, errs.E(errs.Corrupt, fmt.Errorf("decode POST programs response: %w", err))
	}
	return res, nil
}

// ProgramSource returns the readable Co source of the program at path in
// commit at ("" the head) (GET .../source/PATH, coal get --source).
func (c *Client) ProgramSource(ctx context.Context, world, path, at string) (ProgramSource, error) {
	var res ProgramSource
	q := url.Values{}
	if at != "" {
		q.Set("at", at)
	}
	err := c.do(ctx, http.MethodGet, worldPath(world, "/source/"+escapePath(path)), q, nil, &res)
	return res, err
}

// Lib lists the world's code library, /lib (GET .../lib, coal lib ls).
func (c *Client) Lib(ctx context.Context, world string) ([]LibEntry, error) {
	var res []LibEntry
	err := c.do(ctx, http.MethodGet, worldPath(world, "/lib"), nil, nil, &res)
	return res, err
}

// LibRoutine returns the library routine with the id (or unique prefix)
// id (GET .../lib/{id}, coal lib show).
func (c *Client) LibRoutine(ctx context.Context, world, id string) (LibRoutine, error) {
	var res LibRoutine
	err := c.do(ctx, http.MethodGet, worldPath(world, "/lib/"+url.PathEscape(id)), nil, nil, &res)
	return res, err
}
