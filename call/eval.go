package call

import (
	"fmt"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coins"
	"github.com/coalescent/coal/errs"
)

// ExitError is the error of an evaluation whose program halted with a
// nonzero exit code (a predicate's "no"). Eval returns it wrapped in an
// errs.Invalid error: find it with errors.As.
type ExitError struct {
	Code  uint8
	Steps uint64
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("the program exited with code %d after %d steps", e.Code, e.Steps)
}

// Eval runs the program object progObj at entry ("" or "main": the
// top-level code) with input (an object, or nil) against the tree root in
// st, as a pure function: every path of root is readable, nothing is
// committed and nothing is written to st. A PUT or DELETE makes the run
// fail (errs.Invalid, "writes"); a nonzero exit code fails it with an
// *ExitError (errs.Invalid); a fault or the step limit fails it with the
// machine's error. maxSteps 0 is DefaultSteps; more than MaxSteps is
// refused. steps is the steps used, also when err is not nil.
//
// The run is the one call.Run and the call checker make (the same loader,
// /lib linking, machine options and tree device), so its steps and output
// are identical on every node for the same root.
func Eval(st tree.Store, root coda.ID, progObj []byte, entry string, input []byte, maxSteps uint64) (output []byte, steps uint64, err error) {
	op := errs.Op("call.Eval")
	if maxSteps == 0 {
		maxSteps = DefaultSteps
	}
	if maxSteps > MaxSteps {
		return nil, 0, errs.E(op, errs.Invalid, fmt.Sprintf("a step limit of %d, more than %d", maxSteps, MaxSteps))
	}
	if input != nil && len(input) < coda.IDSize {
		return nil, 0, errs.E(op, errs.Invalid, "the input is not an object")
	}
	e := env{st: newOverlay(st), root: root}
	code, addr, err := load(e, progObj, entry)
	if err != nil {
		return nil, 0, errs.E(op, err)
	}
	d := newDevice(e.st, e.root, nil, input)
	var devs [coins.Slots]coins.Device
	devs[TreeSlot] = d
	m, err := coins.New(code, coins.Options{MaxSteps: maxSteps, MaxMemory: MaxMemory, Devices: devs, Start: addr})
	if err != nil {
		return nil, 0, errs.E(op, err)
	}
	if err := m.Run(); err != nil {
		return nil, m.Steps(), errs.E(op, errs.KindOf(err), fmt.Errorf("the program stopped: %w (after %d steps)", err, m.Steps()))
	}
	if d.fatal != nil {
		return nil, m.Steps(), errs.E(op, d.fatal)
	}
	if len(d.writes) > 0 {
		w := d.writes[0]
		what := "put"
		if w.Delete {
			what = "delete"
		}
		return nil, m.Steps(), errs.E(op, errs.Invalid, errs.Path(w.Path),
			fmt.Sprintf("the program writes (a %s of %s, %d writes in all): an evaluation is read-only", what, w.Path, len(d.writes)))
	}
	if c := m.ExitCode(); c != 0 {
		return nil, m.Steps(), errs.E(op, errs.Invalid, &ExitError{Code: uint8(c), Steps: m.Steps()})
	}
	return d.output, m.Steps(), nil
}
