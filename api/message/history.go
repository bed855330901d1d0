package message

import (
	"github.com/coalescent/coal/bundle"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
)

// The messages of the routes the CLI's history, branch, maintenance,
// bundle and key commands go through (docs/api.md).

// SwitchRequest is the body of POST .../switch.
type SwitchRequest struct {
	Name string `json:"name"`
}

// AuditVerify answers GET /v1/audit/verify (coal audit --verify --json).
type AuditVerify struct {
	Records int `json:"records"`
}

// Fsck answers GET /v1/fsck (coal fsck --json): the worlds checked, one
// line per problem naming the object and its path, and the values missing
// by design (withheld by the maker of a bundle), which are not problems.
type Fsck struct {
	Worlds   []string `json:"worlds"`
	Problems []string `json:"problems"`
	Withheld []string `json:"withheld"`
}

// Replay answers GET .../replay (coal replay --json).
type Replay struct {
	Commits int     `json:"commits"`
	Root    coda.ID `json:"root"`
}

// BundleStats is what GET .../bundle sends in its Coal-Bundle-Stats
// trailer, as JSON (coal bundle create --json).
type BundleStats = bundle.Stats

// BundleApply answers POST /v1/bundles and POST .../bundle (coal bundle
// apply --json).
type BundleApply struct {
	World       coda.ID `json:"world"`
	Name        string  `json:"name"`
	Head        coda.ID `json:"head"`
	Commits     int     `json:"commits"`
	Objects     int     `json:"objects"`
	Withheld    int     `json:"withheld"`
	FastForward bool    `json:"fast_forward"`
	Merge       coda.ID `json:"merge,omitzero"`
}

// Key is one key of the home (coal key ls --json).
type Key = cdb.KeyInfo

// NewKeyRequest is the body of POST /v1/keys.
type NewKeyRequest struct {
	Name string `json:"name"`
}

// ImportKeyRequest is the body of POST /v1/keys/import: a key in the form
// coal key export writes, stored under Name ("": the export's name).
type ImportKeyRequest struct {
	Name   string `json:"name"`
	Export string `json:"export"`
}

// KeyExport answers GET /v1/keys/{name}/export: the key in its export
// form, private part included (docs/cli.md, coal key export).
type KeyExport struct {
	Name   string `json:"name"`
	Export string `json:"export"`
}

// BundleStatsTrailer is the HTTP trailer of GET .../bundle that carries
// the bundle's BundleStats as JSON, sent after its bytes; a response
// without it was cut short.
const BundleStatsTrailer = "Coal-Bundle-Stats"
