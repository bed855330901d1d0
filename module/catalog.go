package module

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/prog"
)

// Dir is the catalog: the directory of a world that holds its modules.
const Dir = "/mod"

// An Entry is one object of the catalog.
type Entry struct {
	Kind   Kind    `json:"kind"`
	Module string  `json:"module"`
	ID     coda.ID `json:"id"`
	Path   string  `json:"path"`
}

// sub is the directory of each kind under /mod/NAME ("" for the single
// values interface, build and main).
var sub = map[Kind]string{KindSpec: "spec", KindImpl: "impl", KindCode: "code", KindBench: "bench", KindResult: "result"}

// ModPath returns /mod/NAME.
func ModPath(name string) string { return Dir + "/" + name }

// EntryPath returns the path of an object of kind k with id in module name.
func EntryPath(name string, k Kind, id coda.ID) string {
	switch k {
	case KindInterface, KindBuild, KindMain:
		return ModPath(name) + "/" + k.String()
	}
	return ModPath(name) + "/" + sub[k] + "/" + id.String()
}

func programSchemaID() coda.ID {
	if s := prog.Schema(); s != nil {
		return s.ID
	}
	return coda.ID{}
}

// ensureSchemas stores in /sys/schemas, one commit per missing source, the
// schemas of module.coda, of programs and of src (an interface's, named
// file; may be empty), if the head lacks any of them.
func ensureSchemas(ctx context.Context, w *cdb.World, as cdb.Identity, file string, src []byte) error {
	reg, err := w.Schemas(coda.ID{})
	if err != nil {
		return err
	}
	missing := func(list []*coda.Schema) bool {
		for _, s := range list {
			if have, ok := reg.Lookup(s.Name); !ok || have.ID != s.ID {
				return true
			}
		}
		return false
	}
	type source struct {
		file string
		src  []byte
	}
	srcs := []source{{"module.coda", moduleCoda}, {"program.coda", prog.SchemaSource()}}
	if len(src) > 0 {
		srcs = append(srcs, source{file, src})
	}
	for _, s := range srcs {
		list, err := coda.NewRegistry().Compile(s.file, s.src)
		if err != nil {
			return errs.E(errs.Invalid, err)
		}
		if !missing(list) {
			continue
		}
		if _, _, err := w.AddSchemas(ctx, as, s.file, s.src); err != nil {
			return err
		}
		if reg, err = w.Schemas(coda.ID{}); err != nil {
			return err
		}
	}
	return nil
}

// Catalog returns the entries of the catalog at commit rev (zero: the
// head) that v may read: of module name, or of every module if name is
// "". Entries are sorted by module, then kind, then id.
func Catalog(v *cdb.View, rev coda.ID, name string) ([]Entry, error) {
	op := errs.Op("module.Catalog")
	var names []string
	if name != "" {
		if !ValidName(name) {
			return nil, errs.E(op, errs.Invalid, fmt.Sprintf("bad module name %q", name))
		}
		names = []string{name}
	} else {
		ents, err := v.List(rev, Dir)
		if errs.Is(err, errs.NotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, errs.E(op, err)
		}
		for _, e := range ents {
			if e.Kind == cdb.ItemKind("dir") && ValidName(e.Name) {
				names = append(names, e.Name)
			}
		}
	}
	var out []Entry
	for _, n := range names {
		ents, err := v.List(rev, ModPath(n))
		if errs.Is(err, errs.NotExist) {
			continue
		}
		if err != nil {
			return nil, errs.E(op, err)
		}
		for _, e := range ents {
			switch e.Name {
			case "interface", "build", "main":
				if e.Kind != "value" || e.Withheld {
					continue
				}
				k := map[string]Kind{"interface": KindInterface, "build": KindBuild, "main": KindMain}[e.Name]
				out = append(out, Entry{Kind: k, Module: n, ID: e.ID, Path: ModPath(n) + "/" + e.Name})
				continue
			}
			var k Kind
			for kk, s := range sub {
				if s == e.Name {
					k = kk
				}
			}
			if k == 0 || e.Kind != "dir" {
				continue
			}
			dir := ModPath(n) + "/" + e.Name
			objs, err := v.List(rev, dir)
			if err != nil {
				return nil, errs.E(op, err)
			}
			for _, o := range objs {
				if o.Kind != "value" || o.Withheld {
					continue
				}
				out = append(out, Entry{Kind: k, Module: n, ID: o.ID, Path: dir + "/" + o.Name})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Module != b.Module {
			return a.Module < b.Module
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return bytes.Compare(a.ID[:], b.ID[:]) < 0
	})
	return out, nil
}

// module is one module of a catalog, decoded.
type module struct {
	name    string
	ifaceID coda.ID
	iface   *Interface
	reg     *coda.Registry
	specs   map[coda.ID]*Spec
	impls   map[coda.ID]*Impl
	code    map[coda.ID][]byte
	benches map[coda.ID]*Bench
	results map[coda.ID]*Result
	build   *BuildRecord
	mainID  coda.ID
}

// load reads module name from the head of w as as sees it. Objects that do
// not decode (or whose id is not their path's) are skipped.
func load(w *cdb.World, as cdb.Identity, name string) (*module, error) {
	v := w.As(as.Public)
	ents, err := Catalog(v, coda.ID{}, name)
	if err != nil {
		return nil, err
	}
	m := &module{name: name, specs: map[coda.ID]*Spec{}, impls: map[coda.ID]*Impl{}, code: map[coda.ID][]byte{},
		benches: map[coda.ID]*Bench{}, results: map[coda.ID]*Result{}}
	for _, e := range ents {
		it, err := v.Get(coda.ID{}, e.Path)
		if err != nil {
			continue
		}
		obj := it.Raw
		if e.Kind != KindInterface && e.Kind != KindBuild && e.Kind != KindMain && e.Path != EntryPath(name, e.Kind, coda.Sum(obj)) {
			continue
		}
		switch e.Kind {
		case KindInterface:
			if i, err := DecodeInterface(obj); err == nil && i.Name == name {
				m.iface, m.ifaceID = i, coda.Sum(obj)
			}
		case KindSpec:
			if s, err := DecodeSpec(obj); err == nil {
				m.specs[e.ID] = s
			}
		case KindImpl:
			if x, err := DecodeImpl(obj); err == nil {
				m.impls[e.ID] = x
			}
		case KindCode:
			m.code[e.ID] = obj
		case KindBench:
			if b, err := DecodeBench(obj); err == nil {
				m.benches[e.ID] = b
			}
		case KindResult:
			if r, err := DecodeResult(obj); err == nil {
				m.results[e.ID] = r
			}
		case KindBuild:
			if b, err := DecodeBuild(obj); err == nil {
				m.build = b
			}
		case KindMain:
			m.mainID = e.ID
		}
	}
	if m.iface == nil {
		return nil, errs.E(errs.NotExist, errs.Path(ModPath(name)), fmt.Sprintf("no module %s (no readable %s/interface)", name, ModPath(name)))
	}
	if m.reg, err = m.iface.Registry(); err != nil {
		return nil, err
	}
	// Objects of another interface are not this module's.
	for id, s := range m.specs {
		if s.Interface != m.ifaceID {
			delete(m.specs, id)
		}
	}
	for id, x := range m.impls {
		if x.Interface != m.ifaceID {
			delete(m.impls, id)
		}
	}
	for id, b := range m.benches {
		if b.Interface != m.ifaceID {
			delete(m.benches, id)
		}
	}
	for id, r := range m.results {
		if r.Interface != m.ifaceID {
			delete(m.results, id)
		}
	}
	return m, nil
}

func sortedIDs[V any](m map[coda.ID]V) []coda.ID {
	out := make([]coda.ID, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// A Summary is one module of a catalog.
type Summary struct {
	Name      string   `json:"name"`
	Interface coda.ID  `json:"interface"`
	Functions []string `json:"functions"`
	Specs     int      `json:"specs"`
	Impls     int      `json:"impls"`
	Benches   int      `json:"benches"`
	Results   int      `json:"results"`
	Built     *coda.ID `json:"built,omitempty"` // the impl build chose
}

// List returns a summary of every module of w's catalog that as may read,
// by name.
func List(w *cdb.World, as cdb.Identity) ([]Summary, error) {
	ents, err := Catalog(w.As(as.Public), coda.ID{}, "")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.Kind == KindInterface {
			names = append(names, e.Module)
		}
	}
	var out []Summary
	for _, n := range names {
		m, err := load(w, as, n)
		if err != nil {
			continue
		}
		s := Summary{Name: n, Interface: m.ifaceID, Specs: len(m.specs), Impls: len(m.impls), Benches: len(m.benches), Results: len(m.results)}
		for _, f := range m.iface.Functions {
			s.Functions = append(s.Functions, f.Name)
		}
		if m.build != nil {
			id := m.build.Impl
			s.Built = &id
		}
		out = append(out, s)
	}
	return out, nil
}

// Imported is what Import stored.
type Imported struct {
	Commit  cdb.CommitInfo `json:"commit"`  // zero if nothing was new
	Entries []Entry        `json:"entries"` // the new entries
	Known   int            `json:"known"`   // objects already in the catalog
}

// Import validates objs (module objects and the Program objects their
// impls and predicates name, in any order) and stores the new ones in
// w's catalog in one commit. An object that does not decode, a Result
// whose signature is wrong, an object of an interface neither in objs nor
// in the catalog, an impl whose program is in neither, or an interface
// that conflicts with the catalog's of the same name fails the whole
// import with an error naming the object's id: nothing is stored. Build
// records are local and refused.
func Import(ctx context.Context, w *cdb.World, as cdb.Identity, objs [][]byte) (Imported, error) {
	op := errs.Op("module.Import")
	progID := programSchemaID()
	ifaces := map[coda.ID]*Interface{} // interface id → interface
	type item struct {
		kind Kind
		obj  []byte
		id   coda.ID
		ifc  coda.ID // its interface (for code: set later)
	}
	var items []item
	codes := map[coda.ID][]byte{}
	for _, obj := range objs {
		id := coda.Sum(obj)
		bad := func(err error) error {
			return errs.E(op, errs.Invalid, fmt.Errorf("object %s: %w", id, err))
		}
		switch KindOfObject(obj, progID) {
		case KindInterface:
			i, err := DecodeInterface(obj)
			if err != nil {
				return Imported{}, bad(err)
			}
			ifaces[id] = i
			items = append(items, item{KindInterface, obj, id, id})
		case KindSpec:
			s, err := DecodeSpec(obj)
			if err != nil {
				return Imported{}, bad(err)
			}
			items = append(items, item{KindSpec, obj, id, s.Interface})
		case KindImpl:
			x, err := DecodeImpl(obj)
			if err != nil {
				return Imported{}, bad(err)
			}
			items = append(items, item{KindImpl, obj, id, x.Interface})
		case KindBench:
			b, err := DecodeBench(obj)
			if err != nil {
				return Imported{}, bad(err)
			}
			items = append(items, item{KindBench, obj, id, b.Interface})
		case KindResult:
			r, err := DecodeResult(obj)
			if err != nil {
				return Imported{}, bad(err)
			}
			items = append(items, item{KindResult, obj, id, r.Interface})
		case KindCode:
			if _, err := prog.Decode(obj); err != nil {
				return Imported{}, bad(err)
			}
			codes[id] = obj
		default:
			return Imported{}, bad(fmt.Errorf("not a module object nor a program (a build record or an unknown schema)"))
		}
	}
	// The catalog's interfaces, by id and by name.
	v := w.As(as.Public)
	ents, err := Catalog(v, coda.ID{}, "")
	if err != nil {
		return Imported{}, errs.E(op, err)
	}
	have := map[string]bool{}
	byName := map[string]coda.ID{}
	for _, e := range ents {
		have[e.Path] = true
		if e.Kind == KindInterface {
			byName[e.Module] = e.ID
			if _, ok := ifaces[e.ID]; !ok {
				if it, err := v.Get(coda.ID{}, e.Path); err == nil {
					if i, err := DecodeInterface(it.Raw); err == nil {
						ifaces[e.ID] = i
					}
				}
			}
		}
	}
	for id, i := range ifaces {
		if cur, ok := byName[i.Name]; ok && cur != id {
			return Imported{}, errs.E(op, errs.Conflict, fmt.Sprintf("object %s: interface %s conflicts with the catalog's (%s)", id, i.Name, cur))
		}
	}
	// Programs: those impls and predicates name, in objs or the catalog.
	codeOf := map[coda.ID][]string{} // program id → modules that name it
	haveCode := func(name string, pid coda.ID) bool {
		return codes[pid] != nil || have[EntryPath(name, KindCode, pid)]
	}
	var ops []cdb.Op
	var added []Entry
	known := 0
	var srcs []*Interface
	for _, it := range items {
		i := ifaces[it.ifc]
		if i == nil {
			return Imported{}, errs.E(op, errs.Invalid, fmt.Sprintf("object %s: a %s of interface %s, which is neither imported nor in the catalog", it.id, it.kind, it.ifc))
		}
		switch it.kind {
		case KindImpl:
			x, _ := DecodeImpl(it.obj)
			if !haveCode(i.Name, x.Program) {
				return Imported{}, errs.E(op, errs.Invalid, fmt.Sprintf("object %s: impl %s names program %s, which is neither imported nor in the catalog", it.id, x.Name, x.Program))
			}
			codeOf[x.Program] = append(codeOf[x.Program], i.Name)
		case KindSpec:
			s, _ := DecodeSpec(it.obj)
			for _, p := range s.Properties {
				if p.Oracle.Predicate != nil {
					if !haveCode(i.Name, *p.Oracle.Predicate) {
						return Imported{}, errs.E(op, errs.Invalid, fmt.Sprintf("object %s: spec %s names predicate %s, which is neither imported nor in the catalog", it.id, s.Name, *p.Oracle.Predicate))
					}
					codeOf[*p.Oracle.Predicate] = append(codeOf[*p.Oracle.Predicate], i.Name)
				}
			}
		case KindInterface:
			srcs = append(srcs, i)
		}
		p := EntryPath(i.Name, it.kind, it.id)
		if have[p] {
			known++
			continue
		}
		have[p] = true
		ops = append(ops, cdb.Op{Kind: cdb.Put, Path: p, Raw: it.obj})
		added = append(added, Entry{Kind: it.kind, Module: i.Name, ID: it.id, Path: p})
	}
	for pid, obj := range codes {
		names := codeOf[pid]
		if len(names) == 0 {
			return Imported{}, errs.E(op, errs.Invalid, fmt.Sprintf("object %s: a program no imported impl or spec names", pid))
		}
		for _, n := range names {
			p := EntryPath(n, KindCode, pid)
			if have[p] {
				known++
				continue
			}
			have[p] = true
			ops = append(ops, cdb.Op{Kind: cdb.Put, Path: p, Raw: obj})
			added = append(added, Entry{Kind: KindCode, Module: n, ID: pid, Path: p})
		}
	}
	if len(ops) == 0 {
		return Imported{Known: known}, nil
	}
	for _, i := range srcs {
		if err := ensureSchemas(ctx, w, as, i.Name+".coda", []byte(i.Schemas)); err != nil {
			return Imported{}, errs.E(op, err)
		}
	}
	if err := ensureSchemas(ctx, w, as, "", nil); err != nil {
		return Imported{}, errs.E(op, err)
	}
	sort.Slice(ops, func(a, b int) bool { return ops[a].Path < ops[b].Path })
	ci, err := w.Commit(ctx, as, ops, fmt.Sprintf("module import: %d objects", len(ops)))
	if err != nil {
		return Imported{}, errs.E(op, err)
	}
	return Imported{Commit: ci, Entries: added, Known: known}, nil
}
