package tree

import (
	_ "embed"
	"fmt"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// treeCoda is the schema source of the nodes; the hand-written codec in
// node.go follows it byte for byte (TestCodecMatchesGeneric).
//
//go:embed tree.coda
var treeCoda []byte

// NodeSchemaID is the schema id of Node (tree.coda): the first 32 bytes of
// every node object.
var NodeSchemaID, schemaErr = compileNodeSchema()

// Schemas returns the compiled schemas of tree.coda (Node, Entry, …), for
// tools that decode nodes generically.
func Schemas() ([]*coda.Schema, error) {
	return coda.NewRegistry().Compile("tree.coda", treeCoda)
}

func compileNodeSchema() (coda.ID, error) {
	schemas, err := Schemas()
	if err != nil {
		return coda.ID{}, errs.E(errs.Internal, fmt.Errorf("tree: compile tree.coda: %w", err))
	}
	for _, s := range schemas {
		if s.Name == "Node" {
			return s.ID, nil
		}
	}
	return coda.ID{}, errs.E(errs.Internal, "tree: tree.coda declares no Node")
}
