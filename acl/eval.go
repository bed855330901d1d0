// Package acl evaluates rights over a snapshot of a world's tree: who may
// read, write and administer which paths (docs/security.md).
//
// Principals are ed25519 public keys; groups live at /sys/groups/NAME; a
// directory's .acl entry lists rules {who, rights}. Read and write come from
// the nearest .acl alone; admin flows down from every .acl on the way from
// the root, and implies read and write; every key is admin of /home/KEY/.
//
// Evaluation is pure: it reads the tree through a Reader and nothing else,
// starts no goroutines and gives the same answer for the same snapshot. A
// Checker caches what it read (ACLs per directory, groups, rights per
// directory and key) for one snapshot.
package acl

import (
	"fmt"
	"strings"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Names in the tree that evaluation knows.
const (
	ACLName   = ".acl"        // a directory's ACL entry
	GroupsDir = "/sys/groups" // groups: GroupsDir/NAME
	HomeDir   = "/home"       // HomeDir/KEY/ belongs to KEY
	SysDir    = "/sys"        // needs admin to change
)

// Reader is what evaluation reads from a snapshot of a tree: entries by
// path (errs.NotExist for a missing one, as tree.Tree.Get) and objects by
// id. TreeReader adapts a tree root over a store.
type Reader interface {
	Get(path string) (tree.Entry, error)
	Load(id coda.ID) ([]byte, error)
}

type treeReader struct {
	t    *tree.Tree
	s    tree.Store
	root coda.ID
}

func (r treeReader) Get(p string) (tree.Entry, error) { return r.t.Get(r.root, p) }
func (r treeReader) Load(id coda.ID) ([]byte, error)  { return r.s.Get(id) }

// TreeReader returns a Reader of the tree root in s.
func TreeReader(s tree.Store, root coda.ID) Reader {
	return treeReader{t: tree.New(s), s: s, root: root}
}

// Source says where rights come from.
type Source struct {
	// ACL is the path of the nearest .acl, whose rules alone give read and
	// write ("" if there is no .acl on the way from the root).
	ACL string `json:"acl,omitempty"`
	// Admin is the path of the .acl nearest the root that makes the key an
	// admin here, or, if Home, the home directory "/home/KEY" it owns.
	// "" if the key is not admin here.
	Admin string `json:"admin,omitempty"`
	Home  bool   `json:"home,omitempty"`
}

// String describes the source: "admin from /.acl", "owner of
// /home/KEY", "/a/.acl" or "no .acl".
func (s Source) String() string {
	switch {
	case s.Home:
		return "owner of " + s.Admin
	case s.Admin != "":
		return "admin from " + s.Admin
	case s.ACL != "":
		return s.ACL
	}
	return "no .acl"
}

// NeedFor returns the right a change to path needs: Admin for any .acl
// entry (or anything under a name .acl) and for everything under /sys,
// Write otherwise. Paths are as for Effective.
func NeedFor(path string) Rights {
	p := strings.Trim(path, "/")
	if p == "" {
		return Write
	}
	segs := strings.Split(p, "/")
	if segs[0] == "sys" {
		return Admin
	}
	for _, s := range segs {
		if s == ACLName {
			return Admin
		}
	}
	return Write
}

// Checker evaluates rights over one snapshot, caching the ACLs, groups
// and per-directory rights it computes, so that the many paths of one
// commit or one listing share their ancestors' work. It is not safe for
// concurrent use; make one per snapshot and goroutine.
type Checker struct {
	r      Reader
	acls   map[string]*ACL // directory path → its ACL (nil: none)
	groups map[string]*Group
	member map[memberKey]bool
	dirs   map[dirKey]dirRights
}

type memberKey struct {
	group string
	key   [32]byte
}

type dirKey struct {
	key [32]byte
	dir string
}

// dirRights are a key's rights on the entries of one directory.
type dirRights struct {
	rights Rights // from the nearest .acl
	src    Source
}

// NewChecker returns a Checker of the snapshot r.
func NewChecker(r Reader) *Checker {
	return &Checker{
		r:      r,
		acls:   make(map[string]*ACL),
		groups: make(map[string]*Group),
		member: make(map[memberKey]bool),
		dirs:   make(map[dirKey]dirRights),
	}
}

// dirOf returns the segments of the directory whose rights govern path:
// for an entry path ("/a/b") the directory holding it ("/a"); for a
// directory path ending in "/" ("/a/b/", and "/" for the root) that
// directory itself — its metadata leaf and its listing.
func dirOf(path string) ([]string, error) {
	dirForm := strings.HasSuffix(path, "/")
	p := path
	if dirForm {
		p = strings.TrimSuffix(path, "/")
	}
	segs, err := tree.SplitPath(p)
	if err != nil {
		return nil, err
	}
	if dirForm || len(segs) == 0 {
		return segs, nil
	}
	return segs[:len(segs)-1], nil
}

// Effective returns the rights of key on path, and where they come from.
//
// An entry path ("/a/b") is judged in the directory that holds it ("/a");
// a path ending in "/" ("/a/b/", or "/") names a directory itself (its
// metadata leaf; its listing), judged in that directory. Read and write
// come from the nearest .acl in that directory or above it; admin from any
// .acl there or above, or from owning /home/KEY; admin implies read and
// write. A bad path is errs.Invalid. An .acl entry that is not an ACL
// object grants nothing (as an empty .acl), a group that is not a group
// object has no members; an object missing from the store is an error.
func (c *Checker) Effective(key [32]byte, path string) (Rights, Source, error) {
	segs, err := dirOf(path)
	if err != nil {
		return None, Source{}, err
	}
	d, err := c.dir(key, segs)
	if err != nil {
		return None, Source{}, err
	}
	r := d.rights
	if d.src.Admin != "" {
		r = All
	}
	return r, d.src, nil
}

// dir computes the rights of key in the directory segs, from its parent's.
func (c *Checker) dir(key [32]byte, segs []string) (dirRights, error) {
	p := tree.JoinPath(segs)
	k := dirKey{key, p}
	if d, ok := c.dirs[k]; ok {
		return d, nil
	}
	var d dirRights
	if len(segs) > 0 {
		var err error
		if d, err = c.dir(key, segs[:len(segs)-1]); err != nil {
			return dirRights{}, err
		}
	}
	a, err := c.acl(p)
	if err != nil {
		return dirRights{}, err
	}
	if a != nil {
		aclPath := join(p, ACLName)
		r, err := c.rightsIn(a, key)
		if err != nil {
			return dirRights{}, err
		}
		d.rights, d.src.ACL = r, aclPath
		if r&Admin != 0 && d.src.Admin == "" {
			d.src.Admin = aclPath
		}
	}
	if len(segs) == 2 && segs[0] == "home" && segs[1] == cdb.KeyString(key[:]) && d.src.Admin == "" {
		d.src.Admin, d.src.Home = p, true
	}
	c.dirs[k] = d
	return d, nil
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// acl returns the ACL of the directory at p, nil if it has none.
func (c *Checker) acl(p string) (*ACL, error) {
	if a, ok := c.acls[p]; ok {
		return a, nil
	}
	ap := join(p, ACLName)
	e, err := c.r.Get(ap)
	// Invalid: the directory is as deep or as long as a path may be, so
	// it cannot hold an .acl.
	if errs.Is(err, errs.NotExist) || errs.Is(err, errs.Invalid) || err == nil && e.Kind != tree.KindValue {
		c.acls[p] = nil
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("acl: read %s: %w", ap, err)
	}
	b, err := c.r.Load(e.ID)
	if err != nil {
		return nil, fmt.Errorf("acl: load %s: %w", ap, err)
	}
	// An entry that is not an ACL (left by a world older than ACLs; commits
	// cannot put one) grants nothing: it narrows like an empty .acl, and
	// the admins above can replace it. An error here would lock them out.
	a, _ := DecodeACL(b)
	c.acls[p] = &a
	return &a, nil
}

// rightsIn returns the rights a gives key: the union of the rules that
// name it, a group it is in, or anyone.
func (c *Checker) rightsIn(a *ACL, key [32]byte) (Rights, error) {
	var r Rights
	for _, rule := range a.Rules {
		if r|rule.Rights == r {
			continue
		}
		ok, err := c.matches(rule.Who, key)
		if err != nil {
			return None, err
		}
		if ok {
			r |= rule.Rights
		}
	}
	return r, nil
}

func (c *Checker) matches(w Who, key [32]byte) (bool, error) {
	switch w.Kind {
	case KeyWho:
		return w.Key == key, nil
	case AnyoneWho:
		return true, nil
	case GroupWho:
		return c.InGroup(w.Group, key)
	}
	return false, nil
}

// group returns the group at /sys/groups/name; a missing group is empty.
func (c *Checker) group(name string) (*Group, error) {
	if g, ok := c.groups[name]; ok {
		return g, nil
	}
	p := GroupsDir + "/" + name
	g := &Group{}
	e, err := c.r.Get(p)
	switch {
	case errs.Is(err, errs.NotExist) || err == nil && e.Kind != tree.KindValue:
	case err != nil:
		return nil, fmt.Errorf("acl: read %s: %w", p, err)
	default:
		b, err := c.r.Load(e.ID)
		if err != nil {
			return nil, fmt.Errorf("acl: load %s: %w", p, err)
		}
		// A group that does not decode has no members (see acl).
		*g, _ = DecodeGroup(b)
	}
	c.groups[name] = g
	return g, nil
}

// InGroup reports whether key is a member of the group name: listed in it,
// or in a group it lists, transitively. Membership is the least fixed
// point, so a cycle of groups adds nobody; a missing group is empty.
func (c *Checker) InGroup(name string, key [32]byte) (bool, error) {
	mk := memberKey{name, key}
	if m, ok := c.member[mk]; ok {
		return m, nil
	}
	// Breadth-first over the groups reachable from name: exact whatever
	// the cycles, and each group's answer for key is cached on the way
	// only when it is final (true), or at the end for name.
	seen := map[string]bool{name: true}
	queue := []string{name}
	found := false
	for len(queue) > 0 && !found {
		g, err := c.group(queue[0])
		if err != nil {
			return false, err
		}
		queue = queue[1:]
		for _, m := range g.Members {
			switch {
			case m.Kind == KeyWho && m.Key == key:
				found = true
			case m.Kind == GroupWho && !seen[m.Group]:
				if c.member[memberKey{m.Group, key}] {
					found = true
				}
				seen[m.Group] = true
				queue = append(queue, m.Group)
			}
		}
	}
	if !found {
		// Nothing reachable from name lists key: neither name nor any
		// group reachable from it contains key.
		for g := range seen {
			c.member[memberKey{g, key}] = false
		}
	}
	c.member[mk] = found
	return found, nil
}

// Can reports whether key has every right of need on path.
func (c *Checker) Can(key [32]byte, path string, need Rights) (bool, error) {
	r, _, err := c.Effective(key, path)
	if err != nil {
		return false, err
	}
	return r.Has(need), nil
}

// CheckWrite checks that author may change every path (NeedFor: admin for
// .acl entries and /sys, write otherwise), in order. The first path it may
// not change is an errs.Permission error naming the path, the right
// missing and the rights held.
func (c *Checker) CheckWrite(author [32]byte, paths []string) error {
	for _, p := range paths {
		need := NeedFor(p)
		r, src, err := c.Effective(author, p)
		if err != nil {
			return err
		}
		if !r.Has(need) {
			return errs.E(errs.Permission, errs.Path(p),
				fmt.Sprintf("acl: %s may not change this path: it needs %s and has %s (%s)", cdb.KeyString(author[:]), need, r, src))
		}
	}
	return nil
}

// ReadFilter returns a function reporting whether key may read a path:
// what it may not read (or cannot be evaluated) must look absent. The
// function caches per directory; it is not safe for concurrent use.
func (c *Checker) ReadFilter(key [32]byte) func(path string) bool {
	return func(p string) bool {
		ok, err := c.Can(key, p, Read)
		return err == nil && ok
	}
}

// Effective returns the rights of key on path in the snapshot r
// (Checker.Effective).
func Effective(r Reader, key [32]byte, path string) (Rights, Source, error) {
	return NewChecker(r).Effective(key, path)
}

// Can reports whether key has every right of need on path in r.
func Can(r Reader, key [32]byte, path string, need Rights) (bool, error) {
	return NewChecker(r).Can(key, path, need)
}

// CheckWrite checks that author may change every path in the snapshot r
// (Checker.CheckWrite): the rights check of a commit, judged on its
// parent's state.
func CheckWrite(r Reader, author [32]byte, paths []string) error {
	return NewChecker(r).CheckWrite(author, paths)
}

// ReadFilter returns the read filter of key over the snapshot r
// (Checker.ReadFilter).
func ReadFilter(r Reader, key [32]byte) func(path string) bool {
	return NewChecker(r).ReadFilter(key)
}
