package tree

// The node encoding. Every node is one CODA object of schema Node
// (tree.coda, docs/tree.md), written by hand here byte for byte:
//
//	object   = NodeSchemaID (32) ‖ node
//	node     = 0x00 ‖ uvarint(n) ‖ entry{n}                   Leaf(list<Entry>)
//	         | 0x01 ‖ level (u8) ‖ uvarint(n) ‖ child{n}        Internal(Branch)
//	entry    = uvarint(len) ‖ name ‖ item
//	item     = 0x00 ‖ id (32) ‖ stamp                          Value
//	         | 0x01 ‖ stamp                                    Tombstone
//	         | 0x02 ‖ node id (32) ‖ live (u64 LE)             Dir
//	stamp    = time (u64 LE) ‖ author (32)
//	child    = uvarint(len) ‖ name ‖ dir (0x00 | 0xFF) ‖ node id (32)
//
// Decoding rejects every non-canonical byte string, and also keys that are
// not strictly increasing, invalid names, zero ids, levels out of range and
// nodes with more than MaxItems items. Whether the chunking itself is
// canonical is checked by Verify, not here.

import (
	"bytes"
	"cmp"
	"fmt"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Kind is the kind of a tree entry.
type Kind uint8

// The kinds of entries. Each is its Item enum tag plus one, so that the
// zero Entry is no entry.
const (
	KindValue     Kind = 1 // a live leaf: ID is a CODA object
	KindTombstone Kind = 2 // a deleted leaf: ID is zero
	KindDir       Kind = 3 // a directory: ID is its top node, Live its live leaves
)

func (k Kind) String() string {
	switch k {
	case KindValue:
		return "value"
	case KindTombstone:
		return "tombstone"
	case KindDir:
		return "dir"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Stamp orders writes to one path: Time is the hybrid logical clock of the
// commit (48 bits of milliseconds ‖ 16 logical bits), Author its ed25519
// public key.
type Stamp struct {
	Time   uint64
	Author [32]byte
}

// Compare orders stamps by time, then author bytes.
func (s Stamp) Compare(t Stamp) int {
	if c := cmp.Compare(s.Time, t.Time); c != 0 {
		return c
	}
	return bytes.Compare(s.Author[:], t.Author[:])
}

// Entry is what a path holds. For values and tombstones Stamp is the
// stamp of the write; for directories ID is the directory's top node and
// Live the number of live values under it (directories carry no stamp).
type Entry struct {
	Kind  Kind
	ID    coda.ID
	Stamp Stamp
	Live  uint64
}

// Value returns a value entry.
func Value(id coda.ID, s Stamp) Entry { return Entry{Kind: KindValue, ID: id, Stamp: s} }

// Tombstone returns a tombstone entry.
func Tombstone(s Stamp) Entry { return Entry{Kind: KindTombstone, Stamp: s} }

// IsLeaf reports whether e is a value or a tombstone.
func (e Entry) IsLeaf() bool { return e.Kind == KindValue || e.Kind == KindTombstone }

// Compare is the merge order of leaf entries: stamp (time, then author),
// then entry id (a tombstone's id is zero). The greater entry wins a merge.
func (e Entry) Compare(f Entry) int {
	if c := e.Stamp.Compare(f.Stamp); c != 0 {
		return c
	}
	if c := bytes.Compare(e.ID[:], f.ID[:]); c != 0 {
		return c
	}
	return cmp.Compare(e.Kind, f.Kind)
}

func (e Entry) live() uint64 {
	switch e.Kind {
	case KindValue:
		return 1
	case KindDir:
		return e.Live
	}
	return 0
}

// key orders the items of a directory: by name (bytewise), then leaves
// (values and tombstones) before a directory of the same name.
type key struct {
	name string
	dir  bool
}

func compareKeys(a, b key) int {
	if c := cmp.Compare(a.name, b.name); c != 0 {
		return c
	}
	switch {
	case a.dir == b.dir:
		return 0
	case b.dir:
		return -1
	}
	return 1
}

// item is one element of a node: an entry (level 0) or a child (level ≥ 1,
// where e.ID is the child node's id and only key matters otherwise).
type item struct {
	key key
	e   Entry
}

// node is a decoded node.
type node struct {
	level int // 0: a leaf node of entries; ≥ 1: internal
	items []item
}

// MaxItems is the most items a node holds (the forced chunk boundary);
// maxLevel the highest internal level a decoder accepts.
const (
	MaxItems = 1024
	maxLevel = 32
)

func appendStamp(b []byte, s Stamp) []byte {
	b = appendU64(b, s.Time)
	return append(b, s.Author[:]...)
}

func appendU64(b []byte, x uint64) []byte {
	return append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24), byte(x>>32), byte(x>>40), byte(x>>48), byte(x>>56))
}

// appendBody appends the canonical body (without the schema id) of n.
func appendBody(b []byte, n *node) []byte {
	if n.level == 0 {
		b = append(b, 0x00)
		b = coda.AppendUvarint(b, uint64(len(n.items)))
		for _, it := range n.items {
			b = coda.AppendString(b, it.key.name)
			b = append(b, byte(it.e.Kind-1))
			switch it.e.Kind {
			case KindValue:
				b = append(b, it.e.ID[:]...)
				b = appendStamp(b, it.e.Stamp)
			case KindTombstone:
				b = appendStamp(b, it.e.Stamp)
			case KindDir:
				b = append(b, it.e.ID[:]...)
				b = appendU64(b, it.e.Live)
			}
		}
		return b
	}
	b = append(b, 0x01, byte(n.level))
	b = coda.AppendUvarint(b, uint64(len(n.items)))
	for _, it := range n.items {
		b = coda.AppendString(b, it.key.name)
		b = coda.AppendBool(b, it.key.dir)
		b = append(b, it.e.ID[:]...)
	}
	return b
}

// encodeNode returns the object bytes of n.
func encodeNode(n *node) []byte {
	b := make([]byte, 0, 32+8+len(n.items)*96)
	b = append(b, NodeSchemaID[:]...)
	return appendBody(b, n)
}

var errNodeSchema = fmt.Errorf("tree: object is not a tree node")

// decodeNode decodes object bytes (schema id ‖ body) into a node.
func decodeNode(obj []byte) (*node, error) {
	if len(obj) < coda.IDSize || !bytes.Equal(obj[:coda.IDSize], NodeSchemaID[:]) {
		return nil, errs.E(errs.Invalid, errNodeSchema)
	}
	n, err := decodeBody(obj[coda.IDSize:])
	if err != nil {
		// Offsets are from the start of the body.
		return nil, errs.E(errs.Invalid, fmt.Errorf("tree: node body: %w", err))
	}
	return n, nil
}

func decodeBody(body []byte) (*node, error) {
	r := coda.NewReader(body)
	// Names are substrings of one copy of the body: one allocation a node,
	// not one a name.
	sb := string(body)
	nameOf := func(b []byte) string { end := r.Offset(); return sb[end-len(b) : end] }
	tag, err := r.Uvarint()
	if err != nil {
		return nil, err
	}
	n := &node{}
	switch tag {
	case 0:
		// An entry is at least 1 (name) + 1 (tag) + 40 (stamp) bytes.
		cnt, err := r.Len(42, MaxItems)
		if err != nil {
			return nil, err
		}
		n.items = make([]item, cnt)
		for i := range n.items {
			it := &n.items[i]
			name, err := r.StringBytes(MaxSegment)
			if err != nil {
				return nil, err
			}
			it.key.name = nameOf(name)
			k, err := r.Uvarint()
			if err != nil {
				return nil, err
			}
			if k > 2 {
				return nil, r.Errorf("entry %q: unknown item tag %d", name, k)
			}
			switch Kind(k + 1) {
			case KindValue:
				if it.e.ID, err = r.ID(); err != nil {
					return nil, err
				}
				if it.e.ID.IsZero() {
					return nil, r.Errorf("entry %q: zero value id", name)
				}
				if it.e.Stamp, err = readStamp(r); err != nil {
					return nil, err
				}
			case KindTombstone:
				if it.e.Stamp, err = readStamp(r); err != nil {
					return nil, err
				}
			case KindDir:
				if it.e.ID, err = r.ID(); err != nil {
					return nil, err
				}
				if it.e.ID.IsZero() {
					return nil, r.Errorf("entry %q: zero node id", name)
				}
				if it.e.Live, err = r.U64(); err != nil {
					return nil, err
				}
				it.key.dir = true
			default:
				return nil, r.Errorf("entry %q: unknown item tag %d", name, k)
			}
			it.e.Kind = Kind(k + 1)
			if err := checkKey(r, n.items, i); err != nil {
				return nil, err
			}
		}
	case 1:
		lv, err := r.Byte()
		if err != nil {
			return nil, err
		}
		if lv < 1 || lv > maxLevel {
			return nil, r.Errorf("internal node level %d out of range 1…%d", lv, maxLevel)
		}
		n.level = int(lv)
		// A child is at least 1 (name) + 1 (dir) + 32 (id) bytes.
		cnt, err := r.Len(34, MaxItems)
		if err != nil {
			return nil, err
		}
		if cnt == 0 {
			return nil, r.Errorf("internal node without children")
		}
		n.items = make([]item, cnt)
		for i := range n.items {
			it := &n.items[i]
			name, err := r.StringBytes(MaxSegment)
			if err != nil {
				return nil, err
			}
			it.key.name = nameOf(name)
			if it.key.dir, err = r.Bool(); err != nil {
				return nil, err
			}
			if it.e.ID, err = r.ID(); err != nil {
				return nil, err
			}
			if it.e.ID.IsZero() {
				return nil, r.Errorf("child %q: zero node id", name)
			}
			it.e.Kind = KindDir // a child is a reference to a node
			if err := checkKey(r, n.items, i); err != nil {
				return nil, err
			}
		}
	default:
		return nil, r.Errorf("unknown node tag %d", tag)
	}
	if err := r.End(); err != nil {
		return nil, err
	}
	return n, nil
}

func readStamp(r *coda.Reader) (Stamp, error) {
	var s Stamp
	var err error
	if s.Time, err = r.U64(); err != nil {
		return s, err
	}
	a, err := r.Take(32)
	if err != nil {
		return s, err
	}
	copy(s.Author[:], a)
	return s, nil
}

// checkKey checks the name of items[i] and that keys strictly increase.
func checkKey(r *coda.Reader, items []item, i int) error {
	k := items[i].key
	if k.name == "" {
		if k.dir {
			return r.Errorf("the metadata name \"\" cannot be a directory")
		}
	} else if err := checkSegment(k.name); err != nil {
		return r.Errorf("name %q: %v", k.name, err)
	}
	if i > 0 && compareKeys(items[i-1].key, k) >= 0 {
		return r.Errorf("names out of order or repeated: %q after %q", k.name, items[i-1].key.name)
	}
	return nil
}
