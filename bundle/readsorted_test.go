package bundle

import (
	"bytes"
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
)

// TestReadSorted: read gives a bundle's objects in ascending id order as
// well as by id, and its commits, so that Receive need neither sort nor
// look through them (cdb.Incoming.Sorted, Commits); a stream not in
// Create's order (or with an object twice) gives no order, and clones
// all the same.
func TestReadSorted(t *testing.T) {
	a := many(t, 1200)
	data := a.bundle(t, "alice", CreateOptions{})
	hdr, r, err := read(bytes.NewReader(data))
	must(t, err)
	if r.sorted == nil {
		t.Fatal("a bundle as Create writes it: no order")
	}
	if len(r.sorted.IDs) != len(r.objs) || len(r.sorted.Data) != len(r.objs) {
		t.Fatalf("sorted: %d ids, %d data, %d objects", len(r.sorted.IDs), len(r.sorted.Data), len(r.objs))
	}
	for i, id := range r.sorted.IDs {
		if i > 0 && bytes.Compare(r.sorted.IDs[i-1][:], id[:]) >= 0 {
			t.Fatalf("sorted: id %d (%s) not after id %d", i, id, i-1)
		}
		if b, ok := r.objs[id]; !ok || !bytes.Equal(b, r.sorted.Data[i]) || coda.Sum(r.sorted.Data[i]) != id {
			t.Fatalf("sorted: object %d (%s) is not the object of its id", i, id)
		}
	}
	var want []coda.ID
	for id, b := range r.objs {
		if coda.ID(b[:coda.IDSize]) == cdb.CommitSchemaID() {
			want = append(want, id)
		}
	}
	byID := func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) }
	got := slices.Clone(r.commits)
	slices.SortFunc(got, byID)
	slices.SortFunc(want, byID)
	if uint64(len(got)) != hdr.Commits || !slices.Equal(got, want) {
		t.Errorf("commits: %d, want the %d commit objects (header: %d)", len(got), len(want), hdr.Commits)
	}

	// The same objects, the others in descending order, or one twice.
	var commits, rest [][]byte
	for _, id := range r.sorted.IDs {
		if b := r.objs[id]; coda.ID(b[:coda.IDSize]) == cdb.CommitSchemaID() {
			commits = append(commits, b)
		} else {
			rest = append(rest, b)
		}
	}
	slices.Reverse(rest)
	twice := append(slices.Clone(rest), rest[0])
	for name, objs := range map[string][][]byte{"descending": rest, "twice": twice} {
		var b bytes.Buffer
		_, err := write(&b, hdr, append(slices.Clone(commits), objs...))
		must(t, err)
		_, r2, err := read(bytes.NewReader(b.Bytes()))
		must(t, err)
		if r2.sorted != nil {
			t.Errorf("%s: read gives an order", name)
		}
		c := clone(t, b.Bytes(), secured())
		if c.head(t) != a.head(t) {
			t.Errorf("%s: clone head %s, want %s", name, c.head(t), a.head(t))
		}
	}
}

// TestReadIncoming: ReadIncoming gives what Receive takes of a bundle,
// the order and the commits included.
func TestReadIncoming(t *testing.T) {
	a := many(t, 300)
	data := a.bundle(t, "bob", CreateOptions{})
	hdr, in, err := ReadIncoming(bytes.NewReader(data))
	must(t, err)
	if !in.Summed || in.Sorted == nil || len(in.Sorted.IDs) != len(in.Objects) || uint64(len(in.Commits)) != hdr.Commits {
		t.Errorf("Incoming: summed %v, sorted %v, %d commits (header %d)", in.Summed, in.Sorted != nil, len(in.Commits), hdr.Commits)
	}
	if in.Head != hdr.Head || !slices.Equal(in.Withheld, hdr.Withheld) || len(in.Withheld) == 0 || !bytes.Equal(in.Maker, a.key(t, "bob").Public) {
		t.Errorf("Incoming: head %s, withheld %v, maker %x; header %s, %v, %s", in.Head, in.Withheld, in.Maker, hdr.Head, hdr.Withheld, hdr.Author)
	}
}
