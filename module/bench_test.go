package module_test

import (
	"testing"
	"time"

	"github.com/coalescent/coal/module"
)

// BenchmarkVerifyCircle: one verify of the direct circle impl (3 seed
// cases, 200 property inputs each checked by the predicate, no
// cross-checking, nothing stored). Reports impl runs per second (a
// predicate run per property input not counted as a run, though its time
// is in) and steps per impl run.
func BenchmarkVerifyCircle(b *testing.B) {
	h, w := newHome(b)
	me := h.NodeKey()
	publish(b, w, me)
	opts := module.VerifyOptions{Impls: []string{"direct"}, Cross: -1, DryRun: true}
	var runs int
	var steps uint64
	start := time.Now()
	for b.Loop() {
		rep, err := module.Verify(ctx, w, me, circle, opts)
		if err != nil || !rep.Impls[0].Pass {
			b.Fatal(err)
		}
		runs += rep.Impls[0].Runs
		steps += rep.Impls[0].Steps
	}
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(runs)/el, "runs/s")
	b.ReportMetric(float64(steps)/float64(runs), "steps/run")
}

// BenchmarkEvaluateCircle: one evaluate of the circle's bench (100
// generated pairs) on the two verified impls. Reports runs per second.
func BenchmarkEvaluateCircle(b *testing.B) {
	h, w := newHome(b)
	me := h.NodeKey()
	publish(b, w, me)
	if _, err := module.Verify(ctx, w, me, circle, module.VerifyOptions{}); err != nil {
		b.Fatal(err)
	}
	var runs int
	start := time.Now()
	for b.Loop() {
		rep, err := module.Evaluate(ctx, w, me, circle, module.EvalOptions{DryRun: true})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rep.Impls {
			runs += r.Runs
		}
	}
	b.ReportMetric(float64(runs)/time.Since(start).Seconds(), "runs/s")
}
