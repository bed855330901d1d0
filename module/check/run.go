package check

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// DefaultSteps is the step limit of a run that names none (docs/modules.md:
// 10^7 per run).
const DefaultSteps = 10_000_000

// Outcome is what one run did.
//
// A run that halts with exit code 0 has ExitCode 0 and Output the object it
// OUTPUT (nil if none). A run that halts with a nonzero exit code is not an
// error: Run returns it with ExitCode set and no Output (a predicate's
// "no"; for an implementation, a failure the caller reports). Faults, the
// step limit, writes and an output that is not a canonical object of a
// schema of the registry are errors.
type Outcome struct {
	Output   []byte // the output's object bytes (schema id ‖ body), or nil
	Steps    uint64 // the machine's steps, also for a nonzero exit
	ExitCode uint8
}

// Schema returns the schema id of the output, or the zero ID if there is
// none.
func (o Outcome) Schema() coda.ID {
	if len(o.Output) < coda.IDSize {
		return coda.ID{}
	}
	return coda.ID(o.Output[:coda.IDSize])
}

// Want checks that the run is an implementation's success: exit code 0 and
// an output of schema want (the function's output schema). Run leaves
// this check to the caller, since predicates output nothing; the errors
// (errs.Invalid) say which of the three went wrong.
func (o Outcome) Want(want coda.ID) error {
	switch {
	case o.ExitCode != 0:
		return errs.E(errs.Invalid, fmt.Sprintf("check: the program exited with code %d after %d steps", o.ExitCode, o.Steps))
	case o.Output == nil:
		return errs.E(errs.Invalid, fmt.Sprintf("check: the program output nothing (after %d steps); want an object of schema %s", o.Steps, want))
	case o.Schema() != want:
		return errs.E(errs.Invalid, fmt.Sprintf("check: the program output an object of schema %s; want schema %s", o.Schema(), want))
	}
	return nil
}

// Run runs the program object prog (a prog.Program object) at entry with
// input (an object, or nil) under the modules' calling convention
// (docs/modules.md, SPEC.md §4): against a synthetic read-only tree that
// holds /sys/schemas/NAME for every named schema of schemas (but the
// built-ins, Blob and the schema of schemas, which every world knows) and
// the paths of extra (object bytes by absolute path, e.g. "/output" for a
// predicate; may be nil). maxSteps 0 is DefaultSteps.
//
// The tree of schemas is built once per set of (name, id) pairs and
// shared, so running thousands of inputs costs one machine run each (plus
// one small tree write when extra is not empty). Run is safe for
// concurrent use. ctx is checked before the run; a run is bounded by its
// step limit, not interrupted.
func Run(ctx context.Context, schemas *coda.Registry, prog []byte, entry string, input []byte, extra map[string][]byte, maxSteps uint64) (Outcome, error) {
	op := errs.Op("check.Run")
	if err := ctx.Err(); err != nil {
		return Outcome{}, errs.E(op, errs.Canceled, err)
	}
	if schemas == nil {
		schemas = coda.NewRegistry()
	}
	if maxSteps == 0 {
		maxSteps = DefaultSteps
	}
	base, err := synthetic(schemas)
	if err != nil {
		return Outcome{}, errs.E(op, err)
	}
	var st tree.Store = base.st
	root := base.root
	if len(extra) > 0 {
		ov := &overlay{base: base.st, mem: map[coda.ID][]byte{}}
		ops := make([]tree.Op, 0, len(extra))
		for p, obj := range extra {
			if !strings.HasPrefix(p, "/") {
				return Outcome{}, errs.E(op, errs.Invalid, errs.Path(p), "check: an extra path must be absolute")
			}
			id, _ := ov.Put(obj)
			ops = append(ops, tree.Op{Path: p, Entry: tree.Value(id, tree.Stamp{})})
		}
		sort.Slice(ops, func(i, j int) bool { return ops[i].Path < ops[j].Path })
		if root, err = tree.New(ov).Apply(root, ops); err != nil {
			return Outcome{}, errs.E(op, err)
		}
		st = ov
	}
	out, steps, err := call.Eval(st, root, prog, entry, input, maxSteps)
	if err != nil {
		var exit *call.ExitError
		if errors.As(err, &exit) {
			return Outcome{Steps: steps, ExitCode: exit.Code}, nil
		}
		return Outcome{Steps: steps}, errs.E(op, err)
	}
	if out != nil {
		if _, _, err := coda.DecodeObject(out, coda.DecodeOptions{Resolver: schemas}); err != nil {
			return Outcome{Steps: steps}, errs.E(op, errs.Invalid, fmt.Errorf("check: the output is not a canonical object of a known schema: %w", err))
		}
	}
	return Outcome{Output: out, Steps: steps}, nil
}

// base is a synthetic tree of schemas: a memory store and its root.
type base struct {
	st   *memstore.Store
	root coda.ID
}

// bases caches synthetic trees by the fingerprint of their schemas.
var bases struct {
	sync.Mutex
	m map[coda.ID]*base
}

const maxBases = 64

// synthetic returns the tree holding /sys/schemas/NAME for the named,
// non-built-in schemas of reg, with every entry stamped zero (so the root
// is the same on every node).
func synthetic(reg *coda.Registry) (*base, error) {
	builtin := map[coda.ID]bool{coda.BlobSchema().ID: true, coda.MetaSchema().ID: true}
	type named struct {
		name string
		s    *coda.Schema
	}
	var list []named
	h := coda.NewHasher()
	for _, n := range reg.Names() { // sorted
		s, ok := reg.Lookup(n)
		if !ok || builtin[s.ID] {
			continue
		}
		list = append(list, named{n, s})
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(s.ID[:])
	}
	key := h.ID()
	bases.Lock()
	b := bases.m[key]
	bases.Unlock()
	if b != nil {
		return b, nil
	}
	st := memstore.New()
	ops := make([]tree.Op, 0, len(list))
	for _, e := range list {
		id, err := st.Put(coda.SchemaObject(e.s))
		if err != nil {
			return nil, err
		}
		ops = append(ops, tree.Op{Path: cdb.SchemasDir + "/" + e.name, Entry: tree.Value(id, tree.Stamp{})})
	}
	root, err := tree.New(st).Apply(tree.EmptyRoot, ops)
	if err != nil {
		return nil, fmt.Errorf("check: the tree of schemas: %w", err)
	}
	b = &base{st: st, root: root}
	bases.Lock()
	if bases.m == nil || len(bases.m) >= maxBases {
		bases.m = map[coda.ID]*base{}
	}
	bases.m[key] = b
	bases.Unlock()
	return b, nil
}

// overlay is a store whose writes stay in a map in front of a shared base.
type overlay struct {
	base tree.Store
	mem  map[coda.ID][]byte
}

func (o *overlay) Get(id coda.ID) ([]byte, error) {
	if b, ok := o.mem[id]; ok {
		return b, nil
	}
	return o.base.Get(id)
}

func (o *overlay) Put(data []byte) (coda.ID, error) {
	id := coda.Sum(data)
	if _, ok := o.mem[id]; !ok {
		o.mem[id] = append([]byte(nil), data...)
	}
	return id, nil
}
