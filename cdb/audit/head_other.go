//go:build !linux

package audit

import "os"

// dataSync syncs f (a head slot, rewritten in place).
func dataSync(f *os.File) error { return f.Sync() }
