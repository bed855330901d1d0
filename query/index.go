package query

import (
	"fmt"
	"slices"
	"strings"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Indexes live in the tree (docs/query.md §5):
//
//	D/.index/F/            metadata leaf: the declaration (a DirMeta, as mkdir writes)
//	D/.index/F/K.NAME      an entry: the id of the value at D/NAME, whose field F has key K
//	D/.index/F/K/NAME      the entry of a NAME longer than 133 bytes
//
// K is the lowercase hex of the field's key (key.go), cut at 120 characters.
// Entries are derived leaves: Indexer.Derive writes them in the commit that
// changes D/NAME, and every node that validates the commit derives them
// again.

// IndexDir is the name of the directory that holds a directory's indexes.
const IndexDir = ".index"

// Indexer is the cdb.Deriver that maintains indexes. The zero value is
// ready to use and safe for concurrent use.
type Indexer struct{}

// With returns opts with the Indexer as its Deriver.
func With(opts cdb.Options) cdb.Options {
	opts.Derive = Indexer{}
	return opts
}

// IndexPath is the directory of the index of field on dir.
func IndexPath(dir, field string) string {
	if segs, err := tree.SplitPath(dir); err == nil {
		dir = tree.JoinPath(segs)
	}
	if dir == "/" {
		return "/" + IndexDir + "/" + field
	}
	return dir + "/" + IndexDir + "/" + field
}

// Derived reports whether path is an index entry or anything else under a
// .index directory but a declaration.
func (Indexer) Derived(path string, meta bool) bool {
	if !strings.Contains(path, IndexDir) {
		return false
	}
	segs, err := tree.SplitPath(path)
	if err != nil {
		return false
	}
	n := len(segs)
	if meta && n >= 2 && segs[n-2] == IndexDir {
		return false
	}
	return slices.Contains(segs, IndexDir)
}

// isDecl reports whether a change is at an index declaration, and of
// which directory and field.
func isDecl(path string, meta bool) (dir, field string, ok bool) {
	if !meta {
		return "", "", false
	}
	segs, err := tree.SplitPath(path)
	if err != nil || len(segs) < 2 || segs[len(segs)-2] != IndexDir || slices.Contains(segs[:len(segs)-2], IndexDir) {
		return "", "", false
	}
	return tree.JoinPath(segs[:len(segs)-2]), segs[len(segs)-1], true
}

// splitLeaf returns the directory and name of a leaf path.
func splitLeaf(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	dir = p[:i]
	if dir == "" {
		dir = "/"
	}
	return dir, p[i+1:]
}

// deriver is one Derive or MergeFix call.
type deriver struct {
	env   cdb.DeriveEnv
	regs  map[coda.ID]*coda.Registry
	vals  map[[2]coda.ID]decoded // (root, id) → decoded, for rebuilds of several indexes
	out   map[string]tree.Op
	order []string
}

func newDeriver(env cdb.DeriveEnv) *deriver {
	return &deriver{env: env, regs: map[coda.ID]*coda.Registry{}, out: map[string]tree.Op{}, vals: map[[2]coda.ID]decoded{}}
}

func (d *deriver) emit(p string, e tree.Entry) {
	if _, ok := d.out[p]; !ok {
		d.order = append(d.order, p)
	}
	d.out[p] = tree.Op{Path: p, Entry: e, Raw: true}
}

func (d *deriver) ops() []tree.Op {
	ops := make([]tree.Op, 0, len(d.order))
	for _, p := range d.order {
		ops = append(ops, d.out[p])
	}
	return ops
}

// declared returns the fields indexed on dir in root (live declarations).
func (d *deriver) declared(root coda.ID, dir string) ([]string, error) {
	ents, err := d.env.Tree.List(root, strings.TrimSuffix(IndexPath(dir, ""), "/"))
	if errs.Is(err, errs.NotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.Kind != tree.KindDir {
			continue
		}
		if _, err := d.env.Tree.GetMeta(root, IndexPath(dir, e.Name)); err == nil {
			out = append(out, e.Name)
		} else if !errs.Is(err, errs.NotExist) {
			return nil, err
		}
	}
	return out, nil
}

// decode returns the schema and value of object id in the schemas of
// root; a nil schema for objects with no entry (blobs, unknown schemas,
// enums). A missing object is an errs.NotExist error.
func (d *deriver) decode(root, id coda.ID) (*coda.Schema, coda.Value, error) {
	if x, ok := d.vals[[2]coda.ID{root, id}]; ok {
		return x.s, x.v, nil
	}
	s, v, err := d.decodeOnce(root, id)
	if err == nil && d.vals != nil {
		d.vals[[2]coda.ID{root, id}] = decoded{s, v}
	}
	return s, v, err
}

type decoded struct {
	s *coda.Schema
	v coda.Value
}

func (d *deriver) decodeOnce(root, id coda.ID) (*coda.Schema, coda.Value, error) {
	b, err := d.env.Store.Get(id)
	if err != nil {
		return nil, coda.Value{}, err
	}
	reg, ok := d.regs[root]
	if !ok {
		if reg, err = d.env.Schemas(root); err != nil {
			return nil, coda.Value{}, err
		}
		d.regs[root] = reg
	}
	s, v, err := coda.DecodeObject(b, coda.DecodeOptions{Resolver: reg})
	if err != nil || s.Kind != coda.KindStruct {
		return nil, coda.Value{}, nil
	}
	return s, v, nil
}

// entryKey returns the index segment of the value e (a leaf entry) for
// field in the schemas of root, "" if e has no entry.
func (d *deriver) entryKey(root coda.ID, e tree.Entry, field string) (string, error) {
	if e.Kind != tree.KindValue {
		return "", nil
	}
	s, v, err := d.decode(root, e.ID)
	if err != nil || s == nil {
		return "", err
	}
	k, err := fieldKey(s, v, field)
	if err != nil {
		k = []byte{keyAbsent}
	}
	return keyHex(k), nil
}

func entryPath(dir, field, key, name string) string {
	if len(name) <= maxFlatName {
		return IndexPath(dir, field) + "/" + key + "." + name
	}
	return IndexPath(dir, field) + "/" + key + "/" + name
}

// rebuild makes the index of field on dir in root exactly the entries of
// dir's values (none if the declaration is not live).
func (d *deriver) rebuild(root coda.ID, dir, field string, s tree.Stamp) error {
	want := map[string]coda.ID{}
	if _, err := d.env.Tree.GetMeta(root, IndexPath(dir, field)); err == nil {
		ents, err := d.env.Tree.List(root, dir)
		if err != nil && !errs.Is(err, errs.NotExist) {
			return err
		}
		for _, e := range ents {
			if e.Kind != tree.KindValue {
				continue
			}
			k, err := d.entryKey(root, e.Entry, field)
			if err != nil {
				return err
			}
			if k != "" {
				want[entryPath(dir, field, k, e.Name)] = e.ID
			}
		}
	} else if !errs.Is(err, errs.NotExist) {
		return err
	}
	have := map[string]coda.ID{}
	err := d.env.Tree.Walk(root, IndexPath(dir, field), func(p string, e tree.Entry) error {
		have[p] = e.ID
		return nil
	})
	if err != nil && !errs.Is(err, errs.NotExist) {
		return err
	}
	for _, p := range sortedKeys(have) {
		if _, ok := want[p]; !ok {
			d.emit(p, tree.Tombstone(s))
		}
	}
	for _, p := range sortedKeys(want) {
		if have[p] != want[p] {
			d.emit(p, tree.Value(want[p], s))
		}
	}
	return nil
}

func sortedKeys(m map[string]coda.ID) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// fix sets the entries of name in the index of field on dir in root to
// those of its value there, given the entries olds (of the values name
// held before) that may remain.
func (d *deriver) fix(root coda.ID, dir, field, name string, olds []oldEntry, s tree.Stamp) error {
	cur, _, err := d.env.Tree.Leaf(root, joinName(dir, name), false)
	if err != nil {
		return err
	}
	want, err := d.entryKey(root, cur, field)
	if err != nil {
		return err
	}
	for _, o := range olds {
		k, err := d.entryKey(o.root, o.e, field)
		if err != nil {
			return err
		}
		if k == "" || k == want {
			continue
		}
		p := entryPath(dir, field, k, name)
		if e, ok, err := d.env.Tree.Leaf(root, p, false); err != nil {
			return err
		} else if ok && e.Kind == tree.KindValue {
			d.emit(p, tree.Tombstone(s))
		}
	}
	if want == "" {
		return nil
	}
	p := entryPath(dir, field, want, name)
	e, ok, err := d.env.Tree.Leaf(root, p, false)
	if err != nil {
		return err
	}
	if !ok || e.Kind != tree.KindValue || e.ID != cur.ID {
		d.emit(p, tree.Value(cur.ID, s))
	}
	return nil
}

type oldEntry struct {
	root coda.ID
	e    tree.Entry
}

func joinName(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// Derive returns the index entries a commit's changes imply
// (docs/query.md §5.2).
func (Indexer) Derive(env cdb.DeriveEnv, parent, mid coda.ID, changes []cdb.Change, s tree.Stamp) ([]tree.Op, error) {
	d := newDeriver(env)
	rebuilt := map[[2]string]bool{}
	var dirs []string
	names := map[string][]string{}
	for _, c := range changes {
		if dir, field, ok := isDecl(c.Path, c.Meta); ok {
			if !rebuilt[[2]string{dir, field}] {
				rebuilt[[2]string{dir, field}] = true
				if err := d.rebuild(mid, dir, field, s); err != nil {
					return nil, err
				}
			}
			continue
		}
		if c.Meta || c.Path == "/" {
			continue
		}
		dir, name := splitLeaf(c.Path)
		if _, ok := names[dir]; !ok {
			dirs = append(dirs, dir)
		}
		names[dir] = append(names[dir], name)
	}
	for _, dir := range dirs {
		fields, err := d.declared(mid, dir)
		if err != nil {
			return nil, err
		}
		for _, f := range fields {
			if rebuilt[[2]string{dir, f}] {
				continue
			}
			for _, name := range names[dir] {
				old, _, err := env.Tree.Leaf(parent, joinName(dir, name), false)
				if err != nil {
					return nil, err
				}
				if err := d.fix(mid, dir, f, name, []oldEntry{{parent, old}}, s); err != nil {
					return nil, err
				}
			}
		}
	}
	return d.ops(), nil
}

// MergeFix returns the entries that make a merged tree's indexes those of
// its values: for every value that differs between the two sides, its
// entries are set again; an index whose declaration differs is rebuilt
// (docs/query.md §5.3).
func (Indexer) MergeFix(env cdb.DeriveEnv, a, b, merged coda.ID, s tree.Stamp) ([]tree.Op, error) {
	d := newDeriver(env)
	type named struct {
		dir, name string
		a, b      tree.Entry
	}
	var changed []named
	rebuild := map[[2]string]bool{}
	var rebuildOrder [][2]string
	err := env.Tree.Diff(a, b, func(c tree.Change) error {
		if dir, field, ok := isDecl(c.Path, c.Meta); ok {
			k := [2]string{dir, field}
			if !rebuild[k] {
				rebuild[k] = true
				rebuildOrder = append(rebuildOrder, k)
			}
			return nil
		}
		if c.Meta || (Indexer{}).Derived(c.Path, false) {
			return nil
		}
		dir, name := splitLeaf(c.Path)
		changed = append(changed, named{dir, name, c.A, c.B})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, k := range rebuildOrder {
		if err := d.rebuild(merged, k[0], k[1], s); err != nil {
			return nil, err
		}
	}
	declared := map[string][]string{}
	for _, c := range changed {
		fields, ok := declared[c.dir]
		if !ok {
			if fields, err = d.declared(merged, c.dir); err != nil {
				return nil, err
			}
			declared[c.dir] = fields
		}
		for _, f := range fields {
			if rebuild[[2]string{c.dir, f}] {
				continue
			}
			if err := d.fix(merged, c.dir, f, c.name, []oldEntry{{a, c.a}, {b, c.b}}, s); err != nil {
				return nil, err
			}
		}
	}
	return d.ops(), nil
}

// CheckIndex reports whether field of schema s can be indexed (and
// ordered by): a field of a keyed type (docs/query.md §4). The error names
// the field and the schema.
func CheckIndex(s *coda.Schema, field string) error {
	if s == nil || s.Kind != coda.KindStruct {
		return errs.E(errs.Invalid, fmt.Sprintf("index: the directory has %s: an index is on a field of a struct schema (mkdir --schema)", schemaName(s)))
	}
	i := s.FieldIndex(field)
	if i < 0 {
		return errs.E(errs.Invalid, fmt.Sprintf("index: no field %q in %s", field, schemaName(s)))
	}
	if !keyable(&s.Fields[i].Type) {
		return errs.E(errs.Invalid, fmt.Sprintf("index: field %q of %s is a %s: only numbers, bools, strings, bytes, links, enums without payloads and optionals of these are indexed", field, schemaName(s), s.Fields[i].Type.String()))
	}
	if strings.Contains(field, "/") || field == "" || field == "." || field == ".." {
		return errs.E(errs.Invalid, fmt.Sprintf("index: bad field name %q", field))
	}
	return nil
}
