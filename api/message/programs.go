package message

import "github.com/coalescent/coal/coda"

// ProgramAdd answers POST .../programs/PATH (coal prog add): the program
// built from the Co source in the body, stored at PATH, and the library
// routines stored under /lib.
type ProgramAdd struct {
	// Commit is the commit that stored the program; SchemaCommit the one
	// that first added the program schemas to /sys/schemas, if it was made.
	Commit       coda.ID        `json:"commit"`
	SchemaCommit *coda.ID       `json:"schema_commit,omitempty"`
	Path         string         `json:"path"`
	Program      coda.ID        `json:"program"` // the id of the Program object
	Code         int            `json:"code"`    // bytes of COINS code
	Entries      []ProgramEntry `json:"entries"`
	Exports      []LibEntry     `json:"exports"` // id zero: no library id
	Imports      []coda.ID      `json:"imports"`
	Lib          []LibEntry     `json:"lib"` // what was stored under /lib
	// Unlinked are the exported routines that have no library id, and why.
	Unlinked []LibNote `json:"unlinked,omitempty"`
}

// LibNote says why an exported routine has no library id.
type LibNote struct {
	Name string `json:"name"`
	Why  string `json:"why"`
}

// ProgramEntry is an entry point of a program.
type ProgramEntry struct {
	Name string `json:"name"`
	Addr uint16 `json:"addr"`
}

// ProgramSource answers GET .../source/PATH (coal get --source): the
// readable Co source of the program at PATH.
type ProgramSource struct {
	Path    string  `json:"path"`
	Program coda.ID `json:"program"`
	Source  string  `json:"source"`
}

// LibEntry is a routine of a world's code library: /lib/NAME and its
// library id (docs/programs.md).
type LibEntry struct {
	Name string  `json:"name"`
	ID   coda.ID `json:"id"`
}

// LibRoutine answers GET .../lib/{id} (coal lib show): one library
// routine, the names it has under /lib, its code as Co (address fields
// written as anchors and routine names) and the routines it needs.
type LibRoutine struct {
	ID     coda.ID    `json:"id"`
	Names  []string   `json:"names"`
	Code   int        `json:"code"` // bytes
	Source string     `json:"source"`
	Deps   []LibEntry `json:"deps"` // name "" for a routine with no name in /lib
}
