package acl_test

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// The hook has the type cdb.ValidateEnv.Rights wants.
var _ = cdb.ValidateEnv{Rights: acl.Hook(nil)}

func TestChangedPaths(t *testing.T) {
	c := &cdb.Commit{Ops: []cdb.Change{{Path: "/", Meta: true}, {Path: "/a", Meta: true}, {Path: "/a/.acl"}, {Path: "/a/b", Delete: true}}}
	if got, want := strings.Join(acl.ChangedPaths(c), " "), "/ /a/ /a/.acl /a/b"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestCheckCommit feeds commits (as cdb decodes them) through the hook,
// judged on a parent whose tree the script built.
func TestCheckCommit(t *testing.T) {
	e := newEnv()
	for _, line := range []string{"world alice", "grant /a bob read,write", "grant /sys/groups carol admin", "write /a/x"} {
		if err := e.run(line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	parent := &cdb.Commit{ID: coda.Sum([]byte("parent")), Tree: e.root, Author: pub("alice")}
	obj := func(b []byte, err error) coda.ID {
		if err != nil {
			t.Fatal(err)
		}
		id, err := e.st.Put(b)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	value := obj([]byte("a value"), nil)
	goodACL := obj(acl.ACL{Rules: []acl.Rule{{acl.Anyone, acl.Read}}}.Encode())
	goodGroup := obj(acl.Group{Members: []acl.Who{acl.Key(keyOf("bob"))}}.Encode())
	missing := coda.Sum([]byte("not stored"))

	for _, c := range []struct {
		name    string
		author  string // "" for a merge commit
		genesis bool
		ops     []cdb.Change
		want    string // "ok", or the error's kind and a piece of its text
	}{
		{"write in rights", "bob", false, []cdb.Change{{Path: "/a/y", ID: value}}, "ok"},
		{"delete in rights", "bob", false, []cdb.Change{{Path: "/a/x", Delete: true}}, "ok"},
		{"write outside rights", "bob", false, []cdb.Change{{Path: "/a/y", ID: value}, {Path: "/b", ID: value}}, "permission /b"},
		{"metadata of /a is in /a", "bob", false, []cdb.Change{{Path: "/a", Meta: true, ID: value}}, "ok"},
		{"metadata of / is in /", "bob", false, []cdb.Change{{Path: "/", Meta: true, ID: value}}, "permission /"},
		{"self-granting admin", "bob", false, []cdb.Change{{Path: "/a/.acl", ID: goodACL}}, "permission /a/.acl: acl: " + keyText("bob") + " may not change this path: it needs admin and has read,write (/a/.acl)"},
		{"editing /sys without admin", "bob", false, []cdb.Change{{Path: "/sys/groups/g", ID: goodGroup}}, "permission /sys/groups/g"},
		{"editing groups as their admin", "carol", false, []cdb.Change{{Path: "/sys/groups/g", ID: goodGroup}}, "ok"},
		{"a group that is not a group", "carol", false, []cdb.Change{{Path: "/sys/groups/g", ID: goodACL}}, "invalid /sys/groups/g"},
		{"groups are leaves of /sys/groups", "carol", false, []cdb.Change{{Path: "/sys/groups/g/h", ID: goodGroup}}, "invalid /sys/groups/g/h"},
		{"an .acl that is not an ACL", "alice", false, []cdb.Change{{Path: "/a/.acl", ID: value}}, "invalid /a/.acl"},
		{"an .acl that is not stored", "alice", false, []cdb.Change{{Path: "/a/.acl", ID: missing}}, "not-exist"},
		{"an .acl directory", "alice", false, []cdb.Change{{Path: "/a/.acl/x", ID: value}}, "invalid /a/.acl/x"},
		{"an admin edits an .acl", "alice", false, []cdb.Change{{Path: "/a/.acl", ID: goodACL}, {Path: "/a/.acl", Delete: true}}, "ok"},
		{"home", "dave", false, []cdb.Change{{Path: "/home/" + keyText("dave") + "/x", ID: value}}, "ok"},
		{"another's home", "dave", false, []cdb.Change{{Path: "/home/" + keyText("bob") + "/x", ID: value}}, "permission"},
		{"genesis", "zed", true, []cdb.Change{{Path: "/.acl", ID: goodACL}}, "ok"},
		{"genesis with a bad .acl", "zed", true, []cdb.Change{{Path: "/.acl", ID: value}}, "invalid /.acl"},
		{"merge", "", false, []cdb.Change{{Path: "/anything", ID: value}}, "ok"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cm := &cdb.Commit{ID: coda.Sum([]byte(c.name)), Ops: c.ops}
			parents := []*cdb.Commit{parent}
			if c.author != "" {
				cm.Author = pub(c.author)
			}
			if !c.genesis {
				cm.Parents = []coda.ID{parent.ID}
			} else {
				parents = nil
			}
			err := acl.Hook(e.st)(cm, parents)
			got := "ok"
			if err != nil {
				got = fmt.Sprintf("%s %v", errs.KindOf(err), err)
			}
			if !strings.HasPrefix(got, c.want) {
				t.Errorf("got %q, want %q…", got, c.want)
			}
		})
	}
}

func pub(name string) ed25519.PublicKey { k := keyOf(name); return k[:] }

// BenchmarkCheckWrite checks a commit of 1,000 paths in 10 directories
// three levels down, each level with an .acl and the rights through a
// group: the per-directory cache makes it about one evaluation per
// directory.
func BenchmarkCheckWrite(b *testing.B) {
	e := newEnv()
	script := []string{"world alice", "group eng add group:staff", "group staff add bob"}
	for _, d := range []string{"/p", "/p/q", "/p/q/r"} {
		script = append(script, "grant "+d+" group:eng read,write")
	}
	for _, line := range script {
		if err := e.run(line); err != nil {
			b.Fatal(err)
		}
	}
	var paths []string
	for i := range 1000 {
		paths = append(paths, fmt.Sprintf("/p/q/r/d%d/f%d", i%10, i))
	}
	r := e.reader()
	b.ResetTimer()
	for b.Loop() {
		if err := acl.CheckWrite(r, keyOf("bob"), paths); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRevocationRace: a revocation on one branch and a write on another,
// each judged on its own parent's state, then merged. The write that did
// not causally follow the revocation is kept; one that follows it is
// refused, before and after the merge.
func TestRevocationRace(t *testing.T) {
	e := newEnv()
	run := func(lines ...string) {
		t.Helper()
		for _, l := range lines {
			if err := e.run(l); err != nil {
				t.Fatalf("%s: %v", l, err)
			}
		}
	}
	run("world alice", "grant /a bob read,write", "write /a/x")
	base := e.root

	run("revoke /a bob", "as bob write /a/z denied") // branch 1: the revocation, and a write after it
	revoked := e.root

	e.root = base
	run("as bob write /a/y ok") // branch 2: concurrent with the revocation
	written := e.root

	merged, _, err := e.tr.Merge(base, revoked, written)
	if err != nil {
		t.Fatal(err)
	}
	e.root = merged
	run(
		"as alice read /a/y ok",    // the concurrent write is kept
		"as bob write /a/w denied", // and the revocation binds what follows the merge
		"as bob read /a/y absent",  //
		"as bob rights /a/x none from /a/.acl",
	)
}

// A directory as deep as a path may be cannot hold an .acl; its metadata
// is judged by the .acls above it.
func TestDeepest(t *testing.T) {
	e := newEnv()
	if err := e.run("world alice"); err != nil {
		t.Fatal(err)
	}
	dir := strings.Repeat("/d", tree.MaxDepth)
	for _, who := range []string{"alice", "bob"} {
		r, _, err := acl.Effective(e.reader(), keyOf(who), dir+"/")
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		if want := map[string]acl.Rights{"alice": acl.All, "bob": acl.None}[who]; r != want {
			t.Errorf("%s: got %s, want %s", who, r, want)
		}
	}
	if _, _, err := acl.Effective(e.reader(), keyOf("bob"), dir+"/x"); !errs.Is(err, errs.Invalid) {
		t.Errorf("too deep: got %v, want invalid", err)
	}
}
