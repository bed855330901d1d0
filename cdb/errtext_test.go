package cdb

import (
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// TestErrorText: errors name what failed and where, the path once.
func TestErrorText(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	if _, err := w.Commit(ctx, h.NodeKey(), []Op{petOp("/a", "rex")}, ""); err != nil {
		t.Fatal(err)
	}
	_, err := w.Get(coda.ID{}, "/nothing")
	if got, want := err.Error(), "cdb.Get /nothing: tree: no such path"; got != want || !errs.Is(err, errs.NotExist) {
		t.Errorf("Get: %q, want %q (not-exist)", got, want)
	}
	_, err = w.List(coda.ID{}, "/a")
	if got, want := err.Error(), "cdb.List /a: not a directory (a value: read it with Get)"; got != want || !errs.Is(err, errs.Invalid) {
		t.Errorf("List of a value: %q, want %q (invalid)", got, want)
	}
	_, err = w.List(coda.ID{}, "/nothing")
	if got, want := err.Error(), "cdb.List /nothing: tree: no such path"; got != want || !errs.Is(err, errs.NotExist) {
		t.Errorf("List: %q, want %q (not-exist)", got, want)
	}
}
