//go:build unix

package pebblestore_test

import "syscall"

// processCPU is the CPU time of the process so far (all threads), in
// seconds; 0 if the system does not say.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
