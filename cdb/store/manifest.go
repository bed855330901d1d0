package store

import (
	"encoding/binary"
	"fmt"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// The manifest of a chunked value, in its canonical encoding (docs/store.md
// "Manifest format"). The layout is that of a CODA struct body
// {id bytes[32], size u64, chunks list<{id bytes[32], len u32}>}:
//
//	offset  size  field
//	0       32    id      BLAKE3-256 of the whole value
//	32      8     size    total size in bytes, u64 little-endian
//	40      1-10  n       number of chunks, unsigned LEB128, minimal length
//	then n times:
//	+0      32    id      BLAKE3-256 of the chunk's bytes
//	+32     4     len     the chunk's size in bytes, u32 little-endian
//
// A manifest is canonical, and DecodeManifest accepts it, only if:
// ChunkThreshold < size <= MaxValueSize; n >= 2; every chunk but the last has
// MinChunk < len <= MaxChunk and the last 1 <= len <= MaxChunk (the sizes Cut
// can produce); the lengths add up to size; and nothing follows the last
// chunk. Whether the ids match the bytes is checked when chunks are stored.

const (
	manifestHeader = coda.IDSize + 8 // id, size
	chunkRefSize   = coda.IDSize + 4 // id, len
)

// Manifest lists the chunks of a value larger than ChunkThreshold.
type Manifest struct {
	ID     coda.ID    // the id of the whole value
	Size   int64      // the value's size: the sum of the chunk lengths
	Chunks []ChunkRef // in order
}

// ChunkRef names one chunk of a manifest.
type ChunkRef struct {
	ID  coda.ID // coda.Sum of the chunk's bytes
	Len uint32  // the chunk's size
}

var errManifest = errs.E(errs.Corrupt, "store: bad manifest")

func manifestErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errManifest, fmt.Sprintf(format, args...))
}

// Check reports whether m satisfies the structural rules of a canonical
// manifest (see the format above), as an errs.Corrupt error.
func (m *Manifest) Check() error {
	if m.Size <= ChunkThreshold || m.Size > MaxValueSize {
		return manifestErr("size %d out of range (%d, %d]", m.Size, ChunkThreshold, int64(MaxValueSize))
	}
	if len(m.Chunks) < 2 {
		return manifestErr("%d chunks, want at least 2", len(m.Chunks))
	}
	var sum int64
	last := len(m.Chunks) - 1
	for i, c := range m.Chunks {
		lo := uint32(MinChunk + 1)
		if i == last {
			lo = 1
		}
		if c.Len < lo || c.Len > MaxChunk {
			return manifestErr("chunk %d: length %d out of range [%d, %d]", i, c.Len, lo, MaxChunk)
		}
		sum += int64(c.Len)
	}
	if sum != m.Size {
		return manifestErr("chunk lengths add up to %d, size is %d", sum, m.Size)
	}
	return nil
}

// AppendBinary appends the canonical encoding of m to b. It fails if m is
// not canonical (see Check).
func (m *Manifest) AppendBinary(b []byte) ([]byte, error) {
	if err := m.Check(); err != nil {
		return b, err
	}
	b = append(b, m.ID[:]...)
	b = binary.LittleEndian.AppendUint64(b, uint64(m.Size))
	b = binary.AppendUvarint(b, uint64(len(m.Chunks)))
	for _, c := range m.Chunks {
		b = append(b, c.ID[:]...)
		b = binary.LittleEndian.AppendUint32(b, c.Len)
	}
	return b, nil
}

// MarshalBinary returns the canonical encoding of m.
func (m *Manifest) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, manifestHeader+binary.MaxVarintLen64+len(m.Chunks)*chunkRefSize))
}

// DecodeManifest decodes a canonical manifest. Any other input, including
// trailing bytes and non-minimal varints, is an errs.Corrupt error.
func DecodeManifest(b []byte) (Manifest, error) {
	var m Manifest
	if len(b) < manifestHeader+1 {
		return m, manifestErr("%d bytes, too short", len(b))
	}
	copy(m.ID[:], b)
	size := binary.LittleEndian.Uint64(b[coda.IDSize:])
	if size <= ChunkThreshold || size > MaxValueSize {
		return m, manifestErr("size %d out of range (%d, %d]", size, ChunkThreshold, int64(MaxValueSize))
	}
	m.Size = int64(size)
	n, k := binary.Uvarint(b[manifestHeader:])
	if k <= 0 {
		return m, manifestErr("bad chunk count")
	}
	if k != len(binary.AppendUvarint(nil, n)) {
		return m, manifestErr("non-minimal chunk count")
	}
	rest := b[manifestHeader+k:]
	// Bound n by the bytes present before allocating anything.
	if n < 2 || n > uint64(len(rest)/chunkRefSize) || uint64(len(rest)) != n*chunkRefSize {
		return m, manifestErr("%d chunks in %d bytes", n, len(rest))
	}
	m.Chunks = make([]ChunkRef, n)
	for i := range m.Chunks {
		c := &m.Chunks[i]
		copy(c.ID[:], rest)
		c.Len = binary.LittleEndian.Uint32(rest[coda.IDSize:])
		rest = rest[chunkRefSize:]
	}
	if err := m.Check(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// offsets returns the offset of each chunk in the value, and the size last.
func (m *Manifest) offsets() []int64 {
	off := make([]int64, len(m.Chunks)+1)
	for i, c := range m.Chunks {
		off[i+1] = off[i] + int64(c.Len)
	}
	return off
}
