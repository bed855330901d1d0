package tree

import (
	"errors"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func TestVerifyCorruption(t *testing.T) {
	s := hidingStore{Store: memstore.New(), hidden: map[coda.ID]bool{}}
	tr := New(s)
	v := func(x string) Entry { return Value(coda.Sum([]byte(x)), Stamp{Time: 1}) }
	root, err := tr.Apply(EmptyRoot, []Op{{Path: "/d/a", Entry: v("a")}, {Path: "/d/b", Entry: v("b")}, {Path: "/x", Entry: v("x")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Verify(root); err != nil {
		t.Fatal(err)
	}
	put := func(n *node) coda.ID {
		id, err := s.Put(encodeNode(n))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	e, _ := tr.Get(root, "/d")
	ia, ib := item{key: key{"a", false}, e: v("a")}, item{key: key{"b", false}, e: v("b")}

	// /d split into two chunks where the rule makes one.
	if isBoundary(ia.key, 0) {
		t.Skip("key a is a boundary; pick other names")
	}
	split := put(&node{level: 1, items: []item{
		{key: ia.key, e: Entry{Kind: KindDir, ID: put(&node{items: []item{ia}})}},
		{key: ib.key, e: Entry{Kind: KindDir, ID: put(&node{items: []item{ib}})}},
	}})
	bad1 := put(&node{items: []item{{key: key{"d", true}, e: Entry{Kind: KindDir, ID: split, Live: 2}}}})
	// /d with a wrong live count.
	bad2 := put(&node{items: []item{{key: key{"d", true}, e: Entry{Kind: KindDir, ID: e.ID, Live: 5}}}})
	// An empty directory stored.
	bad3 := put(&node{items: []item{{key: key{"d", true}, e: Entry{Kind: KindDir, ID: EmptyRoot}}}})
	for name, r := range map[string]coda.ID{"split": bad1, "live": bad2, "empty dir": bad3} {
		if err := tr.Verify(r); !errs.Is(err, errs.Corrupt) {
			t.Errorf("%s: Verify = %v; want a corrupt error", name, err)
		}
	}
	// Reads of the split tree still work: the structure is valid, only not canonical.
	if _, err := tr.Get(bad1, "/d/b"); err != nil {
		t.Errorf("Get in a non-canonical tree: %v", err)
	}

	// A missing node is corruption, never "no such path".
	s.hidden[e.ID] = true
	_, err = tr.Get(root, "/d/a")
	if !errs.Is(err, errs.Corrupt) || errors.Is(err, errs.NotExist) {
		t.Errorf("Get with a missing node = %v; want corrupt and not not-exist", err)
	}
	if err := tr.Verify(root); !errs.Is(err, errs.Corrupt) {
		t.Errorf("Verify with a missing node = %v", err)
	}

	// A child whose level contradicts its parent's.
	lie := put(&node{level: 2, items: []item{{key: ib.key, e: Entry{Kind: KindDir, ID: put(&node{items: []item{ia, ib}})}}}})
	bad4 := put(&node{items: []item{{key: key{"d", true}, e: Entry{Kind: KindDir, ID: lie, Live: 2}}}})
	if _, err := tr.Get(bad4, "/d/a"); !errs.Is(err, errs.Corrupt) {
		t.Errorf("Get through a lying level = %v; want corrupt", err)
	}
}

// hidingStore makes chosen objects missing, as a damaged store would.
type hidingStore struct {
	Store
	hidden map[coda.ID]bool
}

func (h hidingStore) Get(id coda.ID) ([]byte, error) {
	if h.hidden[id] {
		return nil, errs.E(errs.NotExist, "object "+id.String()+" missing")
	}
	return h.Store.Get(id)
}
