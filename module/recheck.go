package module

import (
	"bytes"
	"context"
	"fmt"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// moduleOf returns the module of w's catalog whose interface is id.
func moduleOf(w *cdb.World, as cdb.Identity, id coda.ID) (*module, error) {
	ents, err := Catalog(w.As(as.Public), coda.ID{}, "")
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if e.Kind == KindInterface && e.ID == id {
			return load(w, as, e.Module)
		}
	}
	return nil, errs.E(errs.NotExist, fmt.Sprintf("no module of interface %s in the catalog", id.Short()))
}

// Recheck re-runs the claim of r (signed by another node, usually) on
// this node and says whether it agrees: a verify Result that passes must
// pass every subject spec here; one that fails must fail here too (its
// failure's input reproduces, or a subject fails); an evaluate Result's
// steps must be exactly the steps of its benches here. err is for what
// stops the recheck (the module, impl, program or a subject is missing:
// errs.NotExist), not for a disagreement.
func Recheck(ctx context.Context, w *cdb.World, as cdb.Identity, r *Result) (agree bool, why string, err error) {
	op := errs.Op("module.Recheck")
	if err := r.Verify(); err != nil {
		return false, "", errs.E(op, err)
	}
	m, err := moduleOf(w, as, r.Interface)
	if err != nil {
		return false, "", errs.E(op, err)
	}
	impl := m.impls[r.Impl]
	if impl == nil {
		return false, "", errs.E(op, errs.NotExist, fmt.Sprintf("impl %s is not in the catalog", r.Impl.Short()))
	}
	if m.code[impl.Program] == nil {
		return false, "", errs.E(op, errs.NotExist, fmt.Sprintf("program %s of impl %s is not in the catalog", impl.Program.Short(), impl.Name))
	}
	for _, s := range r.Subjects {
		if (r.Kind == ResultVerify && m.specs[s] == nil) || (r.Kind == ResultEvaluate && m.benches[s] == nil) {
			return false, "", errs.E(op, errs.NotExist, fmt.Sprintf("subject %s of the result is not in the catalog", s.Short()))
		}
	}
	v, err := newVerifier(ctx, m, DefaultMaxSteps)
	if err != nil {
		return false, "", errs.E(op, err)
	}
	switch r.Kind {
	case ResultEvaluate:
		steps, _, _, err := v.score(impl, r.Subjects)
		if err != nil {
			if errs.Is(err, errs.Canceled) {
				return false, "", errs.E(op, err)
			}
			return false, fmt.Sprintf("impl %s fails a bench here: %v", impl.Name, err), nil
		}
		if steps != r.Steps {
			return false, fmt.Sprintf("impl %s: %d steps here, the result claims %d", impl.Name, steps, r.Steps), nil
		}
		return true, fmt.Sprintf("impl %s: %d steps, as claimed", impl.Name, steps), nil
	case ResultVerify:
		if f := r.Failure; !r.Pass && f != nil && f.Input != nil && f.Expected != nil {
			if fn, ok := m.iface.Function(f.Function); ok {
				o := v.implRun(impl, fn, f.Input)
				if o.err != nil || !bytes.Equal(o.output, f.Expected) {
					return true, fmt.Sprintf("impl %s: the failure reproduces", impl.Name), nil
				}
			}
		}
		st := &implState{id: r.Impl, impl: impl}
		var fail *Failure
		for _, sid := range r.Subjects {
			if fail = v.checkSpec(st, sid, m.specs[sid], DefaultShrinkBudget); fail != nil {
				break
			}
		}
		if err := ctx.Err(); err != nil {
			return false, "", errs.E(op, errs.Canceled, err)
		}
		switch {
		case r.Pass && fail == nil:
			return true, fmt.Sprintf("impl %s passes its %d specs here too", impl.Name, len(r.Subjects)), nil
		case r.Pass:
			return false, fmt.Sprintf("impl %s fails here: %s", impl.Name, fail.Reason), nil
		case fail != nil:
			return true, fmt.Sprintf("impl %s fails here too: %s", impl.Name, fail.Reason), nil
		}
		return false, fmt.Sprintf("impl %s passes its %d specs here; the result says it fails", impl.Name, len(r.Subjects)), nil
	}
	return false, "", errs.E(op, errs.Invalid, "unknown "+r.Kind.String())
}
