package message

import "github.com/coalescent/coal/coda"

// SyncReport answers POST /v1/worlds/{world}/sync (coal sync --json): one
// round of sync with every connected peer (docs/sync.md).
type SyncReport struct {
	World coda.ID    `json:"world"`
	Head  coda.ID    `json:"head"` // our head of main after the round
	Peers []SyncPeer `json:"peers"`
	// Branches are our heads of every branch after the round, by name.
	Branches []BranchHead `json:"branches"`
}

// BranchHead is one branch's head.
type BranchHead struct {
	Branch string  `json:"branch"`
	Head   coda.ID `json:"head"`
}

// SyncPeer is what one round did with one peer for one branch (main
// first, then by name).
type SyncPeer struct {
	Peer    string  `json:"peer"`             // libp2p peer id
	Branch  string  `json:"branch,omitempty"` // empty: the round failed before any branch
	Head    coda.ID `json:"head,omitzero"`    // the peer's head (zero: it shows us none)
	InSync  bool    `json:"in_sync"`          // we now hold the peer's head in our history
	Commits int     `json:"commits"`          // commits pulled from it
	Objects int     `json:"objects"`
	Bytes   int64   `json:"bytes"`
	Merged  bool    `json:"merged,omitempty"`  // a merge was made
	Waiting bool    `json:"waiting,omitempty"` // diverged: the peer is to merge first
	Deleted bool    `json:"deleted,omitempty"` // the branch was deleted here and the peer's head is no newer: ignored
	Error   string  `json:"error,omitempty"`
}

// PeerSync is one peer in a world's status (GET .../status "peers",
// coal status): its last announced head of main and whether it is ours,
// and the same for every branch.
type PeerSync struct {
	Peer   string  `json:"peer"`
	Key    string  `json:"key"`           // its node key, ed25519:…
	Head   coda.ID `json:"head,omitzero"` // of main; zero: it shows us no head of this world
	InSync bool    `json:"in_sync"`
	Seen   string  `json:"seen,omitempty"` // when its heads last arrived, RFC 3339 UTC
	Error  string  `json:"error,omitempty"`
	// Branches are every branch of the world the peer or we have, by name.
	Branches []PeerBranch `json:"branches,omitempty"`
}

// PeerBranch is one branch in a peer's status.
type PeerBranch struct {
	Branch string  `json:"branch"`
	Head   coda.ID `json:"head,omitzero"` // the peer's (zero: it shows none)
	Ours   coda.ID `json:"ours,omitzero"` // ours (zero: we have no such branch)
	InSync bool    `json:"in_sync"`       // the same commit
}
