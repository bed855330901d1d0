// Package message defines the JSON messages of coal's HTTP API: the requests
// and responses of every route, shared by the server (package api) and the
// typed client (api/client), so the two can't drift apart. Each has the shape
// the CLI prints with --json (docs/cli.md).
package message

import (
	"encoding/json"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
)

// The JSON types of the API. Each has the shape the CLI prints with --json
// (docs/cli.md), so a script reads the same fields from either.

// Info is GET /v1/info.
type Info struct {
	Version string  `json:"version"`
	Key     string  `json:"key"`    // the node key, ed25519:…
	As      string  `json:"as"`     // the identity the request acts as
	Worlds  []World `json:"worlds"` // the worlds of the home
	// PeerID is the node's libp2p peer id and Addrs its full listen
	// multiaddrs (with /p2p/PEER-ID); both absent without a network.
	PeerID string   `json:"peer_id,omitempty"`
	Addrs  []string `json:"addrs,omitempty"`
}

// World is one world in GET /v1/worlds (coal world ls --json).
type World struct {
	Name    string  `json:"name"`
	ID      coda.ID `json:"id"`
	Branch  string  `json:"branch"`
	Head    coda.ID `json:"head"`
	Default bool    `json:"default"`
}

// NewWorldRequest is the body of POST /v1/worlds.
type NewWorldRequest struct {
	Name string `json:"name"`
}

// NewWorld answers POST /v1/worlds (coal world new --json).
type NewWorld struct {
	Commit coda.ID `json:"commit"`
	World  coda.ID `json:"world"`
	Name   string  `json:"name"`
}

// CommitResult answers every write that makes one commit.
type CommitResult struct {
	Commit coda.ID `json:"commit"`
}

// Value is what GET .../tree/PATH?meta=1 answers (coal get --json): for a
// value its schema and JSON; for a blob its size (its bytes come without
// meta=1); for a directory only its kind (its entries come without
// meta=1). At is the commit read, for reading the same state again.
type Value struct {
	Path   string          `json:"path"`
	ID     coda.ID         `json:"id,omitzero"`
	Kind   string          `json:"kind,omitempty"` // value, blob or dir
	Schema coda.ID         `json:"schema,omitzero"`
	Value  json.RawMessage `json:"value,omitempty"`
	Size   int64           `json:"size,omitempty"`
	At     coda.ID         `json:"at,omitzero"`
}

// Entry is one entry of a directory listing (coal ls --json).
type Entry struct {
	Name     string  `json:"name"`
	Dir      bool    `json:"dir"`
	Kind     string  `json:"kind"`
	ID       coda.ID `json:"id,omitzero"`
	Size     int64   `json:"size,omitempty"`
	Withheld bool    `json:"withheld,omitempty"`
}

// Op is one op of POST .../transactions (coal apply's OPS.json).
type Op struct {
	Op        string          `json:"op"`
	Path      string          `json:"path"`
	Value     json.RawMessage `json:"value,omitempty"`
	Schema    string          `json:"schema,omitempty"`
	From      string          `json:"from,omitempty"`
	Recursive bool            `json:"recursive,omitempty"`
}

// CommitSummary is one commit of GET .../log (coal log --json).
type CommitSummary struct {
	ID      coda.ID   `json:"id"`
	Parents []coda.ID `json:"parents"`
	Tree    coda.ID   `json:"tree"`
	Author  string    `json:"author,omitempty"`
	Time    string    `json:"time"`
	HLC     uint64    `json:"hlc,string"`
	Message string    `json:"message"`
}

// Change is one op of a commit in CommitDetail.
type Change struct {
	Path   string  `json:"path"`
	Meta   bool    `json:"meta,omitempty"`
	Change string  `json:"change"`
	ID     coda.ID `json:"id,omitzero"`
}

// ConflictRef is one conflict of a merge commit in CommitDetail.
type ConflictRef struct {
	Path   string  `json:"path"`
	Meta   bool    `json:"meta,omitempty"`
	Winner coda.ID `json:"winner"`
	Loser  coda.ID `json:"loser"`
}

// CommitDetail is GET .../commits/{id} (coal show --json).
type CommitDetail struct {
	ID        coda.ID       `json:"id"`
	World     coda.ID       `json:"world"`
	Parents   []coda.ID     `json:"parents"`
	Tree      coda.ID       `json:"tree"`
	Author    string        `json:"author,omitempty"`
	Time      string        `json:"time"`
	HLC       uint64        `json:"hlc,string"`
	Message   string        `json:"message"`
	Signature string        `json:"signature"`
	Ops       []Change      `json:"ops"`
	Conflicts []ConflictRef `json:"conflicts"`
	Call      *CallRecord   `json:"call,omitempty"` // a call's commit (docs/calls.md)
}

// DiffEntry is one entry of GET .../diff (coal diff --json).
type DiffEntry struct {
	Path   string  `json:"path"`
	Meta   bool    `json:"meta,omitempty"`
	Change string  `json:"change"`
	A      coda.ID `json:"a,omitzero"`
	B      coda.ID `json:"b,omitzero"`
}

// RevertRequest is the body of POST .../revert.
type RevertRequest struct {
	Commit string `json:"commit"`
}

// RevertResult answers POST .../revert: the commit made, the commit it
// undid, and the paths left alone because they changed after it.
type RevertResult struct {
	Commit   coda.ID  `json:"commit"`
	Reverted coda.ID  `json:"reverted"` // the commit undone
	Skipped  []string `json:"skipped"`
}

// ResetRequest is the body of POST .../reset.
type ResetRequest struct {
	To string `json:"to"`
}

// Branch is one branch (coal branch --json).
type Branch struct {
	Name    string  `json:"name"`
	Head    coda.ID `json:"head"`
	Current bool    `json:"current"`
}

// NewBranchRequest is the body of POST .../branches.
type NewBranchRequest struct {
	Name string `json:"name"`
	At   string `json:"at,omitempty"`
}

// MergeRequest is the body of POST .../merge.
type MergeRequest struct {
	Branch string `json:"branch"`
}

// MergeResult answers POST .../merge (coal merge --json).
type MergeResult struct {
	Commit      coda.ID `json:"commit"`
	Merge       bool    `json:"merge"`
	FastForward bool    `json:"fast_forward"`
	Conflicts   int     `json:"conflicts"`
}

// ConflictSide is one side of a Conflict.
type ConflictSide struct {
	ID     coda.ID         `json:"id,omitzero"`
	Time   string          `json:"time"`
	Author string          `json:"author"`
	Value  json.RawMessage `json:"value,omitempty"`
}

// Conflict is one entry of GET .../conflicts (coal conflicts --json).
type Conflict struct {
	Path   string       `json:"path"`
	Meta   bool         `json:"meta,omitempty"`
	Winner ConflictSide `json:"winner"`
	Loser  ConflictSide `json:"loser"`
}

// Status is GET .../status (coal status --json).
type Status struct {
	World  coda.ID `json:"world"`
	Branch string  `json:"branch"`
	Head   coda.ID `json:"head"`
	Root   coda.ID `json:"root"`
	// Peers are the connected peers' heads of the world (node key only,
	// while the node syncs; docs/sync.md).
	Peers []PeerSync `json:"peers,omitempty"`
}

// Schema is one schema (coal schema ls --json).
type Schema struct {
	Name string  `json:"name"`
	ID   coda.ID `json:"id"`
}

// SchemaAdd answers POST .../schemas (coal schema add --json).
type SchemaAdd struct {
	Commit  coda.ID  `json:"commit"`
	Schemas []Schema `json:"schemas"`
}

// ACLRule is one rule of ACLShow.
type ACLRule struct {
	ACL    string     `json:"acl"`
	Who    acl.Who    `json:"who"`
	Rights acl.Rights `json:"rights"`
}

// ACLShow is GET .../acl/PATH (coal acl show --json).
type ACLShow struct {
	Path   string     `json:"path"`
	As     string     `json:"as"`
	Rights acl.Rights `json:"rights"`
	Source acl.Source `json:"source"`
	Rules  []ACLRule  `json:"rules"`
	// Names are the local names of the keys above that the node's home
	// holds (ed25519:… → name), for showing beside them.
	Names map[string]string `json:"names,omitempty"`
}

// GrantRequest is the body of POST .../acl/grant.
type GrantRequest struct {
	Path   string `json:"path"`
	Who    string `json:"who"`
	Rights string `json:"rights"`
}

// RevokeRequest is the body of POST .../acl/revoke.
type RevokeRequest struct {
	Path  string `json:"path"`
	Who   string `json:"who"`
	Force bool   `json:"force,omitempty"`
}

// Group is one group (coal group ls --json).
type Group struct {
	Name    string    `json:"name"`
	Members []acl.Who `json:"members"`
	// Names are the local names of the member keys the node's home holds
	// (ed25519:… → name).
	Names map[string]string `json:"names,omitempty"`
}

// GroupRequest is the body of POST .../groups (add members, creating the
// group) and DELETE .../groups/{name} (remove members; none: the group).
type GroupRequest struct {
	Name    string   `json:"name,omitempty"`
	Members []string `json:"members"`
}

// AuditRecord is one record of GET /v1/audit (coal audit --json).
type AuditRecord = json.RawMessage

// WatchEvent is the data of one server-sent event of GET .../watch: a
// commit that touched the watched prefix. The event's id is the commit id.
type WatchEvent = cdb.CommitInfo

// Problem is an RFC 9457 problem document: every error the API answers.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Kind     string `json:"kind"`
}
