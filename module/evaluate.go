package module

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module/check"
)

// EvalOptions configure Evaluate.
type EvalOptions struct {
	Options
	// DryRun stores no Results.
	DryRun bool
}

// covers reports whether subjects holds every id of want.
func covers(subjects []coda.ID, want []coda.ID) bool {
	for _, id := range want {
		if !slices.Contains(subjects, id) {
			return false
		}
	}
	return true
}

// verdict is whether an impl is verified, and by which Results.
type verdict struct {
	ok      bool
	by      []coda.ID // the passing Results that cover every spec
	failed  []coda.ID // counted failing Results
	why     string
	signers []string
}

// verdictOf decides whether impl id is verified in m: a counted Result
// (the caller's own, or one trust counts for verdicts) says it fails: no;
// else a counted passing Result covering every spec of the catalog: yes.
func verdictOf(m *module, as cdb.Identity, o Options, id coda.ID) verdict {
	var v verdict
	specs := sortedIDs(m.specs)
	for _, rid := range sortedIDs(m.results) {
		r := m.results[rid]
		if r.Impl != id || r.Kind != ResultVerify || !o.counts(as, r.Node, TrustVerdicts) {
			continue
		}
		if !r.Pass {
			v.failed = append(v.failed, rid)
			continue
		}
		if covers(r.Subjects, specs) {
			v.by = append(v.by, rid)
			v.signers = append(v.signers, cdb.KeyString(r.Node))
		}
	}
	switch {
	case len(v.failed) > 0:
		if len(v.failed) == 1 {
			v.why = "fails (1 counted result says so)"
		} else {
			v.why = fmt.Sprintf("fails (%d counted results say so)", len(v.failed))
		}
	case len(v.by) == 0:
		v.why = "unverified (no counted passing result covers every spec)"
	default:
		v.ok = true
	}
	return v
}

// benchInputs returns the inputs of bench b of function fn.
func benchInputs(m *module, b *Bench, fn Function) ([][]byte, error) {
	if b.Generator == nil {
		return b.Inputs, nil
	}
	in, _ := m.reg.Lookup(fn.Input)
	r := check.NewRand(b.Generator.Seed)
	bs := checkBoundsOf(b.Generator.Bounds)
	out := make([][]byte, 0, b.Generator.Count)
	for i := uint32(0); i < b.Generator.Count; i++ {
		x, err := check.Generate(r, in, m.reg, bs)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// score runs every bench on impl: the total steps, or an error.
func (v *verifier) score(impl *Impl, benches []coda.ID) (steps uint64, runs int, wall time.Duration, err error) {
	t0 := time.Now()
	for _, bid := range benches {
		b := v.m.benches[bid]
		fn, ok := v.m.iface.Function(b.Function)
		if !ok {
			continue
		}
		inputs, err := benchInputs(v.m, b, fn)
		if err != nil {
			return 0, runs, 0, err
		}
		for i, x := range inputs {
			o := v.implRun(impl, fn, x)
			runs++
			steps += o.steps
			if o.err != nil {
				return 0, runs, 0, fmt.Errorf("bench %s, input %d: %w", b.Name, i, o.err)
			}
		}
	}
	return steps, runs, time.Since(t0), nil
}

// rank sorts reports by steps, ties by impl id, and numbers them.
func rank(rs []ImplReport) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Steps != rs[j].Steps {
			return rs[i].Steps < rs[j].Steps
		}
		return bytes.Compare(rs[i].Impl[:], rs[j].Impl[:]) < 0
	})
	for i := range rs {
		rs[i].Rank = i + 1
	}
}

// Evaluate runs every bench of module name on every verified impl (a
// counted passing verify Result covers every spec: verdictOf) and stores a
// signed evaluate Result per impl in one commit. The score is the total of
// the deterministic steps of every call; Impls come ranked: ascending
// steps, ties by impl id. Unverified impls are listed with Skipped set.
func Evaluate(ctx context.Context, w *cdb.World, as cdb.Identity, name string, opts EvalOptions) (Report, error) {
	op := errs.Op("module.Evaluate")
	m, err := load(w, as, name)
	if err != nil {
		return Report{}, errs.E(op, err)
	}
	benches := sortedIDs(m.benches)
	if len(benches) == 0 {
		return Report{}, errs.E(op, errs.NotExist, fmt.Sprintf("module %s has no bench", name))
	}
	v, err := newVerifier(ctx, m, opts.steps())
	if err != nil {
		return Report{}, errs.E(op, err)
	}
	rep := Report{Module: name, Kind: "evaluate"}
	var ranked, skipped []ImplReport
	var ops []cdb.Op
	for _, id := range sortedIDs(m.impls) {
		x := m.impls[id]
		vd := verdictOf(m, as, opts.Options, id)
		if !vd.ok {
			skipped = append(skipped, ImplReport{Impl: id, Name: x.Name, Skipped: vd.why})
			continue
		}
		steps, runs, wall, err := v.score(x, benches)
		if err != nil {
			if errs.Is(err, errs.Canceled) {
				return Report{}, errs.E(op, err)
			}
			skipped = append(skipped, ImplReport{Impl: id, Name: x.Name, Runs: runs, Skipped: "failed a bench: " + err.Error()})
			continue
		}
		r := &Result{Interface: m.ifaceID, Impl: id, Kind: ResultEvaluate, Subjects: benches, Pass: true, Steps: steps,
			Wall: uint64(wall), Machine: machine(), Time: opts.now().UnixNano()}
		if err := r.Sign(opts.signer(as)); err != nil {
			return Report{}, errs.E(op, err)
		}
		obj, err := r.Encode()
		if err != nil {
			return Report{}, errs.E(op, err)
		}
		rid := coda.Sum(obj)
		ops = append(ops, cdb.Op{Kind: cdb.Put, Path: EntryPath(name, KindResult, rid), Raw: obj})
		ranked = append(ranked, ImplReport{Impl: id, Name: x.Name, Pass: true, Runs: runs, Steps: steps, Wall: uint64(wall), Result: rid})
	}
	if err := ctx.Err(); err != nil {
		return Report{}, errs.E(op, errs.Canceled, err)
	}
	rank(ranked)
	rep.Impls = append(ranked, skipped...)
	if opts.DryRun || len(ops) == 0 {
		return rep, nil
	}
	if err := ensureSchemas(ctx, w, as, "", nil); err != nil {
		return Report{}, errs.E(op, err)
	}
	ci, err := w.Commit(ctx, as, ops, fmt.Sprintf("evaluate %s: %d impls ranked", name, len(ranked)))
	if err != nil {
		return Report{}, errs.E(op, err)
	}
	rep.Commit = ci
	return rep, nil
}

// scoreOf returns impl id's score: the steps of the latest counted
// evaluate Result covering every bench (own Results first), and its id.
func scoreOf(m *module, as cdb.Identity, o Options, id coda.ID) (steps uint64, rid coda.ID, wall uint64, ok bool) {
	benches := sortedIDs(m.benches)
	var best *Result
	for _, k := range sortedIDs(m.results) {
		r := m.results[k]
		if r.Impl != id || r.Kind != ResultEvaluate || !r.Pass || !o.counts(as, r.Node, TrustScores) || !covers(r.Subjects, benches) {
			continue
		}
		own := o.own(as, r.Node)
		switch {
		case best == nil,
			own && !o.own(as, best.Node),
			own == o.own(as, best.Node) && r.Time > best.Time:
			best, rid = r, k
		}
	}
	if best == nil {
		return 0, coda.ID{}, 0, false
	}
	return best.Steps, rid, best.Wall, true
}

// Row is one impl of Show's table.
type Row struct {
	Impl     coda.ID  `json:"impl"`
	Name     string   `json:"name"`
	Program  coda.ID  `json:"program"`
	Verified bool     `json:"verified"`
	Why      string   `json:"why,omitempty"` // why not verified
	By       []string `json:"by,omitempty"`  // the signers of the passing Results
	Steps    *uint64  `json:"steps,omitempty"`
	Wall     uint64   `json:"wall_ns,omitempty"`
	Rank     int      `json:"rank,omitempty"` // among verified scored impls, 1 the best
	Built    bool     `json:"built,omitempty"`
}

// Table is Show's answer.
type Table struct {
	Module    string       `json:"module"`
	Interface coda.ID      `json:"interface"`
	Doc       string       `json:"doc"`
	Functions []Function   `json:"functions"`
	Specs     int          `json:"specs"`
	Benches   int          `json:"benches"`
	Results   int          `json:"results"`
	Rows      []Row        `json:"rows"`
	Build     *BuildRecord `json:"build,omitempty"`
}

// Show returns module name's impls: verified or not and by whom, their
// scores and rank (the order build uses).
func Show(w *cdb.World, as cdb.Identity, name string) (Table, error) {
	return ShowWith(w, as, name, Options{})
}

// ShowWith is Show with options (Trust).
func ShowWith(w *cdb.World, as cdb.Identity, name string, o Options) (Table, error) {
	m, err := load(w, as, name)
	if err != nil {
		return Table{}, errs.E(errs.Op("module.Show"), err)
	}
	t := Table{Module: name, Interface: m.ifaceID, Doc: m.iface.Doc, Functions: m.iface.Functions, Specs: len(m.specs),
		Benches: len(m.benches), Results: len(m.results), Build: m.build}
	var scored []ImplReport
	rows := map[coda.ID]*Row{}
	for _, id := range sortedIDs(m.impls) {
		x := m.impls[id]
		vd := verdictOf(m, as, o, id)
		r := &Row{Impl: id, Name: x.Name, Program: x.Program, Verified: vd.ok, By: vd.signers, Built: m.build != nil && m.build.Impl == id}
		if !vd.ok {
			r.Why = vd.why
		}
		if s, _, wall, ok := scoreOf(m, as, o, id); ok {
			r.Steps, r.Wall = &s, wall
			if vd.ok {
				scored = append(scored, ImplReport{Impl: id, Steps: s})
			}
		}
		rows[id] = r
	}
	rank(scored)
	for _, s := range scored {
		rows[s.Impl].Rank = s.Rank
	}
	for _, id := range sortedIDs(m.impls) {
		t.Rows = append(t.Rows, *rows[id])
	}
	sort.SliceStable(t.Rows, func(i, j int) bool {
		a, b := t.Rows[i].Rank, t.Rows[j].Rank
		return a != 0 && (b == 0 || a < b)
	})
	return t, nil
}

// Build chooses the best-ranked verified impl of module name (Show's
// order: verified, scored by a counted evaluate Result over every bench,
// ascending steps, ties by id; with no bench, verified impls by id) and
// writes /mod/NAME/build and /mod/NAME/main, its program, in one commit.
// It never chooses an impl that is not verified.
func Build(ctx context.Context, w *cdb.World, as cdb.Identity, name string) (BuildRecord, error) {
	return BuildWith(ctx, w, as, name, Options{})
}

// BuildWith is Build with options (Trust, Now).
func BuildWith(ctx context.Context, w *cdb.World, as cdb.Identity, name string, o Options) (BuildRecord, error) {
	op := errs.Op("module.Build")
	m, err := load(w, as, name)
	if err != nil {
		return BuildRecord{}, errs.E(op, err)
	}
	var cands []ImplReport
	results := map[coda.ID][]coda.ID{}
	for _, id := range sortedIDs(m.impls) {
		vd := verdictOf(m, as, o, id)
		if !vd.ok {
			continue
		}
		rids := append([]coda.ID(nil), vd.by...)
		var steps uint64
		if len(m.benches) > 0 {
			s, rid, _, ok := scoreOf(m, as, o, id)
			if !ok {
				continue
			}
			steps = s
			rids = append(rids, rid)
		}
		results[id] = rids
		cands = append(cands, ImplReport{Impl: id, Steps: steps})
	}
	if len(cands) == 0 {
		why := "no impl is verified"
		if len(m.benches) > 0 {
			why = "no verified impl has a score over every bench (run verify, then evaluate)"
		}
		return BuildRecord{}, errs.E(op, errs.NotExist, fmt.Sprintf("module %s: %s", name, why))
	}
	rank(cands)
	best := cands[0]
	impl := m.impls[best.Impl]
	prog := m.code[impl.Program]
	if prog == nil {
		return BuildRecord{}, errs.E(op, errs.NotExist, fmt.Sprintf("module %s: program %s of impl %s is not in the catalog", name, impl.Program, impl.Name))
	}
	reason := fmt.Sprintf("impl %s: verified, rank 1 of %d by steps (%d)", impl.Name, len(cands), best.Steps)
	if len(m.benches) == 0 {
		reason = fmt.Sprintf("impl %s: verified; no benches, so the first of %d verified impls by id", impl.Name, len(cands))
	}
	rec := BuildRecord{Interface: m.ifaceID, Impl: best.Impl, Program: impl.Program, Steps: best.Steps, Results: results[best.Impl],
		Reason: reason, Time: o.now().UnixNano()}
	obj, err := rec.Encode()
	if err != nil {
		return BuildRecord{}, errs.E(op, err)
	}
	if err := ensureSchemas(ctx, w, as, "", nil); err != nil {
		return BuildRecord{}, errs.E(op, err)
	}
	ops := []cdb.Op{
		{Kind: cdb.Put, Path: ModPath(name) + "/build", Raw: obj},
		{Kind: cdb.Put, Path: ModPath(name) + "/main", Raw: prog},
	}
	if _, err := w.Commit(ctx, as, ops, fmt.Sprintf("build %s: %s", name, impl.Name)); err != nil {
		return BuildRecord{}, errs.E(op, err)
	}
	return rec, nil
}
