package co

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/coalescent/coal/errs"
)

// The standard library: Co modules shipped inside coal. The module at
// import path .co.stack is the file lib/co/stack.co.
//
//go:embed lib
var stdlib embed.FS

// StdLib returns the Resolver of the standard library.
func StdLib() Resolver { return ResolverFunc(resolveStd) }

func resolveStd(path string) (string, []byte, error) {
	file, ok := stdFile(path)
	if !ok {
		return "", nil, errs.E(errs.NotExist, fmt.Sprintf("no module %s in the standard library", path))
	}
	src, err := stdlib.ReadFile(file)
	if err != nil {
		return "", nil, errs.E(errs.NotExist, fmt.Sprintf("no module %s in the standard library", path))
	}
	return path, src, nil
}

// stdFile maps an import path to its file in the embedded library.
func stdFile(path string) (string, bool) {
	if len(path) < 2 || path[0] != '.' || validPath(path) != "" {
		return "", false
	}
	return "lib/" + strings.ReplaceAll(path[1:], ".", "/") + ".co", true
}

// StdModules lists the import paths of the standard library, sorted.
func StdModules() []string {
	var paths []string
	_ = fs.WalkDir(stdlib, "lib", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".co") {
			p = strings.TrimSuffix(strings.TrimPrefix(p, "lib"), ".co")
			paths = append(paths, strings.ReplaceAll(p, "/", "."))
		}
		return nil
	})
	sort.Strings(paths)
	return paths
}

// Chain returns a Resolver that asks each resolver in turn and answers with
// the first that knows the path (its error does not wrap errs.NotExist).
func Chain(rs ...Resolver) Resolver {
	return ResolverFunc(func(path string) (string, []byte, error) {
		var last error = errs.E(errs.NotExist, "no module "+path)
		for _, r := range rs {
			file, src, err := r.Resolve(path)
			if err == nil {
				return file, src, nil
			}
			last = err
			if !errs.Is(err, errs.NotExist) {
				return "", nil, err
			}
		}
		return "", nil, last
	})
}
