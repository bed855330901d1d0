package collect

import (
	"context"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
)

// recheck is module.Recheck (not yet in package module: see the report).
func recheck(ctx context.Context, w *cdb.World, as cdb.Identity, r *module.Result) (bool, string, error) {
	return false, "", errs.E(errs.Unavailable, "module.Recheck is not available yet")
}
