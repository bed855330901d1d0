// Package moduletest holds helpers for tests of packages that use modules:
// copies of the example modules under other names.
package moduletest

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// CircleDir is the directory of the circle example module
// (examples/modules/circle), found from this file's place in the module.
func CircleDir(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("moduletest: cannot find its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "modules", "circle")
}

// CopyCircle copies the circle example module to dir with its interface
// named name instead of geometry::circle, so one catalog can hold many.
func CopyCircle(tb testing.TB, dir, name string) {
	tb.Helper()
	src := CircleDir(tb)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "interface.json" {
			renamed := bytes.Replace(b, []byte(`"geometry::circle"`), []byte(strconv.Quote(name)), 1)
			if bytes.Equal(renamed, b) {
				return &fs.PathError{Op: "rename module", Path: p, Err: fs.ErrInvalid}
			}
			b = renamed
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
}
