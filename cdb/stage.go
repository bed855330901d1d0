package cdb

// Staging blobs. A blob's bytes are stored before its commit takes the
// world's write lock (Commit's PutBlob ops, ImportStream), so reading them
// — an upload over the API, at the client's pace — holds up no other
// writer, and a moved head can be retried without reading them again.
// What the head would refuse is refused before the first byte is stored
// (precheckBlobs): a failed write leaves the store as it was, except for
// the blobs of a commit refused later (its author's rights, a concurrent
// change), which stay unreachable.

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// inMemory reports whether r is a reader of bytes already in memory,
// which Commit does not stage: the body of a small blob the API read.
func inMemory(r io.Reader) bool {
	switch r.(type) {
	case *bytes.Reader, *strings.Reader, *bytes.Buffer:
		return true
	}
	return false
}

// stageBatch is about how many bytes of blobs ImportStream stages in
// one batch.
const stageBatch = 8 << 20

// stageBlob stores r (size bytes; -1: unknown) as a Blob object in a batch
// of its own, outside any commit, and returns its id and data length. It
// becomes durable with the next synced commit (the store's log is
// ordered), which is the one that refers to it.
func (w *World) stageBlob(r io.Reader, size int64) (coda.ID, int64, error) {
	b := w.h.store.NewBatch()
	defer b.Discard()
	id, n, err := putBlob(b, r, size)
	if err != nil {
		return coda.ID{}, 0, err
	}
	if err := b.Commit(false); err != nil {
		return coda.ID{}, 0, err
	}
	return id, n, nil
}

// precheckBlobs refuses what storing blobs at or under p would be refused
// for at the head, before they are stored: p or a directory above it is
// not a directory (a value or blob; with under, p itself must be a
// directory or missing), the directory that would hold them requires
// values of another schema, or it is under /sys/schemas.
func (w *World) precheckBlobs(p string, under bool) error {
	p, segs, err := canon(p)
	if err != nil {
		return err
	}
	root, err := w.root(coda.ID{})
	if err != nil {
		return err
	}
	dir := p
	n := len(segs)
	if !under {
		dir, n = parentDir(p), len(segs)-1
	}
	tr := w.h.tree
	for i := 1; i <= n; i++ {
		q := tree.JoinPath(segs[:i])
		e, err := tr.Get(root, q)
		if errs.Is(err, errs.NotExist) {
			break
		}
		if err != nil {
			return err
		}
		if e.Kind != tree.KindDir && e.Kind != tree.KindTombstone {
			return errs.E(errs.Invalid, errs.Path(q), "not a directory")
		}
	}
	if dir == SchemasDir || strings.HasPrefix(dir, SchemasDir+"/") {
		return errs.E(errs.Invalid, errs.Path(p), SchemasDir+" holds schemas, not blobs")
	}
	if !under && isMetaName(p) {
		return nil // a directory's own metadata: its schema does not apply
	}
	ds, err := w.dirSchema(root, dir)
	if err != nil {
		return err
	}
	if ds != nil && ds.ID != blobSchemaID() {
		return errs.E(errs.Invalid, errs.Path(p), fmt.Sprintf("directory %s holds values of schema %s, not blobs", dir, schemaName(ds)))
	}
	return nil
}

// Policy returns the policy the home was opened with (nil: none), for
// checks made before a commit (an upload's rights, before its body).
func (h *Home) Policy() Policy { return h.policy }
