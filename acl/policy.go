package acl

import (
	"crypto/ed25519"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
)

// Policy is the cdb.Policy of access control: CheckCommit for every
// commit, /.acl at genesis, ReadFilter for reads, and the ACL and Group
// schemas for puts. The zero value is ready to use.
type Policy struct{}

var _ cdb.Policy = Policy{}

// With returns opts with the ACL policy set: open homes as
// cdb.Open(dir, acl.With(opts)).
func With(opts cdb.Options) cdb.Options {
	opts.Policy = Policy{}
	return opts
}

// CheckCommit is CheckCommit.
func (Policy) CheckCommit(st tree.Store, c *cdb.Commit, parents []*cdb.Commit) error {
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

// ReadFilter is ReadFilter over the tree root in st.
func (Policy) ReadFilter(st tree.Store, root coda.ID, reader ed25519.PublicKey) func(path string) bool {
	if len(reader) != ed25519.PublicKeySize {
		return func(string) bool { return false }
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
