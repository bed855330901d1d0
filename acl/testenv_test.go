package acl_test

// An access-control test language in the style of Upspin's testenv: a
// script of identities, grants, group changes, writes and reads, each with
// its expected outcome, run against an in-memory tree (cdb/tree over
// memstore). Every change is checked with acl.CheckWrite on the state
// before it, as cdb.ValidateCommit does, and applied only if allowed.
//
//	# comment
//	world alice                     genesis: alice is the creator, admin of /
//	[as K] write PATH [ok|denied]   put a value (PATH/ ending in / : the directory's metadata)
//	[as K] rm PATH [ok|denied]      delete
//	[as K] grant DIR WHO RIGHTS [ok|denied]   add rights to DIR/.acl
//	[as K] revoke DIR WHO [ok|denied]         remove WHO's rule from DIR/.acl
//	[as K] group NAME add|rm WHO... [ok|denied|cycle]
//	[as K] group-nocheck NAME add|rm WHO...   without the cycle check (as a merge can)
//	as K read PATH ok|absent        absent: missing, or not readable (the same answer)
//	as K ls DIR NAME...             the names K sees in DIR ("-": none)
//	as K rights PATH RIGHTS [from SOURCE...]
//
// Keys are named by words (alice, bob…); each name gets a key made from its
// name. WHO is a key name, group:NAME or anyone. "$name" in a path is the
// text form of name's key (for /home/$bob). Without "as", a change is made
// by the world's creator; without an outcome, it must succeed.

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// env is the state of a script: a tree, its creator and a clock.
type env struct {
	st      *memstore.Store
	tr      *tree.Tree
	root    coda.ID
	creator string
	time    uint64
}

func newEnv() *env {
	st := memstore.New()
	return &env{st: st, tr: tree.New(st), root: tree.EmptyRoot}
}

// keyOf returns the key of a name: a stand-in for a public key, made from
// the name so scripts are deterministic.
func keyOf(name string) [32]byte { return sha256.Sum256([]byte("key " + name)) }

func keyText(name string) string { k := keyOf(name); return cdb.KeyString(k[:]) }

func (e *env) reader() acl.Reader { return acl.TreeReader(e.st, e.root) }

func (e *env) who(s string) (acl.Who, error) {
	if s == "anyone" || strings.HasPrefix(s, "group:") {
		return acl.ParseWho(s)
	}
	return acl.Key(keyOf(s)), nil
}

func expand(p string) string {
	if i := strings.IndexByte(p, '$'); i >= 0 {
		j := i + 1
		for j < len(p) && p[j] != '/' {
			j++
		}
		return p[:i] + keyText(p[i+1:j]) + expand(p[j:])
	}
	return p
}

// change checks that actor may change paths (on the current state) and,
// if so, applies the ops.
func (e *env) change(actor string, paths []string, ops []tree.Op) error {
	if err := acl.CheckWrite(e.reader(), keyOf(actor), paths); err != nil {
		return err
	}
	e.time++
	stamp := tree.Stamp{Time: e.time, Author: keyOf(actor)}
	for i := range ops {
		ops[i].Entry.Stamp = stamp
	}
	root, err := e.tr.Apply(e.root, ops)
	if err != nil {
		return err
	}
	e.root = root
	return nil
}

func (e *env) put(actor, p string, obj []byte) error {
	id, err := e.st.Put(obj)
	if err != nil {
		return err
	}
	op := tree.Op{Path: p, Entry: tree.Value(id, tree.Stamp{})}
	if strings.HasSuffix(p, "/") {
		op.Path, op.Meta = strings.TrimSuffix(p, "/"), true
	}
	return e.change(actor, []string{p}, []tree.Op{op})
}

func (e *env) load(p string) ([]byte, bool, error) {
	ent, err := e.tr.Get(e.root, p)
	if errs.Is(err, errs.NotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	b, err := e.st.Get(ent.ID)
	return b, err == nil, err
}

func (e *env) editACL(actor, dir string, edit func(*acl.ACL)) error {
	p := strings.TrimSuffix(dir, "/") + "/" + acl.ACLName
	var a acl.ACL
	b, ok, err := e.load(p)
	if err != nil {
		return err
	}
	if ok {
		a, _ = acl.DecodeACL(b) // not an ACL: replace it
	}
	edit(&a)
	if b, err = a.Encode(); err != nil {
		return err
	}
	return e.put(actor, p, b)
}

func (e *env) editGroup(actor, name string, check bool, edit func(*acl.Group)) error {
	p := acl.GroupsDir + "/" + name
	var g acl.Group
	b, ok, err := e.load(p)
	if err != nil {
		return err
	}
	if ok {
		if g, err = acl.DecodeGroup(b); err != nil {
			return err
		}
	}
	edit(&g)
	if check {
		if err := acl.CheckGroup(e.reader(), name, g); err != nil {
			return err
		}
	}
	if b, err = g.Encode(); err != nil {
		return err
	}
	return e.put(actor, p, b)
}

// outcome names what an error means in a script.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errs.Is(err, errs.Permission):
		return "denied"
	case errs.Is(err, errs.Invalid) && strings.Contains(err.Error(), "cycle"):
		return "cycle"
	}
	return "error: " + err.Error()
}

// run runs one script line.
func (e *env) run(line string) error {
	f := strings.Fields(line)
	actor := e.creator
	if len(f) >= 2 && f[0] == "as" {
		actor, f = f[1], f[2:]
	}
	if len(f) == 0 {
		return fmt.Errorf("no command")
	}
	// The expected outcome of a change: the last word, if it is one.
	want := "ok"
	if n := len(f); n > 1 && slices.Contains([]string{"ok", "denied", "cycle"}, f[n-1]) && f[0] != "read" && f[0] != "ls" {
		want, f = f[n-1], f[:n-1]
	}
	arg := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	var err error
	switch f[0] {
	case "world":
		if e.creator != "" || len(f) != 2 {
			return fmt.Errorf("world: once, with one creator")
		}
		e.creator = f[1]
		b, gerr := acl.GenesisACL(keyOf(f[1]))
		if gerr != nil {
			return gerr
		}
		// Genesis: the creator is admin of / by definition.
		id, _ := e.st.Put(b)
		e.time++
		e.root, err = e.tr.Put(e.root, "/.acl", tree.Value(id, tree.Stamp{Time: e.time, Author: keyOf(f[1])}))
		return err
	case "write":
		err = e.put(actor, expand(arg(1)), []byte("value of "+arg(1)+" by "+actor))
	case "rm":
		p := expand(arg(1))
		err = e.change(actor, []string{p}, []tree.Op{{Path: p, Entry: tree.Tombstone(tree.Stamp{})}})
	case "grant", "revoke":
		var w acl.Who
		if w, err = e.who(arg(2)); err != nil {
			return err
		}
		r := acl.None
		if f[0] == "grant" {
			if r, err = acl.ParseRights(arg(3)); err != nil {
				return err
			}
		}
		err = e.editACL(actor, expand(arg(1)), func(a *acl.ACL) {
			if f[0] == "grant" {
				a.Grant(w, r)
			} else {
				a.Revoke(w)
			}
		})
	case "group", "group-nocheck":
		var ws []acl.Who
		for _, s := range f[3:] {
			w, werr := e.who(s)
			if werr != nil {
				return werr
			}
			ws = append(ws, w)
		}
		err = e.editGroup(actor, arg(1), f[0] == "group", func(g *acl.Group) {
			if arg(2) == "add" {
				g.Add(ws...)
				return
			}
			for _, w := range ws {
				g.Remove(w)
			}
		})
	case "read":
		p := expand(arg(1))
		got := "absent"
		if _, gerr := e.tr.Get(e.root, p); gerr == nil && acl.ReadFilter(e.reader(), keyOf(actor))(p) {
			got = "ok"
		}
		if got != arg(2) {
			return fmt.Errorf("got %s, want %s", got, arg(2))
		}
		return nil
	case "ls":
		dir := expand(arg(1))
		filter := acl.ReadFilter(e.reader(), keyOf(actor))
		var got []string
		if filter(strings.TrimSuffix(dir, "/") + "/") {
			ents, lerr := e.tr.List(e.root, dir)
			if lerr != nil && !errs.Is(lerr, errs.NotExist) {
				return lerr
			}
			for _, d := range ents {
				p := strings.TrimSuffix(dir, "/") + "/" + d.Name
				if filter(p) {
					got = append(got, d.Name)
				}
			}
		}
		want := f[2:]
		if len(want) == 1 && want[0] == "-" {
			want = nil
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	case "rights":
		r, src, rerr := acl.Effective(e.reader(), keyOf(actor), expand(arg(1)))
		if rerr != nil {
			return rerr
		}
		if r.String() != arg(2) {
			return fmt.Errorf("got rights %s, want %s (source: %s)", r, arg(2), src)
		}
		if len(f) > 3 {
			if f[3] != "from" {
				return fmt.Errorf("rights: want `from SOURCE` after the rights")
			}
			if want := expand(strings.Join(f[4:], " ")); src.String() != want {
				return fmt.Errorf("got source %q, want %q", src, want)
			}
		}
		return nil
	default:
		return fmt.Errorf("unknown command %q", f[0])
	}
	if got := outcome(err); got != want {
		return fmt.Errorf("got %s, want %s", got, want)
	}
	return nil
}

func runScript(t *testing.T, script string) {
	t.Helper()
	e := newEnv()
	for i, line := range strings.Split(script, "\n") {
		if j := strings.Index(line, "#"); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if err := e.run(line); err != nil {
			t.Fatalf("line %d: %s: %v", i+1, line, err)
		}
	}
}

var scripts = []struct{ name, script string }{
	{"the creator is admin of /", `
		world alice
		as alice write /a/x ok
		as alice read /a/x ok
		as alice rights /a/x read,write,admin from admin from /.acl
		as bob write /a/x denied
		as bob read /a/x absent
		as bob rights /a/x none from /.acl
	`},
	{"the sample", `
		world alice
		as alice write /a/x ok
		grant /a bob read
		as bob read /a/x ok
		as bob write /a/x denied
		revoke /a bob
		as bob read /a/x absent
	`},
	{"nearest .acl governs read and write", `
		world alice
		write /a/b/x
		write /a/y
		grant / bob read,write
		as bob read /a/b/x ok
		as bob write /a/b/z ok
		grant /a/b carol read          # /a/b/.acl now governs /a/b alone: bob loses it
		as bob read /a/b/x absent
		as bob write /a/b/z denied
		as bob read /a/y ok            # /.acl still governs /a
		as carol read /a/b/x ok
		as carol write /a/b/x denied
		as carol read /a/y absent
		as bob rights /a/b/x none from /a/b/.acl
		as carol rights /a/b/x read from /a/b/.acl
	`},
	{"a nearer .acl can narrow, and open", `
		world alice
		grant / anyone read
		write /pub/x
		write /private/x
		grant /private carol read
		as bob read /pub/x ok
		as bob read /private/x absent
		as carol read /private/x ok
		as bob ls / .acl private pub     # the entries of / follow /.acl
		as bob ls /private -
		as carol ls /private .acl x
		grant /pub/drop bob write        # write without read: a drop box
		as bob write /pub/drop/y ok
		as bob read /pub/drop/y absent
	`},
	{"an empty .acl shuts all but admins out", `
		world alice
		grant / bob read,write
		write /a/x
		grant /a carol read
		revoke /a carol                 # /a/.acl exists, with no rules
		as bob read /a/x absent
		as carol read /a/x absent
		as alice read /a/x ok
		as bob rights /a/ none from /a/.acl
	`},
	{"admin flows down and cannot be locked out", `
		world alice
		grant /a bob admin
		as bob write /a/x ok
		as bob grant /a/b carol read,write ok
		as bob write /a/b/c/d ok
		as carol write /a/b/c/e ok
		as carol grant /a/b/c carol admin denied
		as bob revoke /a/b bob ok       # no rule of bob's there anyway
		as carol grant /a/b/c dave read denied
		as bob grant /a/b/c dave read ok  # bob is admin of /a and all below
		as bob read /a/b/c/d ok
		as bob rights /a/b/c/d read,write,admin from admin from /a/.acl
		as alice rights /a/b/c/d read,write,admin from admin from /.acl
		as dave read /a/b/c/d ok
		as dave write /a/b/c/d denied
	`},
	{"admins keep their rights whatever the nearer .acl says", `
		world alice
		grant /a bob admin
		as bob grant /a/b carol read ok
		as bob revoke /a/b carol ok
		as bob read /a/b/.acl ok
		as bob write /a/b/x ok
		as bob rights /a/b/x read,write,admin from admin from /a/.acl
		as carol rights /a/b/x none from /a/b/.acl
	`},
	{"only admins edit .acl entries", `
		world alice
		grant /a bob read,write
		as bob write /a/x ok
		as bob write /a/.acl denied
		as bob rm /a/.acl denied
		as bob grant /a carol read denied
		as bob revoke /a bob denied
		as bob write /a/b/.acl denied   # no .acl anywhere without admin
		as bob write /a/b/.acl/x denied
		as alice rm /a/.acl ok
		as bob write /a/y denied        # /.acl governs again: it gives bob nothing
	`},
	{"self-granting admin is refused", `
		world alice
		grant /a bob read,write
		as bob grant /a bob admin denied
		as bob grant /a/sub bob admin denied
		as bob group admins add bob denied
		as bob rights /a/x read,write from /a/.acl
		grant /a bob admin
		as bob grant /a/sub bob admin ok   # now he may: he is admin of /a
	`},
	{"/sys needs admin", `
		world alice
		grant / bob read,write
		as bob write /x ok
		as bob write /sys/schemas/s denied
		as bob write /sys/groups/g denied
		as bob group g add bob denied
		as bob write /sys/ denied          # the metadata of /sys
		as bob write /sys/x denied
		as bob read /sys/groups/g absent   # missing
		group g add carol
		as bob read /sys/groups/g ok       # reading /sys follows the .acls
		grant /sys/groups bob admin        # an admin of the groups only
		as bob group g add bob ok
		as bob write /sys/schemas/s denied
	`},
	{"the metadata of a directory is judged in the directory", `
		world alice
		grant /a bob admin
		as bob write /a/ ok               # mkdir --schema /a: admin of /a
		as bob write /b/ denied
		grant / carol write
		grant /a/b carol write
		as carol write /a/b/ ok
		as carol write /a/ denied        # /a/.acl (empty of carol) governs /a
		as carol write / ok              # the root's metadata: /.acl
	`},
	{"an .acl that is not an ACL grants nothing", `
		world alice
		grant / bob read
		write /a/x
		write /a/.acl                     # not an ACL object (an old world could hold one)
		as bob read /a/x absent
		as bob rights /a/x none from /a/.acl
		as alice read /a/x ok
		grant /a bob read                 # an admin replaces it
		as bob read /a/x ok
	`},
	{"groups", `
		world alice
		write /a/x
		group eng add bob carol
		grant /a group:eng read
		as bob read /a/x ok
		as carol read /a/x ok
		as dave read /a/x absent
		group eng rm carol
		as carol read /a/x absent
		as bob rights /a/x read from /a/.acl
	`},
	{"nested groups", `
		world alice
		write /a/x
		group staff add group:eng group:ops
		group eng add bob
		group ops add group:oncall
		group oncall add carol
		grant /a group:staff read,write
		as bob write /a/y ok
		as carol write /a/y ok
		as dave write /a/y denied
		group oncall rm carol
		as carol write /a/y denied
		group oncall add dave
		as dave read /a/x ok
		grant /b group:missing read       # a missing group is empty
		write /b/x
		as bob read /b/x absent
	`},
	{"group cycles are refused and harmless", `
		world alice
		write /a/x
		group g1 add group:g2 bob
		group g2 add group:g3
		group g3 add group:g1 cycle
		group g3 add carol
		group g3 add group:g3 cycle
		group g1 add group:g1 cycle
		grant /a group:g1 read
		as bob read /a/x ok
		as carol read /a/x ok
		as dave read /a/x absent
		# A merge of two branches can close a cycle nobody made: it adds nobody.
		group-nocheck g3 add group:g1
		group-nocheck g2 add group:g2
		as bob read /a/x ok
		as carol read /a/x ok
		as dave read /a/x absent
		grant /b group:g3 read
		write /b/x
		as bob read /b/x ok                # g3 → g1 → bob
		group g2 rm group:g3
		as carol read /a/x absent
		as carol read /b/x ok
	`},
	{"anyone", `
		world alice
		write /pub/x
		write /a/x
		grant /pub anyone read
		as bob read /pub/x ok
		as zed read /pub/x ok
		as zed write /pub/x denied
		as zed read /a/x absent
		grant /pub anyone write
		as zed write /pub/y ok
		as zed grant /pub anyone admin denied
	`},
	{"every key owns its home", `
		world alice
		as bob write /home/$bob/x ok
		as bob read /home/$bob/x ok
		as bob write /home/$bob/deep/er/y ok
		as bob grant /home/$bob carol read ok
		as carol read /home/$bob/x ok
		as carol write /home/$bob/x denied
		as carol write /home/$carol/x ok
		as carol write /home/$bob/z denied
		as bob write /home/$carol/z denied
		as bob read /home/$carol/x absent
		as bob rights /home/$bob/deep/y read,write,admin from owner of /home/$bob
		as bob write /home/x denied        # /home itself is not bob's
		as bob write /home/$bob denied     # nor the entry naming his home
		as bob rm /home/$bob/.acl ok
		as alice read /home/$bob/x ok      # the creator is admin of / and all below
	`},
	{"home needs no .acl and no world admin", `
		world alice
		revoke / alice                     # root admins may leave (the CLI should warn)
		as alice write /a/x denied
		as alice write /home/$alice/x ok
		as alice rights /home/$alice/x read,write,admin from owner of /home/$alice
	`},
	{"a nearer .acl cannot take a home from its owner", `
		world alice
		as alice grant /home/$bob bob read ok
		as bob write /home/$bob/x ok
		as bob rights /home/$bob/x read,write,admin from owner of /home/$bob
	`},
	{"reads: missing and unreadable look the same", `
		world alice
		write /a/x
		as bob read /a/x absent
		as bob read /a/nothing absent
		as alice read /a/nothing absent
		as bob ls /a -
		as alice ls /a x
		as bob ls /nowhere -
	`},
}

func TestScripts(t *testing.T) {
	for _, s := range scripts {
		t.Run(s.name, func(t *testing.T) { runScript(t, s.script) })
	}
}
