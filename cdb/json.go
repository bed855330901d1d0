package cdb

import (
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// fromJSON parses the JSON text of a value of schema s. It is the one place
// cdb uses the JSON mapping of docs/coda.md §6.
//
// TODO(coda-periph): call coda.SchemaFromJSON(s, data, r) once the JSON
// mapping is merged into main.
func fromJSON(s *coda.Schema, data []byte, r coda.Resolver) (coda.Value, error) {
	return coda.Value{}, errs.E(errs.Internal, "cdb: the CODA JSON mapping is not merged yet")
}

// ItemJSON returns the JSON text of a value item.
//
// TODO(coda-periph): call coda.SchemaToJSON(it.Schema, it.Value, r).
func ItemJSON(it Item, r coda.Resolver) ([]byte, error) {
	return nil, errs.E(errs.Internal, "cdb: the CODA JSON mapping is not merged yet")
}
