package message

import "github.com/coalescent/coal/coda"

// ImportResult answers POST .../import (coal import --json): the commit,
// and the files and bytes it stored.
type ImportResult struct {
	Commit coda.ID `json:"commit"`
	Files  int64   `json:"files"`
	Bytes  int64   `json:"bytes"`
}

// KindHeader is the response header of GET .../tree/PATH that says what
// its body is: value (its JSON, or with raw=1 its bytes), blob (its bytes)
// or dir (its entries).
const KindHeader = "Coal-Kind"
