package replica

import "syscall"

// dieWithParent makes a child get SIGKILL when the test process dies.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
