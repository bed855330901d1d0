package collect

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
	"github.com/coalescent/coal/prog"
	"github.com/coalescent/coal/trust"
)

// Modules returns the Catalog of package module: the real one.
func Modules() Catalog { return modules{} }

type modules struct{}

func (modules) Entries(v *cdb.View, rev coda.ID, name string) ([]Entry, error) {
	ents, err := module.Catalog(v, rev, name)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(ents))
	for _, e := range ents {
		if e.Kind < module.KindInterface || e.Kind > module.KindResult {
			continue // build and main are local to a world
		}
		out = append(out, Entry{Kind: uint8(e.Kind), Module: e.Module, ID: e.ID, Path: e.Path})
	}
	return out, nil
}

func (modules) Import(ctx context.Context, w *cdb.World, as cdb.Identity, objs [][]byte) (int, error) {
	im, err := module.Import(ctx, w, as, objs)
	if err != nil {
		return 0, err
	}
	return len(im.Entries), nil
}

func programSchema() coda.ID {
	if s := prog.Schema(); s != nil {
		return s.ID
	}
	return coda.ID{}
}

func (modules) Validate(obj []byte) error {
	var err error
	switch k := module.KindOfObject(obj, programSchema()); k {
	case module.KindInterface:
		_, err = module.DecodeInterface(obj)
	case module.KindSpec:
		_, err = module.DecodeSpec(obj)
	case module.KindImpl:
		_, err = module.DecodeImpl(obj)
	case module.KindBench:
		_, err = module.DecodeBench(obj)
	case module.KindResult:
		_, err = module.DecodeResult(obj)
	case module.KindCode:
		_, err = prog.Decode(obj)
	default:
		err = fmt.Errorf("not a module object nor a program (%s)", k)
	}
	if err != nil {
		return errs.E(errs.Invalid, err)
	}
	return nil
}

func (modules) Claim(obj []byte) (ed25519.PublicKey, trust.Kind, bool, error) {
	if module.KindOfObject(obj, programSchema()) != module.KindResult {
		return nil, 0, false, nil
	}
	r, err := module.DecodeResult(obj)
	if err != nil {
		return nil, 0, true, errs.E(errs.Invalid, err)
	}
	switch r.Kind {
	case module.ResultVerify:
		return r.Node, trust.Verdicts, true, nil
	case module.ResultEvaluate:
		return r.Node, trust.Scores, true, nil
	}
	return nil, 0, true, errs.E(errs.Invalid, fmt.Sprintf("a Result of %s", r.Kind))
}

func (modules) Recheck(ctx context.Context, w *cdb.World, as cdb.Identity, obj []byte) (bool, string, error) {
	r, err := module.DecodeResult(obj)
	if err != nil {
		return false, "", errs.E(errs.Invalid, err)
	}
	return recheck(ctx, w, as, r)
}
