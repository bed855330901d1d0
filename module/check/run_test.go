package check

import (
	"context"
	"strings"
	"testing"

	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/prog"
)

// The test programs read an N { n: u64 } (40 bytes) from INPUT. The tree
// device is slot 4 on DMA controller 0: 0xC4 sends a request, 0x84 reads
// the answer (docs/coins.md §8.9); exit code c is LIT16 0x0c02 … DVW16.
const readInput = `
*in-end *in SUB16 *in LIT8 0xC4 LIT8 0 DMW16
LIT8 0x10 LIT8 0 DMP *fail JPC16
LIT16 40 *value LIT8 0x84 LIT8 0 DMW16
`

const tail = `
#fail LIT16 0x0902 LIT8 0 LIT8 0xC0 LIT8 0 DVW16
#in "\x05\x00\x00" #in-end
#out "\x06\x00\x00" #value "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
#sch "\x07\x01\x00N" #sch-end
`

// inc outputs N { n + 1 }.
const incSrc = `( inc ) ` + readInput + `
*value LIT16 32 ADD16 ADR16 LOD64 LIT64 1 ADD64 STR64
LIT16 43 *out LIT8 0xC4 LIT8 0 DMW16
LIT8 0x10 LIT8 0 DMP *fail JPC16
HALT
` + tail

// big exits 0 when n > 10, 1 otherwise: a predicate.
const bigSrc = `( big ) ` + readInput + `
*value LIT16 32 ADD16 ADR16 LOD64 LIT64 10 GRT64 *yes JPC16
LIT16 0x0102 LIT8 0 LIT8 0xC0 LIT8 0 DVW16
#yes HALT
` + tail

// put writes its input to /x: not a pure function.
const putSrc = `( put ) ` + readInput + `
LIT16 45 *put LIT8 0xC4 LIT8 0 DMW16
HALT
#put "\x03\x02\x00/x" ` + tail

// schema asks the device for the id of schema N and outputs N { 7 } with it.
const schemaSrc = `( schema )
*sch-end *sch SUB16 *sch LIT8 0xC4 LIT8 0 DMW16
LIT8 0x10 LIT8 0 DMP *fail JPC16
LIT16 32 *value LIT8 0x84 LIT8 0 DMW16
*value LIT16 32 ADD16 ADR16 LIT64 7 STR64
LIT16 43 *out LIT8 0xC4 LIT8 0 DMW16
HALT
` + tail

func build(t testing.TB, name, src string) []byte {
	t.Helper()
	p, err := prog.Build(name+".co", []byte(src), co.Options{})
	if err != nil {
		t.Fatalf("build %s: %v", name, err)
	}
	obj, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func nObj(t testing.TB, s *coda.Schema, n uint64) []byte {
	return encodeT(t, s, coda.Struct(coda.U64(n)))
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	reg, s := compile(t, `schema N { n: u64 }`)
	inc := build(t, "inc", incSrc)
	out, err := Run(ctx, reg, inc, "", nObj(t, s, 41), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Output) != string(nObj(t, s, 42)) {
		t.Errorf("inc 41: output %x, want N{42}", out.Output)
	}
	if out.Steps == 0 || out.ExitCode != 0 {
		t.Errorf("steps %d exit %d", out.Steps, out.ExitCode)
	}
	if err := out.Want(s.ID); err != nil {
		t.Errorf("Want: %v", err)
	}
	_, other := compile(t, `schema M { m: u64 }`)
	if err := out.Want(other.ID); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("Want(other) = %v", err)
	}
	// Same run, same steps.
	again, err := Run(ctx, reg, inc, "", nObj(t, s, 41), nil, 0)
	if err != nil || again.Steps != out.Steps {
		t.Errorf("second run: %d steps, %v; first %d", again.Steps, err, out.Steps)
	}

	// A predicate: exit code, not an error.
	big := build(t, "big", bigSrc)
	for n, want := range map[uint64]uint8{11: 0, 10: 1, 0: 1, 1 << 40: 0} {
		o, err := Run(ctx, reg, big, "", nObj(t, s, n), map[string][]byte{"/output": nObj(t, s, n)}, 0)
		if err != nil {
			t.Fatalf("big %d: %v", n, err)
		}
		if o.ExitCode != want || o.Output != nil {
			t.Errorf("big %d: exit %d output %x, want exit %d", n, o.ExitCode, o.Output, want)
		}
		if want != 0 {
			if err := o.Want(s.ID); err == nil || !strings.Contains(err.Error(), "exited with code") {
				t.Errorf("Want after exit: %v", err)
			}
		}
	}

	// No input: the program's own exit code 9.
	if o, err := Run(ctx, reg, inc, "", nil, nil, 0); err != nil || o.ExitCode != 9 {
		t.Errorf("no input: %+v, %v; want exit 9", o, err)
	}

	// Writes fail the run.
	put := build(t, "put", putSrc)
	if _, err := Run(ctx, reg, put, "", nObj(t, s, 1), nil, 0); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "writes") {
		t.Errorf("put: err = %v, want an invalid write", err)
	}

	// The step limit.
	if o, err := Run(ctx, reg, inc, "", nObj(t, s, 1), nil, 5); err == nil {
		t.Errorf("5 steps: no error (%d steps)", o.Steps)
	}

	// The schemas are in the tree, by name.
	sch := build(t, "schema", schemaSrc)
	o, err := Run(ctx, reg, sch, "", nil, nil, 0)
	if err != nil || string(o.Output) != string(nObj(t, s, 7)) {
		t.Errorf("schema lookup: %x, %v", o.Output, err)
	}
	if _, err := Run(ctx, coda.NewRegistry(), sch, "", nil, nil, 0); err != nil {
		t.Fatal(err)
	} else if o, _ := Run(ctx, coda.NewRegistry(), sch, "", nil, nil, 0); o.ExitCode != 9 {
		t.Errorf("schema N absent: exit %d, want 9", o.ExitCode)
	}

	// A bad extra path; a canceled context.
	if _, err := Run(ctx, reg, inc, "", nil, map[string][]byte{"output": nObj(t, s, 1)}, 0); err == nil {
		t.Errorf("relative extra path accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Run(cctx, reg, inc, "", nil, nil, 0); !errs.Is(err, errs.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func BenchmarkRun(b *testing.B) {
	reg, s := compile(b, `schema N { n: u64 }`)
	inc := build(b, "inc", incSrc)
	in := nObj(b, s, 41)
	ctx := context.Background()
	var steps uint64
	for b.Loop() {
		o, err := Run(ctx, reg, inc, "", in, nil, 0)
		if err != nil {
			b.Fatal(err)
		}
		steps = o.Steps
	}
	b.ReportMetric(float64(steps), "steps/run")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}

func BenchmarkRunExtra(b *testing.B) {
	reg, s := compile(b, `schema N { n: u64 }`)
	big := build(b, "big", bigSrc)
	in := nObj(b, s, 41)
	ctx := context.Background()
	for b.Loop() {
		if _, err := Run(ctx, reg, big, "", in, map[string][]byte{"/output": in}, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}
