package store

import (
	"encoding/binary"
	"io"

	"github.com/coalescent/coal/coda"
)

// Chunking parameters. They are part of the data format: chunk ids travel on
// the wire, so every implementation must cut the same bytes at the same
// places. docs/store.md specifies the algorithm; TestCutGolden pins it.
const (
	// MinChunk is the size below which no chunk ends, except the last.
	MinChunk = 16 << 10
	// AvgChunk is the normal chunk size: before it the cut condition is
	// harder (maskS), after it easier (maskL).
	AvgChunk = 64 << 10
	// MaxChunk is the largest chunk.
	MaxChunk = 256 << 10
	// ChunkThreshold is the size above which a value is chunked; values of
	// at most ChunkThreshold bytes are stored whole.
	ChunkThreshold = MaxChunk
	// MaxValueSize is the largest value a store accepts (16 GiB), which
	// bounds the size of a manifest.
	MaxValueSize = 16 << 30
)

// The cut masks test the top bits of the 64-bit gear hash, the bits that
// depend on the last 64 bytes (the low bits see only the last few). A chunk
// ends after byte i when hash&mask == 0: with 18 bits before AvgChunk and 14
// after (FastCDC's normalized chunking, level 2), chunk sizes cluster around
// AvgChunk.
const (
	maskS uint64 = 0xFFFF_C000_0000_0000 // the top 18 bits
	maskL uint64 = 0xFFFC_0000_0000_0000 // the top 14 bits
)

// gear is the gear table: gear[b] is the first 8 bytes, little-endian, of
// BLAKE3-256 of 19 bytes: the 18 ASCII bytes "coal/store/gear/v1" and b.
var gear = makeGear()

func makeGear() (g [256]uint64) {
	seed := []byte("coal/store/gear/v1\x00")
	for i := range g {
		seed[len(seed)-1] = byte(i)
		sum := coda.Sum(seed)
		g[i] = binary.LittleEndian.Uint64(sum[:8])
	}
	return g
}

// Cut returns the length of the first chunk of data. data must hold either
// all the remaining input or at least MaxChunk bytes.
//
// The gear hash starts at zero at offset MinChunk of the chunk and for each
// byte b becomes hash<<1 + gear[b]; the chunk ends after the first byte at
// which hash&maskS == 0 (offsets before AvgChunk) or hash&maskL == 0 (from
// AvgChunk on), and at MaxChunk bytes at the latest.
func Cut(data []byte) int {
	n := len(data)
	if n <= MinChunk {
		return n
	}
	if n > MaxChunk {
		n = MaxChunk
	}
	normal := min(AvgChunk, n)
	var h uint64
	i := MinChunk
	for ; i < normal; i++ {
		h = h<<1 + gear[data[i]]
		if h&maskS == 0 {
			return i + 1
		}
	}
	for ; i < n; i++ {
		h = h<<1 + gear[data[i]]
		if h&maskL == 0 {
			return i + 1
		}
	}
	return n
}

// chunkBufSize is the Chunker's buffer: large enough that the unconsumed
// tail is moved to the front only once every dozen chunks or so.
const chunkBufSize = 4 * MaxChunk

// Chunker splits a stream into content-defined chunks with Cut.
type Chunker struct {
	r          io.Reader
	buf        []byte
	start, end int
	eof        bool
}

// NewChunker returns a Chunker reading from r.
func NewChunker(r io.Reader) *Chunker {
	return &Chunker{r: r, buf: make([]byte, chunkBufSize)}
}

// Next returns the next chunk, which is valid only until the following call,
// or io.EOF after the last one. An empty stream has no chunks.
func (c *Chunker) Next() ([]byte, error) {
	if c.end-c.start < MaxChunk && !c.eof {
		n := copy(c.buf, c.buf[c.start:c.end])
		c.start, c.end = 0, n
		for c.end < len(c.buf) {
			m, err := c.r.Read(c.buf[c.end:])
			c.end += m
			if err == io.EOF {
				c.eof = true
				break
			}
			if err != nil {
				return nil, err
			}
		}
	}
	if c.start == c.end {
		return nil, io.EOF
	}
	n := Cut(c.buf[c.start:c.end])
	chunk := c.buf[c.start : c.start+n]
	c.start += n
	return chunk, nil
}
