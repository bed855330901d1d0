package module

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module/check"
)

// Trust kinds a Trust function is asked about.
const (
	TrustVerdicts = "verdicts" // verify Results
	TrustScores   = "scores"   // evaluate Results
)

// Options are common to Verify, Evaluate, Build and Show.
type Options struct {
	// MaxSteps is the step limit of one run (0: DefaultMaxSteps).
	MaxSteps uint64
	// Trust says whether a Result signed by node counts for kind
	// (TrustVerdicts, TrustScores). The caller's own Results always
	// count; nil: no one else's do.
	Trust func(node ed25519.PublicKey, kind string) bool
	// Now is the clock of Results and build records (nil: time.Now).
	Now func() time.Time
	// Signer signs the Results verify and evaluate make and is the NODE
	// of the specs verify finds: a node passes its own key, so a Result
	// is the claim of the machine that ran it, whoever asked (the commit
	// storing it is still the caller's). Its Results count as the
	// caller's own. The zero Identity: the caller signs.
	Signer cdb.Identity
}

// signer is who signs the Results of a call by as.
func (o Options) signer(as cdb.Identity) cdb.Identity {
	if len(o.Signer.Public) == 0 {
		return as
	}
	return o.Signer
}

// own reports whether node is the caller's own key or its signer's.
func (o Options) own(as cdb.Identity, node ed25519.PublicKey) bool {
	return bytes.Equal(node, as.Public) || len(o.Signer.Public) > 0 && bytes.Equal(node, o.Signer.Public)
}

func (o Options) steps() uint64 {
	if o.MaxSteps == 0 {
		return DefaultMaxSteps
	}
	return o.MaxSteps
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o Options) counts(as cdb.Identity, node ed25519.PublicKey, kind string) bool {
	return o.own(as, node) || o.Trust != nil && o.Trust(node, kind)
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	Options
	// Impls limits verify to these impls (names or id texts); nil: all.
	Impls []string
	// Cross is the number of random inputs per function on which the
	// impls are run against each other (0: DefaultCross; <0: none).
	Cross int
	// ShrinkBudget bounds the runs of one shrink (0: DefaultShrinkBudget).
	ShrinkBudget int
	// DryRun stores nothing (no Results, no found specs).
	DryRun bool
}

// Defaults of Verify.
const (
	DefaultCross        = 100
	DefaultShrinkBudget = 400
)

// ImplReport is what verify or evaluate found about one impl.
type ImplReport struct {
	Impl    coda.ID  `json:"impl"`
	Name    string   `json:"name"`
	Pass    bool     `json:"pass"`
	Failure *Failure `json:"failure,omitempty"`
	Runs    int      `json:"runs"`
	Steps   uint64   `json:"steps"`
	Wall    uint64   `json:"wall_ns"`
	Result  coda.ID  `json:"result"`         // the signed Result stored (or made, in a dry run)
	Rank    int      `json:"rank,omitempty"` // evaluate: 1 the best
	Skipped string   `json:"skipped,omitempty"`
}

// Report is what Verify or Evaluate did.
type Report struct {
	Module   string         `json:"module"`
	Kind     string         `json:"kind"` // verify or evaluate
	Impls    []ImplReport   `json:"impls"`
	NewSpecs []coda.ID      `json:"new_specs,omitempty"` // specs found by verify
	Commit   cdb.CommitInfo `json:"commit"`
}

// machine names where a Result was made (informational).
func machine() string { return "coal " + runtime.GOOS + "/" + runtime.GOARCH }

// verifier runs one module's checks.
type verifier struct {
	ctx   context.Context
	m     *module
	steps uint64
}

func newVerifier(ctx context.Context, m *module, steps uint64) (*verifier, error) {
	return &verifier{ctx: ctx, m: m, steps: steps}, nil
}

// run runs program prog at fn on input.
func (v *verifier) run(prog []byte, fn string, input []byte) outcome {
	return runProgram(v.ctx, v.m.reg, prog, fn, input, nil, v.steps)
}

// runWith runs prog with extra paths in its tree (a predicate).
func (v *verifier) runWith(prog []byte, fn string, input []byte, extra map[string][]byte) outcome {
	return runProgram(v.ctx, v.m.reg, prog, fn, input, extra, v.steps)
}

// implRun runs impl on input and checks that the output is an object of
// the function's output schema.
func (v *verifier) implRun(impl *Impl, fn Function, input []byte) outcome {
	prog := v.m.code[impl.Program]
	if prog == nil {
		return outcome{err: errs.E(errs.NotExist, fmt.Sprintf("program %s of impl %s is not in the catalog", impl.Program.Short(), impl.Name))}
	}
	o := v.run(prog, fn.Name, input)
	if o.err == nil {
		s, _ := v.m.reg.Lookup(fn.Output)
		switch {
		case o.output == nil:
			o.err = errs.E(errs.Invalid, "no output")
		case coda.ID(o.output[:coda.IDSize]) != s.ID:
			o.err = errs.E(errs.Invalid, fmt.Sprintf("an output of schema %s, not %s", coda.ID(o.output[:coda.IDSize]).Short(), fn.Output))
		default:
			if _, err := coda.DecodeBody(s, o.output[coda.IDSize:], coda.DecodeOptions{Resolver: v.m.reg}); err != nil {
				o.err = errs.E(errs.Invalid, fmt.Errorf("an output that is not a %s: %w", fn.Output, err))
			}
		}
	}
	return o
}

// oracle says whether got (an outcome of the impl on input) is right for
// property p; want is the expected output when the oracle knows it.
func (v *verifier) oracle(p Property, fn Function, input []byte, got outcome) (ok bool, want []byte, reason string, steps uint64) {
	if p.Oracle.Reference != nil {
		ref := v.m.impls[*p.Oracle.Reference]
		if ref == nil {
			return false, nil, fmt.Sprintf("reference impl %s is not in the catalog", p.Oracle.Reference.Short()), 0
		}
		r := v.implRun(ref, fn, input)
		if r.err != nil {
			return false, nil, fmt.Sprintf("the reference impl %s failed: %v", ref.Name, r.err), r.steps
		}
		if got.err != nil {
			return false, r.output, got.err.Error(), r.steps
		}
		if !bytes.Equal(got.output, r.output) {
			return false, r.output, "the output differs from the reference impl " + ref.Name + "'s", r.steps
		}
		return true, r.output, "", r.steps
	}
	if got.err != nil {
		return false, nil, got.err.Error(), 0
	}
	pred := v.m.code[*p.Oracle.Predicate]
	if pred == nil {
		return false, nil, fmt.Sprintf("predicate %s is not in the catalog", p.Oracle.Predicate.Short()), 0
	}
	r := v.runWith(pred, fn.Name, input, map[string][]byte{"/output": got.output})
	switch {
	case r.exit != 0:
		return false, nil, fmt.Sprintf("the predicate says no (exit code %d)", r.exit), r.steps
	case r.err != nil:
		return false, nil, fmt.Sprintf("the predicate failed: %v", r.err), r.steps
	}
	return true, nil, "", r.steps
}

// implState is one impl during verify.
type implState struct {
	id       coda.ID
	impl     *Impl
	fail     *Failure
	runs     int
	steps    uint64
	subjects []coda.ID
}

func (s *implState) add(o outcome) {
	s.runs++
	s.steps += o.steps
}

// Verify runs every case and property of every spec of module name on
// every impl (or opts.Impls), cross-checks the impls against each other on
// random inputs, shrinks each failing input, stores the counterexamples as
// new specs ("found by verify on NODE") and one signed Result per impl,
// all in one commit (docs/modules.md, "verify").
func Verify(ctx context.Context, w *cdb.World, as cdb.Identity, name string, opts VerifyOptions) (Report, error) {
	op := errs.Op("module.Verify")
	m, err := load(w, as, name)
	if err != nil {
		return Report{}, errs.E(op, err)
	}
	v, err := newVerifier(ctx, m, opts.steps())
	if err != nil {
		return Report{}, errs.E(op, err)
	}
	budget := opts.ShrinkBudget
	if budget <= 0 {
		budget = DefaultShrinkBudget
	}
	var states []*implState
	for _, id := range sortedIDs(m.impls) {
		x := m.impls[id]
		if len(opts.Impls) > 0 && !slices.Contains(opts.Impls, x.Name) && !slices.Contains(opts.Impls, id.String()) {
			continue
		}
		states = append(states, &implState{id: id, impl: x})
	}
	if len(states) == 0 {
		return Report{}, errs.E(op, errs.NotExist, fmt.Sprintf("module %s has no impl to verify", name))
	}
	specIDs := sortedIDs(m.specs)
	start := time.Now()
	signer := opts.signer(as)
	node := cdb.KeyString(signer.Public)
	var found []*Spec
	for _, st := range states {
		for _, sid := range specIDs {
			if st.fail != nil {
				break
			}
			if f := v.checkSpec(st, sid, m.specs[sid], budget); f != nil {
				st.fail = f
				if s := v.foundSpec(st, f, node); s != nil {
					found = append(found, s)
				}
			}
		}
	}
	// Cross-checking among the impls that pass.
	cross := opts.Cross
	if cross == 0 {
		cross = DefaultCross
	}
	if cross > 0 {
		if s := v.crossCheck(states, cross, budget, node); s != nil {
			found = append(found, s)
		}
	}
	// The found specs: the impls that pass run them too, so their Results
	// cover them.
	var newSpecs []coda.ID
	var ops []cdb.Op
	for _, s := range found {
		obj, err := s.Encode()
		if err != nil {
			return Report{}, errs.E(op, err)
		}
		id := coda.Sum(obj)
		if m.specs[id] != nil || slices.Contains(newSpecs, id) {
			continue
		}
		newSpecs = append(newSpecs, id)
		for _, st := range states {
			if st.fail != nil && st.fail.Spec.IsZero() {
				st.fail.Spec = id // a cross-check failure: the found spec is its spec
			}
		}
		ops = append(ops, cdb.Op{Kind: cdb.Put, Path: EntryPath(name, KindSpec, id), Raw: obj})
		m.specs[id] = s
		for _, st := range states {
			if st.fail == nil {
				if f := v.checkSpec(st, id, s, budget); f != nil {
					st.fail = f
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		// Runs cut short are no verdict: sign nothing.
		return Report{}, errs.E(op, errs.Canceled, err)
	}
	wall := uint64(time.Since(start))
	rep := Report{Module: name, Kind: "verify", NewSpecs: newSpecs}
	allSpecs := sortedIDs(m.specs)
	for _, st := range states {
		r := &Result{Interface: m.ifaceID, Impl: st.id, Kind: ResultVerify, Subjects: allSpecs, Pass: st.fail == nil,
			Failure: st.fail, Steps: st.steps, Wall: wall / uint64(len(states)), Machine: machine(), Time: opts.now().UnixNano()}
		if err := r.Sign(signer); err != nil {
			return Report{}, errs.E(op, err)
		}
		obj, err := r.Encode()
		if err != nil {
			return Report{}, errs.E(op, err)
		}
		id := coda.Sum(obj)
		ops = append(ops, cdb.Op{Kind: cdb.Put, Path: EntryPath(name, KindResult, id), Raw: obj})
		rep.Impls = append(rep.Impls, ImplReport{Impl: st.id, Name: st.impl.Name, Pass: r.Pass, Failure: st.fail, Runs: st.runs,
			Steps: st.steps, Wall: r.Wall, Result: id})
	}
	if opts.DryRun {
		return rep, nil
	}
	if err := ensureSchemas(ctx, w, as, "", nil); err != nil {
		return Report{}, errs.E(op, err)
	}
	ci, err := w.Commit(ctx, as, ops, fmt.Sprintf("verify %s: %d impls, %d found specs", name, len(states), len(newSpecs)))
	if err != nil {
		return Report{}, errs.E(op, err)
	}
	rep.Commit = ci
	return rep, nil
}

// checkSpec runs spec s (id sid) on st's impl; it returns the first
// failure, with its input shrunk if the spec's property generated it.
func (v *verifier) checkSpec(st *implState, sid coda.ID, s *Spec, budget int) *Failure {
	iface := v.m.iface
	for k, c := range s.Cases {
		fn, ok := iface.Function(c.Function)
		if !ok {
			continue // not a function of this interface: the case says nothing
		}
		o := v.implRun(st.impl, fn, c.Input)
		st.add(o)
		switch {
		case o.err != nil:
			return &Failure{Spec: sid, Function: fn.Name, Input: c.Input, Expected: c.Output, Reason: fmt.Sprintf("case %d: %v", k, o.err)}
		case !bytes.Equal(o.output, c.Output):
			return &Failure{Spec: sid, Function: fn.Name, Input: c.Input, Expected: c.Output, Got: o.output, Reason: fmt.Sprintf("case %d: a different output", k)}
		}
	}
	for k, p := range s.Properties {
		fn, ok := iface.Function(p.Function)
		if !ok {
			continue
		}
		in, _ := v.m.reg.Lookup(fn.Input)
		bs := checkBoundsOf(p.Bounds)
		r := check.NewRand(p.Seed)
		for i := uint32(0); i < p.Count; i++ {
			input, err := check.Generate(r, in, v.m.reg, bs)
			if err != nil {
				return &Failure{Spec: sid, Function: fn.Name, Reason: fmt.Sprintf("property %d: cannot generate inputs: %v", k, err)}
			}
			o := v.implRun(st.impl, fn, input)
			st.add(o)
			good, _, _, steps := v.oracle(p, fn, input, o)
			st.steps += steps
			if good {
				continue
			}
			fails := func(x []byte) bool {
				o := v.implRun(st.impl, fn, x)
				ok, _, _, _ := v.oracle(p, fn, x, o)
				return !ok
			}
			small := check.Shrink(input, in, v.m.reg, bs, fails, budget)
			o = v.implRun(st.impl, fn, small)
			_, want, why, _ := v.oracle(p, fn, small, o)
			return &Failure{Spec: sid, Function: fn.Name, Input: small, Expected: want, Got: o.output,
				Reason: fmt.Sprintf("property %d, input %d of seed %d (shrunk): %s", k, i, p.Seed, why)}
		}
	}
	return nil
}

func checkBoundsOf(bs []Bound) []check.Bound {
	out := make([]check.Bound, len(bs))
	for i, b := range bs {
		out[i] = check.Bound(b)
	}
	return out
}

// foundSpec makes the spec that pins failure f down as a case: its input
// and the expected output, from the failure or (a predicate's) from the
// first other impl, by id, whose output the predicate accepts. Nil if no
// expected output is known or the failure is a case of a spec already.
func (v *verifier) foundSpec(st *implState, f *Failure, node string) *Spec {
	if f.Input == nil || strings.HasPrefix(f.Reason, "case ") {
		return nil
	}
	want := f.Expected
	if want == nil {
		fn, _ := v.m.iface.Function(f.Function)
		s := v.m.specs[f.Spec]
		var prop *Property
		for i := range s.Properties {
			if s.Properties[i].Function == f.Function {
				prop = &s.Properties[i]
				break
			}
		}
		if prop == nil {
			return nil
		}
		for _, id := range sortedIDs(v.m.impls) {
			if id == st.id {
				continue
			}
			o := v.implRun(v.m.impls[id], fn, f.Input)
			if ok, _, _, _ := v.oracle(*prop, fn, f.Input, o); ok {
				want = o.output
				break
			}
		}
		if want == nil {
			return nil
		}
		f.Expected = want
	}
	return &Spec{Interface: v.m.ifaceID, Name: "found by verify on " + node,
		Cases: []Case{{Function: f.Function, Input: f.Input, Output: want}}}
}

// crossSeed is the seed of cross-checking function fn: the first 8 bytes,
// little-endian, of BLAKE3(interface id ‖ fn), so every node draws the
// same inputs.
func crossSeed(iface coda.ID, fn string) uint64 {
	h := coda.Sum(append(iface[:], fn...))
	return binary.LittleEndian.Uint64(h[:8])
}

// crossCheck runs the impls that pass so far against each other on n
// random inputs of each function (default bounds). When at least three
// pass and a strict majority agrees on an input, an impl that disagrees
// fails: its input is shrunk (the majority still agreeing, the impl still
// not), and the returned spec pins it down.
func (v *verifier) crossCheck(states []*implState, n, budget int, node string) *Spec {
	var spec *Spec
	for _, fn := range v.m.iface.Functions {
		var live []*implState
		for _, st := range states {
			if st.fail == nil {
				live = append(live, st)
			}
		}
		if len(live) < 3 {
			return spec
		}
		in, _ := v.m.reg.Lookup(fn.Input)
		r := check.NewRand(crossSeed(v.m.ifaceID, fn.Name))
		// majority returns the output more than half of live give on x.
		majority := func(x []byte, count bool) ([]byte, map[*implState][]byte) {
			outs := map[*implState][]byte{}
			tally := map[string]int{}
			running := 0
			for _, st := range live {
				if st.fail != nil {
					continue
				}
				running++
				o := v.implRun(st.impl, fn, x)
				if count {
					st.add(o)
				}
				if o.err == nil {
					outs[st] = o.output
					tally[string(o.output)]++
				}
			}
			if running < 3 {
				return nil, outs
			}
			for out, c := range tally {
				if 2*c > running {
					return []byte(out), outs
				}
			}
			return nil, outs
		}
		for i := 0; i < n; i++ {
			x, err := check.Generate(r, in, v.m.reg, nil)
			if err != nil {
				break
			}
			want, outs := majority(x, true)
			if want == nil {
				continue
			}
			for _, st := range live {
				if st.fail != nil || bytes.Equal(outs[st], want) {
					continue
				}
				fails := func(y []byte) bool {
					w, o := majority(y, false)
					return w != nil && !bytes.Equal(o[st], w)
				}
				small := check.Shrink(x, in, v.m.reg, nil, fails, budget)
				w, o := majority(small, false)
				if w == nil {
					small, w, o = x, want, outs
				}
				st.fail = &Failure{Function: fn.Name, Input: small, Expected: w, Got: o[st],
					Reason: fmt.Sprintf("cross-check input %d: the output differs from the majority of the impls (shrunk)", i)}
				if spec == nil {
					spec = &Spec{Interface: v.m.ifaceID, Name: "found by verify on " + node}
				}
				spec.Cases = append(spec.Cases, Case{Function: fn.Name, Input: small, Output: w})
			}
		}
	}
	if spec != nil {
		sort.SliceStable(spec.Cases, func(i, j int) bool { return spec.Cases[i].Function < spec.Cases[j].Function })
	}
	return spec
}
