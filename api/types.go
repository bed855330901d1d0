package api

import "github.com/coalescent/coal/api/message"

// The API's JSON messages, defined in package message and shared with the
// client.
type (
	Info             = message.Info
	World            = message.World
	NewWorldRequest  = message.NewWorldRequest
	NewWorld         = message.NewWorld
	CommitResult     = message.CommitResult
	Value            = message.Value
	Entry            = message.Entry
	Op               = message.Op
	CommitSummary    = message.CommitSummary
	Change           = message.Change
	ConflictRef      = message.ConflictRef
	CommitDetail     = message.CommitDetail
	DiffEntry        = message.DiffEntry
	RevertRequest    = message.RevertRequest
	RevertResult     = message.RevertResult
	ResetRequest     = message.ResetRequest
	Branch           = message.Branch
	NewBranchRequest = message.NewBranchRequest
	MergeRequest     = message.MergeRequest
	MergeResult      = message.MergeResult
	ConflictSide     = message.ConflictSide
	Conflict         = message.Conflict
	Status           = message.Status
	Schema           = message.Schema
	SchemaAdd        = message.SchemaAdd
	ACLRule          = message.ACLRule
	ACLShow          = message.ACLShow
	GrantRequest     = message.GrantRequest
	RevokeRequest    = message.RevokeRequest
	Group            = message.Group
	GroupRequest     = message.GroupRequest
	AuditRecord      = message.AuditRecord
	WatchEvent       = message.WatchEvent
	Problem          = message.Problem
)
