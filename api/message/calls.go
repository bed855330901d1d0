package message

import (
	"encoding/json"

	"github.com/coalescent/coal/coda"
)

// CallRequest is the body of POST .../call/PATH (coal call): run the
// program at PATH against the head as the caller.
type CallRequest struct {
	// Entry names the entry point ("" or "main": the top-level code).
	Entry string `json:"entry,omitempty"`
	// Input is the input value as JSON, of the schema Schema (a name in
	// /sys/schemas); absent: no input.
	Input  json.RawMessage `json:"input,omitempty"`
	Schema string          `json:"schema,omitempty"`
	// Steps is the step limit (0: the default, 10⁸).
	Steps   uint64 `json:"steps,omitempty"`
	Message string `json:"message,omitempty"`
}

// CallResult answers POST .../call/PATH: the commit made (absent if the
// program wrote nothing) and the call record's fields.
type CallResult struct {
	Commit  *coda.ID `json:"commit,omitempty"`
	Program coda.ID  `json:"program"`
	Entry   string   `json:"entry"`
	Input   *coda.ID `json:"input,omitempty"`
	Output  *coda.ID `json:"output,omitempty"`
	// OutputSchema is the output's schema id; OutputValue its JSON, if
	// the schema is in /sys/schemas.
	OutputSchema *coda.ID        `json:"output_schema,omitempty"`
	OutputValue  json.RawMessage `json:"output_value,omitempty"`
	Steps        uint64          `json:"steps"`
	Writes       int             `json:"writes"`
}

// TriggerRequest is the body of POST .../triggers (coal on PATH run
// PROGPATH): after each commit that changes something under Path, run the
// program at Program (entry Entry) as a follow-up call.
type TriggerRequest struct {
	Path    string `json:"path"`
	Program string `json:"program"`
	Entry   string `json:"entry,omitempty"`
}

// CallRecord is a commit's call record in CommitDetail (coal show): the
// program run, its entry, the ids of its input and output, the steps used.
type CallRecord struct {
	Program coda.ID  `json:"program"`
	Entry   string   `json:"entry"`
	Input   *coda.ID `json:"input,omitempty"`
	Output  *coda.ID `json:"output,omitempty"`
	Steps   uint64   `json:"steps"`
}
