package acl_test

// End-to-end tests of the ACL policy wired into cdb (acl.With): every
// commit path (Commit, Merge, Replay) and reads through World.As.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

type wired struct {
	t     *testing.T
	h     *cdb.Home
	w     *cdb.World
	alice cdb.Identity // the creator (the node key)
	bob   cdb.Identity
}

func newWired(t *testing.T) *wired {
	t.Helper()
	h, err := cdb.Init(t.TempDir()+"/home", acl.With(cdb.Options{Store: memstore.New()}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	w, err := h.World("")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := h.NewKey("bob")
	if err != nil {
		t.Fatal(err)
	}
	return &wired{t: t, h: h, w: w, alice: h.NodeKey(), bob: bob}
}

func (e *wired) put(as cdb.Identity, path, text string) error {
	_, err := e.w.Commit(context.Background(), as, []cdb.Op{{Kind: cdb.PutBlob, Path: path, Blob: strings.NewReader(text), Size: int64(len(text))}}, "put "+path)
	return err
}

func (e *wired) putACL(as cdb.Identity, dir string, a acl.ACL) error {
	b, err := a.Encode()
	if err != nil {
		e.t.Fatal(err)
	}
	p := strings.TrimSuffix(dir, "/") + "/.acl"
	_, err = e.w.Commit(context.Background(), as, []cdb.Op{{Kind: cdb.Put, Path: p, Raw: b}}, "acl "+p)
	return err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, what string, err error, k errs.Kind) {
	t.Helper()
	if !errs.Is(err, k) {
		t.Fatalf("%s: got %v, want a %v error", what, err, k)
	}
}

func grantOf(who cdb.Identity, r acl.Rights) acl.ACL {
	var a acl.ACL
	a.Grant(acl.Key(who.Public32()), r)
	return a
}

func TestGenesisWritesRootACL(t *testing.T) {
	e := newWired(t)
	it, err := e.w.Get(coda.ID{}, "/.acl")
	must(t, err)
	a, err := acl.DecodeACL(it.Raw)
	must(t, err)
	if got := a.RightsOf(acl.Key(e.alice.Public32())); got != acl.All {
		t.Errorf("creator's rights in /.acl = %v, want all", got)
	}
	if it.Schema == nil || it.Schema.Name != "ACL" {
		t.Errorf("get /.acl decodes with schema %v, want ACL", it.Schema)
	}
	if _, err := e.w.Replay(nil); err != nil {
		t.Errorf("replay: %v", err)
	}
}

func TestCommitEnforced(t *testing.T) {
	e := newWired(t)
	must(t, e.put(e.alice, "/a/x", "alice's"))
	wantKind(t, "bob writes outside his rights", e.put(e.bob, "/a/y", "bob's"), errs.Permission)
	must(t, e.putACL(e.alice, "/pub", grantOf(e.bob, acl.Read|acl.Write)))
	must(t, e.put(e.bob, "/pub/y", "bob's"))
	wantKind(t, "bob grants himself admin", e.putACL(e.bob, "/pub", grantOf(e.bob, acl.All)), errs.Permission)
	wantKind(t, "bob edits /sys", e.put(e.bob, "/sys/groups/g", "x"), errs.Permission)
	must(t, e.put(e.bob, "/home/"+e.bob.Key()+"/notes", "his own"))
	err := e.putACL(e.alice, "/a/b/.acl", acl.ACL{})
	wantKind(t, "an .acl under a name .acl", err, errs.Invalid)
	// Not an ACL at .acl: refused by the put-time schema check or by
	// validation's content check.
	if err := e.put(e.alice, "/q/.acl", "not an acl"); err == nil {
		t.Errorf("a blob at /q/.acl was accepted")
	}
	if _, err := e.w.Replay(nil); err != nil {
		t.Errorf("replay: %v", err)
	}
}

// TestMergeNeverRestoresRevokedGrant: bob's write on a branch made before
// the revocation is kept by the merge; the merge does not give him his
// grant back, and his writes after it are refused.
func TestMergeNeverRestoresRevokedGrant(t *testing.T) {
	e := newWired(t)
	ctx := context.Background()
	must(t, e.putACL(e.alice, "/pub", grantOf(e.bob, acl.Read|acl.Write)))
	must(t, e.w.CreateBranch("old", coda.ID{}))
	must(t, e.putACL(e.alice, "/pub", acl.ACL{})) // revoke
	wantKind(t, "bob writes after the revocation", e.put(e.bob, "/pub/late", "x"), errs.Permission)
	must(t, e.w.Switch("old"))
	must(t, e.put(e.bob, "/pub/early", "made before he saw the revocation"))
	must(t, e.w.Switch(cdb.DefaultBranch))
	if _, _, err := e.w.Merge(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.w.Get(coda.ID{}, "/pub/early"); err != nil {
		t.Errorf("the concurrent write was not kept: %v", err)
	}
	wantKind(t, "bob writes after the merge", e.put(e.bob, "/pub/after", "x"), errs.Permission)
	if _, err := e.w.Replay(nil); err != nil {
		t.Errorf("replay: %v", err)
	}
}

func TestReadView(t *testing.T) {
	e := newWired(t)
	must(t, e.put(e.alice, "/secret/plans", "s"))
	must(t, e.putACL(e.alice, "/pub", acl.ACL{Rules: []acl.Rule{{Who: acl.Anyone, Rights: acl.Read}}}))
	must(t, e.put(e.alice, "/pub/news", "n"))
	bob := e.w.As(e.bob.Public)
	if _, err := bob.Get(coda.ID{}, "/pub/news"); err != nil {
		t.Errorf("bob reads /pub/news: %v", err)
	}
	_, hidden := bob.Get(coda.ID{}, "/secret/plans")
	_, missing := bob.Get(coda.ID{}, "/secret/nothing")
	if hidden == nil || missing == nil {
		t.Fatalf("get: hidden %v, missing %v; want errors", hidden, missing)
	}
	if errs.KindOf(hidden) != errs.KindOf(missing) || strings.ReplaceAll(hidden.Error(), "plans", "nothing") != missing.Error() {
		t.Errorf("unreadable and missing differ:\n%v\n%v", hidden, missing)
	}
	_, hd := bob.List(coda.ID{}, "/secret")
	_, md := bob.List(coda.ID{}, "/nodir")
	if hd == nil || md == nil || strings.ReplaceAll(hd.Error(), "secret", "nodir") != md.Error() {
		t.Errorf("ls of an unreadable and a missing directory differ:\n%v\n%v", hd, md)
	}
	root, err := bob.List(coda.ID{}, "/")
	must(t, err)
	for _, d := range root {
		if d.Name == "secret" {
			t.Errorf("bob's listing of / shows secret")
		}
	}
	log, err := bob.Log(coda.ID{}, "", 0)
	must(t, err)
	for _, c := range log {
		if strings.Contains(c.Message, "/secret") || strings.Contains(c.Message, "/.acl") && c.Ops == 0 {
			t.Errorf("bob's log shows %q", c.Message)
		}
	}
	if len(log) != 2 { // the grant on /pub (its .acl is readable by anyone) and /pub/news
		t.Errorf("bob's log has %d commits, want 2: %+v", len(log), log)
	}
	alice := e.w.As(e.alice.Public)
	if all, _ := alice.Log(coda.ID{}, "", 0); len(all) != 4 {
		t.Errorf("alice's log has %d commits, want 4", len(all))
	}
}

// TestAudited: reads through a view and commits are in the home's audit
// log, with the actor and the result.
func TestAudited(t *testing.T) {
	e := newWired(t)
	must(t, e.put(e.alice, "/secret/plans", "s"))
	bob := e.w.As(e.bob.Public)
	bob.Get(coda.ID{}, "/secret/plans")
	bob.List(coda.ID{}, "/")
	l, err := e.h.AuditLog()
	must(t, err)
	recs, err := l.List(0)
	must(t, err)
	var got []string
	for _, r := range recs {
		who := "alice"
		if r.Actor == e.bob.Key() {
			who = "bob"
		}
		got = append(got, who+" "+r.Action+" "+r.Path+" "+r.Result)
	}
	want := "alice commit  ok|bob get /secret/plans not-exist|bob list / ok"
	if strings.Join(got, "|") != want {
		t.Errorf("audit log:\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	if n, err := l.Verify(); err != nil || n != 3 {
		t.Errorf("Verify = %d, %v", n, err)
	}
}

// TestRevokedOldRevision: a revoked reader cannot read old versions
// either (a view reads a path only if it is readable at the revision and
// at the head).
func TestRevokedOldRevision(t *testing.T) {
	e := newWired(t)
	must(t, e.putACL(e.alice, "/pub", grantOf(e.bob, acl.Read)))
	must(t, e.put(e.alice, "/pub/news", "n"))
	old, err := e.w.Head()
	must(t, err)
	bob := e.w.As(e.bob.Public)
	if _, err := bob.Get(old, "/pub/news"); err != nil {
		t.Fatalf("bob reads /pub/news: %v", err)
	}
	must(t, e.putACL(e.alice, "/pub", acl.ACL{}))
	if _, err := bob.Get(old, "/pub/news"); !errs.Is(err, errs.NotExist) {
		t.Errorf("bob reads /pub/news at the revision before his revocation: %v, want not-exist", err)
	}
}

// TestRandomWired runs random grants, revokes, writes, reads, branches and
// merges by three keys through a home with the policy, and checks each
// write's and read's outcome against the rule "the /pub/.acl the change is
// judged on (or being alice, the creator) decides", then that Replay
// accepts the whole history.
func TestRandomWired(t *testing.T) {
	for seed := range 20 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 1))
			e := newWired(t)
			carol, err := e.h.NewKey("carol")
			must(t, err)
			keys := []cdb.Identity{e.alice, e.bob, carol}
			branches := []string{cdb.DefaultBranch}
			for step := range 40 {
				k := keys[r.IntN(len(keys))]
				switch x := r.IntN(10); {
				case x < 2: // alice edits /pub/.acl
					var a acl.ACL
					for _, who := range keys[1:] {
						if rr := acl.Rights(r.IntN(4)); rr != 0 {
							a.Grant(acl.Key(who.Public32()), rr)
						}
					}
					must(t, e.putACL(e.alice, "/pub", a))
				case x < 7: // k writes /pub/N
					want := mayWrite(t, e, k)
					err := e.put(k, fmt.Sprintf("/pub/%d", step), "v")
					if want && err != nil || !want && !errs.Is(err, errs.Permission) {
						t.Fatalf("step %d: %s writes /pub: %v, want allowed=%v", step, k.Name, err, want)
					}
					// k reads what was written, as the reference says.
					if err == nil {
						want := mayHave(t, e, k, acl.Read)
						_, rerr := e.w.As(k.Public).Get(coda.ID{}, fmt.Sprintf("/pub/%d", step))
						if want && rerr != nil || !want && !errs.Is(rerr, errs.NotExist) {
							t.Fatalf("step %d: %s reads /pub/%d: %v, want readable=%v", step, k.Name, step, rerr, want)
						}
					}
				case x < 8: // branch
					name := fmt.Sprintf("b%d", step)
					must(t, e.w.CreateBranch(name, coda.ID{}))
					branches = append(branches, name)
				case x < 9: // switch
					must(t, e.w.Switch(branches[r.IntN(len(branches))]))
				default: // merge another branch in
					other := branches[r.IntN(len(branches))]
					if other != e.w.Branch() {
						if _, _, err := e.w.Merge(context.Background(), other); err != nil {
							t.Fatalf("step %d: merge %s: %v", step, other, err)
						}
					}
				}
			}
			if _, err := e.w.Replay(nil); err != nil {
				t.Errorf("replay: %v", err)
			}
		})
	}
}

// mayWrite is the reference: alice is admin of /; others may write in
// /pub if /pub/.acl at the head grants them write.
func mayWrite(t *testing.T, e *wired, k cdb.Identity) bool {
	return mayHave(t, e, k, acl.Write)
}

// mayHave is the reference for any right r in /pub.
func mayHave(t *testing.T, e *wired, k cdb.Identity, r acl.Rights) bool {
	if k.Key() == e.alice.Key() {
		return true
	}
	it, err := e.w.Get(coda.ID{}, "/pub/.acl")
	if errs.Is(err, errs.NotExist) {
		return false // /.acl: alice only
	}
	must(t, err)
	a, err := acl.DecodeACL(it.Raw)
	must(t, err)
	return a.RightsOf(acl.Key(k.Public32())).Has(r)
}

// TestLegacyWorld: a world made before access control (no /.acl ever)
// lets its creator write and read everything, and nobody else, until the
// first /.acl.
func TestLegacyWorld(t *testing.T) {
	dir := t.TempDir() + "/home"
	ms := memstore.New()
	old, err := cdb.Init(dir, cdb.Options{Store: ms})
	must(t, err)
	ow, err := old.World("")
	must(t, err)
	_, err = ow.Commit(context.Background(), old.NodeKey(), []cdb.Op{{Kind: cdb.PutBlob, Path: "/a/x", Blob: strings.NewReader("x"), Size: 1}}, "before issue 5")
	must(t, err)
	h, err := cdb.Open(dir, acl.With(cdb.Options{Store: ms}))
	must(t, err)
	t.Cleanup(func() { h.Close() })
	w, err := h.World("")
	must(t, err)
	bob, err := h.NewKey("bob")
	must(t, err)
	e := &wired{t: t, h: h, w: w, alice: h.NodeKey(), bob: bob}
	if _, err := e.w.As(e.alice.Public).Get(coda.ID{}, "/a/x"); err != nil {
		t.Errorf("the creator reads /a/x: %v", err)
	}
	if _, err := e.w.As(e.bob.Public).Get(coda.ID{}, "/a/x"); !errs.Is(err, errs.NotExist) {
		t.Errorf("bob reads /a/x: %v, want not-exist", err)
	}
	must(t, e.put(e.alice, "/a/y", "the creator writes"))
	wantKind(t, "bob writes", e.put(e.bob, "/a/z", "z"), errs.Permission)
	// The first /.acl ends the fallback: here it names bob only.
	must(t, e.putACL(e.alice, "", grantOf(e.bob, acl.All)))
	wantKind(t, "the creator writes after a /.acl without him", e.put(e.alice, "/a/w", "w"), errs.Permission)
	must(t, e.put(e.bob, "/a/z", "z"))
	if _, err := e.w.Replay(nil); err != nil {
		t.Errorf("replay: %v", err)
	}
}

// TestOpenBlobHidden: OpenBlob of an unreadable blob is the missing
// blob's error.
func TestOpenBlobHidden(t *testing.T) {
	e := newWired(t)
	must(t, e.put(e.alice, "/secret/plans", "s"))
	bob := e.w.As(e.bob.Public)
	_, hidden := bob.OpenBlob(coda.ID{}, "/secret/plans")
	_, missing := bob.OpenBlob(coda.ID{}, "/secret/nothing")
	if hidden == nil || errs.KindOf(hidden) != errs.KindOf(missing) || strings.ReplaceAll(hidden.Error(), "plans", "nothing") != missing.Error() {
		t.Errorf("unreadable and missing differ:\n%v\n%v", hidden, missing)
	}
}

// TestGroupsWired: a group object put at /sys/groups/NAME passes the
// put-time schema check, and its members get what rules give the group.
func TestGroupsWired(t *testing.T) {
	e := newWired(t)
	var g acl.Group
	g.Add(acl.Key(e.bob.Public32()))
	b, err := g.Encode()
	must(t, err)
	_, err = e.w.Commit(context.Background(), e.alice, []cdb.Op{{Kind: cdb.Put, Path: "/sys/groups/team", Raw: b}}, "group")
	must(t, err)
	var a acl.ACL
	a.Grant(acl.GroupNamed("team"), acl.Read|acl.Write)
	must(t, e.putACL(e.alice, "/team", a))
	must(t, e.put(e.bob, "/team/x", "bob via the group"))
	it, err := e.w.Get(coda.ID{}, "/sys/groups/team")
	must(t, err)
	if it.Schema == nil || it.Schema.Name != "Group" {
		t.Errorf("get /sys/groups/team: schema %v, want Group", it.Schema)
	}
	// A group where an ACL belongs is refused.
	_, err = e.w.Commit(context.Background(), e.alice, []cdb.Op{{Kind: cdb.Put, Path: "/team/.acl", Raw: b}}, "wrong")
	wantKind(t, "a group at .acl", err, errs.Invalid)
}
