package cdb

import (
	"context"
	"sync"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// registryCache maps the id of a /sys/schemas directory node to its
// registry, so that reads and writes do not decode every schema each time.
type registryCache struct {
	mu sync.Mutex
	m  map[coda.ID]*coda.Registry
}

var regCache = registryCache{m: make(map[coda.ID]*coda.Registry)}

// Schemas returns a registry of the schemas in /sys/schemas at commit rev
// (zero: head), each under its name there, plus the built-ins (Blob). The
// caller owns it. A schema that refers to one no longer there is left out.
func (w *World) Schemas(rev coda.ID) (*coda.Registry, error) {
	root, err := w.root(rev)
	if err != nil {
		return nil, errs.E(errs.Op("cdb.Schemas"), err)
	}
	shared, err := w.schemasAt(root)
	if err != nil {
		return nil, errs.E(errs.Op("cdb.Schemas"), err)
	}
	return copyRegistry(shared), nil
}

// copyRegistry returns a registry with the named schemas of r.
func copyRegistry(r *coda.Registry) *coda.Registry {
	out := coda.NewRegistry()
	for _, n := range r.Names() {
		if s, ok := r.Lookup(n); ok {
			out.Add(s)
		}
	}
	return out
}

// schemasAt returns the registry of root's /sys/schemas, shared through
// a cache: never add to it.
func (w *World) schemasAt(root coda.ID) (*coda.Registry, error) {
	r, err := schemasWithout(w.h.cstore, root, func(id coda.ID) bool {
		_, ok, err := w.Withheld(id)
		return err == nil && ok
	})
	if err != nil {
		return nil, err
	}
	return w.h.withPolicySchemas(r), nil
}

// withPolicySchemas returns r with the policy's built-in schemas added (r
// itself if there are none), shared through a cache: never add to it.
func (h *Home) withPolicySchemas(r *coda.Registry) *coda.Registry {
	if h.policy == nil {
		return r
	}
	extra := h.policy.Schemas()
	if len(extra) == 0 {
		return r
	}
	h.regMu.Lock()
	defer h.regMu.Unlock()
	if out, ok := h.regs[r]; ok {
		return out
	}
	out := copyRegistry(r)
	for _, s := range extra {
		if _, taken := out.Lookup(s.Name); taken {
			anon := *s
			anon.Name = ""
			s = &anon
		}
		out.Add(s)
	}
	if h.regs == nil || len(h.regs) > 256 {
		h.regs = make(map[*coda.Registry]*coda.Registry)
	}
	h.regs[r] = out
	return out
}

// noSchemas is the registry of a tree without /sys/schemas: shared, never
// add to it.
var noSchemas = coda.NewRegistry()

// schemasIn builds the registry of /sys/schemas in the tree root (or
// finds it cached): shared, never add to it.
func schemasIn(ts tree.Store, root coda.ID) (*coda.Registry, error) {
	return schemasWithout(ts, root, nil)
}

// schemasWithout is schemasIn leaving out the schemas the store lacks for
// which withheld reports true (withheld by a bundle's maker: values of
// them read as of an unknown schema, Raw only).
func schemasWithout(ts tree.Store, root coda.ID, withheld func(coda.ID) bool) (*coda.Registry, error) {
	tr := tree.New(ts)
	e, err := tr.Get(root, SchemasDir)
	if errs.Is(err, errs.NotExist) {
		// Shared, as the cached ones are: withPolicySchemas then finds
		// its copy with the policy's schemas instead of making one a
		// commit.
		return noSchemas, nil
	}
	if err != nil {
		return nil, err
	}
	if e.Kind != tree.KindDir {
		return nil, errs.E(errs.Corrupt, errs.Path(SchemasDir), "not a directory")
	}
	regCache.mu.Lock()
	r, ok := regCache.m[e.ID]
	regCache.mu.Unlock()
	if ok {
		return r, nil
	}
	ents, err := tr.List(root, SchemasDir)
	if err != nil {
		return nil, err
	}
	type pending struct {
		name string
		data []byte
	}
	var todo []pending
	partial := false // not cached: the schemas left out may arrive
	for _, d := range ents {
		if d.Kind != tree.KindValue {
			continue
		}
		b, err := ts.Get(d.ID)
		if errs.Is(err, errs.NotExist) && withheld != nil && withheld(d.ID) {
			partial = true
			continue
		}
		if err != nil {
			return nil, err
		}
		todo = append(todo, pending{d.Name, b})
	}
	r = coda.NewRegistry()
	// Schemas refer to others by id: decode in rounds until no progress.
	// A schema referring to one no longer in the directory (deleted) is
	// left out: values of it read as of an unknown schema.
	for len(todo) > 0 {
		var next []pending
		for _, p := range todo {
			s, err := coda.DecodeSchema(p.data, r)
			if errs.Is(err, errs.NotExist) {
				next = append(next, p)
				continue
			}
			if err != nil {
				return nil, errs.E(errs.Corrupt, errs.Path(SchemasDir+"/"+p.name), err)
			}
			named := *s
			named.Name = p.name
			r.Add(&named)
		}
		if len(next) == len(todo) {
			break
		}
		todo = next
	}
	if partial {
		return r, nil
	}
	regCache.mu.Lock()
	if len(regCache.m) > 256 {
		clear(regCache.m)
	}
	regCache.m[e.ID] = r
	regCache.mu.Unlock()
	return r, nil
}

// AddSchemas compiles the CODA source src (named filename in errors)
// against the schemas at the head and stores each schema it declares at
// /sys/schemas/NAME, in one commit. It returns the schemas, in declaration
// order. A name that already holds a different schema is replaced (the old
// one stays in history and in values that carry its id).
func (w *World) AddSchemas(ctx context.Context, author Identity, filename string, src []byte) (CommitInfo, []*coda.Schema, error) {
	op := errs.Op("cdb.AddSchemas")
	var out []*coda.Schema
	c, err := w.write(ctx, author, "schema add "+filename, rerunAlways, func(tx *txn) error {
		reg := copyRegistry(tx.reg)
		list, err := reg.Compile(filename, src)
		if err != nil {
			return errs.E(errs.Invalid, err)
		}
		if len(list) == 0 {
			return errs.E(errs.Invalid, errs.Path(filename), "no schemas declared")
		}
		out = list
		for _, s := range list {
			obj := coda.SchemaObject(s)
			p := SchemasDir + "/" + s.Name
			if err := checkSchemaPath(p, obj, reg); err != nil {
				return err
			}
			id, err := tx.st.Put(obj)
			if err != nil {
				return err
			}
			tx.pending = append(tx.pending, tree.Op{Path: p, Entry: tree.Value(id, tx.stamp)})
		}
		return nil
	})
	if err != nil {
		return CommitInfo{}, nil, errs.E(op, err)
	}
	return c.Info(), out, nil
}
