//go:build !linux

package replica

import "syscall"

// dieWithParent is Linux's only: elsewhere a killed benchmark may leave
// its git daemon behind.
func dieWithParent() *syscall.SysProcAttr { return nil }
