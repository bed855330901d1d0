package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/coalescent/coal/coda"
)

// TestMain lets testscript run `coal` in process: scripts in
// testdata/script call the real command line through Main.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"coal": func() {
			os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("COAL_HOME", env.WorkDir+"/.coal")
			return nil
		},
		RequireExplicitExec: true,
		Cmds:                scriptCmds,
		Condition: func(cond string) (bool, error) {
			if f, ok := scriptConds[cond]; ok {
				return f(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

// scriptConds are the extra testscript conditions ([name] in scripts);
// test files add theirs in init.
var scriptConds = map[string]func() bool{}

// scriptCmds are the extra testscript commands; test files add theirs in init.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"capture":      cmdCapture,
	"genfile":      cmdGenfile,
	"corrupt":      cmdCorrupt,
	"forge":        cmdForge,
	"sharedprefix": cmdSharedPrefix,
	"flipbyte":     cmdFlipByte,
}

// cmdCapture sets an environment variable from the last command's stdout:
//
//	capture NAME [REGEXP]
//
// With a regexp, NAME gets its last submatch (or the whole match) in stdout;
// without, the first line of stdout. NAME_PREFIX gets the value's first 12
// characters. It fails if nothing matches, so scripts can name commit ids
// they did not know in advance.
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: capture NAME [REGEXP]")
	}
	out := ts.ReadFile("stdout")
	var v string
	if len(args) == 1 {
		v, _, _ = strings.Cut(out, "\n")
	} else {
		m := regexp.MustCompile("(?m)" + args[1]).FindStringSubmatch(out)
		if m == nil {
			ts.Fatalf("capture %s: no match for %q in stdout:\n%s", args[0], args[1], out)
		}
		v = m[len(m)-1]
	}
	if v == "" {
		ts.Fatalf("capture %s: empty value", args[0])
	}
	ts.Setenv(args[0], v)
	ts.Setenv(args[0]+"_PREFIX", v[:min(12, len(v))])
}

// cmdSharedPrefix sets NAME to the shortest prefix that at least two of the
// ids starting the lines of the last stdout share (the first id found in
// the shortest such prefix length), for testing ambiguous prefixes:
//
//	sharedprefix NAME
func cmdSharedPrefix(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sharedprefix NAME")
	}
	var ids []string
	for _, line := range strings.Split(ts.ReadFile("stdout"), "\n") {
		if f := strings.Fields(line); len(f) > 0 && len(f[0]) == coda.IDTextLen {
			ids = append(ids, f[0])
		}
	}
	for n := 1; n < coda.IDTextLen; n++ {
		seen := make(map[string]bool)
		for _, id := range ids {
			if seen[id[:n]] {
				ts.Setenv(args[0], id[:n])
				return
			}
			seen[id[:n]] = true
		}
	}
	ts.Fatalf("sharedprefix: no two ids share a prefix in %d ids", len(ids))
}

// cmdGenfile writes a file of N bytes repeating a pattern, between an
// optional prefix and suffix (too big for a txtar archive or an argument):
//
//	genfile NAME N [PATTERN [PREFIX SUFFIX]]
func cmdGenfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 5 || len(args) == 4 {
		ts.Fatalf("usage: genfile NAME N [PATTERN [PREFIX SUFFIX]]")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	pat := "x"
	if len(args) == 3 {
		pat = args[2]
	}
	b := []byte(strings.Repeat(pat, n/len(pat)+1)[:n])
	if len(args) == 5 {
		b = append(append([]byte(args[3]), b...), args[4]...)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o666))
}

// cmdCorrupt overwrites a stored object behind coal's back, so that fsck
// has something to find:
//
//	corrupt HOME ID
//
// It opens HOME/store with Pebble directly (coal must not have it open) and
// replaces the object's bytes, keeping the "whole value" tag of the
// pebblestore layout (docs/store.md).
func cmdCorrupt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: corrupt HOME ID")
	}
	id, err := coda.ParseID(args[1])
	ts.Check(err)
	db, err := pebble.Open(filepath.Join(ts.MkAbs(args[0]), "store"), &pebble.Options{Logger: quietLogger{}})
	ts.Check(err)
	key := append([]byte{'o'}, id[:]...)
	old, closer, err := db.Get(key)
	ts.Check(err)
	val := append([]byte(nil), old...)
	ts.Check(closer.Close())
	if len(val) < 2 || val[0] != 0x00 {
		ts.Fatalf("corrupt: object %s is not stored whole", id)
	}
	val[len(val)-1] ^= 0xff
	ts.Check(db.Set(key, val, pebble.Sync))
	ts.Check(db.Close())
}

// cmdForge stores a copy of a signed commit with one bit of its signature
// flipped, under the copy's own id, and prints that id: a commit whose
// hash is right and whose signature is not.
//
//	forge HOME ID
func cmdForge(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: forge HOME ID")
	}
	id, err := coda.ParseID(args[1])
	ts.Check(err)
	db, err := pebble.Open(filepath.Join(ts.MkAbs(args[0]), "store"), &pebble.Options{Logger: quietLogger{}})
	ts.Check(err)
	old, closer, err := db.Get(append([]byte{'o'}, id[:]...))
	ts.Check(err)
	val := append([]byte(nil), old...)
	ts.Check(closer.Close())
	if len(val) < 65 || val[0] != 0x00 {
		ts.Fatalf("forge: object %s is not a whole signed commit", id)
	}
	val[len(val)-1] ^= 0x01 // the last byte of the signature
	forged := coda.Sum(val[1:])
	ts.Check(db.Set(append([]byte{'o'}, forged[:]...), val, pebble.Sync))
	ts.Check(db.Close())
	fmt.Fprintln(ts.Stdout(), forged)
}

// cmdFlipByte flips the low bit of one byte of a file, behind coal's back
// (a tampered audit log or bundle):
//
//	flipbyte FILE OFFSET     the byte at OFFSET (negative: from the end)
//	flipbyte FILE /TEXT/     the first byte of the first occurrence of TEXT
func cmdFlipByte(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: flipbyte FILE OFFSET|/TEXT/")
	}
	name := ts.MkAbs(args[0])
	b, err := os.ReadFile(name)
	ts.Check(err)
	var i int
	if t, ok := strings.CutPrefix(args[1], "/"); ok && strings.HasSuffix(t, "/") {
		i = strings.Index(string(b), strings.TrimSuffix(t, "/"))
		if i < 0 {
			ts.Fatalf("flipbyte: %q not in %s", t, args[0])
		}
	} else {
		i, err = strconv.Atoi(args[1])
		ts.Check(err)
		if i < 0 {
			i += len(b)
		}
		if i < 0 || i >= len(b) {
			ts.Fatalf("flipbyte: offset %s outside %s (%d bytes)", args[1], args[0], len(b))
		}
	}
	b[i] ^= 0x01
	ts.Check(os.WriteFile(name, b, 0o666))
}

// quietLogger keeps Pebble's recovery messages out of test output.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pebble: "+format+"\n", args...)
	os.Exit(2)
}
