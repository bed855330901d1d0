package tree

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// TestValues: Values shows the values List shows, in the same order, and
// neither tombstones, subdirectories nor the metadata leaf; it stops at
// fn's error; a missing directory is NotExist.
func TestValues(t *testing.T) {
	tr := New(memstore.New())
	b := tr.NewBuilder()
	if err := b.AddMeta("/d", Value(coda.Sum([]byte("meta")), Stamp{})); err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		name := fmt.Sprintf("n%05d", i)
		e := Value(coda.Sum([]byte(name)), Stamp{})
		if i%7 == 0 {
			e = Tombstone(Stamp{})
		}
		if err := b.Add("/d/"+name, e); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			if err := b.Add(fmt.Sprintf("/d/n%05da/x", i), Value(coda.Sum([]byte("x")), Stamp{})); err != nil {
				t.Fatal(err)
			}
		}
	}
	root, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	list, err := tr.List(root, "/d")
	if err != nil {
		t.Fatal(err)
	}
	var want []DirEntry
	for _, de := range list {
		if de.Kind == KindValue {
			want = append(want, de)
		}
	}
	var got []DirEntry
	if err := tr.Values(root, "/d", func(name string, e Entry) error {
		got = append(got, DirEntry{Name: name, Entry: e})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("Values: %d entries, List's values %d", len(got), len(want))
	}
	stop := errors.New("stop")
	n := 0
	if err := tr.Values(root, "/d", func(string, Entry) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Values stopped by fn: %v after %d calls; want stop after 1", err, n)
	}
	if err := tr.Values(root, "/nothing", func(string, Entry) error { return nil }); !errors.Is(err, errs.NotExist) {
		t.Errorf("Values of a missing directory: %v; want NotExist", err)
	}
}
