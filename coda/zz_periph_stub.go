package coda

// Temporary: Resolver comes from the coda-codec branch; this file is deleted
// when that branch is merged.

// Resolver finds schemas by id.
type Resolver interface {
	SchemaByID(ID) (*Schema, error)
}
