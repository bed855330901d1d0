package client

import (
	"encoding/json"

	"github.com/coalescent/coal/coda"
)

// The JSON bodies of the routes the client calls, as package api defines
// them (api/types.go). The client sits below api in the layers
// (internal/lint), so it holds its own copies; the end-to-end tests
// against the real node check that the two agree.

// Info is GET /v1/info.
type Info struct {
	Version string  `json:"version"`
	Key     string  `json:"key"`    // the node key, ed25519:…
	As      string  `json:"as"`     // the identity the request acts as
	Worlds  []World `json:"worlds"` // the worlds of the home
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

// Value is a value read with GET .../tree/PATH?meta=1 (coal get --json).
type Value struct {
	Path   string          `json:"path"`
	ID     coda.ID         `json:"id"`
	Schema coda.ID         `json:"schema"`
	Value  json.RawMessage `json:"value"`
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
}

// Status is GET .../status (coal status --json).
type Status struct {
	World  coda.ID `json:"world"`
	Branch string  `json:"branch"`
	Head   coda.ID `json:"head"`
	Root   coda.ID `json:"root"`
}

// Problem is an RFC 9457 problem document: every error the API answers.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Kind     string `json:"kind"`
}
