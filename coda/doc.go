// Package coda implements CODA, coal's schema-first, canonical binary data
// protocol: the schema language (.coda files), schema ids, the canonical
// encoding of values, the JSON mapping, and wire contexts.
//
// Every stored value in coal is a CODA object: the 32-byte id of its schema,
// then the canonical body. Exactly one byte string encodes a value, so
// value ↔ bytes ↔ id is one-to-one. The specification is docs/coda.md; this
// package is its reference implementation.
//
// The main pieces:
//   - Type, Schema, Field, Variant: compiled schemas (types.go).
//   - Parse / Compile / Registry: the schema language and schema ids.
//   - Value: a dynamic value of any schema (value.go).
//   - Encode / Decode: the canonical encoding (encode.go, decode.go).
//   - JSON: the JSON mapping both ways (json.go).
//   - WireWriter / WireReader: streams under a wire context (wire.go).
package coda
