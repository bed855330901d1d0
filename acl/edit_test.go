package acl_test

import (
	"context"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/errs"
)

// snap returns the snapshot of the head as as sees it.
func (e *wired) snap(as cdb.Identity) *acl.Snapshot {
	e.t.Helper()
	head, err := e.w.Head()
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := acl.NewSnapshot(e.w.As(as.Public), head)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// apply returns a function that commits the op and message of an edit
// as as: e.apply(as)(snapshot.Grant(…)).
func (e *wired) apply(as cdb.Identity) func(cdb.Op, string, error) error {
	return func(op cdb.Op, msg string, err error) error {
		if err != nil {
			return err
		}
		_, err = e.w.Commit(context.Background(), as, []cdb.Op{op}, msg)
		return err
	}
}

func wantErr(t *testing.T, what string, err error, kind errs.Kind, text string) {
	t.Helper()
	if err == nil || !errs.Is(err, kind) || !strings.Contains(err.Error(), text) {
		t.Errorf("%s: got %v, want a %s error containing %q", what, err, kind, text)
	}
}

func TestEditACL(t *testing.T) {
	e := newWired(t)
	bob := acl.Key(e.bob.Public32())
	if err := e.put(e.alice, "/docs/a", "a"); err != nil {
		t.Fatal(err)
	}

	op, msg, err := e.snap(e.alice).Grant("docs", bob, acl.Read|acl.Write)
	if err != nil {
		t.Fatal(err)
	}
	if op.Path != "/docs/.acl" || msg != "acl grant /docs "+bob.String()+" read,write" {
		t.Errorf("grant: got op at %s, message %q", op.Path, msg)
	}
	if err := e.apply(e.alice)(op, msg, nil); err != nil {
		t.Fatal(err)
	}
	// bob may not grant himself admin: the edit is made, the commit refused.
	if err := e.apply(e.bob)(e.snap(e.bob).Grant("/docs", bob, acl.Admin)); !errs.Is(err, errs.Permission) {
		t.Errorf("bob grants himself admin: got %v, want a permission error", err)
	}

	sh, err := e.snap(e.bob).Show(e.bob.Public32(), "/docs/a")
	if err != nil {
		t.Fatal(err)
	}
	if sh.Path != "/docs/a" || sh.Rights != acl.Read|acl.Write || sh.Source.ACL != "/docs/.acl" || len(sh.Rules) != 1 || sh.Rules[0].Who != bob {
		t.Errorf("show as bob: got %+v", sh)
	}
	// The node sees the admin rule of /.acl too.
	sh, err = e.snap(e.alice).Show(e.bob.Public32(), "/docs/")
	if err != nil {
		t.Fatal(err)
	}
	if len(sh.Rules) != 2 || sh.Rules[1].ACL != "/.acl" {
		t.Errorf("show as the node: got %+v", sh.Rules)
	}

	_, _, err = e.snap(e.alice).Grant("/docs", bob, acl.None)
	wantErr(t, "grant no rights", err, errs.Invalid, "no rights")
	_, _, err = e.snap(e.alice).Grant("/docs/a", bob, acl.Read)
	wantErr(t, "grant on a value", err, errs.Invalid, "/docs/a: not a directory")
	_, _, err = e.snap(e.alice).Grant("/a/../b", bob, acl.Read)
	wantErr(t, "grant on a bad path", err, errs.Invalid, "/a/../b")
	_, _, err = e.snap(e.alice).Revoke("/docs", acl.GroupNamed("nobody"), false)
	wantErr(t, "revoke a missing rule", err, errs.NotExist, "group:nobody has no rule here")
	_, _, err = e.snap(e.alice).Revoke("/", acl.Key(e.alice.Public32()), false)
	wantErr(t, "revoke the last admin", err, errs.Invalid, "no admin")
	if _, _, err := e.snap(e.alice).Revoke("/", acl.Key(e.alice.Public32()), true); err != nil {
		t.Errorf("revoke the last admin with force: %v", err)
	}
	if err := e.apply(e.alice)(e.snap(e.alice).Revoke("/docs", bob, false)); err != nil {
		t.Fatal(err)
	}
	sh, err = e.snap(e.bob).Show(e.bob.Public32(), "/docs/a")
	if err != nil || sh.Rights != acl.None {
		t.Errorf("show after revoke: got %+v, %v; want no rights", sh, err)
	}
}

func TestEditGroups(t *testing.T) {
	e := newWired(t)
	bob := acl.Key(e.bob.Public32())
	eng, staff := acl.GroupNamed("eng"), acl.GroupNamed("staff")
	add := func(name string, ws ...acl.Who) error {
		texts := make([]string, len(ws))
		for i, w := range ws {
			texts[i] = w.String()
		}
		return e.apply(e.alice)(e.snap(e.alice).AddMembers(name, ws, texts))
	}
	if err := add("eng", bob); err != nil {
		t.Fatal(err)
	}
	if err := add("staff", eng); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "cycle", add("eng", staff), errs.Invalid, "cycle: eng → staff → eng")
	wantErr(t, "self", add("eng", eng), errs.Invalid, "cycle: eng → eng")
	wantErr(t, "anyone", add("eng", acl.Anyone), errs.Invalid, "anyone cannot be a group member")
	wantErr(t, "no members", add("eng"), errs.Invalid, "no members")
	wantErr(t, "bad name", add("a/b", bob), errs.Invalid, `bad group name "a/b"`)

	gs, err := e.snap(e.alice).Groups()
	if err != nil || len(gs) != 2 || gs[0].Name != "eng" || len(gs[0].Members) != 1 || gs[0].Members[0] != bob {
		t.Errorf("groups: got %+v, %v", gs, err)
	}
	// bob may not read /sys/groups: for him there are none.
	if gs, err := e.snap(e.bob).Groups(); err != nil || len(gs) != 0 {
		t.Errorf("groups as bob: got %+v, %v; want none", gs, err)
	}
	_, err = e.snap(e.bob).Group("eng")
	wantErr(t, "group as bob", err, errs.NotExist, "no group eng")

	_, _, err = e.snap(e.alice).RemoveMembers("eng", []acl.Who{staff}, []string{"group:staff"})
	wantErr(t, "remove a non-member", err, errs.NotExist, "group:staff is not a member of group eng")
	op, msg, err := e.snap(e.alice).RemoveMembers("staff", nil, nil)
	if err != nil || op.Kind != cdb.Delete || msg != "group rm staff" {
		t.Errorf("remove a group: got %+v %q %v", op, msg, err)
	}
	if err := e.apply(e.alice)(op, msg, err); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.snap(e.alice).RemoveMembers("staff", nil, nil)
	wantErr(t, "remove a missing group", err, errs.NotExist, "no group staff")
}

func TestParsePrincipal(t *testing.T) {
	k := [32]byte{1}
	keys := func(name string) ([32]byte, error) {
		if name == "alice" {
			return k, nil
		}
		return [32]byte{}, errs.E(errs.NotExist, "no key "+name)
	}
	for _, c := range []struct {
		in   string
		want acl.Who
		kind errs.Kind
	}{
		{"anyone", acl.Anyone, 0},
		{"group:eng", acl.GroupNamed("eng"), 0},
		{"alice", acl.Key(k), 0},
		{acl.Key(k).String(), acl.Key(k), 0},
		{"carol", acl.Who{}, errs.NotExist},
		{"group:", acl.Who{}, errs.Invalid},
		{"ed25519:zz", acl.Who{}, errs.Invalid},
	} {
		got, err := acl.ParsePrincipal(c.in, keys)
		if c.kind != 0 {
			if !errs.Is(err, c.kind) {
				t.Errorf("ParsePrincipal(%q): got %v, %v; want a %s error", c.in, got, err, c.kind)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParsePrincipal(%q): got %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestCheckRefChange(t *testing.T) {
	e := newWired(t)
	if err := acl.CheckRefChange(e.w, e.alice.Public32(), "branch dev"); err != nil {
		t.Errorf("the creator: %v", err)
	}
	err := acl.CheckRefChange(e.w, e.bob.Public32(), "branch dev")
	wantErr(t, "bob", err, errs.Permission, "branch dev: changing the branches of world")
	// Write on / is not enough: only admin reaches every path.
	if err := e.apply(e.alice)(e.snap(e.alice).Grant("/", acl.Key(e.bob.Public32()), acl.Write)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "bob with write", acl.CheckRefChange(e.w, e.bob.Public32(), "merge dev"), errs.Permission, "needs admin of /")
}

// TestCheckWriteAt: the early check agrees with what the commit meets —
// including the creator of a world that never had a /.acl, and a home
// with no policy at all.
func TestCheckWriteAt(t *testing.T) {
	e := newWired(t)
	if err := acl.CheckWriteAt(e.w, e.alice.Public32(), []string{"/a/x", "/a/.acl"}); err != nil {
		t.Errorf("the creator: %v", err)
	}
	wantErr(t, "bob", acl.CheckWriteAt(e.w, e.bob.Public32(), []string{"/a/x"}), errs.Permission, "/a/x: acl: ")
	if err := acl.CheckWriteAt(e.w, e.bob.Public32(), []string{"/home/" + e.bob.Key() + "/x"}); err != nil {
		t.Errorf("bob in his home: %v", err)
	}

	// A world made before access control: its creator may.
	dir := t.TempDir() + "/home"
	ms := memstore.New()
	old, err := cdb.Init(dir, cdb.Options{Store: ms})
	must(t, err)
	ow, err := old.World("")
	must(t, err)
	bob, err := old.NewKey("bob")
	must(t, err)
	// With no policy, anyone may.
	if err := acl.CheckWriteAt(ow, bob.Public32(), []string{"/a/x"}); err != nil {
		t.Errorf("bob on a home with no policy: %v", err)
	}
	h, err := cdb.Open(dir, acl.With(cdb.Options{Store: ms}))
	must(t, err)
	t.Cleanup(func() { h.Close() })
	w, err := h.World("")
	must(t, err)
	if err := acl.CheckWriteAt(w, h.NodeKey().Public32(), []string{"/a/x"}); err != nil {
		t.Errorf("the creator of a legacy world: %v", err)
	}
	if err := acl.CheckRefChange(w, h.NodeKey().Public32(), "merge x"); err != nil {
		t.Errorf("the creator of a legacy world merges: %v", err)
	}
	wantErr(t, "bob on a legacy world", acl.CheckWriteAt(w, bob.Public32(), []string{"/a/x"}), errs.Permission, "/a/x")
}
