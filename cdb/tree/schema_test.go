package tree

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
)

func TestNodeSchemaID(t *testing.T) {
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	if NodeSchemaID.IsZero() {
		t.Fatal("NodeSchemaID is zero")
	}
	// Golden: these change only if tree.coda or the CODA schema encoding
	// changes, which changes every tree id.
	if got, want := NodeSchemaID.String(), "nn6f33lvpmjixwtkudug662crenulbkqoxxdbsc7krhiwghhmj3q"; got != want {
		t.Errorf("NodeSchemaID = %s, want %s", got, want)
	}
	if got, want := EmptyRoot.String(), "23zsvivpouhrnwqmjcx3hw6cgxdnqohom3edsxzbph4kktimli5q"; got != want {
		t.Errorf("EmptyRoot = %s, want %s", got, want)
	}
}

// nodeValue converts a node to a generic coda.Value of schema Node.
func nodeValue(n *node) coda.Value {
	stamp := func(s Stamp) coda.Value {
		return coda.Struct(coda.U64(s.Time), coda.FixedBytes(s.Author[:]))
	}
	var elems []coda.Value
	for _, it := range n.items {
		if n.level > 0 {
			elems = append(elems, coda.Struct(coda.String(it.key.name), coda.Bool(it.key.dir), coda.Link(it.e.ID)))
			continue
		}
		var itm coda.Value
		switch it.e.Kind {
		case KindValue:
			itm = coda.Enum(0, coda.Struct(coda.Link(it.e.ID), stamp(it.e.Stamp)))
		case KindTombstone:
			itm = coda.Enum(1, stamp(it.e.Stamp))
		case KindDir:
			itm = coda.Enum(2, coda.Struct(coda.Link(it.e.ID), coda.U64(it.e.Live)))
		}
		elems = append(elems, coda.Struct(coda.String(it.key.name), itm))
	}
	if n.level > 0 {
		return coda.Enum(1, coda.Struct(coda.U8(uint8(n.level)), coda.List(elems...)))
	}
	return coda.Enum(0, coda.List(elems...))
}

// TestCodecMatchesGeneric checks the hand-written encoder and decoder
// against the generic CODA codec on random nodes.
func TestCodecMatchesGeneric(t *testing.T) {
	schemas, err := Schemas()
	if err != nil {
		t.Fatal(err)
	}
	var nodeSchema *coda.Schema
	for _, s := range schemas {
		if s.Name == "Node" {
			nodeSchema = s
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	for i := range 2000 {
		n := randNode(r)
		want, err := coda.AppendBody(nil, nodeSchema, nodeValue(n))
		if err != nil {
			t.Fatalf("node %d: generic encode: %v", i, err)
		}
		if got := appendBody(nil, n); !bytes.Equal(got, want) {
			t.Fatalf("node %d: hand-written body differs from the generic codec:\n got %x\nwant %x", i, got, want)
		}
		obj := encodeNode(n)
		if _, err := coda.DecodeBody(nodeSchema, obj[coda.IDSize:], coda.DecodeOptions{}); err != nil {
			t.Fatalf("node %d: generic decode: %v", i, err)
		}
		if id, err := coda.ObjectID(nodeSchema, nodeValue(n)); err != nil || id != coda.Sum(obj) {
			t.Fatalf("node %d: object id %s, %v; want %s", i, id, err, coda.Sum(obj))
		}
	}
}

// TestGoldenRoots pins the roots of two small trees, so that a change to
// the encoding or the chunking rule cannot pass unnoticed, and a second
// implementation has vectors to check against (docs/tree.md).
func TestGoldenRoots(t *testing.T) {
	author := [32]byte{1}
	tr := New(memstore.New())
	small, err := tr.Apply(EmptyRoot, []Op{
		{Path: "/a", Entry: Value(coda.Sum([]byte("a")), Stamp{Time: 1 << 16, Author: author})},
		{Path: "/d/x", Entry: Value(coda.Sum([]byte("x")), Stamp{Time: 1 << 16, Author: author})},
		{Path: "/d", Meta: true, Entry: Value(coda.Sum([]byte("meta")), Stamp{Time: 1 << 16, Author: author})},
	})
	if err == nil {
		small, err = tr.Delete(small, "/d/x", Stamp{Time: 2 << 16, Author: author})
	}
	if err != nil {
		t.Fatal(err)
	}
	b := tr.NewBuilder()
	for i := range 10000 {
		name := fmt.Sprintf("f%05d", i)
		if err := b.Add("/big/"+name, Value(coda.Sum([]byte(name)), Stamp{Time: uint64(i), Author: author})); err != nil {
			t.Fatal(err)
		}
	}
	big, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		got  coda.ID
		want string
	}{
		{"small", small, "g7rsaouip5icjroc5vuab5hodjwgmjciaiqyetibt33crmhbix6a"},
		{"big", big, "7seeloqwz7xnlbaniwul2xsiwfpjqvqwyl2hxmk6bncw6q6ft3aa"},
	} {
		if tc.got.String() != tc.want {
			t.Errorf("%s tree root = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}
