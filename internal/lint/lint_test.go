// Package lint holds guard tests over the whole source tree: the house rules
// that a reviewer would otherwise have to remember (STYLE.md, "Guards as tests").
package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/coalescent/coal"

// layers gives each package (by longest matching prefix of its path inside
// the module) its height in DESIGN.md's stack: a package may import only
// packages at its own height or below.
var layers = map[string]int{
	"errs":           0,
	"internal/procs": 0,
	"coda":           1,
	"coins":          1,
	"cdb/store":      2,
	"co":             2,
	"prog":           3,
	"cdb/tree":       3,
	"cdb/audit":      3,
	"cdb":            4,
	"acl":            5,
	"query":          5,
	"bundle":         6,
	"call":           6,
	"relay":          6,
	"ctp":            7,
	"swarm":          8,
	"replica":        8,
	"module":         9,
	"trust":          9,
	"collect":        9,
	"node":           10,
	"api/message":    10,
	"api/client":     10,
	"api":            11,
	"api/webui":      11,
	"internal/cli":   12,
	"cmd/coal":       13,
	"internal":       13,
	"examples":       13,
}

func layerOf(rel string) (int, bool) {
	best, bestLen := 0, -1
	for prefix, h := range layers {
		if (rel == prefix || strings.HasPrefix(rel, prefix+"/")) && len(prefix) > bestLen {
			best, bestLen = h, len(prefix)
		}
	}
	return best, bestLen >= 0
}

type goFile struct {
	rel  string // path relative to the module root
	pkg  string // directory relative to the module root
	test bool
	ast  *ast.File
	fset *token.FileSet
}

func sourceFiles(t *testing.T) []goFile {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	var files []goFile
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		files = append(files, goFile{rel: rel, pkg: filepath.ToSlash(filepath.Dir(rel)), test: strings.HasSuffix(name, "_test.go"), ast: f, fset: fset})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found only %d Go files under %s", len(files), root)
	}
	return files
}

// TestImportsFlowDown checks that no package imports one above it.
func TestImportsFlowDown(t *testing.T) {
	for _, f := range sourceFiles(t) {
		from, ok := layerOf(f.pkg)
		if !ok {
			t.Errorf("%s: package %s has no layer in internal/lint (add it to layers)", f.rel, f.pkg)
			continue
		}
		for _, imp := range f.ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module+"/") {
				continue
			}
			rel := strings.TrimPrefix(p, module+"/")
			to, ok := layerOf(rel)
			if !ok {
				t.Errorf("%s: imports %s, which has no layer", f.rel, rel)
				continue
			}
			if to > from {
				t.Errorf("%s: %s (layer %d) imports %s (layer %d): imports must flow down", f.rel, f.pkg, from, rel, to)
			}
		}
	}
}

// TestNoPanic checks that no non-test code calls panic: input never causes a
// panic, and invariants are reported as errs.Internal errors.
func TestNoPanic(t *testing.T) {
	for _, f := range sourceFiles(t) {
		if f.test {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "panic" {
				t.Errorf("%s: panic call (return an error instead)", f.fset.Position(call.Pos()))
			}
			return true
		})
	}
}

// TestNoGlobalLogger checks that libraries take a *slog.Logger instead of
// logging through the global one; only node and the CLI build loggers.
func TestNoGlobalLogger(t *testing.T) {
	allowed := []string{"node", "internal/cli", "cmd/coal"}
	var bad []string
	for _, f := range sourceFiles(t) {
		if f.test {
			continue
		}
		ok := false
		for _, a := range allowed {
			if f.pkg == a || strings.HasPrefix(f.pkg, a+"/") {
				ok = true
			}
		}
		if ok {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch {
			case x.Name == "log" && sel.Sel.Name != "Logger":
				bad = append(bad, f.fset.Position(sel.Pos()).String()+": log."+sel.Sel.Name)
			case x.Name == "slog" && (sel.Sel.Name == "Default" || sel.Sel.Name == "Info" || sel.Sel.Name == "Error" || sel.Sel.Name == "Warn" || sel.Sel.Name == "Debug" || sel.Sel.Name == "SetDefault"):
				bad = append(bad, f.fset.Position(sel.Pos()).String()+": slog."+sel.Sel.Name)
			}
			return true
		})
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("%s: libraries take a *slog.Logger, never the global logger", b)
	}
}
