package acl

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/errs"
)

// GenesisACL returns the object bytes of the root .acl a world's genesis
// commit writes at /.acl: its creator is admin of /.
func GenesisACL(creator [32]byte) ([]byte, error) {
	return ACL{Rules: []Rule{{Who: Key(creator), Rights: All}}}.Encode()
}

// ChangedPaths returns the paths of c's ops in the form Effective takes:
// a metadata leaf is its directory's path with a trailing "/" ("/" for the
// root's).
func ChangedPaths(c *cdb.Commit) []string {
	out := make([]string, len(c.Ops))
	for i, op := range c.Ops {
		out[i] = op.Path
		if op.Meta && op.Path != "/" {
			out[i] = op.Path + "/"
		}
	}
	return out
}

// Hook returns the rights step of cdb.ValidateCommit over the store st
// (for cdb.ValidateEnv.Rights): CheckCommit.
func Hook(st tree.Store) func(c *cdb.Commit, parents []*cdb.Commit) error {
	return func(c *cdb.Commit, parents []*cdb.Commit) error { return CheckCommit(st, c, parents) }
}

// CheckCommit checks the rights of c, judged on its parent's state:
//
//   - a signed commit's author needs write on every path it changes, admin
//     for .acl entries and /sys (CheckWrite on the first parent's tree);
//   - a genesis commit's author is the world's creator, admin of / by
//     definition: anything goes;
//   - a merge commit has no author and changes nothing its parents did not
//     (cdb recomputes it), so it passes: each parent's commits were
//     checked on their own parents, so a write that was invalid when made
//     never enters, and a write concurrent with a revocation is kept (it
//     did not causally follow the revocation).
//
// Besides rights, every .acl a commit puts must be an ACL object, every
// put under /sys/groups a group object at /sys/groups/NAME, and nothing is
// put under a name .acl (errs.Invalid). Those objects must be in st.
func CheckCommit(st tree.Store, c *cdb.Commit, parents []*cdb.Commit) error {
	if c.IsMerge() {
		return nil
	}
	if len(c.Author) != ed25519.PublicKeySize {
		return errs.E(errs.Invalid, fmt.Sprintf("acl: author key is %d bytes", len(c.Author)))
	}
	if !c.IsGenesis() {
		if len(parents) == 0 {
			return errs.E(errs.Invalid, "acl: no parent to judge the commit on")
		}
		if err := CheckWrite(TreeReader(st, parents[0].Tree), [32]byte(c.Author), ChangedPaths(c)); err != nil {
			return err
		}
	}
	for _, op := range c.Ops {
		if err := checkContent(st, op); err != nil {
			return err
		}
	}
	return nil
}

// checkContent checks what a put of op stores where evaluation will read
// it.
func checkContent(st tree.Store, op cdb.Change) error {
	segs, err := tree.SplitPath(op.Path)
	if err != nil || op.Delete {
		return err
	}
	n := len(segs)
	for i, s := range segs {
		if s == ACLName && (i < n-1 || op.Meta) {
			return errs.E(errs.Invalid, errs.Path(op.Path), "acl: .acl is an entry holding an ACL, not a directory")
		}
	}
	isGroup := n >= 2 && segs[0] == "sys" && segs[1] == "groups"
	if isGroup && (n != 3 || op.Meta) {
		if n == 2 && op.Meta {
			return nil // the metadata of /sys/groups itself
		}
		return errs.E(errs.Invalid, errs.Path(op.Path), "acl: groups are entries of /sys/groups")
	}
	if op.Meta || (n == 0 || segs[n-1] != ACLName) && !isGroup {
		return nil
	}
	b, err := st.Get(op.ID)
	if err != nil {
		return fmt.Errorf("acl: load %s: %w", op.Path, err)
	}
	if isGroup {
		_, err = DecodeGroup(b)
	} else {
		_, err = DecodeACL(b)
	}
	if err != nil {
		return errs.E(errs.Invalid, errs.Path(op.Path), err)
	}
	return nil
}

// CheckGroup reports whether storing g at /sys/groups/name in the snapshot
// r would make a cycle of groups: whether a group g adds (one that the
// stored group does not list) is name or contains name, directly or
// through others. The error is errs.Invalid and names the cycle. Removals
// never make cycles, so they always pass, even where a cycle exists.
// Evaluation tolerates cycles (they add nobody), and two concurrent
// branches can merge into one, so commits with cycles are valid; `coal
// group add` refuses to make one.
func CheckGroup(r Reader, name string, g Group) error {
	c := NewChecker(r)
	old, err := c.group(name)
	if err != nil {
		return err
	}
	c.groups[name] = &g
	seen := map[string]bool{}
	// find returns the groups from n down to name, if n reaches name.
	var find func(n string) ([]string, error)
	find = func(n string) ([]string, error) {
		if n == name {
			return []string{n}, nil
		}
		if seen[n] {
			return nil, nil
		}
		seen[n] = true
		grp, err := c.group(n)
		if err != nil {
			return nil, err
		}
		for _, m := range grp.Members {
			if m.Kind != GroupWho {
				continue
			}
			p, err := find(m.Group)
			if err != nil || p != nil {
				return append([]string{n}, p...), err
			}
		}
		return nil, nil
	}
	for _, m := range g.Members {
		if m.Kind != GroupWho || slices.Contains(old.Members, m) {
			continue
		}
		p, err := find(m.Group)
		if err != nil {
			return err
		}
		if p != nil {
			return errs.E(errs.Invalid, errs.Path(GroupsDir+"/"+name),
				fmt.Sprintf("acl: adding group:%s to group %s would make a cycle: %s → %s", m.Group, name, name, strings.Join(p, " → ")))
		}
	}
	return nil
}
