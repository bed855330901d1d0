package client

import (
	"context"
	"net/http"

	"github.com/coalescent/coal/api/message"
)

// The sync routes' messages.
type (
	SyncReport = message.SyncReport
	SyncPeer   = message.SyncPeer
	PeerSync   = message.PeerSync
	BranchHead = message.BranchHead
	PeerBranch = message.PeerBranch
)

// Sync runs one round of sync of world ("" the default) with every
// connected peer now (POST .../sync; node key only) and reports per peer
// and branch.
func (c *Client) Sync(ctx context.Context, world string) (SyncReport, error) {
	var out SyncReport
	err := c.do(ctx, http.MethodPost, worldPath(world, "/sync"), nil, nil, &out)
	return out, err
}
