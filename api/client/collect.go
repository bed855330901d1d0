package client

import (
	"context"
	"net/http"

	"github.com/coalescent/coal/api/message"
)

// The collect route's messages.
type (
	CollectRequest = message.CollectRequest
	CollectReport  = message.CollectReport
	CollectPeer    = message.CollectPeer
	CollectResults = message.CollectResults
)

// Collect collects modules now (POST /v1/collect; node key only): from
// peer (a peer id, node key or full multiaddr; "" every connected peer),
// of module ("" every module: collect; a name: discover), into the
// catalog of world ("" the node's default world).
func (c *Client) Collect(ctx context.Context, peer, module, world string) (CollectReport, error) {
	var out CollectReport
	err := c.do(ctx, http.MethodPost, "/v1/collect", nil, CollectRequest{Peer: peer, Module: module, World: world}, &out)
	return out, err
}
