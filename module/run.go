package module

import (
	"context"
	"errors"

	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// DefaultMaxSteps is the step limit of one run of an implementation.
const DefaultMaxSteps = 10_000_000

// outcome is one run under the calling convention.
type outcome struct {
	output []byte
	steps  uint64
	exit   int   // a nonzero exit code (the run failed), else 0
	err    error // the run failed (a fault, the limit, a write, an exit)
}

// memStore is a tree.Store in memory: the synthetic tree of a run.
type memStore map[coda.ID][]byte

func (m memStore) Get(id coda.ID) ([]byte, error) {
	if b, ok := m[id]; ok {
		return b, nil
	}
	return nil, errs.E(errs.NotExist, "no object "+id.Short())
}

func (m memStore) Put(b []byte) (coda.ID, error) {
	id := coda.Sum(b)
	if _, ok := m[id]; !ok {
		m[id] = append([]byte(nil), b...)
	}
	return id, nil
}

// synthetic builds the read-only tree of a run: /sys/schemas/NAME for every
// schema of reg, and extra (path → object).
func synthetic(reg *coda.Registry, extra map[string][]byte) (tree.Store, coda.ID, error) {
	st := memStore{}
	var ops []tree.Op
	for _, n := range reg.Names() {
		s, _ := reg.Lookup(n)
		id, _ := st.Put(coda.SchemaObject(s))
		ops = append(ops, tree.Op{Path: "/sys/schemas/" + n, Entry: tree.Value(id, tree.Stamp{})})
	}
	for p, obj := range extra {
		id, _ := st.Put(obj)
		ops = append(ops, tree.Op{Path: p, Entry: tree.Value(id, tree.Stamp{})})
	}
	root, err := tree.New(st).Apply(tree.EmptyRoot, ops)
	return st, root, err
}

// runProgram runs progObj at entry with input under the calling convention
// (docs/modules.md): a synthetic tree holding the interface's schemas and
// extra, read-only, at most maxSteps steps.
func runProgram(ctx context.Context, reg *coda.Registry, progObj []byte, entry string, input []byte, extra map[string][]byte, maxSteps uint64) outcome {
	if err := ctx.Err(); err != nil {
		return outcome{err: errs.E(errs.Canceled, err)}
	}
	st, root, err := synthetic(reg, extra)
	if err != nil {
		return outcome{err: err}
	}
	return evalIn(st, root, progObj, entry, input, maxSteps)
}

// evalIn is call.Eval as an outcome.
func evalIn(st tree.Store, root coda.ID, progObj []byte, entry string, input []byte, maxSteps uint64) outcome {
	out, steps, err := call.Eval(st, root, progObj, entry, input, maxSteps)
	o := outcome{output: out, steps: steps, err: err}
	var ee *call.ExitError
	if errors.As(err, &ee) {
		o.exit = int(ee.Code)
	}
	return o
}
