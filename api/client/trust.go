package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/coalescent/coal/api/message"
)

// The trust routes' messages.
type (
	TrustPeer       = message.TrustPeer
	TrustKind       = message.TrustKind
	TrustSetRequest = message.TrustSetRequest
)

// Trust returns the node's trust table (GET /v1/trust; node key only).
func (c *Client) Trust(ctx context.Context) ([]TrustPeer, error) {
	var out []TrustPeer
	err := c.do(ctx, http.MethodGet, "/v1/trust", nil, nil, &out)
	return out, err
}

// SetTrust sets the policy (allow, deny or auto) of the peer named by a
// node key or a peer id (PUT /v1/trust/{peer}; node key only).
func (c *Client) SetTrust(ctx context.Context, peer, policy string) (TrustPeer, error) {
	var out TrustPeer
	err := c.do(ctx, http.MethodPut, "/v1/trust/"+url.PathEscape(peer), nil, TrustSetRequest{Policy: policy}, &out)
	return out, err
}
