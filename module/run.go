package module

import (
	"context"
	"fmt"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module/check"
)

// DefaultMaxSteps is the step limit of one run of an implementation.
const DefaultMaxSteps = check.DefaultSteps

// outcome is one run under the calling convention.
type outcome struct {
	output []byte
	steps  uint64
	exit   int   // a nonzero exit code (the run failed), else 0
	err    error // the run failed (a fault, the limit, a write, an exit)
}

// runProgram runs progObj at entry with input under the calling convention
// (docs/modules.md; check.Run): a synthetic read-only tree holding the
// interface's schemas and extra, at most maxSteps steps. A nonzero exit
// sets exit and err.
func runProgram(ctx context.Context, reg *coda.Registry, progObj []byte, entry string, input []byte, extra map[string][]byte, maxSteps uint64) outcome {
	out, err := check.Run(ctx, reg, progObj, entry, input, extra, maxSteps)
	o := outcome{output: out.Output, steps: out.Steps, exit: int(out.ExitCode), err: err}
	if err == nil && out.ExitCode != 0 {
		o.err = errs.E(errs.Invalid, fmt.Sprintf("the program exited with code %d after %d steps", out.ExitCode, out.Steps))
	}
	return o
}
