package cli

import (
	"encoding/hex"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() { scriptCmds["catbytes"] = cmdCatbytes }

// cmdCatbytes writes OUT as the concatenation of its parts, for making
// objects that are not canonical:
//
//	catbytes OUT PART...
//
// where a PART is hex:HEXDIGITS, a file name, or FILE[from:to] (a byte range).
func cmdCatbytes(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! catbytes")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: catbytes OUT PART...")
	}
	var out []byte
	for _, part := range args[1:] {
		if h, ok := strings.CutPrefix(part, "hex:"); ok {
			b, err := hex.DecodeString(h)
			ts.Check(err)
			out = append(out, b...)
			continue
		}
		name, rng, hasRange := strings.Cut(strings.TrimSuffix(part, "]"), "[")
		b := []byte(ts.ReadFile(name))
		if hasRange {
			from, to, _ := strings.Cut(rng, ":")
			i, err := strconv.Atoi(from)
			ts.Check(err)
			j, err := strconv.Atoi(to)
			ts.Check(err)
			b = b[i:j]
		}
		out = append(out, b...)
	}
	ts.Check(writeFile(ts.MkAbs(args[0]), out))
}

func writeFile(name string, b []byte) error { return os.WriteFile(name, b, 0o644) }
