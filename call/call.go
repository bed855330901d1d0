// Package call runs programs against worlds (issue 8, docs/calls.md). A
// call loads the Program object at a path of the world's head, runs it on
// a Core machine whose tree device (docs/coins.md §8.9) reads the world as
// the caller may read it, and commits what it wrote as one commit whose
// Call record holds the program id, the entry, the input and output ids
// and the steps used. A fault, the step limit, a nonzero exit code or a
// write the caller may not make commits nothing.
//
// The same run is the check of a call commit: Checker re-executes the call
// from the commit's parent and compares. call.With(opts) installs it in a
// home, so replay, bundle apply and sync re-execute every call they meet.
package call

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coins"
	"github.com/coalescent/coal/errs"
)

// Step limits.
const (
	// DefaultSteps is the step limit of a call that names none.
	DefaultSteps = 100_000_000
	// MaxSteps bounds the steps of any call, and so the work of checking
	// one.
	MaxSteps = 1 << 32
)

// Request is one call.
type Request struct {
	Path     string // where the program is
	Entry    string // "" or "main": the top-level code
	Input    []byte // the input's object bytes, or nil
	MaxSteps uint64 // 0: DefaultSteps
	Message  string // the commit message ("" : "call PATH")
}

// Result is what a call did.
type Result struct {
	Commit  cdb.CommitInfo // zero if the call wrote nothing
	Program coda.ID
	Entry   string
	Input   *coda.ID
	Output  []byte   // the output's object bytes, or nil
	OutID   *coda.ID // its id
	Steps   uint64
	Writes  int
}

// outcome is one run of a program.
type outcome struct {
	writes []cdb.CallWrite
	output []byte
	steps  uint64
}

// env is what a run reads.
type env struct {
	st       tree.Store
	world    coda.ID
	root     coda.ID
	readable func(string) bool
	onRead   func(action, path string, err error)
}

// execute runs the program object progObj at entry with input and a
// step limit against e: the one run both a call and its check make.
func execute(e env, progObj []byte, entry string, input []byte, maxSteps uint64) (outcome, error) {
	code, addr, err := load(e, progObj, entry)
	if err != nil {
		return outcome{}, err
	}
	d := newDevice(e.st, e.root, e.readable, input)
	d.onRead = e.onRead
	var devs [coins.Slots]coins.Device
	devs[TreeSlot] = d
	m, err := coins.New(code, coins.Options{MaxSteps: maxSteps, MaxMemory: MaxMemory, Devices: devs, Start: addr})
	if err != nil {
		return outcome{}, err
	}
	if err := m.Run(); err != nil {
		return outcome{steps: m.Steps()}, errs.E(errs.KindOf(err), fmt.Errorf("the program stopped: %w (after %d steps)", err, m.Steps()))
	}
	if d.fatal != nil {
		return outcome{steps: m.Steps()}, d.fatal
	}
	if c := m.ExitCode(); c != 0 {
		return outcome{steps: m.Steps()}, errs.E(errs.Invalid, fmt.Sprintf("the program exited with code %d after %d steps", c, m.Steps()))
	}
	return outcome{writes: d.writes, output: d.output, steps: m.Steps()}, nil
}

// Run calls the program at req.Path in w's head as caller: it runs it
// against the head, as caller may read it, and commits its writes as one
// commit with a Call record. If the head moves while the program runs, it
// runs again on the new head (up to 5 times). Every read is reported to
// the home's audit log (action "call-get", "call-list"). A call that
// writes nothing commits nothing; its Result has a zero Commit.
func Run(ctx context.Context, w *cdb.World, caller cdb.Identity, req Request) (Result, error) {
	op := errs.Op("call.Run")
	steps := req.MaxSteps
	if steps == 0 {
		steps = DefaultSteps
	}
	if steps > MaxSteps {
		return Result{}, errs.E(op, errs.Invalid, fmt.Sprintf("a step limit of %d, more than %d", steps, MaxSteps))
	}
	if req.Input != nil && len(req.Input) < coda.IDSize {
		return Result{}, errs.E(op, errs.Invalid, "the input is not an object")
	}
	h := w.Home()
	v := w.As(caller.Public)
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return Result{}, errs.E(op, errs.Canceled, err)
		}
		res, err := runOnce(ctx, h, w, v, caller, req, steps)
		if errs.Is(err, errs.Conflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return Result{}, errs.E(op, err)
		}
		return res, nil
	}
}

func runOnce(ctx context.Context, h *cdb.Home, w *cdb.World, v *cdb.View, caller cdb.Identity, req Request, steps uint64) (Result, error) {
	head, err := w.Head()
	if err != nil {
		return Result{}, err
	}
	pc, err := w.LoadCommit(head)
	if err != nil {
		return Result{}, err
	}
	readable, err := v.Filter(head)
	if err != nil {
		return Result{}, err
	}
	progObj, err := readProgram(h.Store(), pc.Tree, req.Path, readable)
	v.RecordRead("call-load", req.Path, head, err)
	if err != nil {
		return Result{}, err
	}
	e := env{st: newOverlay(h.Store()), world: w.ID(), root: pc.Tree, readable: readable,
		onRead: func(action, path string, err error) { v.RecordRead(action, path, head, err) }}
	out, err := execute(e, progObj, req.Entry, req.Input, steps)
	if err == nil && e.st.(*overlay).missing {
		err = errs.E(errs.Unavailable, "the program read a value this home lacks (withheld from it)")
	}
	if err != nil {
		return Result{}, errs.E(errs.KindOf(err), fmt.Errorf("%w; nothing committed", err))
	}
	res := Result{Program: coda.Sum(progObj), Entry: entryName(req.Entry), Output: out.output, Steps: out.steps, Writes: len(out.writes)}
	rec := cdb.Call{Program: res.Program, Entry: res.Entry, Steps: out.steps}
	var objs [][]byte
	if req.Input != nil {
		id := coda.Sum(req.Input)
		rec.Input, res.Input = &id, &id
		objs = append(objs, req.Input)
	}
	if out.output != nil {
		id := coda.Sum(out.output)
		rec.Output, res.OutID = &id, &id
		objs = append(objs, out.output)
	}
	if len(out.writes) == 0 {
		return res, nil
	}
	msg := req.Message
	if msg == "" {
		msg = "call " + req.Path
		if res.Entry != "main" {
			msg += " " + res.Entry
		}
	}
	ci, err := w.CommitCall(ctx, caller, cdb.CallCommit{Parent: head, Writes: out.writes, Call: rec, Objects: objs, Message: msg})
	if err != nil {
		return Result{}, err
	}
	res.Commit = ci
	return res, nil
}

// readProgram returns the object bytes of the value at path in root, if
// readable lets the caller read it (a path it may not read is missing).
func readProgram(st tree.Store, root coda.ID, path string, readable func(string) bool) ([]byte, error) {
	p, ok := canon(path)
	if !ok || p == "/" {
		return nil, errs.E(errs.Invalid, errs.Path(path), "not a path to a program")
	}
	e, err := tree.New(st).Get(root, p)
	if err == nil && readable != nil && !readable(p) && !(e.Kind == tree.KindDir && readable(p+"/")) {
		err = errs.E(errs.NotExist, errs.Path(p), "tree: no such path")
	}
	if err != nil {
		return nil, err
	}
	if e.Kind != tree.KindValue {
		return nil, errs.E(errs.Invalid, errs.Path(p), "a directory, not a program")
	}
	return st.Get(e.ID)
}

func entryName(e string) string {
	if e == "" {
		return "main"
	}
	return e
}

// Checker re-executes the calls of commits (cdb.CallChecker).
type Checker struct{}

// With returns opts with the call checker installed, as acl.With installs
// the policy: cdb.Open(dir, call.With(acl.With(opts))).
func With(opts cdb.Options) cdb.Options {
	opts.Calls = Checker{}
	return opts
}

// CheckCall re-runs c's call from parents[0] as c's author and checks that
// it gives c's tree (so its ops), output and step count exactly.
func (Checker) CheckCall(st tree.Store, policy cdb.Policy, c *cdb.Commit, parents []*cdb.Commit) error {
	k := c.Call
	if len(parents) != 1 || c.IsMerge() {
		return errs.E(errs.Invalid, "a call commit must have exactly one parent and an author")
	}
	if k.Steps > MaxSteps {
		return errs.E(errs.Invalid, fmt.Sprintf("call: %d steps recorded, more than %d", k.Steps, MaxSteps))
	}
	ov := newOverlay(st)
	prog, err := ov.Get(k.Program)
	if ov.missing {
		return nil // cannot be re-executed here: see unverifiable
	}
	if err != nil {
		return errs.E(errs.Invalid, fmt.Errorf("call: program %s: %w", k.Program, err))
	}
	var input []byte
	if k.Input != nil {
		if input, err = ov.Get(*k.Input); ov.missing {
			return nil
		}
		if err != nil {
			return errs.E(errs.Invalid, fmt.Errorf("call: input %s: %w", *k.Input, err))
		}
	}
	p := parents[0]
	var readable func(string) bool
	if policy != nil {
		readable = policy.ReadFilter(st, c.World, p.Tree, ed25519.PublicKey(c.Author))
	}
	out, err := execute(env{st: ov, world: c.World, root: p.Tree, readable: readable}, prog, k.Entry, input, k.Steps)
	if ov.missing {
		// The run read an object this node lacks (a value withheld
		// from it: it may not read it). Like a merge inside a subtree
		// it cannot read, the commit is taken on its signature and
		// rights; the nodes that can read re-execute it.
		return nil
	}
	if err != nil {
		return errs.E(errs.Invalid, fmt.Errorf("call does not reproduce: %w", err))
	}
	if out.steps != k.Steps {
		return errs.E(errs.Invalid, fmt.Sprintf("call does not reproduce: %d steps, recorded %d", out.steps, k.Steps))
	}
	switch {
	case out.output == nil && k.Output != nil:
		return errs.E(errs.Invalid, fmt.Sprintf("call does not reproduce: no output, recorded %s", *k.Output))
	case out.output != nil && k.Output == nil:
		return errs.E(errs.Invalid, fmt.Sprintf("call does not reproduce: output %s, recorded none", coda.Sum(out.output)))
	case out.output != nil && coda.Sum(out.output) != *k.Output:
		return errs.E(errs.Invalid, fmt.Sprintf("call does not reproduce: output %s, recorded %s", coda.Sum(out.output), *k.Output))
	}
	root, err := cdb.ApplyCallWrites(ov, p.Tree, c.Stamp(), out.writes)
	if err != nil {
		return errs.E(errs.Invalid, fmt.Errorf("call does not reproduce: its writes: %w", err))
	}
	if root != c.Tree {
		return errs.E(errs.Invalid, fmt.Sprintf("call does not reproduce: its %d writes give tree %s, not the commit's %s (ops differ)", len(out.writes), root, c.Tree))
	}
	return nil
}

// overlay is a store whose writes stay in memory: a re-execution never
// writes to the store it checks against. It notes whether an object was
// missing from the store (missing: withheld from this node, or never
// received).
type overlay struct {
	s       tree.Store
	mem     map[coda.ID][]byte
	missing bool
}

func newOverlay(s tree.Store) *overlay { return &overlay{s: s, mem: map[coda.ID][]byte{}} }

func (o *overlay) Get(id coda.ID) ([]byte, error) {
	if b, ok := o.mem[id]; ok {
		return b, nil
	}
	b, err := o.s.Get(id)
	if errs.Is(err, errs.NotExist) {
		o.missing = true
	}
	return b, err
}

func (o *overlay) Put(data []byte) (coda.ID, error) {
	id := coda.Sum(data)
	if _, ok := o.mem[id]; !ok {
		o.mem[id] = append([]byte(nil), data...)
	}
	return id, nil
}
