package co

import "github.com/coalescent/coal/errs"

// Pos, Error and ErrorList are the errs package's positions and error lists
// in source text, shared with the CODA schema compiler: the assembler
// reports every error it finds, as FILE:LINE:COL: message.
type (
	Pos       = errs.Pos
	Error     = errs.PosError
	ErrorList = errs.ErrorList
)
