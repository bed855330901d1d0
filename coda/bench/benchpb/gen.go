// Package benchpb holds the protobuf messages equivalent to the CODA schemas
// of package bench, generated from profile.proto.
package benchpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative profile.proto
