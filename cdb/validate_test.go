package cdb

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func TestValidateHeldAndCalls(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	ci := mustCommit(t, w, petOp("/a", "a"))
	c, err := w.LoadCommit(ci.ID)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := w.LoadCommit(c.Parents[0])
	if err != nil {
		t.Fatal(err)
	}
	env := w.validateEnv(h.Store(), false)
	if err := ValidateCommit(env, c, []*Commit{parent}); err != nil {
		t.Fatal(err)
	}
	// The local clock far behind the commit: held.
	env.Now = c.Time - hlc.Time(time.Hour.Milliseconds())<<hlc.LogicalBits
	if err := ValidateCommit(env, c, []*Commit{parent}); !errors.Is(err, ErrHeld) {
		t.Errorf("ahead of the clock: %v, want held", err)
	}
	env.Now = c.Time
	if err := ValidateCommit(env, c, []*Commit{parent}); err != nil {
		t.Errorf("at the clock: %v", err)
	}
	// A call cannot be checked yet.
	c.Call = &Call{Program: coda.Sum([]byte("p")), Entry: "main"}
	mustSchemas().sign(c, h.NodeKey())
	if err := ValidateCommit(env, c, []*Commit{parent}); !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "calls") {
		t.Errorf("call: %v", err)
	}
	env.Call = func(*Commit, []*Commit) error { return nil }
	if err := ValidateCommit(env, c, []*Commit{parent}); err != nil {
		t.Errorf("call with hook: %v", err)
	}
	// The rights hook sees every commit.
	env.Rights = func(*Commit, []*Commit) error { return errs.E(errs.Permission, "no") }
	if err := ValidateCommit(env, c, []*Commit{parent}); err == nil {
		t.Error("rights hook ignored")
	}
	// Wrong world, wrong parents.
	env = w.validateEnv(h.Store(), false)
	env.World = coda.Sum([]byte("other"))
	if err := ValidateCommit(env, c, []*Commit{parent}); !errors.Is(err, errs.Invalid) {
		t.Errorf("other world: %v", err)
	}
	env = w.validateEnv(h.Store(), false)
	if err := ValidateCommit(env, c, nil); !errors.Is(err, errs.Invalid) {
		t.Errorf("no parents: %v", err)
	}
}

func TestReplayForgedMerge(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	d := buildDAG(t, w, "G -> A; G -> B; A -> M; B -> M")
	m, err := w.LoadCommit(d.ids["M"])
	if err != nil {
		t.Fatal(err)
	}
	m.Conflicts = nil // drop the record of the loser
	obj, err := mustSchemas().encode(m)
	if err != nil {
		t.Fatal(err)
	}
	forged := coda.Sum(obj)
	b := h.Store().NewBatch()
	for _, g := range m.Groups() {
		b.Put(g)
	}
	b.Put(obj)
	b.SetRef(headRef(w.ID(), "M"), forged)
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Replay(nil); !errors.Is(err, errs.Corrupt) || !strings.Contains(err.Error(), forged.String()) || !strings.Contains(err.Error(), "recomputation") {
		t.Errorf("Replay: %v", err)
	}
}

// TestOtherErrorsLeaveStore: failing history operations change nothing.
func TestOtherErrorsLeaveStore(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	a := mustCommit(t, w, petOp("/a", "a"))
	unknown := coda.Sum([]byte("unknown"))
	tests := []struct {
		name string
		f    func() error
		kind errs.Kind
	}{
		{"merge unknown branch", func() error { _, _, err := w.Merge(ctx, "nope"); return err }, errs.NotExist},
		{"reset unknown", func() error { _, err := w.Reset(ctx, h.NodeKey(), unknown); return err }, errs.NotExist},
		{"reset to head", func() error { _, err := w.Reset(ctx, h.NodeKey(), a.ID); return err }, errs.Invalid},
		{"revert genesis", func() error { _, _, err := w.Revert(ctx, h.NodeKey(), w.ID()); return err }, errs.Invalid},
		{"branch at unknown", func() error { return w.CreateBranch("x", unknown) }, errs.NotExist},
		{"bad branch name", func() error { return w.CreateBranch("a/b", coda.ID{}) }, errs.Invalid},
		{"import missing dir", func() error { _, err := w.Import(ctx, h.NodeKey(), "/nonexistent-dir", "/x", nil); return err }, errs.NotExist},
		{"import onto a value", func() error {
			dir := t.TempDir()
			writeFiles(t, dir, 3)
			_, err := w.Import(ctx, h.NodeKey(), dir, "/a", nil)
			return err
		}, errs.Invalid},
		{"canceled", func() error {
			c, cancel := contextWithCancel()
			cancel()
			_, err := w.Commit(c, h.NodeKey(), []Op{petOp("/z", "z")}, "")
			return err
		}, errs.Canceled},
		{"unsigning identity", func() error {
			_, err := w.Commit(ctx, Identity{Name: "pub", Public: h.NodeKey().Public}, []Op{petOp("/z", "z")}, "")
			return err
		}, errs.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := mustHead(t, w)
			n := countObjects(t, h.Store())
			refs, _ := h.Store().ListRefs("")
			err := tt.f()
			if !errors.Is(err, tt.kind) {
				t.Errorf("got %v, want %v", err, tt.kind)
			}
			if mustHead(t, w) != head || countObjects(t, h.Store()) != n {
				t.Error("store changed")
			}
			if got, _ := h.Store().ListRefs(""); len(got) != len(refs) {
				t.Errorf("refs: %d, want %d", len(got), len(refs))
			}
		})
	}
}

// TestSignedHere checks what lets World.finish skip verifying the
// signature of a commit built here: sign refuses an identity whose public
// key is not its private key's (a commit it signed would not verify), the
// commits it signs verify, and validation outside finish (signedHere
// unset) still refuses a bad signature.
func TestSignedHere(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	withSchemas(t, w)
	key := h.NodeKey()
	other, err := NewIdentity("other", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	bad := key
	bad.Public = other.Public
	if _, err := w.Commit(ctx, bad, []Op{petOp("/x", "x")}, "m"); !errs.Is(err, errs.Invalid) {
		t.Fatalf("commit by an identity with another's public key: %v, want invalid", err)
	}
	ci := mustCommit(t, w, petOp("/a", "a"))
	c, err := w.LoadCommit(ci.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(); err != nil {
		t.Fatalf("a commit signed here does not verify: %v", err)
	}
	parent, err := w.LoadCommit(c.Parents[0])
	if err != nil {
		t.Fatal(err)
	}
	c.Signature = append([]byte(nil), c.Signature...)
	c.Signature[0] ^= 1
	if err := ValidateCommit(w.validateEnv(h.Store(), false), c, []*Commit{parent}); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "bad signature") {
		t.Fatalf("validation of a bad signature: %v", err)
	}
}
