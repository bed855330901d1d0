// Package procs sets the Go runtime's processor count for a serving node
// (docs/node.md, "Runtime"). It sits at the bottom of the layers so that
// benchmarks of lower packages can run their nodes as `coal serve` does.
package procs

import (
	"os"
	"runtime"
)

// SyncProcs is how many Ps Tune adds to the runtime's default GOMAXPROCS:
// one for each goroutine a node may have in a blocking fsync at once on the
// commit path (Pebble's WAL writer, the audit log's fsync, the audit head's;
// docs/node.md, "Runtime").
const SyncProcs = 2

// Tune sets the Go runtime for a node and returns the GOMAXPROCS it set:
// unless the GOMAXPROCS environment variable is set (then it changes
// nothing), GOMAXPROCS becomes the runtime's default (the CPUs the process
// may use) plus SyncProcs. A goroutine in a blocking system call keeps its
// P until the runtime retakes it, so with one P per CPU a node whose
// fsyncs wait on the disk leaves CPUs idle while the requests that could
// run wait for a P; the extra Ps let them run. Calling Tune again gives the
// same value. `coal serve` calls it (through node.Tune) before opening the
// node.
func Tune() int {
	if os.Getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	runtime.SetDefaultGOMAXPROCS()
	n := runtime.GOMAXPROCS(0) + SyncProcs
	runtime.GOMAXPROCS(n)
	return n
}
