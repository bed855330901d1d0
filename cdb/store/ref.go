package store

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// MaxRefName is the longest ref name, in bytes.
const MaxRefName = 1024

// CheckRefName reports whether name can name a ref: 1 to MaxRefName bytes of
// UTF-8 without NUL. Refs are conventionally /-separated ("worlds/ID/heads/main").
func CheckRefName(name string) error {
	switch {
	case name == "":
		return errs.E(errs.Invalid, "store: empty ref name")
	case len(name) > MaxRefName:
		return errs.E(errs.Invalid, fmt.Sprintf("store: ref name of %d bytes exceeds %d", len(name), MaxRefName))
	case !utf8.ValidString(name):
		return errs.E(errs.Invalid, fmt.Sprintf("store: ref name %q is not UTF-8", name))
	case strings.IndexByte(name, 0) >= 0:
		return errs.E(errs.Invalid, fmt.Sprintf("store: ref name %q contains NUL", name))
	}
	return nil
}

// RefConflict returns the errs.Conflict error a Commit reports when the ref
// name points at got instead of want.
func RefConflict(name string, want, got coda.ID) error {
	show := func(id coda.ID) string {
		if id.IsZero() {
			return "nothing"
		}
		return id.String()
	}
	return errs.E(errs.Conflict, fmt.Sprintf("store: ref %q points at %s, expected %s", name, show(got), show(want)))
}

// SetRef points the ref name at id in a batch of its own.
func SetRef(s Store, name string, id coda.ID, sync bool) error {
	b := s.NewBatch()
	defer b.Discard()
	if err := b.SetRef(name, id); err != nil {
		return err
	}
	return b.Commit(sync)
}

// SwapRef points the ref name at new if it points at old (the zero ID: does
// not exist; new zero: delete it), or fails with errs.Conflict.
func SwapRef(s Store, name string, old, new coda.ID, sync bool) error {
	b := s.NewBatch()
	defer b.Discard()
	if err := b.SwapRef(name, old, new); err != nil {
		return err
	}
	return b.Commit(sync)
}

// Verify checks the object id against its bytes, using the store's own
// Verifier if it has one, or else reading the object through Open.
func Verify(s Store, id coda.ID) error {
	if v, ok := s.(Verifier); ok {
		return v.Verify(id)
	}
	b, err := s.Open(id)
	if err != nil {
		return err
	}
	defer b.Close()
	h := coda.NewHasher()
	if _, err := copyBuffer(h, b); err != nil {
		return err
	}
	if got := h.ID(); got != id {
		return errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: bytes hash to %s", id, got))
	}
	return nil
}

// copyBuffer copies with a chunk-sized buffer.
func copyBuffer(w io.Writer, r io.Reader) (int64, error) {
	return io.CopyBuffer(w, struct{ io.Reader }{r}, make([]byte, AvgChunk))
}
