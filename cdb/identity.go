package cdb

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"strings"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Identity is an ed25519 key pair with a local name ("node" for the node
// key). The private key is kept unexported: an Identity can sign, and its
// holder cannot leak the key by printing or marshalling it.
type Identity struct {
	Name   string
	Public ed25519.PublicKey
	priv   ed25519.PrivateKey
}

// NewIdentity returns the identity of an ed25519 seed (32 bytes).
func NewIdentity(name string, seed []byte) (Identity, error) {
	if len(seed) != ed25519.SeedSize {
		return Identity{}, errs.E(errs.Invalid, fmt.Sprintf("key %s: want a %d-byte ed25519 seed, have %d bytes", name, ed25519.SeedSize, len(seed)))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return Identity{Name: name, Public: priv.Public().(ed25519.PublicKey), priv: priv}, nil
}

// Key returns the text form of the identity's public key (KeyString).
func (id Identity) Key() string { return KeyString(id.Public) }

// Public32 returns the public key as an array, as stamps and commits hold it.
func (id Identity) Public32() [32]byte { return [32]byte(id.Public) }

// CanSign reports whether the identity holds its private key.
func (id Identity) CanSign() bool { return len(id.priv) == ed25519.PrivateKeySize }

// Sign signs msg. It fails if the identity holds no private key.
func (id Identity) Sign(msg []byte) ([]byte, error) {
	if !id.CanSign() {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("identity %q has no private key", id.Name))
	}
	return ed25519.Sign(id.priv, msg), nil
}

// KeyPrefix starts the text form of a public key.
const KeyPrefix = "ed25519:"

// KeyString returns the text form of an ed25519 public key: "ed25519:"
// followed by the 52-character lowercase base32 id form of its 32 bytes.
// The same string names the key in ACLs, commit authors and /home/KEY/.
func KeyString(pub []byte) string {
	if len(pub) != ed25519.PublicKeySize {
		return KeyPrefix + "?"
	}
	return KeyPrefix + coda.ID(pub).String()
}

// ParseKey parses the text form of a public key.
func ParseKey(s string) (ed25519.PublicKey, error) {
	rest, ok := strings.CutPrefix(s, KeyPrefix)
	if !ok {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("bad key %q: want %s followed by 52 base32 characters", s, KeyPrefix))
	}
	id, err := coda.ParseID(rest)
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("bad key %q: %v", s, err))
	}
	return ed25519.PublicKey(id[:]), nil
}

func readKey(file, name string) (Identity, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return Identity{}, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return Identity{}, errs.E(errs.Permission, errs.Path(file), fmt.Sprintf("key file is readable by others (mode %v); chmod 600 it", fi.Mode().Perm()))
	}
	seed, err := os.ReadFile(file)
	if err != nil {
		return Identity{}, err
	}
	id, err := NewIdentity(name, seed)
	if err != nil {
		return Identity{}, errs.E(errs.Corrupt, errs.Path(file), err)
	}
	return id, nil
}
