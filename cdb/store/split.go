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
