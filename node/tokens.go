package node

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Token files in a home (docs/node.md):
//
//	HOME/token          the node token: 64 lowercase hex digits (32 random
//	                    bytes) and "\n", mode 0600; it acts as the node key
//	HOME/tokens/HASH    one file per identity token, mode 0600, named by
//	                    the lowercase hex BLAKE3-256 of the token text and
//	                    holding the name of the key it acts as and "\n"
//
// Only hashes name identity tokens, so a listing of tokens/ (or a backup
// of it) does not give anyone a token.

// TokenFile is the node token's file name in a home.
const TokenFile = "token"

// TokensDir is the directory of identity tokens in a home.
const TokensDir = "tokens"

func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// EnsureToken returns the node token of the home in dir, creating
// HOME/token (mode 0600) if there is none.
func EnsureToken(dir string) (string, error) {
	tok, err := ReadToken(dir)
	if err == nil || !errs.Is(err, errs.NotExist) {
		return tok, err
	}
	tok, err = newToken()
	if err != nil {
		return "", err
	}
	name := filepath.Join(dir, TokenFile)
	if err := writeFileSync(name, []byte(tok+"\n")); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ReadToken(dir)
		}
		return "", errs.E(errs.Path(name), err)
	}
	return tok, nil
}

// ReadToken returns the node token of the home in dir (errs.NotExist if
// it has none).
func ReadToken(dir string) (string, error) {
	name := filepath.Join(dir, TokenFile)
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", errs.E(errs.NotExist, errs.Path(name), "the home has no API token (run coal serve or coal init)")
	}
	if err != nil {
		return "", errs.E(errs.Path(name), err)
	}
	return strings.TrimSpace(string(b)), nil
}

func tokenHash(tok string) string {
	id := coda.Sum([]byte(tok))
	return hex.EncodeToString(id[:])
}

// NewIdentityToken creates a token acting as the key named name of the
// home in dir ("node", or keys/NAME.key, which must exist) and stores
// only its hash in HOME/tokens. The home need not be open (a node may be
// serving it). The token is returned once; it cannot be read back.
func NewIdentityToken(dir, name string) (string, error) {
	if name != cdb.NodeKeyName {
		if err := cdb.ValidKeyName(name); err != nil {
			return "", err
		}
		if _, err := os.Stat(filepath.Join(dir, "keys", name+".key")); err != nil {
			return "", errs.E(errs.NotExist, fmt.Sprintf("no key %q (coal key new %s)", name, name))
		}
	}
	tok, err := newToken()
	if err != nil {
		return "", err
	}
	tdir := filepath.Join(dir, TokensDir)
	if err := os.MkdirAll(tdir, 0o700); err != nil {
		return "", err
	}
	if err := writeFileSync(filepath.Join(tdir, tokenHash(tok)), []byte(name+"\n")); err != nil {
		return "", err
	}
	return tok, nil
}

// Tokens checks bearer tokens against a home's token files. It implements
// the API's TokenVerifier. It is safe for concurrent use.
type Tokens struct {
	h    *cdb.Home
	node string
}

// NewTokens returns the verifier of h's tokens; node is the node token.
func NewTokens(h *cdb.Home, node string) *Tokens { return &Tokens{h: h, node: node} }

// Verify returns the identity token acts as: the node key for the node
// token, the named key for an identity token. Any other token (and the
// empty one) is errs.Permission.
func (t *Tokens) Verify(token string) (cdb.Identity, error) {
	if token == "" {
		return cdb.Identity{}, errs.E(errs.Permission, "no token")
	}
	if t.node != "" && subtle.ConstantTimeCompare([]byte(token), []byte(t.node)) == 1 {
		return t.h.NodeKey(), nil
	}
	b, err := os.ReadFile(filepath.Join(t.h.Dir(), TokensDir, tokenHash(token)))
	if err != nil {
		return cdb.Identity{}, errs.E(errs.Permission, "unknown token")
	}
	id, err := t.h.Key(strings.TrimSpace(string(b)))
	if err != nil {
		return cdb.Identity{}, errs.E(errs.Permission, fmt.Errorf("token's identity: %w", err))
	}
	return id, nil
}

func writeFileSync(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
