package cdb

import (
	"crypto/ed25519"
	"path/filepath"
	"sync"

	"github.com/coalescent/coal/cdb/audit"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Policy is the security policy a higher layer gives a home (package acl
// implements it: acl.With(opts)). cdb cannot import acl, so the hooks are
// defined here, where they are consumed. With no Policy (Options.Policy
// nil) anyone may write and read anything: the behaviour before issue 5.
//
// The policy is used by every path by which a commit enters the store —
// local Commit, Merge, Replay and Receive (bundles, later sync) — through
// the one validation function, ValidateCommit (step 5, ValidateEnv.Rights),
// and by the read view (World.As).
type Policy interface {
	// CheckCommit is step 5 of ValidateCommit: whether c's author may make
	// each of its changes, judged on its parents' state, and whether what
	// it stores at policy paths (.acl, /sys/groups) is well formed. st
	// reads the parents' trees and c's objects. A refusal is an
	// errs.Permission error naming the path (or errs.Invalid for content).
	CheckCommit(st tree.Store, c *Commit, parents []*Commit) error
	// Genesis returns the leaves a new world's genesis commit writes for
	// its creator (acl: /.acl making the creator admin of /).
	Genesis(creator ed25519.PublicKey) ([]GenesisLeaf, error)
	// ReadFilter returns whether reader may read a path in the tree root
	// of the world world (paths as acl.ChangedPaths writes them: a
	// directory's metadata leaf is "/dir/"). The function need not be safe
	// for concurrent use.
	ReadFilter(st tree.Store, world, root coda.ID, reader ed25519.PublicKey) func(path string) bool
	// Schemas returns built-in schemas that values may have besides those
	// in /sys/schemas (acl: ACL and Group), so that puts of their objects
	// pass the put-time schema check and reads decode them.
	Schemas() []*coda.Schema
}

// GenesisLeaf is one value a genesis commit puts: the object bytes Data at
// Path.
type GenesisLeaf struct {
	Path string
	Data []byte
}

// AuditEvent is one read or write the node served, as Options.Audit
// receives it (package cdb/audit stores them).
type AuditEvent struct {
	Actor  ed25519.PublicKey // who acted (nil: unknown)
	Action string            // "get", "list", "log", "diff", "show", "commit", "merge", "receive", …
	World  coda.ID
	Path   string  // the path read or "" (commits: "")
	Commit coda.ID // the commit read or made (zero if none)
	Result string  // "ok", "not-exist", "denied", or an error kind
}

// Auditor receives audit events. Record must be safe for concurrent use;
// an error it returns fails the operation audited (a node must not serve
// what it cannot log).
type Auditor interface {
	Record(e AuditEvent) error
}

// recordWrite reports a write to the auditor. The write is done (or
// failed) already: an audit failure is logged, and err returned as is.
func (h *Home) recordWrite(actor ed25519.PublicKey, action string, world, commit coda.ID, err error) error {
	if h.audit == nil {
		return err
	}
	res := "ok"
	if err != nil {
		res = errs.KindOf(err).String()
	}
	if aerr := h.audit.Record(AuditEvent{Actor: actor, Action: action, World: world, Commit: commit, Result: res}); aerr != nil {
		h.log.Error("cdb: audit", "action", action, "err", aerr)
	}
	return err
}

// auditLog is the home's own Auditor: the log in DIR/audit, opened on
// first use, its head signed by the node key.
type auditLog struct {
	h   *Home
	mu  sync.Mutex
	log *audit.Log
}

// AuditLog returns the home's audit log (DIR/audit), opening it if need be.
func (h *Home) AuditLog() (*audit.Log, error) {
	return h.alog.open()
}

func (a *auditLog) open() (*audit.Log, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.log != nil {
		return a.log, nil
	}
	h := a.h
	if h == nil {
		return nil, errs.E(errs.Invalid, "cdb: the home's audit log is off")
	}
	l, err := audit.Open(filepath.Join(h.dir, "audit"), audit.Options{Key: h.key.priv, Public: h.key.Public})
	if err != nil {
		return nil, err
	}
	a.log = l
	return l, nil
}

func (a *auditLog) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.log == nil {
		return nil
	}
	err := a.log.Close()
	a.log = nil
	return err
}

// Record appends e to the log and returns once it is synced.
func (a *auditLog) Record(e AuditEvent) error {
	l, err := a.open()
	if err != nil {
		return err
	}
	return l.Append(auditRecord(e))
}

// RecordLater appends e without waiting for the sync (audit.AppendLater):
// reads are logged this way, so that a read costs no fsync of its own.
func (a *auditLog) RecordLater(e AuditEvent) error {
	l, err := a.open()
	if err != nil {
		return err
	}
	return l.AppendLater(auditRecord(e))
}

// laterAuditor is an Auditor that can also record without waiting for
// the record to be durable; reads use it when the home's auditor has it.
type laterAuditor interface {
	RecordLater(e AuditEvent) error
}

func auditRecord(e AuditEvent) audit.Record {
	r := audit.Record{Action: e.Action, World: e.World, Path: e.Path, Commit: e.Commit, Result: e.Result}
	if e.Actor != nil {
		r.Actor = KeyString(e.Actor)
	}
	return r
}
