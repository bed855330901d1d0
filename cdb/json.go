package cdb

import (
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// fromJSON parses the JSON text of a value of schema s (docs/coda.md §6).
// Errors name the field path and are errs.Invalid.
func fromJSON(s *coda.Schema, data []byte, r coda.Resolver) (coda.Value, error) {
	return coda.SchemaFromJSON(s, data, r)
}

// JSON returns the JSON text of a value item (docs/coda.md §6), resolving
// nested schemas through r (the world's Schemas at the item's commit; nil:
// none). Blobs and directories have no JSON value: errs.Invalid; so has a
// value whose schema is unknown (Schema nil).
func (it Item) JSON(r coda.Resolver) ([]byte, error) {
	if it.Kind != ItemValue {
		return nil, errs.E(errs.Invalid, errs.Path(it.Path), "a "+string(it.Kind)+" has no JSON value")
	}
	if it.Schema == nil {
		return nil, errs.E(errs.Invalid, errs.Path(it.Path), "the value's schema is unknown: read it raw")
	}
	return coda.SchemaToJSON(it.Schema, it.Value, r)
}

// ItemJSON is it.JSON(r).
func ItemJSON(it Item, r coda.Resolver) ([]byte, error) { return it.JSON(r) }
