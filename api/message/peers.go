package message

// Peer is one peer in GET /v1/peers (coal peers --json): connected peers
// first, then the ones in the node's peer book, then the bad ones.
type Peer struct {
	ID        string   `json:"id"`            // the libp2p peer id
	Key       string   `json:"key,omitempty"` // its node key, ed25519:…
	Addrs     []string `json:"addrs"`         // connection addresses while connected, else those known
	Connected bool     `json:"connected"`
	// Source is how the node first learned of it: dial, inbound, mdns,
	// pex or bootstrap.
	Source    string  `json:"source,omitempty"`
	LastSeen  string  `json:"last_seen,omitempty"`  // RFC 3339, UTC
	LatencyMS float64 `json:"latency_ms,omitempty"` // ping's moving average
	// Bad is why the peer was punished (it is refused); BadSince when.
	Bad      string `json:"bad,omitempty"`
	BadSince string `json:"bad_since,omitempty"`
}

// ConnectRequest is the body of POST /v1/peers (coal peer add).
type ConnectRequest struct {
	// Addr is a full multiaddr, ending in /p2p/PEER-ID.
	Addr string `json:"addr"`
}

// PeerRemoved answers DELETE /v1/peers/{id} (coal peer rm --json).
type PeerRemoved struct {
	ID           string `json:"id"`
	Disconnected bool   `json:"disconnected"` // it was connected
	Forgotten    bool   `json:"forgotten"`    // it was in the peer book
	Forgiven     bool   `json:"forgiven"`     // it was on the bad-peer list
}
