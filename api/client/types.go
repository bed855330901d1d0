package client

import "github.com/coalescent/coal/api/message"

// The API's JSON messages, shared with the server (package api/message).
type (
	Info            = message.Info
	World           = message.World
	NewWorldRequest = message.NewWorldRequest
	NewWorld        = message.NewWorld
	CommitResult    = message.CommitResult
	Value           = message.Value
	Entry           = message.Entry
	CommitSummary   = message.CommitSummary
	Change          = message.Change
	ConflictRef     = message.ConflictRef
	CommitDetail    = message.CommitDetail
	Status          = message.Status
	Problem         = message.Problem
)
