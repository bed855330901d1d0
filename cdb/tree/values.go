package tree

import "github.com/coalescent/coal/coda"

// Values calls fn with the name and entry of every value directly in the
// directory at p of the tree root — not its tombstones, subdirectories or
// metadata leaf — in name order, and stops at the first error fn returns
// and returns it. It copies nothing: where List would build a listing of
// a large directory only to search it, Values lets the caller merge with
// it (bundle.Create checks values granted after they were written
// against the head this way). A path that is not a live directory is an
// errs.NotExist error, as for List.
func (t *Tree) Values(root coda.ID, p string, fn func(name string, e Entry) error) error {
	segs, err := SplitPath(p)
	if err != nil {
		return err
	}
	o := t.newOp(false)
	dir, err := o.dir(root, segs, p)
	if err != nil {
		return err
	}
	return o.each(dir, key{}, func(it item) error {
		if it.key.dir || it.key.name == "" || it.e.Kind != KindValue {
			return nil
		}
		return fn(it.key.name, it.e)
	})
}
