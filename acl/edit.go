package acl

// Reading and editing .acl entries and groups as one identity: what coal
// acl show/grant/revoke and coal group add/rm/ls do, done once here for
// the API handlers that serve them (the CLI reaches them through the API).
// Each edit returns the one cdb.Op and commit message that make it; the
// caller commits it as the identity, and cdb's policy (CheckCommit) judges
// whether the identity may (admin of the .acl's directory, of /sys/groups).

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Snapshot is one commit of a world as one identity sees it. Entries are
// read through the identity's view (cdb.View: what it may not read is
// missing, and every read is audited); rights are evaluated over the whole
// tree (Checker), which reads .acl entries and groups whatever the
// identity may read. It is not safe for concurrent use.
type Snapshot struct {
	view    *cdb.View
	rev     coda.ID
	reader  Reader
	checker *Checker
}

// NewSnapshot returns the snapshot of commit rev of v's world, read as v's
// reader.
func NewSnapshot(v *cdb.View, rev coda.ID) (*Snapshot, error) {
	c, err := v.World().LoadCommit(rev)
	if err != nil {
		return nil, err
	}
	r := TreeReader(v.World().Home().Store(), c.Tree)
	return &Snapshot{view: v, rev: rev, reader: r, checker: NewChecker(r)}, nil
}

// Rev is the commit the snapshot reads.
func (s *Snapshot) Rev() coda.ID { return s.rev }

// item returns the item at path as the identity sees it, and whether it
// exists for it.
func (s *Snapshot) item(path string) (cdb.Item, bool, error) {
	it, err := s.view.Get(s.rev, path)
	if errs.Is(err, errs.NotExist) {
		return cdb.Item{}, false, nil
	}
	return it, err == nil, err
}

// ACLPath returns the canonical path of the directory dir and of its .acl
// entry. A bad path is errs.Invalid.
func ACLPath(dir string) (string, string, error) {
	segs, err := tree.SplitPath(dir)
	if err != nil {
		return "", "", errs.E(errs.Invalid, err)
	}
	p := tree.JoinPath(segs)
	if len(segs) == 0 {
		return p, "/" + ACLName, nil
	}
	return p, p + "/" + ACLName, nil
}

// GroupPath returns the path of the group name, refusing a name that is
// not one path segment.
func GroupPath(name string) (string, error) {
	if !tree.ValidName(name) {
		return "", errs.E(errs.Invalid, fmt.Sprintf("bad group name %q: a group name is a path segment", name))
	}
	return GroupsDir + "/" + name, nil
}

// ParsePrincipal reads a principal as coal takes one: anyone, group:NAME,
// a public key (ed25519:…), or else the name of a key, which key looks up
// (a home's keys; errs.NotExist if there is none).
func ParsePrincipal(text string, key func(name string) ([32]byte, error)) (Who, error) {
	if text == "anyone" || strings.HasPrefix(text, "group:") || strings.HasPrefix(text, cdb.KeyPrefix) {
		w, err := ParseWho(text)
		if err != nil {
			return Who{}, errs.E(errs.Invalid, err)
		}
		return w, nil
	}
	k, err := key(text)
	if err != nil {
		return Who{}, err
	}
	return Key(k), nil
}

// ReadACL returns the ACL at path as the identity sees it, and whether it
// exists (for the identity: an .acl it may not read does not). An .acl
// that does not decode grants nothing (docs/security.md): it is returned
// empty.
func (s *Snapshot) ReadACL(path string) (ACL, bool, error) {
	it, ok, err := s.item(path)
	if !ok {
		return ACL{}, false, err
	}
	if it.Kind != cdb.ItemValue {
		return ACL{}, false, errs.E(errs.Invalid, errs.Path(path), "not an ACL")
	}
	a, err := DecodeACL(it.Raw)
	if err != nil {
		return ACL{}, true, nil
	}
	return a, true, nil
}

// ShownRule is one rule Show lists: ACL is the .acl entry that holds it.
type ShownRule struct {
	ACL    string
	Who    Who
	Rights Rights
}

// Shown is what Show answers: key's rights on Path, where they come from,
// and the rules that decide them.
type Shown struct {
	Path   string
	Rights Rights
	Source Source
	Rules  []ShownRule
}

// Show returns key's effective rights on path and the rules behind them:
// every rule of the nearest .acl (which alone gives read and write), then
// the admin rules of the .acl entries above it, nearest first; rules of an
// .acl the identity may not read are left out. A path ending in / or
// naming a directory the identity sees is judged as the directory's
// entries.
func (s *Snapshot) Show(key [32]byte, path string) (Shown, error) {
	segs, err := tree.SplitPath(strings.TrimSuffix(path, "/"))
	if err != nil {
		return Shown{}, errs.E(errs.Invalid, err)
	}
	p := tree.JoinPath(segs)
	judged, dirSegs := p, segs
	isDir := strings.HasSuffix(path, "/") || len(segs) == 0
	if !isDir {
		it, ok, err := s.item(p)
		if err != nil {
			return Shown{}, err
		}
		isDir = ok && it.Kind == cdb.ItemDir
	}
	if isDir {
		judged = strings.TrimSuffix(p, "/") + "/"
	} else {
		dirSegs = segs[:len(segs)-1]
	}
	rights, src, err := s.checker.Effective(key, judged)
	if err != nil {
		return Shown{}, err
	}
	out := Shown{Path: p, Rights: rights, Source: src, Rules: []ShownRule{}}
	for i := len(dirSegs); i >= 0; i-- {
		_, ap, err := ACLPath(tree.JoinPath(dirSegs[:i]))
		if err != nil {
			return Shown{}, err
		}
		a, ok, err := s.ReadACL(ap)
		if err != nil {
			return Shown{}, err
		}
		nearest := src.ACL == ap
		for _, r := range a.Rules {
			if ok && (nearest || r.Rights.Has(Admin)) {
				out.Rules = append(out.Rules, ShownRule{ACL: ap, Who: r.Who, Rights: r.Rights})
			}
		}
	}
	return out, nil
}

// editACL reads the .acl of directory dir for an edit, refusing a dir
// that the identity sees as something other than a directory.
func (s *Snapshot) editACL(dir string) (p, aclPath string, a ACL, exists bool, err error) {
	p, aclPath, err = ACLPath(dir)
	if err != nil {
		return
	}
	if p != "/" {
		it, ok, ierr := s.item(p)
		if ierr != nil {
			err = ierr
			return
		}
		if ok && it.Kind != cdb.ItemDir {
			err = errs.E(errs.Invalid, errs.Path(p), "not a directory (an .acl belongs to a directory)")
			return
		}
	}
	a, exists, err = s.ReadACL(aclPath)
	return
}

// errNoRights is Grant's error for no rights.
const errNoRights = "grant: no rights given (want a comma list of read, write, admin)"

// Grant returns the op that adds r to who's rule in the .acl of the
// directory dir (creating the rule and the .acl), and its commit message.
func (s *Snapshot) Grant(dir string, who Who, r Rights) (cdb.Op, string, error) {
	if r == None {
		return cdb.Op{}, "", errs.E(errs.Invalid, errNoRights)
	}
	p, aclPath, a, _, err := s.editACL(dir)
	if err != nil {
		return cdb.Op{}, "", err
	}
	a.Grant(who, r)
	return putACL(aclPath, a, fmt.Sprintf("acl grant %s %s %s", p, who, r))
}

// Revoke returns the op that removes who's rule from the .acl of the
// directory dir, and its commit message. It is errs.NotExist if there is
// no such rule; removing the last admin rule of /.acl is errs.Invalid
// unless force is set (nobody could change the root's .acl after it).
func (s *Snapshot) Revoke(dir string, who Who, force bool) (cdb.Op, string, error) {
	p, aclPath, a, exists, err := s.editACL(dir)
	if err != nil {
		return cdb.Op{}, "", err
	}
	if !exists || !a.Revoke(who) {
		return cdb.Op{}, "", errs.E(errs.NotExist, errs.Path(aclPath), fmt.Sprintf("%s has no rule here", who))
	}
	if p == "/" && !force && !HasAdmin(a) {
		return cdb.Op{}, "", errs.E(errs.Invalid, errs.Path(aclPath), fmt.Sprintf("revoking %s would leave / with no admin (force the revoke to do it anyway: coal acl revoke --force)", who))
	}
	return putACL(aclPath, a, fmt.Sprintf("acl revoke %s %s", p, who))
}

func putACL(path string, a ACL, msg string) (cdb.Op, string, error) {
	raw, err := a.Encode()
	if err != nil {
		return cdb.Op{}, "", err
	}
	return cdb.Op{Kind: cdb.Put, Path: path, Raw: raw}, msg, nil
}

// HasAdmin reports whether a rule of a gives admin.
func HasAdmin(a ACL) bool {
	for _, r := range a.Rules {
		if r.Rights.Has(Admin) {
			return true
		}
	}
	return false
}

// ReadGroup returns the group at path as the identity sees it, and
// whether it exists (for the identity: a group it may not read does not).
func (s *Snapshot) ReadGroup(path string) (Group, bool, error) {
	it, ok, err := s.item(path)
	if !ok {
		return Group{}, false, err
	}
	if it.Kind != cdb.ItemValue {
		return Group{}, false, errs.E(errs.Invalid, errs.Path(path), "not a group")
	}
	g, err := DecodeGroup(it.Raw)
	if err != nil {
		return Group{}, false, errs.E(errs.Invalid, errs.Path(path), err)
	}
	if g.Members == nil {
		g.Members = []Who{}
	}
	return g, true, nil
}

// NamedGroup is a group and its name.
type NamedGroup struct {
	Name string
	Group
}

// Group returns the group name; errs.NotExist if the identity sees none.
func (s *Snapshot) Group(name string) (NamedGroup, error) {
	p, err := GroupPath(name)
	if err != nil {
		return NamedGroup{}, err
	}
	g, ok, err := s.ReadGroup(p)
	if err != nil {
		return NamedGroup{}, err
	}
	if !ok {
		return NamedGroup{}, errs.E(errs.NotExist, errs.Path(p), "no group "+name)
	}
	return NamedGroup{Name: name, Group: g}, nil
}

// Groups returns the groups the identity sees, by name.
func (s *Snapshot) Groups() ([]NamedGroup, error) {
	ents, err := s.view.List(s.rev, GroupsDir)
	if err != nil && !errs.Is(err, errs.NotExist) {
		return nil, err
	}
	out := []NamedGroup{}
	for _, d := range ents {
		if d.Kind != cdb.ItemValue {
			continue
		}
		g, _, err := s.ReadGroup(GroupsDir + "/" + d.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, NamedGroup{Name: d.Name, Group: g})
	}
	return out, nil
}

// AddMembers returns the op that adds members to the group name, creating
// it, and its commit message, which names the members as texts (how they
// were given; texts[i] is members[i]). anyone cannot be a member; a member
// that would make the group contain itself, directly or through others, is
// errs.Invalid naming the cycle (CheckGroup).
func (s *Snapshot) AddMembers(name string, members []Who, texts []string) (cdb.Op, string, error) {
	p, err := GroupPath(name)
	if err != nil {
		return cdb.Op{}, "", err
	}
	if len(members) == 0 {
		return cdb.Op{}, "", errs.E(errs.Invalid, "group add: no members")
	}
	for _, w := range members {
		if w.Kind == AnyoneWho {
			return cdb.Op{}, "", errs.E(errs.Invalid, "anyone cannot be a group member (grant to anyone instead)")
		}
	}
	g, _, err := s.ReadGroup(p)
	if err != nil {
		return cdb.Op{}, "", err
	}
	g.Add(members...)
	if err := CheckGroup(s.reader, name, g); err != nil {
		return cdb.Op{}, "", err
	}
	return putGroup(p, g, "group add "+name+" "+strings.Join(texts, " "))
}

// RemoveMembers returns the op that removes members from the group name,
// or with no members deletes the group, and its commit message (texts as
// for AddMembers). A member that is not one, or a group the identity
// does not see, is errs.NotExist.
func (s *Snapshot) RemoveMembers(name string, members []Who, texts []string) (cdb.Op, string, error) {
	p, err := GroupPath(name)
	if err != nil {
		return cdb.Op{}, "", err
	}
	g, exists, err := s.ReadGroup(p)
	if err != nil {
		return cdb.Op{}, "", err
	}
	if !exists {
		return cdb.Op{}, "", errs.E(errs.NotExist, errs.Path(p), "no group "+name)
	}
	if len(members) == 0 {
		return cdb.Op{Kind: cdb.Delete, Path: p}, "group rm " + name, nil
	}
	for i, w := range members {
		if !g.Remove(w) {
			t := w.String()
			if i < len(texts) {
				t = texts[i]
			}
			return cdb.Op{}, "", errs.E(errs.NotExist, errs.Path(p), fmt.Sprintf("%s is not a member of group %s", t, name))
		}
	}
	return putGroup(p, g, "group rm "+name+" "+strings.Join(texts, " "))
}

func putGroup(path string, g Group, msg string) (cdb.Op, string, error) {
	raw, err := g.Encode()
	if err != nil {
		return cdb.Op{}, "", err
	}
	return cdb.Op{Kind: cdb.Put, Path: path, Raw: raw}, msg, nil
}

// CheckRefChange reports whether key may change the refs of world w —
// make a branch, switch the current branch, merge into it — which change
// what every reader of the node sees at the head but not the tree: only an
// admin of / in the head of the current branch may (docs/security.md,
// "Branches and merges"). The error is errs.Permission naming what.
func CheckRefChange(w *cdb.World, key [32]byte, what string) error {
	st, root, free, err := headOf(w, key)
	if err != nil || free {
		return err
	}
	r, src, err := Effective(TreeReader(st, root), key, "/")
	if err != nil {
		return err
	}
	if r.Has(Admin) {
		return nil
	}
	return errs.E(errs.Permission, fmt.Sprintf("%s: changing the branches of world %s needs admin of / and has %s (%s)", what, w.Name(), r, src))
}

// CheckWriteAt is the rights check a commit by key changing paths would
// meet at the head of w (CheckWrite, judged as Policy.CheckCommit judges),
// made before the commit: an upload's, before its body is read. The first
// path key may not change is errs.Permission naming it. On a home with no
// policy, or for the creator of a world that never had a /.acl, every path
// may be changed.
func CheckWriteAt(w *cdb.World, key [32]byte, paths []string) error {
	st, root, free, err := headOf(w, key)
	if err != nil || free {
		return err
	}
	return CheckWrite(TreeReader(st, root), key, paths)
}

// headOf returns the store and tree root of w's head, and whether key is
// free of checks there: the home has no policy, or key created a world
// that never had a /.acl (Policy).
func headOf(w *cdb.World, key [32]byte) (tree.Store, coda.ID, bool, error) {
	st := w.Home().Store()
	if w.Home().Policy() == nil {
		return st, coda.ID{}, true, nil
	}
	head, err := w.Head()
	if err != nil {
		return nil, coda.ID{}, false, err
	}
	c, err := w.LoadCommit(head)
	if err != nil {
		return nil, coda.ID{}, false, err
	}
	if creator, ok := legacyCreator(st, w.ID(), c.Tree); ok && bytes.Equal(creator, key[:]) {
		return st, c.Tree, true, nil
	}
	return st, c.Tree, false, nil
}
