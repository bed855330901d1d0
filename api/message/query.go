package message

import (
	"encoding/json"

	"github.com/coalescent/coal/coda"
)

// The messages of the query and index routes (docs/query.md §8).

// QueryRequest is the body of POST .../query: the parts of coal query.
type QueryRequest struct {
	Prefix    string   `json:"prefix"`
	Recursive bool     `json:"recursive,omitempty"`
	Where     string   `json:"where,omitempty"`
	Follow    []string `json:"follow,omitempty"`
	Depth     int      `json:"depth,omitempty"`
	Select    []string `json:"select,omitempty"`
	Order     string   `json:"order,omitempty"`
	Limit     int      `json:"limit,omitempty"`
	Cursor    string   `json:"cursor,omitempty"`
	At        string   `json:"at,omitempty"`
	History   bool     `json:"history,omitempty"`
	NoIndex   bool     `json:"no_index,omitempty"`
}

// QueryRow is one line of POST .../query's response (application/x-ndjson):
// a value (path set), or the last line (end set) with the commit queried,
// the cursor of the rest, how the query ran, and the error that cut the
// stream short, if one did.
type QueryRow struct {
	Path   string          `json:"path,omitempty"`
	ID     coda.ID         `json:"id,omitzero"`
	Schema string          `json:"schema,omitempty"`
	Commit coda.ID         `json:"commit,omitzero"`
	Value  json.RawMessage `json:"value,omitempty"`

	End   bool        `json:"end,omitempty"`
	At    coda.ID     `json:"at,omitzero"`
	Next  string      `json:"next,omitempty"`
	Stats *QueryStats `json:"stats,omitempty"`
	Error string      `json:"error,omitempty"`
	Kind  string      `json:"kind,omitempty"` // the error's kind
}

// QueryStats says how a query ran: its plan ("scan DIR", "index PATH
// BOUND", "history PATH"), the values read and those that matched.
type QueryStats struct {
	Plan    string `json:"plan"`
	Read    int    `json:"read"`
	Matched int    `json:"matched"`
}

// Index is one index (coal index ls --json).
type Index struct {
	Dir   string `json:"dir"`
	Field string `json:"field"`
	Path  string `json:"path"` // where its entries are: DIR/.index/FIELD
}

// IndexRequest is the body of POST .../indexes (coal index add).
type IndexRequest struct {
	Dir     string `json:"dir"`
	Field   string `json:"field"`
	Message string `json:"message,omitempty"`
}
