//go:build !linux

package audit

import (
	"errors"
	"os"
)

// errNoExchange: the system or file system cannot swap two names.
var errNoExchange = errors.New("audit: cannot exchange files here")

// exchangeHead is not available here: the head is renamed instead.
func exchangeHead(dir *os.File, a, b string) error { return errNoExchange }

func dataSync(f *os.File) error { return f.Sync() }
