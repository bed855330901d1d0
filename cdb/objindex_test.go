package cdb

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/coalescent/coal/coda"
)

// TestObjIndex: the index of received objects holds them in ascending id
// order and finds each by id (and nothing else), whether made from the
// map or taken from Incoming.Sorted; a Sorted that is not in strictly
// ascending order, or not of every object, is not taken.
func TestObjIndex(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 1000, 5000} {
		objs := map[coda.ID][]byte{}
		for i := range n {
			b := fmt.Appendf(nil, "object %d", i)
			objs[coda.Sum(b)] = b
		}
		ids := slices.SortedFunc(func(yield func(coda.ID) bool) {
			for id := range objs {
				if !yield(id) {
					return
				}
			}
		}, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
		data := make([][]byte, len(ids))
		for i, id := range ids {
			data[i] = objs[id]
		}
		swapped := slices.Clone(ids)
		if n > 1 {
			swapped[0], swapped[1] = swapped[1], swapped[0]
		}
		short := &Sorted{IDs: ids[:max(0, n-1)], Data: data[:max(0, n-1)]}
		for name, s := range map[string]*Sorted{"map": nil, "sorted": {IDs: ids, Data: data},
			"swapped": {IDs: swapped, Data: data}, "short": short} {
			x := indexObjects(Incoming{Objects: objs, Summed: true, Sorted: s})
			if !slices.Equal(x.ids, ids) {
				t.Fatalf("n %d, %s: ids not the objects' in ascending order", n, name)
			}
			for i, id := range ids {
				if j, ok := x.find(id); !ok || j != i || !bytes.Equal(x.data[j], objs[id]) {
					t.Fatalf("n %d, %s: find(%s) = %d, %v; want %d", n, name, id, j, ok, i)
				}
			}
			var absent []coda.ID
			for i := range 100 {
				id := coda.Sum(fmt.Appendf(nil, "absent %d", i))
				if _, ok := x.find(id); ok {
					t.Fatalf("n %d, %s: found an absent id", n, name)
				}
				absent = append(absent, id)
			}
			// findAll: each id's position, -1 for the absent ones.
			q := append(slices.Clone(absent[:50]), ids...)
			q = append(q, absent[50:]...)
			pos := x.findAll(q, []int32{7})
			if len(pos) != 1+len(q) || pos[0] != 7 {
				t.Fatalf("n %d, %s: findAll gives %d positions after 1, want %d", n, name, len(pos)-1, len(q))
			}
			for j, p := range pos[1:] {
				want := int32(-1)
				if j >= 50 && j < 50+len(ids) {
					want = int32(j - 50)
				}
				if p != want {
					t.Fatalf("n %d, %s: findAll: query %d at %d, want %d", n, name, j, p, want)
				}
			}
		}
	}
}
