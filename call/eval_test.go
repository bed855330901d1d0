package call_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/errs"
)

// evalSource: main echoes its input as its output; entry exit3 exits
// with code 3; entry put writes /counter/n.
func evalSource(put string) string {
	i := strings.Index(put, "#r ")
	return `
% send LIT8 0xC4 LIT8 0 DMW16 ;
% recv LIT8 0x84 LIT8 0 DMW16 ;
% failed LIT8 0x10 LIT8 0 DMP ;
% count LIT8 0 DMR DRD DRD DRD DRD DRD DRD ;
*input-req-end *input-req SUB16 *input-req ~send
~failed *fail JPC16
LIT16 4000 LIT16 0x2000 ~recv
~count LIT16 0x3100 ADR16 STR16
LIT16 0x1FFD ADR16 LIT8 6 STR8
LIT16 0x1FFE ADR16 LIT16 0 STR16
LIT16 0x3100 ADR16 LOD16 LIT16 3 ADD16 LIT16 0x1FFD ~send
HALT
^ exit3 LIT16 0x0302 *exit JMP16 ;
^ put ` + strings.Replace(put[:i], "HALT", "RTN", 1) + ` ;
` + put[i:] + `
#fail LIT16 0x0102
#exit LIT8 0 LIT8 0xC0 LIT8 0 DVW16
#input-req "\x05\x00\x00" #input-req-end
`
}

// TestEval: an evaluation reads the tree, returns the output and the
// steps, commits nothing; a write or a nonzero exit fails it, the exit
// code found with errors.As.
func TestEval(t *testing.T) {
	h, w := newHome(t)
	in := counterObject(t, w, 42)
	obj := programObject(t, w, h.NodeKey(), evalSource(putSource("/counter/n", in)))
	hd := head(t, w)
	c, err := w.LoadCommit(hd)
	if err != nil {
		t.Fatal(err)
	}
	st := h.Store()
	out, steps, err := call.Eval(st, c.Tree, obj, "", in, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, in) || steps == 0 {
		t.Fatalf("output %x after %d steps, want the input %x", out, steps, in)
	}
	out2, steps2, err := call.Eval(st, c.Tree, obj, "main", in, 0)
	if err != nil || !bytes.Equal(out2, out) || steps2 != steps {
		t.Fatalf("second run: %x, %d steps, %v; want the same", out2, steps2, err)
	}
	if _, _, err := call.Eval(st, c.Tree, obj, "", in, 5); !errs.Is(err, errs.Limit) {
		t.Fatalf("5 steps: %v, want a limit error", err)
	}
	_, steps, err = call.Eval(st, c.Tree, obj, "exit3", nil, 0)
	var ee *call.ExitError
	if !errors.As(err, &ee) || ee.Code != 3 || ee.Steps != steps || !errs.Is(err, errs.Invalid) {
		t.Fatalf("exit3: %v (%d steps), want an ExitError with code 3", err, steps)
	}
	_, _, err = call.Eval(st, c.Tree, obj, "put", nil, 0)
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "read-only") || errors.As(err, &ee) {
		t.Fatalf("put: %v, want a read-only error", err)
	}
	if _, err := w.Get(hd, "/counter/n"); !errs.Is(err, errs.NotExist) {
		t.Fatalf("/counter/n after the evaluations: %v, want none", err)
	}
	if head(t, w) != hd {
		t.Fatal("an evaluation committed")
	}
	if _, _, err := call.Eval(st, c.Tree, obj, "nope", nil, 0); !errs.Is(err, errs.Invalid) {
		t.Fatalf("unknown entry: %v", err)
	}
	if _, _, err := call.Eval(st, c.Tree, []byte("junk"), "", nil, 0); !errs.Is(err, errs.Invalid) {
		t.Fatalf("junk program: %v", err)
	}
	if _, _, err := call.Eval(st, c.Tree, obj, "", nil, call.MaxSteps+1); !errs.Is(err, errs.Invalid) {
		t.Fatalf("too many steps: %v", err)
	}
}
