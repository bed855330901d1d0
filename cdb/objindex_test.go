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
			for i := range 100 {
				if _, ok := x.find(coda.Sum(fmt.Appendf(nil, "absent %d", i))); ok {
					t.Fatalf("n %d, %s: found an absent id", n, name)
				}
			}
		}
	}
}
