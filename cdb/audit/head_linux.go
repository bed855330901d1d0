package audit

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// errNoExchange: the system or file system cannot swap two names.
var errNoExchange = errors.New("audit: cannot exchange files here")

// exchangeHead atomically swaps the files a and b of dir
// (renameat2 RENAME_EXCHANGE).
func exchangeHead(dir *os.File, a, b string) error {
	fd := int(dir.Fd())
	err := unix.Renameat2(fd, a, fd, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return errNoExchange
	}
	if err != nil {
		return &os.LinkError{Op: "renameat2", Old: a, New: b, Err: err}
	}
	return nil
}

// dataSync flushes f's data and what is needed to read it back (not its
// times): head.tmp is rewritten in place.
func dataSync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}
