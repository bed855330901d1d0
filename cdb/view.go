package cdb

import (
	"crypto/ed25519"
	"fmt"
	"slices"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// View is a world as one identity may read it (docs/security.md, "Reads").
// Every method answers for a path the reader may not read exactly as for a
// path that does not exist: the same error kind (errs.NotExist), op and
// message. A path is readable at a revision if the policy's read filter
// allows it both in that revision's tree and in the head of the current
// branch: a revocation hides old versions too, and a new grant does not
// open versions written before it.
//
// Log and LoadCommit show only a commit's readable ops; a commit none of
// whose ops is readable is hidden (Log skips it, LoadCommit answers as for
// a missing commit), except commits with no ops at all, which show. A
// shown commit's message, author and time are shown whole.
//
// With no Policy every path is readable. Each read is reported to the
// home's Auditor with the reader as actor. A View is safe for concurrent
// use; it holds no snapshot (reads take revisions, as World's do).
type View struct {
	w      *World
	reader ed25519.PublicKey
}

// As returns the world as reader sees it.
func (w *World) As(reader ed25519.PublicKey) *View {
	return &View{w: w, reader: slices.Clone(reader)}
}

// World returns the world viewed.
func (v *View) World() *World { return v.w }

// Reader returns the key the view reads as.
func (v *View) Reader() ed25519.PublicKey { return v.reader }

// filter returns the read filter at root (and the head), nil if everything
// is readable.
func (v *View) filter(roots ...coda.ID) (func(string) bool, error) {
	p := v.w.h.policy
	if p == nil {
		return nil, nil
	}
	head, err := v.w.root(coda.ID{})
	if err != nil {
		return nil, err
	}
	var fs []func(string) bool
	for _, r := range append([]coda.ID{head}, roots...) {
		if r == head && len(fs) > 0 {
			continue
		}
		fs = append(fs, p.ReadFilter(v.w.h.cstore, v.w.id, r, v.reader))
	}
	return func(path string) bool {
		for _, f := range fs {
			if !f(path) {
				return false
			}
		}
		return true
	}, nil
}

// CanRead reports whether the reader may read path at rev (zero: head).
func (v *View) CanRead(rev coda.ID, path string) (bool, error) {
	root, err := v.w.root(rev)
	if err != nil {
		return false, err
	}
	f, err := v.filter(root)
	if err != nil || f == nil {
		return err == nil, err
	}
	p, _, err := canon(path)
	if err != nil {
		return false, err
	}
	return f(p) || (p == "/" && f("/")), nil
}

func (v *View) record(action, path string, commit coda.ID, err error) error {
	a := v.w.h.audit
	if a == nil {
		return err
	}
	res := "ok"
	if err != nil {
		res = errs.KindOf(err).String()
	}
	e := AuditEvent{Actor: v.reader, Action: action, World: v.w.id, Path: path, Commit: commit, Result: res}
	var aerr error
	if la, ok := a.(laterAuditor); ok {
		aerr = la.RecordLater(e)
	} else {
		aerr = a.Record(e)
	}
	if aerr != nil && err == nil {
		return errs.E(errs.Internal, fmt.Errorf("audit: %w", aerr))
	}
	return err
}

// notExist is the error of a missing path p, as tree.Get gives it.
func notExist(p string) error {
	_, err := tree.New(nil).Get(tree.EmptyRoot, p)
	if err == nil {
		err = errs.E(errs.NotExist, errs.Path(p), "tree: no such path")
	}
	return err
}

// readablePath reports whether the item at p (a value, or a directory
// with kind dir) passes f.
func readablePath(f func(string) bool, p string, dir bool) bool {
	if f == nil || p == "/" {
		return true
	}
	return f(p) || dir && f(p+"/")
}

// Get is World.Get as the reader sees it.
func (v *View) Get(rev coda.ID, path string) (Item, error) {
	it, err := v.get(rev, path)
	return it, v.record("get", path, rev, err)
}

func (v *View) get(rev coda.ID, path string) (Item, error) {
	op := errs.Op("cdb.Get")
	hidden, err := v.hidden(rev, path)
	if err != nil {
		return Item{}, errs.E(op, err)
	}
	if hidden {
		return Item{}, errs.E(op, errs.Path(path), notExist(path))
	}
	return v.w.Get(rev, path)
}

// hidden reports whether path exists at rev but the reader may not read
// it. Errors are those of resolving rev; a bad or missing path is not
// hidden (the World's method reports it).
func (v *View) hidden(rev coda.ID, path string) (bool, error) {
	root, err := v.w.root(rev)
	if err != nil {
		return false, err
	}
	f, err := v.filter(root)
	if err != nil || f == nil {
		return false, err
	}
	p, _, err := canon(path)
	if err != nil {
		return false, nil
	}
	e, err := v.w.h.cached.Get(root, p)
	if err != nil {
		return false, nil
	}
	return !readablePath(f, p, e.Kind == tree.KindDir), nil
}

// OpenBlob is World.OpenBlob as the reader sees it.
func (v *View) OpenBlob(rev coda.ID, path string) (store.Blob, error) {
	op := errs.Op("cdb.OpenBlob")
	hidden, err := v.hidden(rev, path)
	if err != nil {
		return nil, v.record("get", path, rev, errs.E(op, err))
	}
	if hidden {
		return nil, v.record("get", path, rev, errs.E(op, errs.Path(path), notExist(path)))
	}
	b, err := v.w.OpenBlob(rev, path)
	return b, v.record("get", path, rev, err)
}

// List is World.List as the reader sees it: the entries it may read. A
// directory with no readable entry that the reader may not list (nor see
// in its parent) answers as a missing directory.
func (v *View) List(rev coda.ID, path string) ([]DirEntry, error) {
	out, err := v.list(rev, path)
	return out, v.record("list", path, rev, err)
}

func (v *View) list(rev coda.ID, path string) ([]DirEntry, error) {
	op := errs.Op("cdb.List")
	root, err := v.w.root(rev)
	if err != nil {
		return nil, errs.E(op, err)
	}
	f, err := v.filter(root)
	if err != nil {
		return nil, errs.E(op, err)
	}
	ents, err := v.w.List(rev, path)
	if errs.Is(err, errs.Invalid) && f != nil {
		// World.List's "not a directory" tells that a value is there:
		// only a reader who may read it learns that.
		if p, _, cerr := canon(path); cerr == nil && !readablePath(f, p, false) {
			return nil, errs.E(op, errs.Path(path), notExist(path))
		}
	}
	if err != nil || f == nil {
		return ents, err
	}
	p, _, _ := canon(path)
	dir := p
	if dir == "/" {
		dir = ""
	}
	out := ents[:0]
	for _, e := range ents {
		if readablePath(f, dir+"/"+e.Name, e.Kind == ItemDir) {
			out = append(out, e)
		}
	}
	if len(out) == 0 && !readablePath(f, p, true) {
		return nil, errs.E(op, errs.Path(path), notExist(path))
	}
	return out, nil
}

// changePath is the path a read filter takes for a leaf.
func changePath(p string, meta bool) string {
	if meta && p != "/" {
		return p + "/"
	}
	return p
}

// filterCommit returns c with only its readable ops and conflicts (judged
// in c's tree and the head), and how many ops it hid.
func (v *View) filterCommit(c *Commit) (*Commit, int, error) {
	f, err := v.filter(c.Tree)
	if err != nil || f == nil {
		return c, 0, err
	}
	cp := *c
	cp.Ops = nil
	for _, o := range c.Ops {
		if f(changePath(o.Path, o.Meta)) {
			cp.Ops = append(cp.Ops, o)
		}
	}
	cp.Conflicts = nil
	for _, k := range c.Conflicts {
		if f(changePath(k.Path, k.Meta)) {
			cp.Conflicts = append(cp.Conflicts, k)
		}
	}
	return &cp, len(c.Ops) - len(cp.Ops), nil
}

// LoadCommit is World.LoadCommit as the reader sees it: the commit with
// only its readable ops and conflicts, and the number of ops hidden. A
// commit none of whose ops is readable answers as a missing commit. The
// filtered commit no longer verifies (Verify) when ops were hidden: check
// signatures on World.LoadCommit.
func (v *View) LoadCommit(id coda.ID) (*Commit, int, error) {
	c, hidden, err := v.loadCommit(id)
	return c, hidden, v.record("show", "", id, err)
}

func (v *View) loadCommit(id coda.ID) (*Commit, int, error) {
	c, err := v.w.LoadCommit(id)
	if err != nil {
		return nil, 0, err
	}
	fc, hidden, err := v.filterCommit(c)
	if err != nil {
		return nil, 0, err
	}
	if len(c.Ops) > 0 && len(fc.Ops) == 0 {
		return nil, 0, errs.E(errs.NotExist, fmt.Sprintf("no commit %s", id))
	}
	return fc, hidden, nil
}

// visible reports whether the reader may see commit c: it has no ops, or
// one the reader may read.
func (v *View) visible(c *Commit) (bool, error) {
	if len(c.Ops) == 0 {
		return true, nil
	}
	fc, _, err := v.filterCommit(c)
	if err != nil {
		return false, err
	}
	return len(fc.Ops) > 0, nil
}

// Resolve is World.Resolve as the reader sees it: a commit it may not see
// (none of its ops is readable) resolves exactly as an unknown one, by
// whatever name — the same kind (errs.NotExist), op and message ("no
// commit ID" for a full id, `unknown revision "REV"` for any other name);
// a prefix is searched among the commits it may see only, so that it is
// ambiguous only if two of those share it. "~N" walks first parents
// through hidden commits: only the commit named must be visible.
func (v *View) Resolve(rev string) (coda.ID, error) {
	if v.w.h.policy == nil {
		return v.w.Resolve(rev)
	}
	return v.w.resolve(rev, v.visible)
}

// Log is World.Log as the reader sees it: commits with a readable op (or
// no ops), each counting only its readable ops; with a path, those whose
// readable ops touch it.
func (v *View) Log(from coda.ID, path string, n int) ([]CommitInfo, error) {
	out, err := v.log(from, path, n)
	return out, v.record("log", path, from, err)
}

func (v *View) log(from coda.ID, path string, n int) ([]CommitInfo, error) {
	op := errs.Op("cdb.Log")
	w := v.w
	from, prefix, err := w.logStart(from, path)
	if err != nil {
		return nil, errs.E(op, err)
	}
	var out []CommitInfo
	err = w.history(from, func(c *Commit) (bool, error) {
		fc, _, err := v.filterCommit(c)
		if err != nil {
			return false, err
		}
		if len(c.Ops) > 0 && len(fc.Ops) == 0 {
			return true, nil
		}
		if prefix == "" || touches(fc, prefix) {
			out = append(out, fc.Info())
		}
		return n <= 0 || len(out) < n, nil
	})
	if err != nil {
		return nil, errs.E(op, err)
	}
	return out, nil
}

// Diff is World.Diff as the reader sees it: changes at paths readable in
// both trees (a path readable on one side only shows as absent on the
// other).
func (v *View) Diff(a, b coda.ID, fn func(tree.Change) error) error {
	return v.record("diff", "", b, v.diff(a, b, fn))
}

func (v *View) diff(a, b coda.ID, fn func(tree.Change) error) error {
	op := errs.Op("cdb.Diff")
	ra, err := v.w.root(a)
	if err != nil {
		return errs.E(op, err)
	}
	rb, err := v.w.root(b)
	if err != nil {
		return errs.E(op, err)
	}
	fa, err := v.filter(ra)
	if err != nil {
		return errs.E(op, err)
	}
	fb, err := v.filter(rb)
	if err != nil {
		return errs.E(op, err)
	}
	if fa == nil {
		return v.w.h.cached.Diff(ra, rb, fn)
	}
	return v.w.h.cached.Diff(ra, rb, func(ch tree.Change) error {
		p := changePath(ch.Path, ch.Meta)
		if !fa(p) {
			ch.A = tree.Entry{}
		}
		if !fb(p) {
			ch.B = tree.Entry{}
		}
		if ch.A == ch.B {
			return nil
		}
		return fn(ch)
	})
}

// Conflicts is World.Conflicts as the reader sees it: the conflicts at
// readable paths.
func (v *View) Conflicts(c coda.ID) ([]Conflict, error) {
	out, err := v.conflicts(c)
	return out, v.record("show", "", c, err)
}

func (v *View) conflicts(c coda.ID) ([]Conflict, error) {
	ks, err := v.w.Conflicts(c)
	if err != nil {
		return nil, err
	}
	root, err := v.w.root(c)
	if err != nil {
		return nil, err
	}
	f, err := v.filter(root)
	if err != nil || f == nil {
		return ks, err
	}
	out := ks[:0]
	for _, k := range ks {
		if f(changePath(k.Path, k.Meta)) {
			out = append(out, k)
		}
	}
	return out, nil
}

// Filter returns the read filter of the view at commit rev (zero: head):
// whether the reader may read a path there (paths as acl.ChangedPaths
// writes them: a directory's metadata leaf is "/dir/"). Bundles use it to
// choose what travels.
func (v *View) Filter(rev coda.ID) (func(path string) bool, error) {
	root, err := v.w.root(rev)
	if err != nil {
		return nil, err
	}
	f, err := v.filter(root)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return func(string) bool { return true }, nil
	}
	return f, nil
}
