package node

import "github.com/coalescent/coal/internal/procs"

// SyncProcs is how many Ps Tune adds to the runtime's default GOMAXPROCS
// (procs.SyncProcs).
const SyncProcs = procs.SyncProcs

// Tune sets the Go runtime for a node and returns the GOMAXPROCS it set
// (procs.Tune: the default plus SyncProcs, unless the GOMAXPROCS
// environment variable is set). `coal serve` calls it before opening the
// node.
func Tune() int { return procs.Tune() }
