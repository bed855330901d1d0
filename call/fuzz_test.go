package call

import (
	"bytes"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coins"
)

// FuzzRequest feeds the tree device arbitrary requests, one after the
// other, over a small tree: it must never panic, answer within its
// limits, and give the same answers twice (determinism).
func FuzzRequest(f *testing.F) {
	obj := append(bytes.Repeat([]byte{1}, coda.IDSize), 7, 0, 0, 0, 0, 0, 0, 0)
	for _, seed := range [][]byte{
		append([]byte{OpGet, 2, 0}, "/a"...),
		append([]byte{OpList, 1, 0}, "/"...),
		append(append([]byte{OpPut, 4, 0}, "/a/b"...), obj...),
		append([]byte{OpDelete, 2, 0}, "/a"...),
		{OpInput, 0, 0},
		append([]byte{OpOutput, 0, 0}, obj...),
		append([]byte{OpSchema, 1, 0}, "X"...),
		{0xFF, 0xFF, 0xFF},
		{OpGet},
	} {
		f.Add(seed, []byte{OpList, 1, 0, '/'})
	}
	st := memstore.New()
	id, err := st.Put(obj)
	if err != nil {
		f.Fatal(err)
	}
	root, err := tree.New(st).Apply(tree.EmptyRoot, []tree.Op{
		{Path: "/a", Entry: tree.Value(id, tree.Stamp{Time: 1})},
		{Path: "/d/x", Entry: tree.Value(id, tree.Stamp{Time: 1})},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, r1, r2 []byte) {
		run := func() [][]byte {
			d := newDevice(newOverlay(st), root, nil, obj)
			var out [][]byte
			for _, r := range [][]byte{r1, r2, r1} {
				st, _ := d.do(r)
				var in [coins.BufferSize]byte
				var o [coins.BufferSize]byte
				d.Send(&o, &in, true)
				if in[0] != st {
					t.Fatalf("status %d, query says %d", st, in[0])
				}
				out = append(out, append([]byte{st}, d.answer...))
			}
			if len(d.writes) > 3 {
				t.Fatalf("%d writes from 3 requests", len(d.writes))
			}
			return out
		}
		a, b := run(), run()
		for i := range a {
			if !bytes.Equal(a[i], b[i]) {
				t.Fatalf("request %d answered %x, then %x", i, a[i], b[i])
			}
		}
	})
}
