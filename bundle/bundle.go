// Package bundle carries a world on a disk, no network needed: Create
// writes the commits of a branch and the objects its holder may read as
// one CODA wire stream; Apply validates every commit of a bundle with the
// receiving home's policy before storing anything, then stores all of it
// atomically; CloneBundle starts a new home from one. The format is
// specified byte by byte in docs/bundle.md.
package bundle

import (
	"context"
	"io"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Version is the bundle format version in the header.
const Version = 1

// Header is the first object of a bundle.
type Header struct {
	Version uint64  `json:"version"`
	World   coda.ID `json:"world"`  // the world's id (its genesis commit)
	Name    string  `json:"name"`   // the world's name where it was made
	Branch  string  `json:"branch"` // the branch it was made from
	Head    coda.ID `json:"head"`   // that branch's head
	Since   coda.ID `json:"since,omitzero"`
	// Author is the key the bundle was made as: objects it could not
	// read travel only as ids.
	Author string `json:"author"`
}

// CreateOptions configures Create.
type CreateOptions struct {
	// Since, if not zero, leaves out the commits reachable from it (the
	// receiver has them).
	Since coda.ID
	// Head is the commit to bundle; zero: the head of the current branch.
	Head coda.ID
}

// Stats says what a bundle holds.
type Stats struct {
	Header  Header `json:"header"`
	Commits int    `json:"commits"`
	Objects int    `json:"objects"` // all objects, commits included
	Bytes   int64  `json:"bytes"`
}

// Create writes a bundle of w as the identity as to out.
func Create(w *cdb.World, as cdb.Identity, out io.Writer, opts CreateOptions) (Stats, error) {
	return Stats{}, errs.E(errs.Internal, "bundle: not implemented")
}

// Read reads a whole bundle into memory, checking its framing and that
// every object hashes to an id: its header and objects by id. Nothing is
// validated against any history (Apply does that).
func Read(in io.Reader) (Header, map[coda.ID][]byte, error) {
	return Header{}, nil, errs.E(errs.Internal, "bundle: not implemented")
}

// Apply reads a bundle and gives it to w.Receive (branch "" : the current
// branch): every commit is validated before anything is stored; the first
// invalid commit rejects the whole bundle, naming it.
func Apply(ctx context.Context, w *cdb.World, in io.Reader, branch string) (cdb.ReceiveResult, error) {
	return cdb.ReceiveResult{}, errs.E(errs.Internal, "bundle: not implemented")
}

// ApplyHome is Apply to the world of the bundle in h, found by id; a
// world h does not hold is created under the bundle's name.
func ApplyHome(ctx context.Context, h *cdb.Home, in io.Reader) (*cdb.World, cdb.ReceiveResult, error) {
	return nil, cdb.ReceiveResult{}, errs.E(errs.Internal, "bundle: not implemented")
}

// CloneBundle creates a new home in dir (as cdb.Init, with opts: pass the
// policy, acl.With) whose only world, the default, comes from the bundle.
func CloneBundle(ctx context.Context, dir string, in io.Reader, opts cdb.Options) (*cdb.Home, cdb.ReceiveResult, error) {
	return nil, cdb.ReceiveResult{}, errs.E(errs.Internal, "bundle: not implemented")
}
