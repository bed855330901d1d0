package bundle

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/pebblestore"
	"github.com/coalescent/coal/coda"
)

// plainOnly hides a store's optional interfaces (store.WholeReader): the
// prober then reads one value at a time.
type plainOnly struct{ store.Store }

// The prober gives the same results, slot by slot, whether it reads a
// store.WholeReader in id order or value by value: small values (kept),
// values over objectHeadMax, chunked ones, missing ones, one added twice,
// and one too short to have a schema id.
func TestProberSorted(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ids []coda.ID
	put := func(b []byte) {
		id, err := st.Put(b)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	schema := bytes.Repeat([]byte{7}, coda.IDSize)
	for i := range 2000 {
		put(append(schema, fmt.Sprintf("value %d", i)...))
	}
	put(append(schema, bytes.Repeat([]byte("x"), 2*objectHeadMax)...))
	put(append(schema, bytes.Repeat([]byte("chunked "), store.ChunkThreshold/4)...))
	put([]byte("short"))
	ids = append(ids, coda.Sum([]byte("missing")), ids[17], ids[3])
	// room: the bytes the prober may keep (the rest of keepBytes is taken).
	read := func(s store.Store, room int64) []probe {
		kept := &budget{}
		kept.n.Store(keepBytes - room)
		p := startProber(s, kept, len(ids))
		for i, id := range ids {
			if slot := p.add(id); slot != int32(i) {
				t.Fatalf("add: slot %d, want %d", slot, i)
			}
		}
		return p.wait()
	}
	for _, room := range []int64{keepBytes, 1000} {
		sorted, one := read(st, room), read(plainOnly{st}, room)
		if len(sorted) != len(ids) || len(one) != len(ids) {
			t.Fatalf("room %d: %d and %d results, want %d", room, len(sorted), len(one), len(ids))
		}
		for i := range ids {
			a, b := sorted[i], one[i]
			if a.ok != b.ok || a.id != b.id || a.schema != b.schema || a.size != b.size || room > 1000 && !bytes.Equal(a.b, b.b) {
				t.Errorf("room %d, slot %d (%s): sorted {ok %v size %d schema %s kept %d}, one by one {ok %v size %d schema %s kept %d}",
					room, i, ids[i].Short(), a.ok, a.size, a.schema.Short(), len(a.b), b.ok, b.size, b.schema.Short(), len(b.b))
			}
		}
		if sorted[2000].b != nil || !sorted[2000].ok {
			t.Errorf("a value over objectHeadMax: ok %v, kept %d bytes; want ok, not kept", sorted[2000].ok, len(sorted[2000].b))
		}
		if sorted[len(ids)-3].ok {
			t.Error("a missing value probed ok")
		}
	}
}
