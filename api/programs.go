package api

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/coalescent/coal/api/message"
	coalcall "github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/prog"
)

// The program and library routes' messages (docs/programs.md).
type (
	ProgramAdd    = message.ProgramAdd
	ProgramEntry  = message.ProgramEntry
	ProgramSource = message.ProgramSource
	LibEntry      = message.LibEntry
	LibRoutine    = message.LibRoutine
	LibNote       = message.LibNote
)

func init() {
	jsonTypes["ProgramAdd"] = reflect.TypeFor[ProgramAdd]()
	jsonTypes["ProgramSource"] = reflect.TypeFor[ProgramSource]()
	jsonTypes["LibEntry"] = reflect.TypeFor[LibEntry]()
	jsonTypes["LibRoutine"] = reflect.TypeFor[LibRoutine]()
}

// addProgram builds the Co source in the body and stores the Program at
// the path and its library routines under /lib, in one commit (POST
// .../programs/PATH). The first time, the program schemas are added to
// /sys/schemas in a commit before it.
func (s *server) addProgram(w http.ResponseWriter, r *http.Request, c *call) error {
	src, err := readBody(w, r, s.opts.MaxJSON)
	if err != nil {
		return err
	}
	p := treePath(r)
	q := r.URL.Query()
	file := q.Get("filename")
	if file == "" {
		file = "source.co"
	}
	msg := q.Get("message")
	if msg == "" {
		msg = "prog add " + p
	}
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	head, err := wd.Head()
	if err != nil {
		return err
	}
	libs, err := coalcall.ReadLib(wd.As(c.who.Public), head)
	if err != nil {
		return err
	}
	pr, named, err := prog.BuildLibrary(file, src, co.Options{Resolver: co.Chain(prog.Resolver(libs), co.StdLib())})
	if err != nil {
		return errs.E(errs.Invalid, err)
	}
	obj, err := pr.Encode()
	if err != nil {
		return err
	}
	ops := []cdb.Op{{Kind: cdb.Put, Path: p, Raw: obj}}
	out := ProgramAdd{Path: p, Program: coda.Sum(obj), Code: len(pr.Code), Entries: []ProgramEntry{}, Exports: []LibEntry{}, Imports: pr.Imports, Lib: []LibEntry{}}
	if out.Imports == nil {
		out.Imports = []coda.ID{}
	}
	for _, e := range pr.Entries {
		out.Entries = append(out.Entries, ProgramEntry{Name: e.Name, Addr: e.Addr})
	}
	for _, e := range pr.Exports {
		out.Exports = append(out.Exports, LibEntry{Name: e.Name, ID: e.ID})
	}
	for _, l := range named {
		if l.Lib == nil {
			out.Unlinked = append(out.Unlinked, LibNote{Name: l.Name, Why: l.Why})
			continue
		}
		if !tree.ValidName(l.Name) {
			return errs.E(errs.Invalid, errs.Path(file), fmt.Sprintf("routine %s cannot be stored as %s/%s: the name is not a path segment", l.Name, coalcall.LibDir, l.Name))
		}
		b, err := l.Lib.Encode()
		if err != nil {
			return err
		}
		ops = append(ops, cdb.Op{Kind: cdb.Put, Path: coalcall.LibDir + "/" + l.Name, Raw: b})
		out.Lib = append(out.Lib, LibEntry{Name: l.Name, ID: l.ID})
	}
	if out.SchemaCommit, err = s.programSchemas(r, c, wd); err != nil {
		return err
	}
	ci, err := wd.Commit(r.Context(), c.who, ops, msg)
	if err != nil {
		return err
	}
	out.Commit = ci.ID
	return writeJSON(w, http.StatusCreated, out)
}

// programSchemas adds the program schemas to the world's /sys/schemas if
// one is missing, and returns the commit made (nil if none). A schema of
// the same name that is not the program schema is an error.
func (s *server) programSchemas(r *http.Request, c *call, wd *cdb.World) (*coda.ID, error) {
	reg, err := wd.Schemas(coda.ID{})
	if err != nil {
		return nil, err
	}
	want, err := prog.Schemas()
	if err != nil {
		return nil, err
	}
	missing := false
	for _, sc := range want {
		got, ok := reg.Lookup(sc.Name)
		switch {
		case !ok:
			missing = true
		case got.ID != sc.ID:
			return nil, errs.E(errs.Exist, errs.Path(cdb.SchemasDir+"/"+sc.Name),
				fmt.Sprintf("is schema %s, not the program schema %s of that name (docs/programs.md)", got.ID.Short(), sc.ID.Short()))
		}
	}
	if !missing {
		return nil, nil
	}
	ci, _, err := wd.AddSchemas(r.Context(), c.who, "program.coda", prog.SchemaSource())
	if err != nil {
		return nil, err
	}
	return &ci.ID, nil
}

// programSource returns the readable Co source of the program at the path
// (GET .../source/PATH).
func (s *server) programSource(w http.ResponseWriter, r *http.Request, c *call) error {
	v, at, err := s.viewAt(r, c)
	if err != nil {
		return err
	}
	p := treePath(r)
	it, err := v.Get(at, p)
	if err != nil {
		return err
	}
	if it.Kind != cdb.ItemValue {
		return errs.E(errs.Invalid, errs.Path(it.Path), fmt.Sprintf("is a %s, not a program", it.Kind))
	}
	pr, err := prog.Decode(it.Raw)
	if err != nil {
		return errs.E(errs.Path(it.Path), err)
	}
	src, err := pr.Decompile()
	if err != nil {
		return errs.E(errs.Path(it.Path), err)
	}
	return writeJSON(w, 0, ProgramSource{Path: it.Path, Program: it.ID, Source: string(src)})
}

// libList lists the world's code library (GET .../lib).
func (s *server) libList(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	head, err := v.World().Head()
	if err != nil {
		return err
	}
	libs, err := coalcall.ReadLib(v, head)
	if err != nil {
		return err
	}
	out := []LibEntry{}
	for n, l := range libs {
		out = append(out, LibEntry{Name: n, ID: l.Routine.ID()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return writeJSON(w, 0, out)
}

// libShow shows one library routine by id or unique id prefix (GET
// .../lib/{id}).
func (s *server) libShow(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	head, err := v.World().Head()
	if err != nil {
		return err
	}
	libs, err := coalcall.ReadLib(v, head)
	if err != nil {
		return err
	}
	want := strings.ToLower(r.PathValue("id"))
	if !coda.IsIDPrefix(want) {
		return errs.E(errs.Invalid, fmt.Sprintf("id: %q is not a library id or a prefix of one", want))
	}
	all := map[coda.ID]*prog.Routine{}
	names := map[coda.ID][]string{}
	for n, l := range libs {
		id := l.Routine.ID()
		all[id] = l.Routine
		names[id] = append(names[id], n)
		for _, d := range l.Deps {
			all[d.ID()] = d
		}
	}
	var found []coda.ID
	for id := range all {
		if id.HasPrefix(want) {
			found = append(found, id)
		}
	}
	switch {
	case len(found) == 0:
		return errs.E(errs.NotExist, fmt.Sprintf("no routine %s in %s", want, coalcall.LibDir))
	case len(found) > 1:
		return errs.E(errs.Invalid, fmt.Sprintf("id prefix %s names %d routines; give more of it", want, len(found)))
	}
	id := found[0]
	rt := all[id]
	nameOf := func(x coda.ID) (string, bool) {
		if ns := names[x]; len(ns) > 0 {
			sort.Strings(ns)
			return ns[0], true
		}
		return "_" + x.String(), true
	}
	body, err := prog.RoutineSource(rt, nameOf)
	if err != nil {
		return err
	}
	self, _ := nameOf(id)
	out := LibRoutine{ID: id, Names: names[id], Code: len(rt.Code), Source: "^ " + self + " " + body + ";", Deps: []LibEntry{}}
	if out.Names == nil {
		out.Names = []string{}
	}
	sort.Strings(out.Names)
	seen := map[coda.ID]bool{id: true}
	var walk func(*prog.Routine)
	walk = func(x *prog.Routine) {
		for _, f := range x.Fixups {
			if f.Routine.IsZero() || seen[f.Routine] {
				continue
			}
			seen[f.Routine] = true
			n := ""
			if ns := names[f.Routine]; len(ns) > 0 {
				n = ns[0]
			}
			out.Deps = append(out.Deps, LibEntry{Name: n, ID: f.Routine})
			if d := all[f.Routine]; d != nil {
				walk(d)
			}
		}
	}
	walk(rt)
	return writeJSON(w, 0, out)
}
