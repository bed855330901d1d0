package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/coalescent/coal/api/message"
)

// The peers routes' messages.
type (
	Peer           = message.Peer
	ConnectRequest = message.ConnectRequest
	PeerRemoved    = message.PeerRemoved
)

// Peers lists the node's connected, known and bad peers (GET /v1/peers).
func (c *Client) Peers(ctx context.Context) ([]Peer, error) {
	ps := []Peer{}
	err := c.do(ctx, http.MethodGet, "/v1/peers", nil, nil, &ps)
	return ps, err
}

// Connect has the node connect to the peer at addr, a full multiaddr
// ending in /p2p/PEER-ID (POST /v1/peers).
func (c *Client) Connect(ctx context.Context, addr string) (Peer, error) {
	var p Peer
	err := c.do(ctx, http.MethodPost, "/v1/peers", nil, ConnectRequest{Addr: addr}, &p)
	return p, err
}

// RemovePeer has the node disconnect the peer id and forget it
// (DELETE /v1/peers/{id}).
func (c *Client) RemovePeer(ctx context.Context, id string) (PeerRemoved, error) {
	var r PeerRemoved
	err := c.do(ctx, http.MethodDelete, "/v1/peers/"+url.PathEscape(id), nil, nil, &r)
	return r, err
}
