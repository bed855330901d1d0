//go:build unix

package coins

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process has used. Benchmarks report
// instructions per CPU-second beside instructions per second, because on a
// shared machine wall time also counts other processes' turns.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
