package cdb

// Key files and the export format.
//
// A home keeps each identity's 32-byte ed25519 seed in HOME/keys/NAME.key,
// mode 0600 (the node key is "node"). Keys leave the home only through
// ExportKey, whose text form is:
//
//	coal-key-v1
//	name: NAME
//	public: ed25519:<52 base32 characters>
//	seed: <base64 (std, padded) of the 32-byte seed>
//
// four lines, each ending in "\n", in that order, nothing else. ImportKey
// checks that the seed gives the public key.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/coalescent/coal/errs"
)

// NodeKeyName names the node key.
const NodeKeyName = "node"

// KeyExportHeader is the first line of an exported key.
const KeyExportHeader = "coal-key-v1"

// KeyInfo describes one key of the home.
type KeyInfo struct {
	Name   string `json:"name"`
	Public string `json:"public"` // KeyString
}

// ValidKeyName reports whether name can name a key: 1–64 bytes of
// lowercase letters, digits, '-', '_' and '.', starting with a letter or
// digit.
func ValidKeyName(name string) error {
	ok := name != "" && len(name) <= 64
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '-' || r == '_' || r == '.') && i > 0:
		default:
			ok = false
		}
	}
	if !ok {
		return errs.E(errs.Invalid, fmt.Sprintf("bad key name %q: want 1–64 of a-z 0-9 - _ . starting with a letter or digit", name))
	}
	return nil
}

func (h *Home) keyFile(name string) string {
	return filepath.Join(h.dir, "keys", name+".key")
}

// NewKey makes a new identity named name, stored in HOME/keys/NAME.key
// (0600). errs.Exist if the name is taken.
func (h *Home) NewKey(name string) (Identity, error) {
	op := errs.Op("cdb.NewKey")
	if err := ValidKeyName(name); err != nil {
		return Identity{}, errs.E(op, err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return Identity{}, errs.E(op, err)
	}
	id, err := NewIdentity(name, seed)
	if err != nil {
		return Identity{}, errs.E(op, err)
	}
	if err := h.writeKey(name, seed); err != nil {
		return Identity{}, errs.E(op, err)
	}
	return id, nil
}

func (h *Home) writeKey(name string, seed []byte) error {
	if err := os.MkdirAll(filepath.Join(h.dir, "keys"), 0o700); err != nil {
		return err
	}
	err := writeFileSync(h.keyFile(name), seed, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return errs.E(errs.Exist, fmt.Sprintf("key %q exists", name))
	}
	if err != nil {
		return err
	}
	syncDir(filepath.Join(h.dir, "keys"))
	return nil
}

// Keys lists the home's keys by name.
func (h *Home) Keys() ([]KeyInfo, error) {
	ents, err := os.ReadDir(filepath.Join(h.dir, "keys"))
	if err != nil {
		return nil, errs.E(errs.Op("cdb.Keys"), err)
	}
	var out []KeyInfo
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".key")
		if !ok || e.IsDir() || ValidKeyName(name) != nil {
			continue
		}
		id, err := h.Key(name)
		if err != nil {
			return nil, err
		}
		out = append(out, KeyInfo{Name: name, Public: id.Key()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Key returns the identity named name, which can sign ("node": the node
// key). errs.NotExist if there is none.
func (h *Home) Key(name string) (Identity, error) {
	op := errs.Op("cdb.Key")
	if name == NodeKeyName {
		return h.key, nil
	}
	if err := ValidKeyName(name); err != nil {
		return Identity{}, errs.E(op, err)
	}
	id, err := readKey(h.keyFile(name), name)
	if errors.Is(err, fs.ErrNotExist) {
		return Identity{}, errs.E(op, errs.NotExist, fmt.Sprintf("no key %q (coal key new %s)", name, name))
	}
	if err != nil {
		return Identity{}, errs.E(op, err)
	}
	return id, nil
}

// KeyByPublic returns the home's identity whose public key is pub.
// errs.NotExist if the home holds none.
func (h *Home) KeyByPublic(pub ed25519.PublicKey) (Identity, error) {
	if bytes.Equal(pub, h.key.Public) {
		return h.key, nil
	}
	keys, err := h.Keys()
	if err != nil {
		return Identity{}, err
	}
	for _, k := range keys {
		if k.Public == KeyString(pub) {
			return h.Key(k.Name)
		}
	}
	return Identity{}, errs.E(errs.NotExist, fmt.Sprintf("no local key %s", KeyString(pub)))
}

// ExportKey returns the key named name in the export text form (see the
// top of this file). It holds the private key: the caller decides where it
// goes.
func (h *Home) ExportKey(name string) ([]byte, error) {
	id, err := h.Key(name)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nname: %s\npublic: %s\nseed: %s\n", KeyExportHeader, name, id.Key(),
		base64.StdEncoding.EncodeToString(id.priv.Seed()))
	return b.Bytes(), nil
}

// ParseKeyExport parses an exported key: its name and identity.
func ParseKeyExport(data []byte) (Identity, error) {
	bad := func(msg string) error {
		return errs.E(errs.Invalid, "bad key export: "+msg)
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) != 5 || lines[4] != "" {
		return Identity{}, bad("want 4 lines")
	}
	if lines[0] != KeyExportHeader {
		return Identity{}, bad(fmt.Sprintf("first line is not %s", KeyExportHeader))
	}
	var vals [3]string
	for i, k := range []string{"name: ", "public: ", "seed: "} {
		v, ok := strings.CutPrefix(lines[i+1], k)
		if !ok {
			return Identity{}, bad(fmt.Sprintf("line %d does not start with %q", i+2, k))
		}
		vals[i] = v
	}
	if err := ValidKeyName(vals[0]); err != nil && vals[0] != NodeKeyName {
		return Identity{}, bad(err.Error())
	}
	pub, err := ParseKey(vals[1])
	if err != nil {
		return Identity{}, bad(err.Error())
	}
	seed, err := base64.StdEncoding.Strict().DecodeString(vals[2])
	if err != nil || len(seed) != ed25519.SeedSize {
		return Identity{}, bad("seed is not the base64 of 32 bytes")
	}
	id, err := NewIdentity(vals[0], seed)
	if err != nil {
		return Identity{}, bad(err.Error())
	}
	if !bytes.Equal(id.Public, pub) {
		return Identity{}, bad("the seed does not give the public key")
	}
	return id, nil
}

// ImportKey stores the exported key data under name ("" : the name in the
// export). errs.Exist if the name is taken; "node" cannot be imported.
func (h *Home) ImportKey(name string, data []byte) (Identity, error) {
	op := errs.Op("cdb.ImportKey")
	id, err := ParseKeyExport(data)
	if err != nil {
		return Identity{}, errs.E(op, err)
	}
	if name == "" {
		name = id.Name
	}
	if name == NodeKeyName {
		return Identity{}, errs.E(op, errs.Invalid, "the node key cannot be replaced by an import; import it under another name")
	}
	if err := ValidKeyName(name); err != nil {
		return Identity{}, errs.E(op, err)
	}
	if err := h.writeKey(name, id.priv.Seed()); err != nil {
		return Identity{}, errs.E(op, err)
	}
	id.Name = name
	return id, nil
}
