package relay

import (
	"context"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Dial opens a stream to p negotiating the first of protos (in the
// dialer's order of preference) that p speaks, and returns a Conn over it
// with the protocol chosen. Until the Conn is closed, canceling ctx resets
// the stream, so a blocked Send or Recv returns.
func Dial(ctx context.Context, h host.Host, p peer.ID, protos []protocol.ID, send []coda.ID, res coda.Resolver, opts Options) (*Conn, protocol.ID, error) {
	s, err := h.NewStream(ctx, p, protos...)
	if err != nil {
		kind := errs.Unavailable
		if ctx.Err() != nil {
			kind = errs.Canceled
		}
		return nil, "", errs.E(kind, errs.Op("relay.Dial"), errs.Path(p.String()), err)
	}
	c := Accept(ctx, s, send, res, opts)
	return c, s.Protocol(), nil
}

// Accept returns a Conn over a stream a handler was given; canceling ctx
// resets the stream, as in Dial.
func Accept(ctx context.Context, s network.Stream, send []coda.ID, res coda.Resolver, opts Options) *Conn {
	c := NewConn(s, send, res, opts)
	if ctx.Done() != nil {
		c.stop = context.AfterFunc(ctx, func() { _ = s.Reset() })
	}
	return c
}
