// Package storetest is the conformance suite for store.Store: one set of
// tests that every implementation must pass (memstore, pebblestore, and any
// later one), after Perkeep's storagetest.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Option adjusts the suite.
type Option func(*config)

type config struct {
	reopen func(t *testing.T, s store.Store) store.Store
}

// WithReopen gives the suite a way to close a store and open it again, for
// the persistence tests. Stores that forget everything on Close omit it.
func WithReopen(reopen func(t *testing.T, s store.Store) store.Store) Option {
	return func(c *config) { c.reopen = reopen }
}

// Run runs the suite. newStore returns a new, empty store; it should
// arrange (with t.Cleanup) to close it, ignoring store.ErrClosed.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	tests := []struct {
		name string
		f    func(t *testing.T, s store.Store)
	}{
		{"PutGet", testPutGet},
		{"Missing", testMissing},
		{"Sizes", testSizes},
		{"PutReader", testPutReader},
		{"OwnedSlices", testOwnedSlices},
		{"Batch", testBatch},
		{"BatchDiscard", testBatchDiscard},
		{"BatchConflict", testBatchConflict},
		{"BatchDone", testBatchDone},
		{"Refs", testRefs},
		{"RefNames", testRefNames},
		{"SwapRef", testSwapRef},
		{"OpenRanges", testOpenRanges},
		{"Objects", testObjects},
		{"EditMiddle", testEditMiddle},
		{"ChunkTransfer", testChunkTransfer},
		{"ChunkBatch", testChunkBatch},
		{"Verify", testVerify},
		{"Concurrent", testConcurrent},
		{"ConcurrentSwap", testConcurrentSwap},
		{"Closed", testClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.f(t, newStore(t)) })
	}
	if c.reopen != nil {
		t.Run("Reopen", func(t *testing.T) { testReopen(t, newStore(t), c.reopen) })
	}
}

// Random returns n pseudo-random bytes determined by seed.
func Random(seed uint64, n int) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24), byte(seed >> 32)})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// interesting sizes: empty, tiny, around the chunk bounds and the threshold.
var sizes = []int{
	0, 1, 100, 4096,
	store.MinChunk - 1, store.MinChunk, store.MinChunk + 1,
	store.AvgChunk, store.ChunkThreshold - 1, store.ChunkThreshold, store.ChunkThreshold + 1,
	store.ChunkThreshold + store.MinChunk, 2 * store.MaxChunk, 3<<20 + 17,
}

func put(t *testing.T, s store.Store, data []byte) coda.ID {
	t.Helper()
	id, err := s.Put(data)
	if err != nil {
		t.Fatalf("Put(%d bytes): %v", len(data), err)
	}
	if want := coda.Sum(data); id != want {
		t.Fatalf("Put(%d bytes) = %s, want %s", len(data), id, want)
	}
	return id
}

func mustGet(t *testing.T, s store.Store, id coda.ID, want []byte) {
	t.Helper()
	got, err := s.Get(id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id.Short(), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%s): got %d bytes, want %d (equal prefix: %v)", id.Short(), len(got), len(want), bytes.HasPrefix(want, got[:min(len(got), 16)]))
	}
}

func mustHave(t *testing.T, s store.Store, id coda.ID, want bool) {
	t.Helper()
	got, err := s.Has(id)
	if err != nil || got != want {
		t.Fatalf("Has(%s) = %v, %v; want %v", id.Short(), got, err, want)
	}
}

func wantKind(t *testing.T, what string, err error, k errs.Kind) {
	t.Helper()
	if !errors.Is(err, k) {
		t.Fatalf("%s: got error %v, want kind %v", what, err, k)
	}
}

func testPutGet(t *testing.T, s store.Store) {
	data := []byte("hello, coal")
	id := put(t, s, data)
	mustGet(t, s, id, data)
	mustHave(t, s, id, true)
	if n, err := s.Size(id); err != nil || n != int64(len(data)) {
		t.Fatalf("Size = %d, %v; want %d", n, err, len(data))
	}
	// Putting it again is fine and changes nothing.
	put(t, s, data)
	mustGet(t, s, id, data)
}

func testMissing(t *testing.T, s store.Store) {
	id := coda.Sum([]byte("absent"))
	mustHave(t, s, id, false)
	_, err := s.Get(id)
	wantKind(t, "Get(missing)", err, errs.NotExist)
	_, err = s.Size(id)
	wantKind(t, "Size(missing)", err, errs.NotExist)
	_, err = s.Open(id)
	wantKind(t, "Open(missing)", err, errs.NotExist)
	_, err = s.GetRef("heads/none")
	wantKind(t, "GetRef(missing)", err, errs.NotExist)
	if c, ok := s.(store.Chunked); ok {
		_, err = c.Chunks(id)
		wantKind(t, "Chunks(missing)", err, errs.NotExist)
		_, err = c.GetChunk(id)
		wantKind(t, "GetChunk(missing)", err, errs.NotExist)
	}
	wantKind(t, "Verify(missing)", store.Verify(s, id), errs.NotExist)
}

func testSizes(t *testing.T, s store.Store) {
	for i, n := range sizes {
		data := Random(uint64(i), n)
		id := put(t, s, data)
		mustGet(t, s, id, data)
		mustHave(t, s, id, true)
		if got, err := s.Size(id); err != nil || got != int64(n) {
			t.Fatalf("Size(%d-byte value) = %d, %v", n, got, err)
		}
		b, err := s.Open(id)
		if err != nil {
			t.Fatalf("Open(%d-byte value): %v", n, err)
		}
		if b.Size() != int64(n) {
			t.Fatalf("Open(%d-byte value).Size() = %d", n, b.Size())
		}
		got, err := io.ReadAll(b)
		b.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("reading %d-byte value: %d bytes, %v", n, len(got), err)
		}
		c, ok := s.(store.Chunked)
		if !ok {
			continue
		}
		m, err := c.Chunks(id)
		if n <= store.ChunkThreshold {
			wantKind(t, fmt.Sprintf("Chunks(%d-byte value)", n), err, errs.Invalid)
			continue
		}
		if err != nil {
			t.Fatalf("Chunks(%d-byte value): %v", n, err)
		}
		if m.ID != id || m.Size != int64(n) {
			t.Fatalf("manifest of %d-byte value: id %s size %d", n, m.ID.Short(), m.Size)
		}
		off := 0
		for _, ch := range m.Chunks {
			if want := coda.Sum(data[off : off+int(ch.Len)]); ch.ID != want {
				t.Fatalf("chunk at %d: id %s, want %s", off, ch.ID.Short(), want.Short())
			}
			if k := store.Cut(data[off:]); k != int(ch.Len) {
				t.Fatalf("chunk at %d: length %d, Cut says %d", off, ch.Len, k)
			}
			off += int(ch.Len)
		}
	}
}

func testPutReader(t *testing.T, s store.Store) {
	for i, n := range sizes {
		data := Random(uint64(100+i), n)
		var r io.Reader = bytes.NewReader(data)
		switch i % 3 {
		case 1:
			r = iotest.HalfReader(r)
		case 2:
			r = iotest.DataErrReader(r)
		}
		id, size, err := s.PutReader(r)
		if err != nil || id != coda.Sum(data) || size != int64(n) {
			t.Fatalf("PutReader(%d bytes) = %s, %d, %v; want %s", n, id.Short(), size, err, coda.Sum(data).Short())
		}
		mustGet(t, s, id, data)
	}
	// A failing reader stores nothing.
	data := Random(7, 2*store.MaxChunk)
	r := io.MultiReader(bytes.NewReader(data), iotest.ErrReader(errors.New("boom")))
	if _, _, err := s.PutReader(r); err == nil {
		t.Fatal("PutReader with a failing reader succeeded")
	}
	mustHave(t, s, coda.Sum(data), false)
}

func testOwnedSlices(t *testing.T, s store.Store) {
	for _, n := range []int{10, 2 * store.MaxChunk} {
		data := Random(uint64(n), n)
		orig := bytes.Clone(data)
		id := put(t, s, data)
		data[0] ^= 0xff // the store must have copied
		mustGet(t, s, id, orig)
		got, _ := s.Get(id)
		got[0] ^= 0xff // and return copies
		mustGet(t, s, id, orig)
	}
	// Get of the empty value returns an empty, usable slice.
	id := put(t, s, nil)
	mustGet(t, s, id, []byte{})
}

func testBatch(t *testing.T, s store.Store) {
	b := s.NewBatch()
	defer b.Discard()
	var ids []coda.ID
	var vals [][]byte
	for i := range 50 {
		v := Random(uint64(1000+i), 10+i*7)
		if i == 49 {
			v = Random(999, 3*store.MaxChunk) // one chunked value too
		}
		id, err := b.Put(v)
		if err != nil || id != coda.Sum(v) {
			t.Fatalf("Batch.Put = %s, %v", id.Short(), err)
		}
		ids, vals = append(ids, id), append(vals, v)
	}
	big := Random(998, 2*store.MaxChunk+5)
	bigID, n, err := b.PutReader(bytes.NewReader(big))
	if err != nil || bigID != coda.Sum(big) || n != int64(len(big)) {
		t.Fatalf("Batch.PutReader = %s, %d, %v", bigID.Short(), n, err)
	}
	ids, vals = append(ids, bigID), append(vals, big)
	if err := b.SetRef("heads/main", ids[0]); err != nil {
		t.Fatal(err)
	}
	if got, want := b.Len(), 52; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
	// Nothing is visible before Commit.
	for _, id := range ids {
		mustHave(t, s, id, false)
	}
	if _, err := s.GetRef("heads/main"); !errors.Is(err, errs.NotExist) {
		t.Fatalf("ref visible before Commit: %v", err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	for i, id := range ids {
		mustGet(t, s, id, vals[i])
	}
	if got, err := s.GetRef("heads/main"); err != nil || got != ids[0] {
		t.Fatalf("GetRef = %s, %v; want %s", got.Short(), err, ids[0].Short())
	}
}

func testBatchDiscard(t *testing.T, s store.Store) {
	b := s.NewBatch()
	small := []byte("discarded")
	big := Random(5, 3*store.MaxChunk)
	b.Put(small)
	b.Put(big)
	b.SetRef("heads/x", coda.Sum(small))
	b.Discard()
	mustHave(t, s, coda.Sum(small), false)
	mustHave(t, s, coda.Sum(big), false)
	if _, err := s.GetRef("heads/x"); !errors.Is(err, errs.NotExist) {
		t.Fatalf("GetRef after Discard: %v", err)
	}
	for id, err := range s.Objects() {
		t.Fatalf("Objects after Discard: %s, %v", id.Short(), err)
	}
}

func testBatchConflict(t *testing.T, s store.Store) {
	head := put(t, s, []byte("head"))
	if err := store.SetRef(s, "heads/main", head, false); err != nil {
		t.Fatal(err)
	}
	b := s.NewBatch()
	defer b.Discard()
	obj, _ := b.Put([]byte("new commit"))
	big, _ := b.Put(Random(6, 3*store.MaxChunk))
	b.SetRef("heads/other", obj)
	b.SwapRef("heads/main", coda.Sum([]byte("stale")), obj)
	wantKind(t, "Commit with a stale SwapRef", b.Commit(true), errs.Conflict)
	// All or nothing: the batch's objects and refs are not there.
	mustHave(t, s, obj, false)
	mustHave(t, s, big, false)
	if _, err := s.GetRef("heads/other"); !errors.Is(err, errs.NotExist) {
		t.Fatalf("heads/other after failed Commit: %v", err)
	}
	if got, _ := s.GetRef("heads/main"); got != head {
		t.Fatalf("heads/main = %s after failed Commit, want %s", got.Short(), head.Short())
	}
}

func testBatchDone(t *testing.T, s store.Store) {
	b := s.NewBatch()
	if _, err := b.Put([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	b.Discard() // harmless after Commit
	_, err := b.Put([]byte("y"))
	wantKind(t, "Put after Commit", err, errs.Invalid)
	wantKind(t, "SetRef after Commit", b.SetRef("a", coda.Sum(nil)), errs.Invalid)
	wantKind(t, "Commit after Commit", b.Commit(false), errs.Invalid)
	mustHave(t, s, coda.Sum([]byte("y")), false)
}

func testRefs(t *testing.T, s store.Store) {
	ids := map[string]coda.ID{}
	for _, name := range []string{"worlds/b/heads/main", "worlds/a/heads/main", "worlds/a/heads/dev", "config/name", "worlds/a"} {
		ids[name] = coda.Sum([]byte(name))
		if err := store.SetRef(s, name, ids[name], false); err != nil {
			t.Fatalf("SetRef(%q): %v", name, err)
		}
	}
	for name, want := range ids {
		if got, err := s.GetRef(name); err != nil || got != want {
			t.Fatalf("GetRef(%q) = %s, %v", name, got.Short(), err)
		}
	}
	list := func(prefix string) []string {
		refs, err := s.ListRefs(prefix)
		if err != nil {
			t.Fatalf("ListRefs(%q): %v", prefix, err)
		}
		var names []string
		for _, r := range refs {
			if r.ID != ids[r.Name] {
				t.Fatalf("ListRefs: %s -> %s, want %s", r.Name, r.ID.Short(), ids[r.Name].Short())
			}
			names = append(names, r.Name)
		}
		return names
	}
	if got, want := list("worlds/a/"), []string{"worlds/a/heads/dev", "worlds/a/heads/main"}; !slices.Equal(got, want) {
		t.Errorf("ListRefs(worlds/a/) = %q, want %q", got, want)
	}
	if got, want := list(""), []string{"config/name", "worlds/a", "worlds/a/heads/dev", "worlds/a/heads/main", "worlds/b/heads/main"}; !slices.Equal(got, want) {
		t.Errorf("ListRefs() = %q, want %q", got, want)
	}
	if got := list("zzz"); len(got) != 0 {
		t.Errorf("ListRefs(zzz) = %q", got)
	}
	// Overwrite, delete, and a batch touching the same ref twice: last wins.
	b := s.NewBatch()
	b.SetRef("config/name", ids["worlds/a"])
	b.DeleteRef("worlds/a")
	b.DeleteRef("never/existed")
	b.SetRef("worlds/b/heads/main", ids["config/name"])
	b.DeleteRef("worlds/b/heads/main")
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetRef("config/name"); got != ids["worlds/a"] {
		t.Errorf("config/name = %s after overwrite", got.Short())
	}
	for _, name := range []string{"worlds/a", "worlds/b/heads/main"} {
		if _, err := s.GetRef(name); !errors.Is(err, errs.NotExist) {
			t.Errorf("GetRef(%q) after delete: %v", name, err)
		}
	}
}

func testRefNames(t *testing.T, s store.Store) {
	id := coda.Sum(nil)
	for _, name := range []string{"", "a\x00b", "\xff", string(make([]byte, store.MaxRefName+1))} {
		b := s.NewBatch()
		wantKind(t, fmt.Sprintf("SetRef(%q)", name), b.SetRef(name, id), errs.Invalid)
		b.Discard()
		_, err := s.GetRef(name)
		wantKind(t, fmt.Sprintf("GetRef(%q)", name), err, errs.Invalid)
	}
	b := s.NewBatch()
	wantKind(t, "SetRef(zero id)", b.SetRef("a", coda.ID{}), errs.Invalid)
	b.Discard()
	// Names are bytes: Unicode and odd characters are fine.
	for _, name := range []string{"é/ü", " ", "a/../b", "\x01"} {
		if err := store.SetRef(s, name, id, false); err != nil {
			t.Errorf("SetRef(%q): %v", name, err)
		}
	}
}

func testSwapRef(t *testing.T, s store.Store) {
	a, b, c := coda.Sum([]byte("a")), coda.Sum([]byte("b")), coda.Sum([]byte("c"))
	// Create only if absent.
	if err := store.SwapRef(s, "heads/main", coda.ID{}, a, true); err != nil {
		t.Fatalf("create: %v", err)
	}
	wantKind(t, "create existing", store.SwapRef(s, "heads/main", coda.ID{}, b, true), errs.Conflict)
	wantKind(t, "swap from wrong value", store.SwapRef(s, "heads/main", c, b, true), errs.Conflict)
	if got, _ := s.GetRef("heads/main"); got != a {
		t.Fatalf("after conflicts: %s, want %s", got.Short(), a.Short())
	}
	if err := store.SwapRef(s, "heads/main", a, b, true); err != nil {
		t.Fatalf("swap: %v", err)
	}
	if got, _ := s.GetRef("heads/main"); got != b {
		t.Fatalf("after swap: %s, want %s", got.Short(), b.Short())
	}
	// Delete by swapping to zero.
	if err := store.SwapRef(s, "heads/main", b, coda.ID{}, true); err != nil {
		t.Fatalf("swap to zero: %v", err)
	}
	if _, err := s.GetRef("heads/main"); !errors.Is(err, errs.NotExist) {
		t.Fatalf("after delete: %v", err)
	}
	// Two swaps on different refs in one batch: both or neither.
	store.SetRef(s, "x", a, false)
	store.SetRef(s, "y", a, false)
	bt := s.NewBatch()
	bt.SwapRef("x", a, b)
	bt.SwapRef("y", c, b)
	wantKind(t, "double swap", bt.Commit(false), errs.Conflict)
	if got, _ := s.GetRef("x"); got != a {
		t.Fatalf("x = %s after failed double swap", got.Short())
	}
}

func testOpenRanges(t *testing.T, s store.Store) {
	for _, n := range []int{0, 1, 1000, store.ChunkThreshold, 5*store.MaxChunk + 3} {
		data := Random(uint64(n)+77, n)
		id := put(t, s, data)
		b, err := s.Open(id)
		if err != nil {
			t.Fatal(err)
		}
		// iotest.TestReader exercises Read, ReadAt and Seek against the content.
		if err := iotest.TestReader(b, data); err != nil {
			t.Fatalf("%d-byte value: %v", n, err)
		}
		rnd := rand.New(rand.NewPCG(uint64(n), 1))
		for range 50 {
			if n == 0 {
				break
			}
			off := rnd.IntN(n)
			k := rnd.IntN(min(n-off, 3*store.MaxChunk) + 1)
			buf := make([]byte, k)
			got, err := b.ReadAt(buf, int64(off))
			if got != k || (err != nil && err != io.EOF) || !bytes.Equal(buf, data[off:off+k]) {
				t.Fatalf("%d-byte value: ReadAt(%d bytes at %d) = %d, %v", n, k, off, got, err)
			}
			if _, err := b.Seek(int64(off), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(b, buf); err != nil || !bytes.Equal(buf, data[off:off+k]) {
				t.Fatalf("%d-byte value: Seek(%d)+Read(%d): %v", n, off, k, err)
			}
		}
		// ReadAt may be called concurrently.
		var wg sync.WaitGroup
		errc := make(chan error, 4)
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rnd := rand.New(rand.NewPCG(uint64(n), uint64(g)))
				for range 20 {
					if n == 0 {
						return
					}
					off := rnd.IntN(n)
					buf := make([]byte, rnd.IntN(min(n-off, 2*store.MaxChunk)+1))
					k, err := b.ReadAt(buf, int64(off))
					if k != len(buf) || (err != nil && err != io.EOF) || !bytes.Equal(buf, data[off:off+k]) {
						errc <- fmt.Errorf("concurrent ReadAt(%d bytes at %d) = %d, %v", len(buf), off, k, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatalf("%d-byte value: %v", n, err)
		}
		buf := make([]byte, 10)
		if got, err := b.ReadAt(buf, int64(n)); got != 0 || err != io.EOF {
			t.Fatalf("ReadAt(end) = %d, %v; want 0, EOF", got, err)
		}
		if _, err := b.Seek(-1, io.SeekStart); err == nil {
			t.Fatal("Seek(-1) succeeded")
		}
		if pos, err := b.Seek(0, io.SeekEnd); err != nil || pos != int64(n) {
			t.Fatalf("Seek(0, End) = %d, %v", pos, err)
		}
		b.Close()
	}
}

func testObjects(t *testing.T, s store.Store) {
	want := map[coda.ID]bool{}
	for i := range 3000 {
		n := 8
		if i%1000 == 0 {
			n = 2 * store.MaxChunk
		}
		want[put(t, s, Random(uint64(i)+5000, n))] = true
	}
	var got []coda.ID
	for id, err := range s.Objects() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	if len(got) != len(want) {
		t.Fatalf("Objects yielded %d ids, want %d", len(got), len(want))
	}
	for i, id := range got {
		if !want[id] {
			t.Fatalf("Objects yielded unknown id %s", id.Short())
		}
		if i > 0 && bytes.Compare(got[i-1][:], id[:]) >= 0 {
			t.Fatalf("Objects not in increasing order at %d", i)
		}
	}
	// Breaking out early, and writing while iterating, are fine.
	k := 0
	for _, err := range s.Objects() {
		if err != nil {
			t.Fatal(err)
		}
		if k++; k == 10 {
			break
		}
		put(t, s, Random(uint64(k)+9000, 8))
	}
}

// testEditMiddle stores a 10 MiB value, changes a few bytes in its middle
// and stores it again: only 1 to 3 chunks may be new. If the store has a
// ChunkCount() (int, error) method (tests can add one), it also checks that
// only those were written.
func testEditMiddle(t *testing.T, s store.Store) {
	c, ok := s.(store.Chunked)
	if !ok {
		t.Skip("store does not expose chunks")
	}
	// Stores that can count their chunks show that only the new ones are written.
	counter, canCount := s.(interface{ ChunkCount() (int, error) })
	count := func() int {
		if !canCount {
			return 0
		}
		n, err := counter.ChunkCount()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	data := Random(42, 10<<20)
	id1 := put(t, s, data)
	before := count()
	m1, err := c.Chunks(id1)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Clone(data)
	copy(edited[5<<20:], "a few bytes changed in the middle")
	id2 := put(t, s, edited)
	m2, err := c.Chunks(id2)
	if err != nil {
		t.Fatal(err)
	}
	old := map[coda.ID]bool{}
	for _, ch := range m1.Chunks {
		old[ch.ID] = true
	}
	fresh := 0
	for _, ch := range m2.Chunks {
		if !old[ch.ID] {
			fresh++
		}
	}
	t.Logf("10 MiB value: %d chunks; after an edit in the middle, %d new", len(m1.Chunks), fresh)
	if fresh < 1 || fresh > 3 {
		t.Fatalf("edit in the middle made %d new chunks, want 1 to 3", fresh)
	}
	if written := count() - before; canCount && written != fresh {
		t.Fatalf("storing the edited value wrote %d chunks, want the %d new ones", written, fresh)
	}
	// Storing it again, whole or streamed, writes nothing new.
	put(t, s, edited)
	if _, _, err := s.PutReader(bytes.NewReader(edited)); err != nil {
		t.Fatal(err)
	}
	if written := count() - before; canCount && written != fresh {
		t.Fatalf("storing the edited value again: %d chunks written in all, want %d", written, fresh)
	}
	mustGet(t, s, id1, data)
	mustGet(t, s, id2, edited)
}

func testChunkTransfer(t *testing.T, s store.Store) {
	c, ok := s.(store.Chunked)
	if !ok {
		t.Skip("store does not expose chunks")
	}
	// The value is cut here, as a sending peer would, and arrives chunk by chunk.
	data := Random(4242, 2<<20+99)
	var chunks [][]byte
	v, err := store.SplitBytes(data, func(id coda.ID, chunk []byte) error {
		chunks = append(chunks, bytes.Clone(chunk))
		return nil
	})
	if err != nil || v.Manifest == nil {
		t.Fatalf("SplitBytes: %v, %v", v.Manifest, err)
	}
	m := *v.Manifest
	wantKind(t, "PutManifest before chunks", c.PutManifest(m), errs.NotExist)
	mustHave(t, s, m.ID, false)

	wantKind(t, "PutChunk with a wrong id", c.PutChunk(m.Chunks[1].ID, chunks[0]), errs.Corrupt)
	wantKind(t, "PutChunk too large", c.PutChunk(coda.Sum(make([]byte, store.MaxChunk+1)), make([]byte, store.MaxChunk+1)), errs.Limit)
	for i := len(chunks) - 1; i >= 0; i-- { // any order
		if err := c.PutChunk(m.Chunks[i].ID, chunks[i]); err != nil {
			t.Fatalf("PutChunk %d: %v", i, err)
		}
		if has, err := c.HasChunk(m.Chunks[i].ID); !has || err != nil {
			t.Fatalf("HasChunk %d = %v, %v", i, has, err)
		}
	}
	mustHave(t, s, m.ID, false) // chunks alone are not an object

	// Manifests that lie are refused.
	bad := m
	bad.ID = coda.Sum([]byte("other"))
	wantKind(t, "PutManifest with a wrong id", c.PutManifest(bad), errs.Corrupt)
	bad = m
	bad.Chunks = slices.Clone(m.Chunks)
	bad.Chunks[0], bad.Chunks[1] = bad.Chunks[1], bad.Chunks[0]
	wantKind(t, "PutManifest with chunks swapped", c.PutManifest(bad), errs.Corrupt)
	// Same bytes, cut elsewhere: hashes match but the boundaries do not.
	if len(chunks[0]) > store.MinChunk+2 {
		joined := append(bytes.Clone(chunks[0]), chunks[1]...)
		a, b := joined[:store.MinChunk+1], joined[store.MinChunk+1:]
		if len(b) <= store.MaxChunk {
			c.PutChunk(coda.Sum(a), a)
			c.PutChunk(coda.Sum(b), b)
			bad = m
			bad.Chunks = append([]store.ChunkRef{{ID: coda.Sum(a), Len: uint32(len(a))}, {ID: coda.Sum(b), Len: uint32(len(b))}}, m.Chunks[2:]...)
			wantKind(t, "PutManifest with other boundaries", c.PutManifest(bad), errs.Corrupt)
		}
	}
	mustHave(t, s, m.ID, false)

	if err := c.PutManifest(m); err != nil {
		t.Fatalf("PutManifest: %v", err)
	}
	mustGet(t, s, m.ID, data)
	got, err := c.Chunks(m.ID)
	if err != nil || !slices.Equal(got.Chunks, m.Chunks) {
		t.Fatalf("Chunks after PutManifest: %v", err)
	}
	for i, ch := range m.Chunks {
		b, err := c.GetChunk(ch.ID)
		if err != nil || !bytes.Equal(b, chunks[i]) {
			t.Fatalf("GetChunk %d: %v", i, err)
		}
	}
}

// testChunkBatch stores a value's chunks through a store.ChunkBatch from
// several goroutines (more bytes than one write holds), flushes, and puts
// the manifest; wrong chunks are refused as PutChunk refuses them.
func testChunkBatch(t *testing.T, s store.Store) {
	cb, ok := s.(store.ChunkBatcher)
	if !ok {
		t.Skip("store does not batch chunks")
	}
	c := s.(store.Chunked)
	data := Random(77, 9<<20+5)
	var chunks [][]byte
	v, err := store.SplitBytes(data, func(id coda.ID, chunk []byte) error {
		chunks = append(chunks, bytes.Clone(chunk))
		return nil
	})
	if err != nil || v.Manifest == nil {
		t.Fatalf("SplitBytes: %v, %v", v.Manifest, err)
	}
	m := *v.Manifest
	b := cb.NewChunkBatch()
	wantKind(t, "batch PutChunk with a wrong id", b.PutChunk(m.Chunks[1].ID, chunks[0]), errs.Corrupt)
	wantKind(t, "batch PutChunk too large", b.PutChunk(coda.Sum(make([]byte, store.MaxChunk+1)), make([]byte, store.MaxChunk+1)), errs.Limit)
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(chunks); i += 4 {
				if err := b.PutChunk(m.Chunks[i].ID, chunks[i]); err != nil {
					errc <- fmt.Errorf("PutChunk %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	for i, ch := range m.Chunks {
		if has, err := c.HasChunk(ch.ID); !has || err != nil {
			t.Fatalf("after Flush, HasChunk %d = %v, %v", i, has, err)
		}
	}
	if err := b.Flush(); err != nil {
		t.Fatalf("second Flush: %v", err)
	}
	if err := c.PutManifest(m); err != nil {
		t.Fatalf("PutManifest: %v", err)
	}
	mustGet(t, s, m.ID, data)
}

func testVerify(t *testing.T, s store.Store) {
	for i, n := range []int{0, 10, store.ChunkThreshold + 1, 3 << 20} {
		id := put(t, s, Random(uint64(i)+300, n))
		if err := store.Verify(s, id); err != nil {
			t.Fatalf("Verify(%d-byte value): %v", n, err)
		}
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	const workers, each = 4, 200
	var wg sync.WaitGroup
	errc := make(chan error, workers*2)
	for w := range workers {
		wg.Add(2)
		go func() { // writer
			defer wg.Done()
			for i := range each {
				n := 50
				if i%50 == 0 {
					n = store.ChunkThreshold + 1000
				}
				data := Random(uint64(w*each+i)+20000, n)
				var id coda.ID
				var err error
				if i%2 == 0 {
					id, err = s.Put(data)
				} else {
					b := s.NewBatch()
					id, err = b.Put(data)
					if err == nil {
						err = b.SetRef(fmt.Sprintf("w/%d", w), id)
					}
					if err == nil {
						err = b.Commit(i%10 == 1)
					}
				}
				if err != nil {
					errc <- err
					return
				}
				if got, err := s.Get(id); err != nil || !bytes.Equal(got, data) {
					errc <- fmt.Errorf("read own write %s: %v", id.Short(), err)
					return
				}
			}
		}()
		go func() { // reader of what the others wrote
			defer wg.Done()
			for i := range each {
				id := coda.Sum(Random(uint64(((w+1)%workers)*each+i)+20000, 50))
				if _, err := s.Get(id); err != nil && !errors.Is(err, errs.NotExist) {
					errc <- err
					return
				}
				if _, err := s.ListRefs("w/"); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

// testConcurrentSwap increments a counter held by a ref from several
// goroutines with compare-and-swap loops: no increment may be lost.
func testConcurrentSwap(t *testing.T, s store.Store) {
	const workers, each = 4, 25
	counter := func(n int) []byte { return fmt.Appendf(nil, "counter %d", n) }
	zero := put(t, s, counter(0))
	if err := store.SetRef(s, "counter", zero, false); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				for {
					cur, err := s.GetRef("counter")
					if err != nil {
						mu.Lock()
						failures = append(failures, err)
						mu.Unlock()
						return
					}
					data, err := s.Get(cur)
					if err != nil {
						mu.Lock()
						failures = append(failures, err)
						mu.Unlock()
						return
					}
					var n int
					fmt.Sscanf(string(data), "counter %d", &n)
					b := s.NewBatch()
					next, _ := b.Put(counter(n + 1))
					b.SwapRef("counter", cur, next)
					err = b.Commit(false)
					if err == nil {
						break
					}
					if !errors.Is(err, errs.Conflict) {
						mu.Lock()
						failures = append(failures, err)
						mu.Unlock()
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range failures {
		t.Fatal(err)
	}
	cur, _ := s.GetRef("counter")
	if want := coda.Sum(counter(workers * each)); cur != want {
		data, _ := s.Get(cur)
		t.Fatalf("counter = %q, want %q", data, counter(workers*each))
	}
}

func testClosed(t *testing.T, s store.Store) {
	id := put(t, s, []byte("x"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err := s.Get(id)
	wantKind(t, "Get after Close", err, errs.Invalid)
	_, err = s.Put([]byte("y"))
	wantKind(t, "Put after Close", err, errs.Invalid)
	b := s.NewBatch()
	b.Put([]byte("z"))
	wantKind(t, "Commit after Close", b.Commit(false), errs.Invalid)
	for _, err := range s.Objects() {
		wantKind(t, "Objects after Close", err, errs.Invalid)
	}
}

func testReopen(t *testing.T, s store.Store, reopen func(*testing.T, store.Store) store.Store) {
	small := []byte("persistent")
	big := Random(31337, 3<<20)
	b := s.NewBatch()
	sid, _ := b.Put(small)
	bid, _ := b.Put(big)
	b.SetRef("heads/main", bid)
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	unsynced := put(t, s, []byte("put without sync, made durable by Close"))
	s = reopen(t, s)
	mustGet(t, s, sid, small)
	mustGet(t, s, bid, big)
	mustHave(t, s, unsynced, true)
	if got, err := s.GetRef("heads/main"); err != nil || got != bid {
		t.Fatalf("GetRef after reopen = %s, %v", got.Short(), err)
	}
	if err := store.Verify(s, bid); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range s.Objects() {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("Objects after reopen: %d, want 3", n)
	}
}
