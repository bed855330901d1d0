package collect

import (
	"context"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/module"
)

// recheck is module.Recheck.
func recheck(ctx context.Context, w *cdb.World, as cdb.Identity, r *module.Result) (bool, string, error) {
	return module.Recheck(ctx, w, as, r)
}
