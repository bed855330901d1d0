package cdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/errs"
)

// Import stores the regular files under the directory dir as blobs under
// the tree path to, in one commit by author. Files are read streaming;
// the tree is changed by one Apply of all puts, which writes each changed
// node once. progress, if not nil, is called after each file with the
// files and bytes done. Symbolic links and special files are skipped;
// names that are not valid path segments are an error naming the file.
func (w *World) Import(ctx context.Context, author Identity, dir, to string, progress func(files int, bytes int64)) (CommitInfo, error) {
	op := errs.Op("cdb.Import")
	to, _, err := canon(to)
	if err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
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
		return CommitInfo{}, errs.E(op, errs.NotExist, errs.Path(dir), err)
	}
	if err != nil {
		return CommitInfo{}, errs.E(op, errs.Path(dir), err)
	}
	if len(files) == 0 {
		return CommitInfo{}, errs.E(op, errs.Invalid, errs.Path(dir), "no files to import")
	}
	sort.Strings(files)
	msg := fmt.Sprintf("import %d files to %s", len(files), to)
	c, err := w.write(ctx, author, msg, rerunRebuild, func(tx *txn) error {
		ops := make([]tree.Op, 0, len(files))
		var total int64
		for i, rel := range files {
			if i%256 == 0 {
				if err := ctx.Err(); err != nil {
					return errs.E(errs.Canceled, err)
				}
			}
			p := strings.TrimSuffix(to, "/") + "/" + rel
			if to == "/" {
				p = "/" + rel
			}
			if _, err := tree.SplitPath(p); err != nil {
				return errs.E(errs.Path(filepath.Join(dir, rel)), err)
			}
			f, err := openFile(filepath.Join(dir, filepath.FromSlash(rel)))
			if err != nil {
				return err
			}
			fi, err := f.Stat()
			if err != nil {
				f.Close()
				return err
			}
			id, n, err := putBlob(tx.st.b, f, fi.Size())
			f.Close()
			if err != nil {
				return errs.E(errs.Path(filepath.Join(dir, rel)), err)
			}
			total += n
			ops = append(ops, tree.Op{Path: p, Entry: tree.Value(id, tx.stamp)})
			if progress != nil {
				progress(i+1, total)
			}
		}
		if ds, err := tx.dirSchema(to); err != nil {
			return err
		} else if ds != nil && ds.ID != blobSchemaID() {
			return errs.E(errs.Invalid, errs.Path(to), fmt.Sprintf("directory holds values of schema %s, not blobs", schemaName(ds)))
		}
		tx.pending = append(tx.pending, ops...)
		return nil
	})
	if err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	return c.Info(), nil
}
