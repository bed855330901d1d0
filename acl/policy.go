package acl

import (
	"bytes"
	"crypto/ed25519"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
)

// Policy is the cdb.Policy of access control: CheckCommit for every
// commit, /.acl at genesis, ReadFilter for reads, and the ACL and Group
// schemas for puts. The zero value is ready to use.
//
// Worlds made before access control (issue 5) have no /.acl. In a tree
// where /.acl has never existed — no entry and no tombstone, so a world
// whose admins deleted it does not qualify — the world's creator (the
// author of its genesis commit) is admin of /, as genesis would have made
// them; the first /.acl written ends that for good.
type Policy struct{}

var _ cdb.Policy = Policy{}

// With returns opts with the ACL policy set: open homes as
// cdb.Open(dir, acl.With(opts)).
func With(opts cdb.Options) cdb.Options {
	opts.Policy = Policy{}
	return opts
}

// legacyCreator returns the creator of world if the tree root never had
// a /.acl (see Policy).
func legacyCreator(st tree.Store, world, root coda.ID) (ed25519.PublicKey, bool) {
	if _, present, err := tree.New(st).Leaf(root, "/"+ACLName, false); err != nil || present {
		return nil, false
	}
	b, err := st.Get(world)
	if err != nil {
		return nil, false
	}
	g, err := cdb.DecodeCommit(b)
	if err != nil || !g.IsGenesis() || g.ID != world {
		return nil, false
	}
	return g.Author, true
}

// CheckCommit is CheckCommit, with the creator of a world that never had
// a /.acl admin of / (see Policy).
func (Policy) CheckCommit(st tree.Store, c *cdb.Commit, parents []*cdb.Commit) error {
	if !c.IsGenesis() && !c.IsMerge() && len(parents) > 0 {
		if creator, ok := legacyCreator(st, c.World, parents[0].Tree); ok && bytes.Equal(creator, c.Author) {
			for _, op := range c.Ops {
				if err := checkContent(st, op); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return CheckCommit(st, c, parents)
}

// Genesis writes /.acl making the creator admin of /.
func (Policy) Genesis(creator ed25519.PublicKey) ([]cdb.GenesisLeaf, error) {
	b, err := GenesisACL([32]byte(creator))
	if err != nil {
		return nil, err
	}
	return []cdb.GenesisLeaf{{Path: "/" + ACLName, Data: b}}, nil
}

// ReadFilter is ReadFilter over the tree root in st, with the creator of a
// world that never had a /.acl reading everything (see Policy).
func (Policy) ReadFilter(st tree.Store, world, root coda.ID, reader ed25519.PublicKey) func(path string) bool {
	if len(reader) != ed25519.PublicKeySize {
		return func(string) bool { return false }
	}
	if creator, ok := legacyCreator(st, world, root); ok && bytes.Equal(creator, reader) {
		return func(string) bool { return true }
	}
	return ReadFilter(TreeReader(st, root), [32]byte(reader))
}

// Schemas returns the ACL and Group schemas.
func (Policy) Schemas() []*coda.Schema {
	a, err1 := ACLSchema()
	g, err2 := GroupSchema()
	if err1 != nil || err2 != nil {
		return nil
	}
	return []*coda.Schema{a, g}
}
