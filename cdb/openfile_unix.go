//go:build unix

package cdb

import (
	"io/fs"
	"os"
	"syscall"
)

// openFile opens the file name for reading. Import opens every file it
// stores, and os.Open adds, on Linux, what a file that may be pollable
// needs (four fcntl calls and an epoll_ctl, which fails for a regular
// file): this halves the system calls of importing a small file.
func openFile(name string) (*os.File, error) {
	for {
		fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}
