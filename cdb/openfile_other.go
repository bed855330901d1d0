//go:build !unix

package cdb

import "os"

// openFile opens the file name for reading.
func openFile(name string) (*os.File, error) { return os.Open(name) }
