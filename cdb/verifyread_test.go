package cdb

import (
	"bytes"
	"crypto/ed25519"
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// TestVerifyReadGroups: a signed commit whose op groups were read keeps
// the ids it read (groupsRead) — the ids computing the groups anew gives —
// and verifies; once its Ops are another slice, Verify computes the
// groups anew, so changed ops fail; a merge commit never keeps them.
func TestVerifyReadGroups(t *testing.T) {
	cs := mustSchemas()
	key, err := NewIdentity("k", bytes.Repeat([]byte{9}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	p1 := coda.Sum([]byte("p1"))
	c0 := &Commit{World: coda.Sum([]byte("w")), Parents: []coda.ID{p1}, Tree: coda.Sum([]byte("t")), Time: 2 << 16,
		Ops: []Change{{Path: "/", Meta: true, ID: coda.Sum([]byte("m"))}, {Path: "/a", ID: coda.Sum([]byte("a"))},
			{Path: "/a/b", Delete: true}, {Path: "/a/c", ID: coda.Sum([]byte("c"))}, {Path: "/b/x/y", ID: coda.Sum([]byte("y"))}}}
	obj, err := cs.sign(c0, key)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[coda.ID][]byte{}
	for _, g := range c0.Groups() {
		groups[coda.Sum(g)] = g
	}
	get := func(id coda.ID) ([]byte, error) {
		if b, ok := groups[id]; ok {
			return b, nil
		}
		return nil, errs.E(errs.NotExist, "no such group")
	}
	c, err := DecodeCommitWith(obj, get)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Ops, c0.Ops) {
		t.Fatalf("decoded ops %v, want %v", c.Ops, c0.Ops)
	}
	if len(c.OpGroups) != 3 || !c.groupsRead() {
		t.Fatalf("decoded commit: %d groups, groupsRead %v; want 3, true", len(c.OpGroups), c.groupsRead())
	}
	anew := &Commit{Ops: slices.Clone(c.Ops)}
	if err := cs.groupOps(anew); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(anew.OpGroups, c.OpGroups) {
		t.Fatalf("groups computed anew %v, read %v", anew.OpGroups, c.OpGroups)
	}
	before := slices.Clone(c.OpGroups)
	if err := c.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !slices.Equal(c.OpGroups, before) || c.Groups() != nil {
		t.Fatalf("Verify changed OpGroups or set groups of a decoded commit")
	}

	forged := *c
	forged.Ops = slices.Clone(c.Ops)
	i := slices.IndexFunc(forged.Ops, func(o Change) bool { return o.Path == "/a/c" })
	forged.Ops[i].ID = coda.Sum([]byte("forged"))
	if forged.groupsRead() {
		t.Fatal("a commit with other Ops still counts its groups as read")
	}
	if err := forged.Verify(); !errs.Is(err, errs.Invalid) {
		t.Fatalf("Verify of changed ops = %v, want an invalid error", err)
	}
	fewer := *c
	fewer.Ops = c.Ops[:len(c.Ops)-1]
	if err := fewer.Verify(); !errs.Is(err, errs.Invalid) {
		t.Fatalf("Verify of fewer ops = %v, want an invalid error", err)
	}

	stamp := tree.Stamp{Time: 4 << 16}
	m := &Commit{World: coda.Sum([]byte("w")), Parents: []coda.ID{p1, coda.Sum([]byte("p2"))}, Tree: coda.Sum([]byte("t")), Time: 4 << 16,
		Ops:       []Change{{Path: "/x", ID: coda.Sum([]byte("x"))}},
		Conflicts: []Conflict{{Path: "/x", Winner: coda.Sum([]byte("x")), Loser: coda.Sum([]byte("z")), WinnerStamp: stamp, LoserStamp: stamp}}}
	slices.SortFunc(m.Parents, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
	mobj, err := cs.encode(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range m.Groups() {
		groups[coda.Sum(g)] = g
	}
	md, err := DecodeCommitWith(mobj, get)
	if err != nil {
		t.Fatal(err)
	}
	if md.groupsRead() {
		t.Fatal("a merge commit counts its groups as read")
	}
}
