package message

import "github.com/coalescent/coal/coda"

// CollectRequest is the body of POST /v1/collect (coal collect, coal
// discover).
type CollectRequest struct {
	// Peer is a peer id, a node key or a full multiaddr; "" every
	// connected peer.
	Peer string `json:"peer,omitempty"`
	// Module is one module's name (discover); "" every module.
	Module string `json:"module,omitempty"`
	// World names the world whose catalog receives the modules (coal
	// --world); "" the node's default world.
	World string `json:"world,omitempty"`
}

// CollectReport answers POST /v1/collect: one session per peer
// (docs/protocols.md §7).
type CollectReport struct {
	Module string        `json:"module,omitempty"`
	Peers  []CollectPeer `json:"peers"`
}

// CollectPeer is what one session with one peer did.
type CollectPeer struct {
	Peer     string         `json:"peer"`
	Key      string         `json:"key"`
	Head     coda.ID        `json:"head,omitzero"` // the peer's catalog commit
	Full     bool           `json:"full"`          // the whole catalog was listed
	Listed   int            `json:"listed"`
	Wanted   int            `json:"wanted"`
	Objects  int            `json:"objects"`
	Bytes    int64          `json:"bytes"`
	Imported int            `json:"imported"` // entries stored in our catalog
	Results  CollectResults `json:"results"`
	Opinions int            `json:"opinions"`
	Peers    int            `json:"peers"`
	Millis   int64          `json:"ms"`
	Error    string         `json:"error,omitempty"`
}

// CollectResults says what happened to the signed Results received.
type CollectResults struct {
	Received  int `json:"received"`
	Denied    int `json:"denied"`
	Rechecked int `json:"rechecked"`
	Agreed    int `json:"agreed"`
	Disagreed int `json:"disagreed"`
	Failed    int `json:"failed"`
	Stored    int `json:"stored"`
}
