package store

import (
	"bytes"
	"fmt"
	"io"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Value is a value prepared for storage by SplitBytes or SplitReader: either
// whole (Manifest == nil, Data holds the bytes) or chunked (Manifest lists
// the chunks, which have already been handed to the putChunk callback).
type Value struct {
	ID       coda.ID
	Size     int64
	Data     []byte    // the value, if it is at most ChunkThreshold bytes
	Manifest *Manifest // the manifest, if it is larger
}

// SplitBytes prepares data for storage: values of at most ChunkThreshold
// bytes are returned whole (Data aliases data); larger ones are cut into
// chunks, each passed to putChunk with its id, and described by a Manifest.
func SplitBytes(data []byte, putChunk func(id coda.ID, chunk []byte) error) (Value, error) {
	if len(data) <= ChunkThreshold {
		return Value{ID: coda.Sum(data), Size: int64(len(data)), Data: data}, nil
	}
	if int64(len(data)) > MaxValueSize {
		return Value{}, errs.E(errs.Limit, fmt.Sprintf("store: value of %d bytes exceeds the limit of %d", len(data), int64(MaxValueSize)))
	}
	m := &Manifest{ID: coda.Sum(data), Size: int64(len(data))}
	for rest := data; len(rest) > 0; {
		n := Cut(rest)
		id := coda.Sum(rest[:n])
		if err := putChunk(id, rest[:n]); err != nil {
			return Value{}, err
		}
		m.Chunks = append(m.Chunks, ChunkRef{ID: id, Len: uint32(n)})
		rest = rest[n:]
	}
	return Value{ID: m.ID, Size: m.Size, Manifest: m}, nil
}

// SplitReader is SplitBytes for a stream: it reads r to the end, computing
// the value's id as it goes, and holds at most a few chunks in memory.
func SplitReader(r io.Reader, putChunk func(id coda.ID, chunk []byte) error) (Value, error) {
	// Read up to one byte past the threshold, growing the buffer as data
	// comes, so that small values cost no more than their size.
	head, err := io.ReadAll(io.LimitReader(r, ChunkThreshold+1))
	if err != nil {
		return Value{}, err
	}
	if len(head) <= ChunkThreshold {
		return SplitBytes(head, putChunk)
	}
	whole := coda.NewHasher()
	m := &Manifest{}
	c := NewChunker(io.MultiReader(bytes.NewReader(head), r))
	for {
		chunk, err := c.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Value{}, err
		}
		m.Size += int64(len(chunk))
		if m.Size > MaxValueSize {
			return Value{}, errs.E(errs.Limit, fmt.Sprintf("store: value exceeds the limit of %d bytes", int64(MaxValueSize)))
		}
		whole.Write(chunk)
		id := coda.Sum(chunk)
		if err := putChunk(id, chunk); err != nil {
			return Value{}, err
		}
		m.Chunks = append(m.Chunks, ChunkRef{ID: id, Len: uint32(len(chunk))})
	}
	m.ID = whole.ID()
	return Value{ID: m.ID, Size: m.Size, Manifest: m}, nil
}

// CheckChunks reads the chunks of m in order with getChunk and checks that
// each hashes to its id and has its length, that the whole hashes to m.ID,
// and that Cut would cut the value exactly where m does. It is what
// PutManifest and Verify run; failures are errs.Corrupt errors naming the
// chunk or value, and errors from getChunk are returned as they are.
func CheckChunks(m *Manifest, getChunk func(id coda.ID) ([]byte, error)) error {
	if err := m.Check(); err != nil {
		return fmt.Errorf("object %s: %w", m.ID, err)
	}
	// Re-chunk the concatenation as it streams past: window holds the bytes
	// from the current expected boundary on, at least MaxChunk of them
	// unless the value ends first.
	whole := coda.NewHasher()
	var window []byte
	next := 0 // index of the next chunk to fetch
	for i, c := range m.Chunks {
		for len(window) < MaxChunk && next < len(m.Chunks) {
			cr := m.Chunks[next]
			data, err := getChunk(cr.ID)
			if err != nil {
				return err
			}
			if len(data) != int(cr.Len) || coda.Sum(data) != cr.ID {
				return errs.E(errs.Corrupt, fmt.Sprintf("store: chunk %s of object %s: bytes do not match id or length", cr.ID, m.ID))
			}
			whole.Write(data)
			window = append(window, data...)
			next++
		}
		if n := Cut(window); n != int(c.Len) {
			return errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: chunk %d ends at %d, chunking says %d", m.ID, i, c.Len, n))
		}
		window = window[c.Len:]
	}
	if got := whole.ID(); got != m.ID {
		return errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: chunks hash to %s", m.ID, got))
	}
	return nil
}

// CheckChunk checks a chunk received from elsewhere: its size (errs.Limit
// above MaxChunk, errs.Invalid if empty) and its id (errs.Corrupt).
func CheckChunk(id coda.ID, data []byte) error {
	if len(data) > MaxChunk {
		return errs.E(errs.Limit, fmt.Sprintf("store: chunk %s of %d bytes exceeds %d", id, len(data), MaxChunk))
	}
	if len(data) == 0 {
		return errs.E(errs.Invalid, "store: empty chunk "+id.String())
	}
	if got := coda.Sum(data); got != id {
		return errs.E(errs.Corrupt, fmt.Sprintf("store: chunk %s: bytes hash to %s", id, got))
	}
	return nil
}

// CutClass says where a chunk may stand in a canonical manifest. Because
// Cut's gear hash starts afresh in every chunk, whether a chunk's
// boundaries are the ones Cut gives depends only on the chunk's own bytes
// and on whether it is the value's last chunk, so it can be decided once,
// when the chunk arrives (ClassifyChunk), and looked up when its manifest
// is checked (CheckAssembled).
type CutClass uint8

const (
	// CutBad: Cut ends a chunk inside these bytes; no canonical manifest
	// holds them as one chunk.
	CutBad CutClass = iota
	// CutLast: the bytes hold no cut point and do not end at one (or are at
	// most MinChunk long): only the last chunk of a value may be them.
	CutLast
	// CutAny: the bytes end exactly at Cut's first cut point (or are
	// MaxChunk long with none before): the chunk may stand anywhere.
	CutAny
)

// ClassifyChunk returns the CutClass of a chunk's bytes: one gear-hash pass
// over them, the same work as Cut.
func ClassifyChunk(data []byte) CutClass {
	n := len(data)
	switch {
	case n == 0 || n > MaxChunk:
		return CutBad
	case n <= MinChunk:
		return CutLast
	case Cut(data) != n:
		return CutBad
	case n == MaxChunk || endsAtCut(data):
		return CutAny
	}
	return CutLast
}

// endsAtCut reports whether Cut's condition holds at the last byte of data
// (len(data) > MinChunk). Each byte's gear value is shifted out of the
// 64-bit hash after 64 more bytes, so the hash there is that of the last 64
// bytes (or of those from MinChunk on, if fewer).
func endsAtCut(data []byte) bool {
	n := len(data)
	var h uint64
	for _, b := range data[max(MinChunk, n-64):] {
		h = h<<1 + gear[b]
	}
	mask := maskL
	if n-1 < AvgChunk {
		mask = maskS
	}
	return h&mask == 0
}

// CheckAssembled checks a manifest whose chunks are already stored and were
// each checked against their id when they were (CheckChunk): m's structure
// (Check), each chunk's length, that every chunk's CutClass allows its place
// (so Cut gives exactly m's boundaries), and that the chunks in order hash
// to m.ID. It reads each chunk once, through chunk, which calls f with the
// bytes (valid only during f) or returns an error (returned as it is, e.g.
// errs.NotExist for the first missing chunk). class returns a chunk's
// CutClass if it is known (ClassifyChunk ran when the chunk was put);
// otherwise CheckAssembled classifies the bytes itself. class may be nil.
//
// What it does not do is re-hash each chunk: the store trusts its stored
// bytes on read (docs/store.md "Verification policy"), and PutChunk hashed
// them on the way in. Verify, which distrusts the medium, runs CheckChunks.
func CheckAssembled(m *Manifest, chunk func(id coda.ID, f func([]byte) error) error, class func(id coda.ID) (CutClass, bool)) error {
	if err := m.Check(); err != nil {
		return fmt.Errorf("object %s: %w", m.ID, err)
	}
	whole := coda.NewHasher()
	last := len(m.Chunks) - 1
	for i, c := range m.Chunks {
		err := chunk(c.ID, func(data []byte) error {
			if len(data) != int(c.Len) {
				return errs.E(errs.Corrupt, fmt.Sprintf("store: chunk %d (%s) of object %s: %d bytes, manifest says %d", i, c.ID, m.ID, len(data), c.Len))
			}
			k, ok := CutBad, false
			if class != nil {
				k, ok = class(c.ID)
			}
			if !ok {
				k = ClassifyChunk(data)
			}
			if k == CutBad || (k == CutLast && i != last) {
				return errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: chunk %d (%d bytes) does not end where chunking would", m.ID, i, c.Len))
			}
			whole.Write(data)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if got := whole.ID(); got != m.ID {
		return errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: chunks hash to %s", m.ID, got))
	}
	return nil
}
