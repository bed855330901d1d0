package replica_test

import (
	"github.com/coalescent/coal/node"
	"github.com/coalescent/coal/replica"
)

// BenchmarkBlob's nodes get the GOMAXPROCS `coal serve` sets.
func init() { *replica.TuneNode = node.Tune }
