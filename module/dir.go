package module

// The DIR format of publish (docs/modules.md, "The DIR format"):
//
//	DIR/interface.json   {"name", "schemas": "FILE.coda", "functions": [{"name", "input", "output"}], "doc"}
//	DIR/FILE.coda        the interface's schemas
//	DIR/impls/NAME.co    an implementation named NAME, in Co
//	DIR/specs/NAME.json  {"cases": [{"function", "input", "output"}],
//	                      "properties": [{"function", "count", "seed", "bounds", "oracle"}]}
//	DIR/benches/NAME.json {"function", "inputs": [...]} or {"function", "generator": {"bounds", "seed", "count"}}
//
// Inputs and outputs are JSON values of the function's schemas (docs/coda.md
// §6). An oracle is {"reference": IMPL} (an impl of DIR/impls by name) or
// {"predicate": "FILE.co"} (a Co program, relative to DIR). Every error is
// FILE:LINE:COL: message.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/prog"
)

// jsonFile is a JSON file of DIR being read: errors name a position in it.
type jsonFile struct {
	name string // as errors name it: relative to DIR's parent
	data []byte
}

// posOf returns LINE:COL of the byte offset off.
func (f *jsonFile) posOf(off int) string {
	off = min(max(off, 0), len(f.data))
	line := 1 + bytes.Count(f.data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(f.data[:off], '\n')
	return fmt.Sprintf("%d:%d", line, col)
}

// errAt returns an error at the JSON value at path (keys and indexes).
func (f *jsonFile) errAt(path []any, format string, args ...any) error {
	off, _ := jsonOffset(f.data, path)
	return errs.E(errs.Invalid, fmt.Sprintf("%s:%s: %s", f.name, f.posOf(off), fmt.Sprintf(format, args...)))
}

// decode unmarshals the file into v, strictly (unknown fields are errors).
func (f *jsonFile) decode(v any) error {
	dec := json.NewDecoder(bytes.NewReader(f.data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = fmt.Errorf("more than one JSON value")
	}
	if err == nil {
		return nil
	}
	off := int(dec.InputOffset())
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = int(se.Offset)
	case errors.As(err, &te):
		off = int(te.Offset)
	}
	return errs.E(errs.Invalid, fmt.Sprintf("%s:%s: %v", f.name, f.posOf(off), err))
}

// jsonOffset returns the byte offset of the value at path in data (the
// offset of the whole value if the path is not found).
func jsonOffset(data []byte, path []any) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	return findJSON(dec, data, path)
}

func skipSpace(data []byte, off int) int {
	for off < len(data) && strings.IndexByte(" \t\r\n:,", data[off]) >= 0 {
		off++
	}
	return off
}

func findJSON(dec *json.Decoder, data []byte, path []any) (int, bool) {
	start := skipSpace(data, int(dec.InputOffset()))
	if len(path) == 0 {
		return start, true
	}
	tok, err := dec.Token()
	if err != nil {
		return start, false
	}
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return start, false
			}
			if k, ok := kt.(string); ok && k == path[0] {
				return findJSON(dec, data, path[1:])
			}
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return start, false
			}
		}
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if n, ok := path[0].(int); ok && n == i {
				return findJSON(dec, data, path[1:])
			}
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return start, false
			}
		}
	}
	return start, false
}

type ifaceJSON struct {
	Name      string     `json:"name"`
	Schemas   string     `json:"schemas"`
	Functions []Function `json:"functions"`
	Doc       string     `json:"doc"`
}

type boundJSON struct {
	Field  string  `json:"field"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	MaxLen int     `json:"maxlen"`
}

type caseJSON struct {
	Function string          `json:"function"`
	Input    json.RawMessage `json:"input"`
	Output   json.RawMessage `json:"output"`
}

type oracleJSON struct {
	Reference string `json:"reference"`
	Predicate string `json:"predicate"`
}

type propJSON struct {
	Function string      `json:"function"`
	Count    uint32      `json:"count"`
	Seed     uint64      `json:"seed"`
	Bounds   []boundJSON `json:"bounds"`
	Oracle   oracleJSON  `json:"oracle"`
}

type specJSON struct {
	Name       string     `json:"name"`
	Cases      []caseJSON `json:"cases"`
	Properties []propJSON `json:"properties"`
}

type genJSON struct {
	Bounds []boundJSON `json:"bounds"`
	Seed   uint64      `json:"seed"`
	Count  uint32      `json:"count"`
}

type benchJSON struct {
	Name      string            `json:"name"`
	Function  string            `json:"function"`
	Inputs    []json.RawMessage `json:"inputs"`
	Generator *genJSON          `json:"generator"`
}

func toBounds(bs []boundJSON) []Bound {
	var out []Bound
	for _, b := range bs {
		out = append(out, Bound(b))
	}
	return out
}

// Package is a module read from a DIR: its objects, ready to store.
type Package struct {
	Interface   *Interface
	InterfaceID coda.ID
	objects     map[string][]byte // catalog path → object
	Entries     []Entry
}

// ReadDir reads and checks a module DIR (docs/modules.md). Errors are
// FILE:LINE:COL: message, FILE relative to DIR's parent. Its Co files may
// use the standard library only: ReadDirLib also links a world's /lib.
func ReadDir(dir string) (*Package, error) { return ReadDirLib(dir, nil) }

// ReadDirLib is ReadDir with the code library libs (the values of a
// world's /lib by NAME; nil: none) for the Co files to import from
// (`+ .lib :NAME ;`). Routines they copy (>NAME) are in their code;
// routines they link by id (<NAME) are linked now (docs/programs.md §5)
// and stored in the Program's code, which then imports nothing: a
// module's code runs without /lib, the same on every node.
func ReadDirLib(dir string, libs map[string]*prog.Lib) (*Package, error) {
	op := errs.Op("module.ReadDir")
	base := filepath.Dir(filepath.Clean(dir))
	rel := func(p string) string {
		r, err := filepath.Rel(base, p)
		if err != nil {
			return p
		}
		return filepath.ToSlash(r)
	}
	read := func(p string) (*jsonFile, error) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, errs.E(op, errs.NotExist, errs.Path(rel(p)), err)
		}
		return &jsonFile{name: rel(p), data: b}, nil
	}
	// The interface.
	f, err := read(filepath.Join(dir, "interface.json"))
	if err != nil {
		return nil, err
	}
	var ij ifaceJSON
	if err := f.decode(&ij); err != nil {
		return nil, err
	}
	if ij.Schemas == "" {
		return nil, f.errAt(nil, "no \"schemas\": name the .coda file of the interface's schemas")
	}
	src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(ij.Schemas)))
	if err != nil {
		return nil, f.errAt([]any{"schemas"}, "%v", err)
	}
	iface := &Interface{Name: ij.Name, Schemas: string(src), Functions: ij.Functions, Doc: ij.Doc}
	if err := iface.check(); err != nil {
		return nil, f.errAt([]any{"name"}, "%v", err)
	}
	reg := coda.NewRegistry()
	if _, err := reg.Compile(rel(filepath.Join(dir, filepath.FromSlash(ij.Schemas))), src); err != nil {
		return nil, errs.E(op, errs.Invalid, err)
	}
	for k, fn := range iface.Functions {
		for _, n := range []struct{ key, name string }{{"input", fn.Input}, {"output", fn.Output}} {
			if _, ok := reg.Lookup(n.name); !ok {
				return nil, f.errAt([]any{"functions", k, n.key}, "function %s: no schema %s in %s", fn.Name, n.name, ij.Schemas)
			}
		}
	}
	ifaceObj, err := iface.Encode()
	if err != nil {
		return nil, errs.E(op, err)
	}
	pkg := &Package{Interface: iface, InterfaceID: coda.Sum(ifaceObj), objects: map[string][]byte{}}
	add := func(k Kind, obj []byte) coda.ID {
		id := coda.Sum(obj)
		p := EntryPath(iface.Name, k, id)
		if _, ok := pkg.objects[p]; !ok {
			pkg.objects[p] = obj
			pkg.Entries = append(pkg.Entries, Entry{Kind: k, Module: iface.Name, ID: id, Path: p})
		}
		return id
	}
	add(KindInterface, ifaceObj)
	// build compiles a Co file into a Program object.
	build := func(p string, entries bool) ([]byte, error) {
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, errs.E(op, errs.NotExist, errs.Path(rel(p)), err)
		}
		var copts co.Options
		if libs != nil {
			copts.Resolver = co.Chain(prog.Resolver(libs), co.StdLib())
		}
		pr, err := prog.Build(rel(p), src, copts)
		if err != nil {
			return nil, errs.E(op, errs.Invalid, err)
		}
		if len(pr.Imports) > 0 {
			if pr, err = linkStatic(pr, libs); err != nil {
				return nil, errs.E(op, errs.Invalid, fmt.Sprintf("%s:1:1: %v", rel(p), err))
			}
		}
		if entries {
			for _, fn := range iface.Functions {
				if _, err := pr.Entry(fn.Name); err != nil {
					return nil, errs.E(op, errs.Invalid, fmt.Sprintf("%s:1:1: no entry %s (an implementation has one entry per function, ^ %s)", rel(p), fn.Name, fn.Name))
				}
			}
		}
		return pr.Encode()
	}
	files := func(sub, ext string) []string {
		m, _ := filepath.Glob(filepath.Join(dir, sub, "*"+ext))
		sort.Strings(m)
		return m
	}
	// Implementations, by name.
	implIDs := map[string]coda.ID{}
	for _, p := range files("impls", ".co") {
		name := strings.TrimSuffix(filepath.Base(p), ".co")
		obj, err := build(p, true)
		if err != nil {
			return nil, err
		}
		pid := add(KindCode, obj)
		impl := &Impl{Interface: pkg.InterfaceID, Name: name, Program: pid, Language: "co"}
		io, err := impl.Encode()
		if err != nil {
			return nil, errs.E(op, errs.Invalid, fmt.Sprintf("%s:1:1: %v", rel(p), err))
		}
		implIDs[name] = add(KindImpl, io)
	}
	// value encodes the JSON value at path of f as an object of schema n.
	value := func(f *jsonFile, path []any, raw json.RawMessage, n string) ([]byte, error) {
		s, _ := reg.Lookup(n)
		if len(raw) == 0 {
			return nil, f.errAt(path[:len(path)-1], "no %q", path[len(path)-1])
		}
		v, err := coda.SchemaFromJSON(s, raw, reg)
		if err != nil {
			return nil, f.errAt(path, "not a %s: %v", n, err)
		}
		obj, err := coda.EncodeObject(s, v)
		if err != nil {
			return nil, f.errAt(path, "%v", err)
		}
		return obj, nil
	}
	function := func(f *jsonFile, path []any, name string) (Function, error) {
		fn, ok := iface.Function(name)
		if !ok {
			return fn, f.errAt(path, "no function %q in interface %s", name, iface.Name)
		}
		return fn, nil
	}
	for _, p := range files("specs", ".json") {
		f, err := read(p)
		if err != nil {
			return nil, err
		}
		var sj specJSON
		if err := f.decode(&sj); err != nil {
			return nil, err
		}
		if sj.Name == "" {
			sj.Name = strings.TrimSuffix(filepath.Base(p), ".json")
		}
		spec := &Spec{Interface: pkg.InterfaceID, Name: sj.Name}
		for k, c := range sj.Cases {
			fn, err := function(f, []any{"cases", k, "function"}, c.Function)
			if err != nil {
				return nil, err
			}
			in, err := value(f, []any{"cases", k, "input"}, c.Input, fn.Input)
			if err != nil {
				return nil, err
			}
			out, err := value(f, []any{"cases", k, "output"}, c.Output, fn.Output)
			if err != nil {
				return nil, err
			}
			spec.Cases = append(spec.Cases, Case{Function: fn.Name, Input: in, Output: out})
		}
		for k, pj := range sj.Properties {
			at := []any{"properties", k}
			if _, err := function(f, append(at, "function"), pj.Function); err != nil {
				return nil, err
			}
			pr := Property{Function: pj.Function, Bounds: toBounds(pj.Bounds), Count: pj.Count, Seed: pj.Seed}
			switch o := pj.Oracle; {
			case o.Reference != "" && o.Predicate == "":
				id, ok := implIDs[o.Reference]
				if !ok {
					return nil, f.errAt(append(at, "oracle", "reference"), "no impl %q in impls/", o.Reference)
				}
				pr.Oracle.Reference = &id
			case o.Predicate != "" && o.Reference == "":
				obj, err := build(filepath.Join(dir, filepath.FromSlash(o.Predicate)), false)
				if err != nil {
					return nil, err
				}
				if pg, _ := prog.Decode(obj); pg != nil {
					if _, err := pg.Entry(pj.Function); err != nil {
						return nil, f.errAt(append(at, "oracle", "predicate"), "predicate %s has no entry %s", o.Predicate, pj.Function)
					}
				}
				id := add(KindCode, obj)
				pr.Oracle.Predicate = &id
			default:
				return nil, f.errAt(append(at, "oracle"), "want an oracle: {\"reference\": IMPL} or {\"predicate\": \"FILE.co\"}")
			}
			if pr.Count == 0 {
				return nil, f.errAt(append(at, "count"), "a property needs a count of inputs (1 to %d)", MaxCount)
			}
			if err := checkBounds("bounds", pr.Bounds); err != nil {
				return nil, f.errAt(append(at, "bounds"), "%v", err)
			}
			spec.Properties = append(spec.Properties, pr)
		}
		obj, err := spec.Encode()
		if err != nil {
			return nil, f.errAt(nil, "%v", err)
		}
		add(KindSpec, obj)
	}
	for _, p := range files("benches", ".json") {
		f, err := read(p)
		if err != nil {
			return nil, err
		}
		var bj benchJSON
		if err := f.decode(&bj); err != nil {
			return nil, err
		}
		if bj.Name == "" {
			bj.Name = strings.TrimSuffix(filepath.Base(p), ".json")
		}
		fn, err := function(f, []any{"function"}, bj.Function)
		if err != nil {
			return nil, err
		}
		b := &Bench{Interface: pkg.InterfaceID, Name: bj.Name, Function: fn.Name}
		for k, raw := range bj.Inputs {
			in, err := value(f, []any{"inputs", k}, raw, fn.Input)
			if err != nil {
				return nil, err
			}
			b.Inputs = append(b.Inputs, in)
		}
		if g := bj.Generator; g != nil {
			b.Generator = &Generator{Bounds: toBounds(g.Bounds), Seed: g.Seed, Count: g.Count}
		}
		obj, err := b.Encode()
		if err != nil {
			return nil, f.errAt(nil, "%v", err)
		}
		add(KindBench, obj)
	}
	return pkg, nil
}

// Published is what Publish stored.
type Published struct {
	Module    string         `json:"module"`
	Interface coda.ID        `json:"interface"`
	Commit    cdb.CommitInfo `json:"commit"`  // zero if nothing was new
	Entries   []Entry        `json:"entries"` // every entry of the DIR
	New       int            `json:"new"`     // how many were not in the catalog
}

// Publish reads the module DIR (ReadDirLib, with w's /lib as as may read
// it at the head) and stores its objects in w's catalog (/mod/NAME/…) in
// one commit, after a commit adding the schemas it needs to /sys/schemas
// if the head lacks them. An interface that differs from the catalog's of
// the same name is a conflict; objects already there are skipped.
func Publish(ctx context.Context, w *cdb.World, as cdb.Identity, dir string) (Published, error) {
	op := errs.Op("module.Publish")
	libs, err := call.ReadLib(w.As(as.Public), coda.ID{})
	if err != nil {
		return Published{}, errs.E(op, err)
	}
	pkg, err := ReadDirLib(dir, libs)
	if err != nil {
		return Published{}, err
	}
	return pkg.Store(ctx, w, as, op)
}

// linkStatic links the library routines p imports by id from libs into
// its code (prog.Link: the ROM a load would make) and returns the program
// with that code and no imports or links. Entries and exports keep their
// addresses: the ROM starts with p's code.
func linkStatic(p *prog.Program, libs map[string]*prog.Lib) (*prog.Program, error) {
	if libs == nil {
		return nil, fmt.Errorf("links library routines by id: without a world there is no /lib to link them from (publish it to a world)")
	}
	lib := prog.NewLibrary()
	for name, l := range libs {
		lib.AddLib(name, l)
	}
	rom, err := prog.Link(p, lib.Lookup)
	if err != nil {
		return nil, fmt.Errorf("link the library routines it imports from /lib: %w", err)
	}
	q := *p
	q.Code, q.Imports, q.Links = rom, nil, nil
	return &q, nil
}

// Store puts the package's objects in w's catalog (Publish).
func (pkg *Package) Store(ctx context.Context, w *cdb.World, as cdb.Identity, op errs.Op) (Published, error) {
	name := pkg.Interface.Name
	v := w.As(as.Public)
	if it, err := v.Get(coda.ID{}, ModPath(name)+"/interface"); err == nil && it.ID != pkg.InterfaceID {
		return Published{}, errs.E(op, errs.Conflict, errs.Path(ModPath(name)+"/interface"),
			fmt.Sprintf("module %s already has interface %s; this one is %s (publish it under another name)", name, it.ID.Short(), pkg.InterfaceID.Short()))
	}
	res := Published{Module: name, Interface: pkg.InterfaceID, Entries: pkg.Entries}
	var ops []cdb.Op
	for _, e := range pkg.Entries {
		if it, err := v.Get(coda.ID{}, e.Path); err == nil && it.ID == e.ID {
			continue
		}
		ops = append(ops, cdb.Op{Kind: cdb.Put, Path: e.Path, Raw: pkg.objects[e.Path]})
	}
	res.New = len(ops)
	if len(ops) == 0 {
		return res, nil
	}
	if err := ensureSchemas(ctx, w, as, name+".coda", []byte(pkg.Interface.Schemas)); err != nil {
		return Published{}, errs.E(op, err)
	}
	sort.Slice(ops, func(a, b int) bool { return ops[a].Path < ops[b].Path })
	ci, err := w.Commit(ctx, as, ops, fmt.Sprintf("publish %s: %d objects", name, len(ops)))
	if err != nil {
		return Published{}, errs.E(op, err)
	}
	res.Commit = ci
	return res, nil
}

// LibDir is a world's code library (docs/programs.md §7): call.LibDir.
const LibDir = call.LibDir
