package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// NewBytesBlob returns a Blob reading data, which the caller must not modify.
func NewBytesBlob(data []byte) Blob { return bytesBlob{bytes.NewReader(data)} }

type bytesBlob struct{ *bytes.Reader }

func (bytesBlob) Close() error { return nil }

// NewChunkedBlob returns a Blob reading the value described by m, fetching
// each chunk with getChunk only when a read reaches it. It checks every
// chunk's length against the manifest (errs.Corrupt otherwise) but, like
// Get, trusts the bytes; see Verifier.
func NewChunkedBlob(m *Manifest, getChunk func(id coda.ID) ([]byte, error)) Blob {
	return &chunkedBlob{m: m, off: m.offsets(), get: getChunk, cur: -1}
}

type chunkedBlob struct {
	m   *Manifest
	off []int64 // off[i] is where chunk i starts; off[len] is the size
	get func(coda.ID) ([]byte, error)
	pos int64

	mu     sync.Mutex // guards the one-chunk cache, for concurrent ReadAt
	cur    int
	data   []byte
	closed bool
}

var errClosed = errs.E(errs.Invalid, "store: blob is closed")

func (b *chunkedBlob) Size() int64 { return b.m.Size }

// chunk returns the bytes of chunk i.
func (b *chunkedBlob) chunk(i int) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	if b.cur == i {
		return b.data, nil
	}
	c := b.m.Chunks[i]
	data, err := b.get(c.ID)
	if err != nil {
		if errs.Is(err, errs.NotExist) {
			return nil, errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: chunk %s is missing", b.m.ID, c.ID), err)
		}
		return nil, err
	}
	if len(data) != int(c.Len) {
		return nil, errs.E(errs.Corrupt, fmt.Sprintf("store: object %s: chunk %s has %d bytes, manifest says %d", b.m.ID, c.ID, len(data), c.Len))
	}
	b.cur, b.data = i, data
	return data, nil
}

func (b *chunkedBlob) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errs.E(errs.Invalid, "store: negative offset")
	}
	n := 0
	for n < len(p) {
		if off >= b.m.Size {
			return n, io.EOF
		}
		// The chunk holding off: the last i with b.off[i] <= off.
		i := sort.Search(len(b.m.Chunks), func(i int) bool { return b.off[i+1] > off })
		data, err := b.chunk(i)
		if err != nil {
			return n, err
		}
		k := copy(p[n:], data[off-b.off[i]:])
		n += k
		off += int64(k)
	}
	return n, nil
}

func (b *chunkedBlob) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := b.ReadAt(p, b.pos)
	b.pos += int64(n)
	if n > 0 && errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

func (b *chunkedBlob) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += b.m.Size
	default:
		return 0, errs.E(errs.Invalid, "store: bad whence")
	}
	if offset < 0 {
		return 0, errs.E(errs.Invalid, "store: seek to a negative position")
	}
	b.pos = offset
	return offset, nil
}

func (b *chunkedBlob) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed, b.data, b.cur = true, nil, -1
	return nil
}
