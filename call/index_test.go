package call_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/bundle"
	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/query"
)

// TestCallIntoIndexedDirectory: a call writing into a directory with an
// index (docs/query.md) commits its writes with the index entries they
// derive; the query finds the value through the index, replay passes,
// and a clone re-executes the call and checks both.
func TestCallIntoIndexedDirectory(t *testing.T) {
	qopts := func() cdb.Options { return query.With(opts()) }
	h, err := cdb.Init(filepath.Join(t.TempDir(), "home"), qopts())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	w, err := h.World("")
	if err != nil {
		t.Fatal(err)
	}
	addSchemas(t, w, h.NodeKey(), "schema Counter { n: u64 }\n")
	if _, err := w.Commit(ctx, h.NodeKey(), []cdb.Op{{Kind: cdb.Mkdir, Path: query.IndexPath("/counter", "n")}}, "index n"); err != nil {
		t.Fatal(err)
	}
	putProgram(t, w, h.NodeKey(), "/progs/counter", readFile(t, "../examples/counter/counter.co"))
	for i := 1; i <= 2; i++ {
		if _, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/counter"}); err != nil {
			t.Fatalf("call %d into an indexed directory: %v", i, err)
		}
	}
	res, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/counter"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.LoadCommit(res.Commit.ID)
	if err != nil {
		t.Fatal(err)
	}
	derived := 0
	for _, o := range c.Ops {
		if strings.Contains(o.Path, "/"+query.IndexDir+"/") {
			derived++
		}
	}
	if derived == 0 {
		t.Fatalf("the call commit's ops %+v carry no index entry", c.Ops)
	}
	var rows []query.Row
	r, err := query.Run(ctx, w.As(h.NodeKey().Public), query.Query{Prefix: "/counter", Where: "n == 3u"}, func(row query.Row) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Path != "/counter/n" {
		t.Fatalf("query n == 3 (plan %q): rows %+v; want /counter/n", r.Stats.Plan, rows)
	}
	// The index holds exactly one entry, the current value's.
	ents, err := w.List(coda.ID{}, query.IndexPath("/counter", "n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Fatalf("index entries %+v, want one (n = 3's)", ents)
	}
	if _, err := w.Replay(nil); err != nil {
		t.Fatalf("replay: %v", err)
	}
	var buf bytes.Buffer
	if _, err := bundle.Create(w, h.NodeKey(), &buf, bundle.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h2, _, err := bundle.CloneBundle(ctx, filepath.Join(t.TempDir(), "clone"), &buf, qopts())
	if err != nil {
		t.Fatalf("clone (re-executes the calls, re-derives the entries): %v", err)
	}
	defer h2.Close()
	w2, err := h2.World(w.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	if got := head(t, w2); got != c.ID {
		t.Fatalf("clone head %s, want %s", got, c.ID)
	}
}
