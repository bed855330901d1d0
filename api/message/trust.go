package message

// TrustPeer is one peer of the node's trust table (GET /v1/trust, coal
// trust ls --json; docs/trust.md).
type TrustPeer struct {
	Key    string      `json:"key"`  // node key, ed25519:…
	Peer   string      `json:"peer"` // its libp2p peer id
	Policy string      `json:"policy"`
	Kinds  []TrustKind `json:"kinds"` // objects, verdicts, scores
}

// TrustKind is a peer's standing for one kind of claim.
type TrustKind struct {
	Kind     string  `json:"kind"` // objects, verdicts or scores
	Agree    uint64  `json:"agree"`
	Disagree uint64  `json:"disagree"`
	Shared   float64 `json:"shared"` // weighted pseudo-evidence from others' opinions
	Score    float64 `json:"score"`
	RecheckP float64 `json:"recheck_p"`
	Counts   bool    `json:"counts"` // its claims count without a re-check of ours
}

// TrustSetRequest is the body of PUT /v1/trust/{peer}.
type TrustSetRequest struct {
	Policy string `json:"policy"` // allow, deny or auto
}
