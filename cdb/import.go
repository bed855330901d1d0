package cdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Import stores the regular files under the directory dir as blobs under
// the tree path to, in one commit by author (ImportStream, reading the
// files in path order). progress, if not nil, is called after each file
// with the files and bytes done. Symbolic links and special files are
// skipped; names that are not valid path segments are an error naming the
// file.
func (w *World) Import(ctx context.Context, author Identity, dir, to string, progress func(files int, bytes int64)) (CommitInfo, error) {
	op := errs.Op("cdb.Import")
	if _, _, err := canon(to); err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	files, err := ImportFiles(dir)
	if err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	var open io.Closer
	defer func() {
		if open != nil {
			open.Close()
		}
	}()
	i := 0
	next := func() (ImportFile, error) {
		if open != nil {
			open.Close()
			open = nil
		}
		if i == len(files) {
			return ImportFile{}, io.EOF
		}
		rel := files[i]
		i++
		where := filepath.Join(dir, filepath.FromSlash(rel))
		f, err := openFile(where)
		if err != nil {
			return ImportFile{}, err
		}
		open = f
		fi, err := f.Stat()
		if err != nil {
			return ImportFile{}, err
		}
		return ImportFile{Name: rel, Body: f, Size: fi.Size(), Where: where}, nil
	}
	return w.ImportStream(ctx, author, to, next, "", progress)
}

// ImportFile is one file of an import (ImportStream).
type ImportFile struct {
	// Name is the file's path under the import's target: slash-separated
	// segments, each a valid path segment.
	Name string
	// Body is the file's bytes; Size their length (-1: unknown).
	Body io.Reader
	Size int64
	// Where names the file in errors ("": Name).
	Where string
}

// ImportStream stores the files next returns, until io.EOF, as blobs under
// the tree path to, in one commit by author with message ("": "import N
// files to TO"). Each file is stored as it is read, before the commit
// takes the world's write lock, so a slow stream (an upload) holds up no
// other writer; blobs of an import that fails stay unreachable in the
// store. progress, if not nil, is called after each file with the files
// and bytes done. A name given twice, a name that is not a valid path,
// and no files at all are errors naming what was wrong.
func (w *World) ImportStream(ctx context.Context, author Identity, to string, next func() (ImportFile, error), message string, progress func(files int, bytes int64)) (CommitInfo, error) {
	op := errs.Op("cdb.ImportStream")
	to, _, err := canon(to)
	if err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	if err := w.precheckBlobs(to, true); err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	type staged struct {
		path string
		id   coda.ID
	}
	var files []staged
	seen := make(map[string]bool)
	var total int64
	// Blobs are staged in batches of about stageBatch bytes: a batch a
	// file would cost 10,000 batch commits for 10,000 small files.
	var batch store.Batch
	var batched int64
	defer func() {
		if batch != nil {
			batch.Discard()
		}
	}()
	flush := func() error {
		if batch == nil {
			return nil
		}
		err := batch.Commit(false)
		batch.Discard()
		batch, batched = nil, 0
		return err
	}
	for {
		if len(files)%256 == 0 {
			if err := ctx.Err(); err != nil {
				return CommitInfo{}, errs.E(op, errs.Canceled, err)
			}
		}
		f, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return CommitInfo{}, errs.E(op, err)
		}
		where := f.Where
		if where == "" {
			where = f.Name
		}
		p := strings.TrimSuffix(to, "/") + "/" + f.Name
		if _, err := tree.SplitPath(p); err != nil || f.Name == "" {
			if err == nil {
				err = errs.E(errs.Invalid, "empty file name")
			}
			return CommitInfo{}, errs.E(op, errs.Path(where), err)
		}
		if seen[p] {
			return CommitInfo{}, errs.E(op, errs.Invalid, errs.Path(where), "imported twice")
		}
		seen[p] = true
		if batch == nil {
			batch = w.h.store.NewBatch()
		}
		id, n, err := putBlob(batch, f.Body, f.Size)
		if err != nil {
			return CommitInfo{}, errs.E(op, errs.Path(where), err)
		}
		if batched += n + 64; batched >= stageBatch {
			if err := flush(); err != nil {
				return CommitInfo{}, errs.E(op, err)
			}
		}
		total += n
		files = append(files, staged{p, id})
		if progress != nil {
			progress(len(files), total)
		}
	}
	if len(files) == 0 {
		return CommitInfo{}, errs.E(op, errs.Invalid, errs.Path(to), "no files to import")
	}
	if err := flush(); err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	if message == "" {
		message = fmt.Sprintf("import %d files to %s", len(files), to)
	}
	// Only puts of blobs already stored: a moved head is retried.
	c, err := w.write(ctx, author, message, rerunAlways, func(tx *txn) error {
		if ds, err := tx.dirSchema(to); err != nil {
			return err
		} else if ds != nil && ds.ID != blobSchemaID() {
			return errs.E(errs.Invalid, errs.Path(to), fmt.Sprintf("directory holds values of schema %s, not blobs", schemaName(ds)))
		}
		for _, f := range files {
			tx.pending = append(tx.pending, tree.Op{Path: f.path, Entry: tree.Value(f.id, tx.stamp)})
		}
		return nil
	})
	if err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	return c.Info(), nil
}

// ImportFiles returns the regular files under dir, slash-separated, relative
// to it and in path order: what Import imports. Symbolic links and special
// files are skipped. An empty or missing dir is an error naming it.
func ImportFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.E(errs.NotExist, errs.Path(dir), err)
	}
	if err != nil {
		return nil, errs.E(errs.Path(dir), err)
	}
	if len(files) == 0 {
		return nil, errs.E(errs.Invalid, errs.Path(dir), "no files to import")
	}
	sort.Strings(files)
	return files, nil
}
