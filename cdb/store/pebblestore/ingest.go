package pebblestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/sstable"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
)

// defaultIngestSize is Options.IngestSize's default: the size from which
// NewBatchSize streams a batch's whole objects into an sstable that
// Commit ingests, instead of into the Pebble batch (docs/store.md,
// "Large batches").
const defaultIngestSize = 4 << 20

// ingestDir is the directory, inside the store's, where sstables are
// built before they are ingested. Pebble ignores subdirectories.
const ingestDir = "ingest"

// sstBuild is an sstable of whole objects being written for ingestion:
// the objects a batch receives in increasing id order.
type sstBuild struct {
	path  string
	w     *sstable.Writer
	file  *fileWritable
	last  coda.ID
	n     int
	key   [1 + coda.IDSize]byte
	value []byte
}

func (s *Store) newSSTBuild() (*sstBuild, error) {
	n := s.ingestSeq.Add(1)
	path := filepath.Join(s.dir, ingestDir, fmt.Sprintf("%06d.sst", n))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	// The options of a flush (bloom filters, block sizes, the table
	// format), but MinLZ rather than Snappy: about 10 ms less CPU per 19 MB
	// and a smaller table (docs/perf.md, "Storing a clone").
	o := s.popts.MakeWriterOptions(0, s.db.TableFormat())
	o.Compression = sstable.MinLZCompression
	wr := &fileWritable{f: f, buf: make([]byte, 0, writeBuffer)}
	sb := &sstBuild{path: path, w: sstable.NewWriter(wr, o), file: wr}
	sb.key[0] = prefixObject
	return sb, nil
}

// add writes the whole object id to the sstable if it comes after every
// one written so far, and reports whether it did (or had: an id written
// twice is the same object).
func (sb *sstBuild) add(id coda.ID, data []byte) (bool, error) {
	if sb.n > 0 {
		switch bytes.Compare(id[:], sb.last[:]) {
		case 0:
			return true, nil
		case -1:
			return false, nil
		}
	}
	copy(sb.key[1:], id[:])
	sb.value = append(append(sb.value[:0], tagWhole), data...)
	if err := sb.w.Set(sb.key[:], sb.value); err != nil {
		return false, err
	}
	sb.last = id
	sb.n++
	return true, nil
}

// finish completes the sstable and syncs it.
func (sb *sstBuild) finish() error {
	w := sb.w
	sb.w = nil
	return w.Close()
}

// discard abandons the sstable and removes its file.
func (sb *sstBuild) discard() {
	if sb.w != nil {
		sb.file.discard.Store(true)
		sb.w.Close()
		sb.w = nil
	}
	os.Remove(sb.path)
}

// ingest adds the finished sstable to the database. Pebble links it in
// and removes sb.path.
func (s *Store) ingest(sb *sstBuild) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return kind(s.db.Ingest(context.Background(), []string{sb.path}))
}

var _ store.SizedBatcher = (*Store)(nil)

// writeBuffer is how many bytes of an sstable fileWritable collects per
// write. Pebble's own buffered file writes each 4 KiB block with a system
// call of its own; 64 KiB cost the least CPU of 4 KiB to 1 MiB, measured
// (docs/perf.md, "Storing a clone").
const writeBuffer = 64 << 10

// fileWritable is an objstorage.Writable on a file, buffered.
type fileWritable struct {
	f   *os.File
	buf []byte
	// discard: the table is abandoned; Finish only closes the file.
	// (Pebble's writer may call Write from a goroutine of its own.)
	discard atomic.Bool
}

func (w *fileWritable) Write(p []byte) error {
	if w.discard.Load() {
		return nil
	}
	if len(w.buf)+len(p) > cap(w.buf) {
		if err := w.flush(); err != nil {
			return err
		}
		if len(p) > cap(w.buf) {
			_, err := w.f.Write(p)
			return err
		}
	}
	w.buf = append(w.buf, p...)
	return nil
}

func (w *fileWritable) flush() error {
	_, err := w.f.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}

// Finish writes what is buffered and syncs the file.
func (w *fileWritable) Finish() error {
	if w.discard.Load() {
		return w.f.Close()
	}
	err := w.flush()
	if err == nil {
		err = w.f.Sync()
	}
	return errors.Join(err, w.f.Close())
}

func (w *fileWritable) Abort() { w.f.Close() }
