package tree

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// randNode returns a random valid node (sorted, valid names).
func randNode(r *rand.Rand) *node {
	n := &node{}
	if r.IntN(3) == 0 {
		n.level = 1 + r.IntN(5)
	}
	cnt := r.IntN(20)
	if n.level > 0 {
		cnt++
	}
	names := map[key]bool{}
	for len(names) < cnt {
		k := key{name: fmt.Sprintf("n%d", r.IntN(100)), dir: r.IntN(3) == 0}
		if r.IntN(10) == 0 {
			k = key{name: "é" + string(rune('a'+r.IntN(26)))}
		}
		if r.IntN(15) == 0 {
			k = key{}
		}
		names[k] = true
	}
	for k := range names {
		var e Entry
		rid := func() coda.ID { return coda.Sum(fmt.Appendf(nil, "%d", r.Uint64())) }
		stamp := Stamp{Time: r.Uint64()}
		stamp.Author[r.IntN(32)] = byte(r.Uint32())
		switch {
		case n.level > 0:
			e = Entry{Kind: KindDir, ID: rid()}
		case k.dir:
			e = Entry{Kind: KindDir, ID: rid(), Live: r.Uint64() >> r.IntN(64)}
		case r.IntN(3) == 0:
			e = Tombstone(stamp)
		default:
			e = Value(rid(), stamp)
		}
		n.items = append(n.items, item{key: k, e: e})
	}
	sortItems(n.items)
	return n
}

func sortItems(items []item) {
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && compareKeys(items[j-1].key, items[j].key) > 0; j-- {
			items[j-1], items[j] = items[j], items[j-1]
		}
	}
}

func TestNodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		n := randNode(r)
		b := encodeNode(n)
		got, err := decodeNode(b)
		if err != nil {
			t.Fatalf("node %d: decode: %v", i, err)
		}
		if len(got.items) == 0 {
			got.items = nil
		}
		if len(n.items) == 0 {
			n.items = nil
		}
		if !reflect.DeepEqual(got, n) {
			t.Fatalf("node %d: round trip:\n got %+v\nwant %+v", i, got, n)
		}
		if !bytes.Equal(encodeNode(got), b) {
			t.Fatalf("node %d: re-encoding differs", i)
		}
	}
}

// TestNodeGolden pins the encoding of a small node (its body; the object
// is NodeSchemaID ‖ body).
func TestNodeGolden(t *testing.T) {
	var author [32]byte
	author[0] = 0xAA
	id := coda.ID{0x11}
	n := &node{items: []item{
		{key: key{"", false}, e: Value(id, Stamp{Time: 1, Author: author})},
		{key: key{"a", false}, e: Tombstone(Stamp{Time: 0x0102, Author: author})},
		{key: key{"a", true}, e: Entry{Kind: KindDir, ID: id, Live: 3}},
	}}
	want := "00" + // Leaf
		"03" + // 3 entries
		"00" + "00" + "11" + zeros(31) + "0100000000000000" + "aa" + zeros(31) + // "": Value(id, stamp)
		"0161" + "01" + "0201000000000000" + "aa" + zeros(31) + // "a": Tombstone
		"0161" + "02" + "11" + zeros(31) + "0300000000000000" // "a": Dir(id, 3)
	if got := fmt.Sprintf("%x", appendBody(nil, n)); got != want {
		t.Errorf("leaf body\n got %s\nwant %s", got, want)
	}
	in := &node{level: 2, items: []item{{key: key{"z", true}, e: Entry{Kind: KindDir, ID: id}}}}
	want = "01" + "02" + "01" + "017a" + "ff" + "11" + zeros(31)
	if got := fmt.Sprintf("%x", appendBody(nil, in)); got != want {
		t.Errorf("internal body\n got %s\nwant %s", got, want)
	}
}

func zeros(n int) string { return fmt.Sprintf("%0*d", 2*n, 0) }

func TestNodeDecodeRejects(t *testing.T) {
	id := coda.ID{1}
	stamp := make([]byte, 40)
	body := func(parts ...[]byte) []byte {
		return append(append([]byte{}, NodeSchemaID[:]...), bytes.Join(parts, nil)...)
	}
	val := func(name string) []byte {
		return bytes.Join([][]byte{coda.AppendString(nil, name), {0}, id[:], stamp}, nil)
	}
	cases := map[string][]byte{
		"empty":           nil,
		"wrong schema":    append(make([]byte, 32), 0, 0),
		"unknown tag":     body([]byte{2, 0}),
		"trailing":        body([]byte{0, 0, 0}),
		"long uvarint":    body([]byte{0x80, 0x00, 0}),
		"unsorted":        body([]byte{0, 2}, val("b"), val("a")),
		"duplicate":       body([]byte{0, 2}, val("a"), val("a")),
		"bad name":        body([]byte{0, 1}, val("..")),
		"slash name":      body([]byte{0, 1}, val("a/b")),
		"zero value id":   body([]byte{0, 1}, coda.AppendString(nil, "a"), []byte{0}, make([]byte, 32), stamp),
		"item tag":        body([]byte{0, 1}, coda.AppendString(nil, "a"), []byte{3}, stamp),
		"level 0":         body([]byte{1, 0, 1}, coda.AppendString(nil, "a"), []byte{0}, id[:]),
		"no children":     body([]byte{1, 1, 0}),
		"bad bool":        body([]byte{1, 1, 1}, coda.AppendString(nil, "a"), []byte{1}, id[:]),
		"meta dir":        body([]byte{1, 1, 1}, coda.AppendString(nil, ""), []byte{0xff}, id[:]),
		"truncated":       body([]byte{0, 1}, val("a")[:20]),
		"count too large": body([]byte{0, 0xff, 0x7f}),
	}
	for name, b := range cases {
		if _, err := decodeNode(b); !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: decode = %v; want an invalid error", name, err)
		}
	}
}

func FuzzNodeDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 8 {
		f.Add(encodeNode(randNode(r)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := decodeNode(b)
		if err != nil {
			return
		}
		if got := encodeNode(n); !bytes.Equal(got, b) {
			t.Fatalf("decode → encode changed the bytes:\n in %x\nout %x", b, got)
		}
	})
}
