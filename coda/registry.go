package coda

import (
	"fmt"
	"sort"
	"sync"

	"github.com/coalescent/coal/errs"
)

// Registry holds compiled schemas by id and by name. It is safe for
// concurrent use. The zero Registry is empty and ready to use; NewRegistry
// returns one with the built-in schemas.
//
// Names are for compiling source text (a type name not declared in the
// compilation is looked up here) and for people; ids are what objects carry.
// A name refers to the schema added last under it.
type Registry struct {
	mu     sync.RWMutex
	byID   map[ID]*Schema
	byName map[string]*Schema
}

// NewRegistry returns a registry with the built-in schemas: Blob, and the six
// members of the schema of schemas. By name, only Blob and Schema (the schema
// of schemas, so that link<Schema> can be written) are visible: the other
// meta members' names (Def, Field, Variant, Type, MapType) are too generic to
// take from every user's namespace, and are known by id only.
func NewRegistry() *Registry {
	r := &Registry{}
	r.Add(BlobSchema(), MetaSchema())
	return r
}

// SchemaByID returns the schema with the given id; errs.NotExist if unknown.
func (r *Registry) SchemaByID(id ID) (*Schema, error) {
	r.mu.RLock()
	s, ok := r.byID[id]
	r.mu.RUnlock()
	if !ok {
		return nil, errs.E(errs.NotExist, fmt.Sprintf("coda: unknown schema %s", id))
	}
	return s, nil
}

// Lookup returns the schema last added under name.
func (r *Registry) Lookup(name string) (*Schema, bool) {
	r.mu.RLock()
	s, ok := r.byName[name]
	r.mu.RUnlock()
	return s, ok
}

// Names returns the names in the registry, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	r.mu.RUnlock()
	sort.Strings(names)
	return names
}

// Add registers schemas by id and, if they have one, by name (replacing an
// earlier schema of that name). The other members of each schema's group are
// registered by id, so that objects of any member decode.
func (r *Registry) Add(schemas ...*Schema) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = make(map[ID]*Schema)
		r.byName = make(map[string]*Schema)
	}
	for _, s := range schemas {
		for _, m := range s.Group {
			if _, ok := r.byID[m.ID]; !ok {
				r.byID[m.ID] = m
			}
		}
		r.byID[s.ID] = s
		if s.Name != "" {
			r.byName[s.Name] = s
		}
	}
}

// Compile parses and compiles one .coda file against the registry, adds the
// schemas, and returns them in declaration order. Errors are an ErrorList
// with every error found; on any error nothing is added.
func (r *Registry) Compile(filename string, src []byte) ([]*Schema, error) {
	return r.CompileFiles(map[string][]byte{filename: src})
}

// Bind compiles the .coda file src into a new registry and sets each
// *names[N] to the schema N it declares: how a package loads the schemas
// of its messages. A compile error, or a name the file does not declare,
// is an errs.Internal error naming the file (the file is the package's
// own, embedded).
func Bind(filename string, src []byte, names map[string]**Schema) (*Registry, error) {
	r := NewRegistry()
	if _, err := r.Compile(filename, src); err != nil {
		return nil, errs.E(errs.Internal, fmt.Errorf("compile %s: %w", filename, err))
	}
	for name, p := range names {
		s, ok := r.Lookup(name)
		if !ok {
			return nil, errs.E(errs.Internal, fmt.Sprintf("%s lacks schema %s", filename, name))
		}
		*p = s
	}
	return r, nil
}

// CompileFiles is Compile for several files compiled together: they may
// refer to each other's declarations. Files are taken in name order, which
// is the order of the result and of equal members of recursive groups.
func (r *Registry) CompileFiles(files map[string][]byte) ([]*Schema, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var el ErrorList
	parsed := make([]*File, len(names))
	for i, n := range names {
		parsed[i] = parseFile(n, files[n], &el)
	}
	schemas, cerrs := compileFiles(parsed, r)
	el = append(el, cerrs...)
	if err := el.Err(); err != nil {
		return nil, err
	}
	r.Add(schemas...)
	return schemas, nil
}

// CompileParsed compiles files already parsed, against the registry, and
// adds the schemas (see CompileFiles).
func (r *Registry) CompileParsed(files ...*File) ([]*Schema, error) {
	schemas, el := compileFiles(files, r)
	if err := el.Err(); err != nil {
		return nil, err
	}
	r.Add(schemas...)
	return schemas, nil
}
