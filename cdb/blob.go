package cdb

// Blobs. A file's bytes are stored as one CODA object of the built-in
// schema Blob { data: bytes }:
//
//	Blob schema id (32) ‖ uvarint(len) ‖ data
//
// so a blob is a value like any other (it has an id, a schema, and fits a
// directory whose schema is Blob), and the store chunks it like any large
// object, so two versions of a large file share their unchanged chunks. The
// bytes are written and read streaming (PutReader, Open): a blob is never
// held in memory whole.

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// maxHead is the longest blob header: schema id and a 10-byte uvarint.
const maxHead = coda.IDSize + 10

// readHead returns the first bytes of object id (up to maxHead).
func readHead(s store.Store, id coda.ID, size int64) ([]byte, error) {
	n := min(size, maxHead)
	if n < coda.IDSize {
		return nil, errs.E(errs.Corrupt, fmt.Sprintf("object %s: %d bytes, shorter than a schema id", id, size))
	}
	if size <= 4096 {
		b, err := s.Get(id)
		if err != nil {
			return nil, err
		}
		if int64(len(b)) < n {
			return nil, errs.E(errs.Corrupt, fmt.Sprintf("object %s: %d bytes, its size says %d", id, len(b), size))
		}
		return b[:n], nil
	}
	b, err := s.Open(id)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	head := make([]byte, n)
	if k, err := b.ReadAt(head, 0); int64(k) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = errs.E(errs.Corrupt, fmt.Sprintf("object %s: shorter than its size %d", id, size))
		}
		return nil, err
	}
	return head, nil
}

// blobHeader parses the header of a blob object of total size: the data
// length and the header length.
func blobHeader(head []byte, size int64) (int64, int, error) {
	r := coda.NewReader(head[coda.IDSize:])
	n, err := r.Uvarint()
	if err != nil {
		return 0, 0, err
	}
	h := coda.IDSize + r.Offset()
	if int64(h)+int64(n) != size {
		return 0, 0, fmt.Errorf("blob header says %d bytes of data, object holds %d", n, size-int64(h))
	}
	return int64(n), h, nil
}

func blobPrefix(size int64) []byte {
	id := coda.BlobSchema().ID
	return coda.AppendUvarint(append([]byte(nil), id[:]...), uint64(size))
}

// putBlob writes r (size bytes; negative: unknown, then r is spooled to a
// temporary file first) as a Blob object in b.
func putBlob(b store.Batch, r io.Reader, size int64) (coda.ID, int64, error) {
	if size < 0 {
		f, err := os.CreateTemp("", "coal-blob-")
		if err != nil {
			return coda.ID{}, 0, err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		n, err := io.Copy(f, r)
		if err != nil {
			return coda.ID{}, 0, fmt.Errorf("read blob: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return coda.ID{}, 0, err
		}
		r, size = f, n
	}
	pre := blobPrefix(size)
	if int64(len(pre))+size <= store.ChunkThreshold {
		// A small blob (most imported files) is one whole object: read it
		// into place and skip the streaming path's buffers.
		obj := make([]byte, len(pre)+int(size))
		copy(obj, pre)
		k, err := io.ReadFull(r, obj[len(pre):])
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return coda.ID{}, 0, errs.E(errs.Invalid, fmt.Sprintf("blob: read %d bytes, expected %d", k, size))
		}
		if err != nil {
			return coda.ID{}, 0, fmt.Errorf("write blob: %w", err)
		}
		id, err := b.Put(obj)
		if err != nil {
			return coda.ID{}, 0, fmt.Errorf("write blob: %w", err)
		}
		return id, size, nil
	}
	id, n, err := b.PutReader(io.MultiReader(bytesReader(pre), io.LimitReader(r, size)))
	if err != nil {
		return coda.ID{}, 0, fmt.Errorf("write blob: %w", err)
	}
	if n != int64(len(pre))+size {
		return coda.ID{}, 0, errs.E(errs.Invalid, fmt.Sprintf("blob: read %d bytes, expected %d", n-int64(len(pre)), size))
	}
	return id, size, nil
}

func bytesReader(b []byte) io.Reader { return &sliceReader{b} }

type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// openBlob opens the data of the blob object id.
func openBlob(s store.Store, id coda.ID) (store.Blob, error) {
	size, err := s.Size(id)
	if err != nil {
		return nil, err
	}
	head, err := readHead(s, id, size)
	if err != nil {
		return nil, err
	}
	if schemaOf(head) != coda.BlobSchema().ID {
		return nil, errs.E(errs.Invalid, "not a blob (a value: use Get)")
	}
	n, h, err := blobHeader(head, size)
	if err != nil {
		return nil, errs.E(errs.Corrupt, fmt.Errorf("blob %s: %w", id, err))
	}
	b, err := s.Open(id)
	if err != nil {
		return nil, err
	}
	return &sectionBlob{b: b, r: io.NewSectionReader(b, int64(h), n)}, nil
}

// sectionBlob is the data part of a blob object.
type sectionBlob struct {
	b store.Blob
	r *io.SectionReader
}

func (s *sectionBlob) Read(p []byte) (int, error)              { return s.r.Read(p) }
func (s *sectionBlob) ReadAt(p []byte, off int64) (int, error) { return s.r.ReadAt(p, off) }
func (s *sectionBlob) Seek(off int64, whence int) (int64, error) {
	return s.r.Seek(off, whence)
}
func (s *sectionBlob) Size() int64  { return s.r.Size() }
func (s *sectionBlob) Close() error { return s.b.Close() }

func blobSchemaID() coda.ID { return coda.BlobSchema().ID }

// schemaOf returns the schema id an object's bytes start with (the zero id
// if they are too short to hold one).
func schemaOf(b []byte) coda.ID {
	if len(b) < coda.IDSize {
		return coda.ID{}
	}
	return coda.ID(b[:coda.IDSize])
}
