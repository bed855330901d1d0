package audit

import (
	"os"

	"golang.org/x/sys/unix"
)

// dataSync flushes f's data and what is needed to read it back (not its
// times): a head slot is rewritten in place.
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
