// Package audit is the node-local, append-only, hash-chained log of every
// read and write a node serves (DESIGN.md, "Reads are logged too";
// docs/security.md, "Audit log"). It is not replicated: it would leak who
// read what.
//
// The log is one file, HOME/audit/log, of JSON lines (format at the top of
// record.go). Each record holds the hash of the one before it, so Verify
// finds any edited, removed, reordered or inserted record and names the
// first bad one. A Log is safe for concurrent use within one process; the
// home's store lock keeps other processes out.
package audit

import (
	"crypto/ed25519"
	"time"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Record is one audit record.
type Record struct {
	Seq    uint64    `json:"seq"`             // 1, 2, 3, … with no gaps
	Time   time.Time `json:"time"`            // UTC, millisecond precision
	Actor  string    `json:"actor,omitempty"` // the acting key (ed25519:…), "" if unknown
	Action string    `json:"action"`          // get, list, log, diff, show, commit, merge, receive, …
	World  coda.ID   `json:"world,omitzero"`  // the world
	Path   string    `json:"path,omitempty"`  // the path read or written
	Commit coda.ID   `json:"commit,omitzero"` // the commit read or made
	Result string    `json:"result"`          // ok, or an error kind (not-exist, permission, …)
	Prev   string    `json:"prev"`            // hash of the previous record's line (genesis: 64 zeros)
}

// Options configures Open.
type Options struct {
	// Clock is the wall clock; nil is time.Now.
	Clock func() time.Time
}

// Log is an open audit log.
type Log struct{}

// Open opens (creating it if need be) the audit log in dir.
func Open(dir string, opts Options) (*Log, error) {
	return nil, errs.E(errs.Internal, "audit: not implemented")
}

// Append adds records (Seq, Time and Prev are set by Append) and syncs
// the file once for the batch.
func (l *Log) Append(recs ...Record) error { return errs.E(errs.Internal, "audit: not implemented") }

// List returns the last n records (n <= 0: all), oldest first.
func (l *Log) List(n int) ([]Record, error) {
	return nil, errs.E(errs.Internal, "audit: not implemented")
}

// Verify checks the chain. It returns the number of records checked; a
// broken chain is an errs.Corrupt error naming the first bad record (its
// line number and sequence number).
func (l *Log) Verify() (int, error) { return 0, errs.E(errs.Internal, "audit: not implemented") }

// Close closes the log.
func (l *Log) Close() error { return nil }

var _ = ed25519.PublicKeySize
