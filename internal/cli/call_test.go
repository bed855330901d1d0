package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
)

func init() {
	scriptCmds["example"] = cmdExample
	scriptCmds["forgecall"] = cmdForgeCall
}

// cmdExample copies the files of examples/NAME into the script's work
// directory, so scripts run the examples as shipped:
//
//	example NAME
func cmdExample(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: example NAME")
	}
	dir := filepath.Join("..", "..", "examples", args[0])
	ents, err := os.ReadDir(dir)
	ts.Check(err)
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		ts.Check(err)
		ts.Check(os.WriteFile(ts.MkAbs(e.Name()), b, 0o644))
	}
}

// cmdForgeCall makes a forged copy of the call commit ID in the home at
// HOME, its record's FIELD changed (steps, output), signed again by the
// node key, and points the branch "forged" at it; it prints the forged
// commit's id:
//
//	forgecall HOME ID steps|output
func cmdForgeCall(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: forgecall HOME ID steps|output")
	}
	h, err := cdb.Open(ts.MkAbs(args[0]), call.With(acl.With(cdb.Options{NoAudit: true})))
	ts.Check(err)
	defer h.Close()
	w, err := h.World("")
	ts.Check(err)
	id, err := w.Resolve(args[1])
	ts.Check(err)
	c, err := w.LoadCommit(id)
	ts.Check(err)
	if c.Call == nil {
		ts.Fatalf("forgecall: commit %s has no call record", id)
	}
	k := *c.Call
	switch args[2] {
	case "steps":
		k.Steps++
	case "output":
		o := coda.Sum([]byte("forged"))
		k.Output = &o
	default:
		ts.Fatalf("forgecall: no field %q (steps, output)", args[2])
	}
	c.Call = &k
	obj, err := cdb.SignCommit(c, h.NodeKey())
	ts.Check(err)
	b := h.Store().NewBatch()
	defer b.Discard()
	for _, g := range c.Groups() { // its op groups (docs/cdb.md)
		_, err = b.Put(g)
		ts.Check(err)
	}
	_, err = b.Put(obj)
	ts.Check(err)
	ts.Check(b.SetRef("head/"+w.ID().String()+"/forged", c.ID))
	ts.Check(b.Commit(true))
	fmt.Fprintln(ts.Stdout(), c.ID)
}
