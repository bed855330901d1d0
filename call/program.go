package call

import (
	"encoding/binary"
	"fmt"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// load decodes the Program object obj and returns the ROM to run and the
// address of entry ("" or "main": 0). The ROM is the program's code; the
// tree device's ENTRY request tells the program which entry was asked
// for, and a program with several entries starts with a dispatch to it.
//
// TEMPORARY until package prog lands: an object whose body is
// uvarint(len) ‖ code.
func load(e env, obj []byte, entry string) ([]byte, uint16, error) {
	if len(obj) < coda.IDSize {
		return nil, 0, errs.E(errs.Invalid, "program: not an object")
	}
	n, k := binary.Uvarint(obj[coda.IDSize:])
	if k <= 0 || uint64(len(obj)-coda.IDSize-k) != n {
		return nil, 0, errs.E(errs.Invalid, fmt.Sprintf("program %s: not a program", coda.Sum(obj).Short()))
	}
	if entry != "" && entry != "main" {
		return nil, 0, errs.E(errs.Invalid, fmt.Sprintf("program: no entry %q", entry))
	}
	return obj[coda.IDSize+k:], 0, nil
}
