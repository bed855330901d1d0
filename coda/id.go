package coda

import (
	"encoding/base32"
	"fmt"
	"strings"

	"github.com/zeebo/blake3"

	"github.com/coalescent/coal/errs"
)

// IDSize is the size of an ID in bytes.
const IDSize = 32

// IDTextLen is the length of an ID's text form.
const IDTextLen = 52

// ID identifies an object: the BLAKE3-256 digest of its canonical bytes.
// The zero ID means "no object". IDs are comparable and usable as map keys.
type ID [IDSize]byte

// idEncoding is lowercase RFC 4648 base32 without padding: 52 characters,
// case-insensitive on input, safe in paths, URLs and file names.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Sum returns the ID of data.
func Sum(data []byte) ID { return ID(blake3.Sum256(data)) }

// Hasher computes an ID incrementally; see NewHasher.
type Hasher struct{ h *blake3.Hasher }

// NewHasher returns a hasher whose Sum equals Sum of everything written.
func NewHasher() *Hasher { return &Hasher{blake3.New()} }

// Write adds p to the hashed stream. It never fails.
func (h *Hasher) Write(p []byte) (int, error) { return h.h.Write(p) }

// ID returns the ID of everything written so far.
func (h *Hasher) ID() ID {
	var id ID
	h.h.Sum(id[:0])
	return id
}

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// String returns the 52-character lowercase base32 text form.
func (id ID) String() string { return idEncoding.EncodeToString(id[:]) }

// Short returns the first 12 characters of the text form, for display.
func (id ID) Short() string { return id.String()[:12] }

// MarshalText implements encoding.TextMarshaler.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts only a full ID.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseID parses the full text form of an ID (case-insensitive).
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != IDTextLen {
		return id, errs.E(errs.Invalid, fmt.Sprintf("coda: bad id %q: want %d base32 characters, got %d", s, IDTextLen, len(s)))
	}
	n, err := idEncoding.Decode(id[:], []byte(strings.ToLower(s)))
	if err != nil || n != IDSize {
		return ID{}, errs.E(errs.Invalid, fmt.Sprintf("coda: bad id %q: not base32", s))
	}
	// Reject non-canonical trailing bits so that one ID has one text form.
	if id.String() != strings.ToLower(s) {
		return ID{}, errs.E(errs.Invalid, fmt.Sprintf("coda: bad id %q: non-canonical trailing bits", s))
	}
	return id, nil
}

// IsIDPrefix reports whether s could be a prefix of an ID's text form.
func IsIDPrefix(s string) bool {
	if s == "" || len(s) > IDTextLen {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// HasPrefix reports whether id's text form starts with prefix (case-insensitive).
func (id ID) HasPrefix(prefix string) bool {
	return strings.HasPrefix(id.String(), strings.ToLower(prefix))
}
