package client

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/coalescent/coal/api/message"
)

// The call routes' messages.
type (
	CallRequest    = message.CallRequest
	CallResult     = message.CallResult
	CallRecord     = message.CallRecord
	TriggerRequest = message.TriggerRequest
)

// Call runs the program at path in world as the client's identity
// (POST .../call/PATH): its writes become one commit with a call record.
func (c *Client) Call(ctx context.Context, world, path string, req CallRequest) (CallResult, error) {
	var res CallResult
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	err := c.do(ctx, http.MethodPost, worldPath(world, "/call/"+strings.Join(segs, "/")), nil, req, &res)
	return res, err
}

// SetTrigger makes the directory dir run the program at prog (entry)
// after each commit that changes it (POST .../triggers, coal on).
func (c *Client) SetTrigger(ctx context.Context, world, dir, prog, entry string) (CommitResult, error) {
	var res CommitResult
	err := c.do(ctx, http.MethodPost, worldPath(world, "/triggers"), nil, TriggerRequest{Path: dir, Program: prog, Entry: entry}, &res)
	return res, err
}
