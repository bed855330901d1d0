package relay

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/errs"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A coal node's libp2p identity is its node key: the peer id is derived
// from the ed25519 public key (an "identity" multihash of its protobuf
// form, libp2p's peer id spec), so every peer id names the key that signs
// that node's commits, and PeerKey recovers it without a lookup.

// PeerKey returns the ed25519 public key a peer id embeds. Ids of other
// key types, or hashed ids, fail with errs.Invalid.
func PeerKey(id peer.ID) (ed25519.PublicKey, error) {
	pk, err := id.ExtractPublicKey()
	if err != nil {
		return nil, errs.E(errs.Invalid, errs.Op("relay.PeerKey"), fmt.Errorf("peer %s: %w", id, err))
	}
	if pk.Type() != crypto.Ed25519 {
		return nil, errs.E(errs.Invalid, errs.Op("relay.PeerKey"), fmt.Sprintf("peer %s: a %s key, not ed25519", id, pk.Type()))
	}
	raw, err := pk.Raw()
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errs.E(errs.Invalid, errs.Op("relay.PeerKey"), fmt.Sprintf("peer %s: bad ed25519 key", id))
	}
	return ed25519.PublicKey(raw), nil
}

// PeerID returns the peer id of an ed25519 public key.
func PeerID(pub ed25519.PublicKey) (peer.ID, error) {
	pk, err := crypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		return "", errs.E(errs.Invalid, errs.Op("relay.PeerID"), err)
	}
	id, err := peer.IDFromPublicKey(pk)
	if err != nil {
		return "", errs.E(errs.Invalid, errs.Op("relay.PeerID"), err)
	}
	return id, nil
}

// HostKey returns the libp2p private key of an ed25519 private key, for
// libp2p.Identity.
func HostKey(priv ed25519.PrivateKey) (crypto.PrivKey, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, errs.E(errs.Invalid, errs.Op("relay.HostKey"), fmt.Sprintf("ed25519 private key of %d bytes, want %d", len(priv), ed25519.PrivateKeySize))
	}
	k, err := crypto.UnmarshalEd25519PrivateKey(priv)
	if err != nil {
		return nil, errs.E(errs.Invalid, errs.Op("relay.HostKey"), err)
	}
	return k, nil
}

// NodeKey returns the private half of a home's node key
// (cdb.Home.NodeKey), read through the home's key export: the host signs
// its libp2p handshakes with it.
func NodeKey(h *cdb.Home) (ed25519.PrivateKey, error) {
	op := errs.Op("relay.NodeKey")
	text, err := h.ExportKey(cdb.NodeKeyName)
	if err != nil {
		return nil, errs.E(op, err)
	}
	var seed []byte
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "seed: "); ok {
			seed, err = base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, errs.E(errs.Corrupt, op, fmt.Errorf("node key seed: %w", err))
			}
		}
	}
	if len(seed) != ed25519.SeedSize {
		return nil, errs.E(errs.Corrupt, op, "node key export holds no 32-byte seed")
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if !priv.Public().(ed25519.PublicKey).Equal(h.NodeKey().Public) {
		return nil, errs.E(errs.Corrupt, op, "node key export does not match the node key")
	}
	return priv, nil
}
