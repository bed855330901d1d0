// Package query runs queries over a world's tree (docs/query.md): values
// under a path prefix, filtered with a CEL expression checked against
// their schema, with link<T> fields followed inline to a depth bound,
// projected, ordered, limited and resumed with a cursor, at any commit or
// across a value's history; and it maintains the indexes (declared on a
// directory, kept in the tree by every commit) that make a pinned field an
// O(log n) lookup. Every read goes through the asker's view: an unreadable
// value is never returned or counted, and a link into one resolves like a
// missing object.
package query

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Query is one query (docs/query.md §1). The zero value of each part is
// its default.
type Query struct {
	// Prefix is the directory whose values are queried (with History: the
	// path of the value whose versions are).
	Prefix string
	// Recursive queries every value under Prefix, not only its children.
	Recursive bool
	// Where is a CEL expression over the value's fields ("": every value).
	Where string
	// Follow lists link fields to inline, each a chain "a.b" (follow a,
	// then b in what a links to).
	Follow []string
	// Depth bounds the links followed from a value (0: the longest chain).
	Depth int
	// Select lists the top-level fields returned (nil: all).
	Select []string
	// Order is a field to order by; "-field" orders descending. Without
	// it, values come in path order (History: newest first).
	Order string
	// Limit is the most values returned (0: all).
	Limit int
	// Cursor resumes a query where the one that returned it stopped.
	Cursor string
	// At is the commit queried (zero: the head; a cursor names its own).
	At coda.ID
	// History queries every version of the value at Prefix, each with
	// the commit that wrote it, among the commits reachable from At.
	History bool
	// NoIndex plans without indexes (tests and benchmarks compare).
	NoIndex bool
}

// Row is one value a query returns.
type Row struct {
	Path   string
	ID     coda.ID
	Schema *coda.Schema
	Commit coda.ID         // History: the commit that wrote this version
	Value  json.RawMessage // the value as JSON, links followed, fields selected
}

// Stats says how a query ran.
type Stats struct {
	Plan    string `json:"plan"`    // "scan PREFIX", "index PATH KEYS", "history PATH"
	Read    int    `json:"read"`    // values read and tested
	Matched int    `json:"matched"` // values that matched the filter
}

// Result is what Run returns besides the rows.
type Result struct {
	At    coda.ID // the commit queried
	Next  string  // the cursor of the rest ("" if none)
	Stats Stats
}

// maxDepth bounds Depth.
const maxDepth = 64

// Run runs q on the world as v sees it and calls emit for each row, in
// order. The query is recorded in the audit log as action "query" on the
// prefix. Errors are errs.Invalid for a bad query (naming the position in
// the expression and the schema it was checked against), errs.NotExist
// for a prefix the reader cannot see.
func Run(ctx context.Context, v *cdb.View, q Query, emit func(Row) error) (Result, error) {
	r, err := run(ctx, v, q, emit)
	return r, v.Record("query", q.Prefix, r.At, err)
}

// runner is one query's state.
type runner struct {
	ctx    context.Context
	v      *cdb.View
	w      *cdb.World
	tr     *tree.Tree
	st     tree.Store
	q      Query
	at     coda.ID
	root   coda.ID
	reg    *coda.Registry
	read   func(string) bool
	dir    *coda.Schema // the prefix's schema, if any
	filts  map[coda.ID]*filter
	chains [][]string
	depth  int
	stats  Stats

	readable map[coda.ID]bool // ids held at readable paths (links), built on first use

	checked map[coda.ID]error // checkSchema's answers
	fitted  bool              // some value's schema passed checkSchema
	misfit  error             // the first checkSchema error of a value skipped
}

// match is a value that passed the filter.
type match struct {
	path   string
	id     coda.ID
	s      *coda.Schema
	v      coda.Value
	key    []byte
	commit coda.ID
	seq    int
}

type cursor struct {
	V     int    `json:"v"`
	Query string `json:"q"`
	At    string `json:"at"`
	Path  string `json:"p"`
	Key   string `json:"k,omitempty"`
}

// fingerprint names the parts of q a cursor must be resumed with.
func fingerprint(q Query) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q %v %q %q %q %v", q.Prefix, q.Recursive, q.Where, q.Order, q.Select, q.History)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func run(ctx context.Context, v *cdb.View, q Query, emit func(Row) error) (Result, error) {
	op := errs.Op("query")
	w := v.World()
	r := &runner{ctx: ctx, v: v, w: w, tr: w.Home().Tree(), st: w.Home().Store(), q: q, filts: map[coda.ID]*filter{}, checked: map[coda.ID]error{}}
	if q.Limit < 0 || q.Depth < 0 || q.Depth > maxDepth {
		return Result{}, errs.E(op, errs.Invalid, fmt.Sprintf("limit must be ≥ 0 and depth within 0…%d", maxDepth))
	}
	var cur *cursor
	if q.Cursor != "" {
		if q.History {
			return Result{}, errs.E(op, errs.Invalid, "cursor: a history query is not resumed with a cursor (use --limit)")
		}
		c, err := decodeCursor(q.Cursor, fingerprint(q))
		if err != nil {
			return Result{}, errs.E(op, err)
		}
		at, err := coda.ParseID(c.At)
		if err != nil {
			return Result{}, errs.E(op, errs.Invalid, "cursor: bad commit id")
		}
		if !q.At.IsZero() && q.At != at {
			return Result{}, errs.E(op, errs.Invalid, "cursor: it resumes a query at another commit than --at")
		}
		q.At, cur = at, c
	}
	at := q.At
	if at.IsZero() {
		h, err := w.Head()
		if err != nil {
			return Result{}, errs.E(op, err)
		}
		at = h
	}
	r.at = at
	var err error
	if r.root, err = w.Root(at); err != nil {
		return Result{At: at}, errs.E(op, err)
	}
	if r.reg, err = w.Schemas(at); err != nil {
		return Result{At: at}, errs.E(op, err)
	}
	if r.read, err = v.Filter(at); err != nil {
		return Result{At: at}, errs.E(op, err)
	}
	segs, err := tree.SplitPath(q.Prefix)
	if err != nil {
		return Result{At: at}, errs.E(op, errs.Invalid, err)
	}
	prefix := tree.JoinPath(segs)
	r.q.Prefix = prefix
	for _, f := range q.Follow {
		ch := strings.Split(f, ".")
		if slices.Contains(ch, "") {
			return Result{At: at}, errs.E(op, errs.Invalid, fmt.Sprintf("follow: %q is not a field chain (a or a.b)", f))
		}
		r.chains = append(r.chains, ch)
		r.depth = max(r.depth, len(ch))
	}
	if q.Depth > 0 {
		r.depth = q.Depth
	}
	var ms []match
	if q.History {
		ms, err = r.history(prefix)
	} else {
		ms, err = r.scan(prefix, cur)
	}
	if err == nil && !r.fitted && r.misfit != nil {
		err = r.misfit
	}
	res := Result{At: at, Stats: r.stats}
	if err != nil {
		return res, errs.E(op, err)
	}
	if cur != nil && q.Order != "" {
		ck, _ := hex.DecodeString(cur.Key)
		desc := strings.HasPrefix(q.Order, "-")
		ms = slices.DeleteFunc(ms, func(m match) bool { return compareAt(m, ck, cur.Path, desc) <= 0 })
	}
	for i, m := range ms {
		if q.Limit > 0 && i == q.Limit {
			last := ms[i-1]
			res.Next = encodeCursor(cursor{V: 1, Query: fingerprint(r.q), At: at.String(), Path: last.path, Key: hex.EncodeToString(last.key)})
			break
		}
		row, err := r.row(m)
		if err != nil {
			return res, errs.E(op, errs.Path(m.path), err)
		}
		if err := emit(row); err != nil {
			return res, err
		}
	}
	return res, nil
}

// compareAt compares m's place in the order with (key, path).
func compareAt(m match, key []byte, path string, desc bool) int {
	c := bytes.Compare(m.key, key)
	if desc {
		c = -c
	}
	if c != 0 {
		return c
	}
	return strings.Compare(m.path, path)
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, fp string) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errs.E(errs.Invalid, "cursor: not a cursor this node made (bad base64)")
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.V != 1 {
		return nil, errs.E(errs.Invalid, "cursor: not a cursor this node made")
	}
	if c.Query != fp {
		return nil, errs.E(errs.Invalid, "cursor: it resumes another query (prefix, where, order, select and history must be the same)")
	}
	return &c, nil
}

// filterFor returns the filter compiled for schema s (nil: no where).
func (r *runner) filterFor(s *coda.Schema) (*filter, error) {
	if r.q.Where == "" {
		return nil, nil
	}
	if f, ok := r.filts[s.ID]; ok {
		return f, nil
	}
	f, err := compileFilter(r.q.Where, s)
	if err != nil {
		return nil, err
	}
	r.filts[s.ID] = f
	return f, nil
}

// checkSchema checks the parts of the query that name fields against s.
func (r *runner) checkSchema(s *coda.Schema) error {
	if _, err := r.filterFor(s); err != nil {
		return err
	}
	if r.q.Order != "" {
		name := strings.TrimPrefix(r.q.Order, "-")
		i := -1
		if s.Kind == coda.KindStruct {
			i = s.FieldIndex(name)
		}
		if i < 0 {
			return errs.E(errs.Invalid, fmt.Sprintf("order: no field %q in %s", name, schemaName(s)))
		}
		if !keyable(&s.Fields[i].Type) {
			return errs.E(errs.Invalid, fmt.Sprintf("order: field %q of %s is a %s, which has no order", name, schemaName(s), s.Fields[i].Type.String()))
		}
	}
	for _, f := range r.q.Select {
		if s.Kind != coda.KindStruct || s.FieldIndex(f) < 0 {
			return errs.E(errs.Invalid, fmt.Sprintf("select: no field %q in %s", f, schemaName(s)))
		}
	}
	for _, ch := range r.chains {
		i := -1
		if s.Kind == coda.KindStruct {
			i = s.FieldIndex(ch[0])
		}
		if i < 0 {
			return errs.E(errs.Invalid, fmt.Sprintf("follow: no field %q in %s", ch[0], schemaName(s)))
		}
		if !hasLink(&s.Fields[i].Type) {
			return errs.E(errs.Invalid, fmt.Sprintf("follow: field %q of %s is a %s, not a link", ch[0], schemaName(s), s.Fields[i].Type.String()))
		}
	}
	return nil
}

// hasLink reports whether t is a link, optional link or list of links.
func hasLink(t *coda.Type) bool {
	switch t.Kind {
	case coda.KindLink:
		return true
	case coda.KindOptional, coda.KindList:
		return t.Elem.Kind == coda.KindLink
	}
	return false
}

// load decodes the object id (nil schema: a blob, an object of an unknown
// schema or one this node lacks).
func (r *runner) load(id coda.ID) (*coda.Schema, coda.Value) {
	b, err := r.st.Get(id)
	if err != nil || len(b) < coda.IDSize || coda.ID(b[:coda.IDSize]) == coda.BlobSchema().ID {
		return nil, coda.Value{}
	}
	s, v, err := coda.DecodeObject(b, coda.DecodeOptions{Resolver: r.reg})
	if err != nil {
		return nil, coda.Value{}
	}
	return s, v
}

// test reads the value id at path and returns it as a match if it passes
// the filter.
func (r *runner) test(path string, id coda.ID) (match, bool, error) {
	if err := r.ctx.Err(); err != nil {
		return match{}, false, errs.E(errs.Canceled, err)
	}
	if !r.read(path) {
		return match{}, false, nil
	}
	s, v := r.load(id)
	if s == nil {
		return match{}, false, nil
	}
	r.stats.Read++
	err, done := r.checked[s.ID]
	if !done {
		err = r.checkSchema(s)
		r.checked[s.ID] = err
	}
	if err != nil {
		// The directory's own schema must fit the query; a value of
		// another schema (a recursive query, a directory without one)
		// that does not is skipped, and the error is the query's only if
		// no value fits.
		if r.dir != nil && s.ID == r.dir.ID {
			return match{}, false, err
		}
		if r.misfit == nil {
			r.misfit = err
		}
		return match{}, false, nil
	}
	r.fitted = true
	f, _ := r.filterFor(s)
	if f != nil && !f.match(s, v, path, id) {
		return match{}, false, nil
	}
	m := match{path: path, id: id, s: s, v: v}
	if r.q.Order != "" {
		k, err := fieldKey(s, v, strings.TrimPrefix(r.q.Order, "-"))
		if err != nil {
			return match{}, false, err
		}
		m.key = k
	}
	r.stats.Matched++
	return m, true, nil
}

// sortMatches orders ms by the order field (then path), or leaves them.
func (r *runner) sortMatches(ms []match) {
	if r.q.Order == "" {
		return
	}
	desc := strings.HasPrefix(r.q.Order, "-")
	slices.SortStableFunc(ms, func(a, b match) int {
		c := bytes.Compare(a.key, b.key)
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
}

// scan returns the matches under prefix, through an index if the filter
// pins an indexed field.
func (r *runner) scan(prefix string, cur *cursor) ([]match, error) {
	e, err := r.v.Get(r.at, prefix)
	if err != nil {
		return nil, err
	}
	if e.Kind != cdb.ItemDir {
		return nil, errs.E(errs.Invalid, errs.Path(prefix), "not a directory: a query selects the values under a directory (or use history)")
	}
	r.dir = e.Schema
	if r.dir != nil {
		if err := r.checkSchema(r.dir); err != nil {
			return nil, err
		}
	}
	after := ""
	if cur != nil && r.q.Order == "" {
		after = cur.Path
	}
	// Without an order, matches come in path order and the scan stops at
	// limit+1.
	stop := 0
	if r.q.Order == "" && r.q.Limit > 0 {
		stop = r.q.Limit + 1
	}
	var ms []match
	add := func(p string, id coda.ID) (bool, error) {
		if after != "" && !pathAfter(p, after) {
			return true, nil
		}
		m, ok, err := r.test(p, id)
		if err != nil || !ok {
			return true, err
		}
		ms = append(ms, m)
		return stop == 0 || len(ms) < stop, nil
	}
	if !r.q.Recursive && !r.q.NoIndex && r.dir != nil {
		f, _ := r.filterFor(r.dir)
		if f != nil {
			idx := map[string]bool{}
			for _, name := range (&deriver{env: cdb.DeriveEnv{Tree: r.tr}}).mustDeclared(r.root, prefix) {
				idx[name] = true
			}
			if b := plan(f, r.dir, idx); b != nil {
				r.stats.Plan = "index " + IndexPath(prefix, b.field) + " " + b.String()
				err := r.indexed(prefix, b, add)
				r.sortMatches(ms)
				return ms, err
			}
		}
	}
	r.stats.Plan = "scan " + prefix
	if r.q.Recursive {
		err = r.tr.Walk(r.root, prefix, func(p string, e tree.Entry) error {
			if strings.Contains(p, "/"+IndexDir+"/") {
				return nil
			}
			more, err := add(p, e.ID)
			if err == nil && !more {
				err = errStop
			}
			return err
		})
		if err == errStop || errs.Is(err, errs.NotExist) {
			err = nil
		}
	} else {
		from := ""
		if after != "" && strings.HasPrefix(after, joinName(prefix, "")) {
			from = after[len(joinName(prefix, "")):]
		}
		err = r.list(prefix, from, add)
	}
	r.sortMatches(ms)
	return ms, err
}

// pathAfter reports whether p comes after q in path order (docs/tree.md
// §2: segment by segment).
func pathAfter(p, q string) bool {
	ps, _ := tree.SplitPath(p)
	qs, _ := tree.SplitPath(q)
	for i := 0; i < len(ps) && i < len(qs); i++ {
		if ps[i] != qs[i] {
			return ps[i] > qs[i]
		}
	}
	return len(ps) > len(qs)
}

var errStop = fmt.Errorf("stop")

// list calls add for the values directly in dir, in name order, after the
// name from, until add says stop.
func (r *runner) list(dir, from string, add func(string, coda.ID) (bool, error)) error {
	for {
		ents, err := r.tr.ListFrom(r.root, dir, from, 1024)
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			return nil
		}
		for _, e := range ents {
			from = e.Name
			if e.Kind != tree.KindValue {
				continue
			}
			more, err := add(joinName(dir, e.Name), e.ID)
			if err != nil || !more {
				return err
			}
		}
	}
}

// mustDeclared is declared, with errors as no index.
func (d *deriver) mustDeclared(root coda.ID, dir string) []string {
	fs, err := d.declared(root, dir)
	if err != nil {
		return nil
	}
	return fs
}

// indexed calls add for the values of dir whose key for b.field is
// within b, found in the index: their names, in name order.
func (r *runner) indexed(dir string, b *bound, add func(string, coda.ID) (bool, error)) error {
	if b.empty() {
		return nil
	}
	idx := IndexPath(dir, b.field)
	from, hi := "", ""
	if b.lo != nil {
		from = before(keyHex(b.lo))
	}
	if b.hi != nil {
		hi = keyHex(b.hi)
	}
	names := map[string]bool{}
outer:
	for {
		ents, err := r.tr.ListFrom(r.root, idx, from, 1024)
		if errs.Is(err, errs.NotExist) {
			break
		}
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			break
		}
		for _, e := range ents {
			from = e.Name
			k, name, flat := strings.Cut(e.Name, ".")
			if b.hi != nil && k > hi {
				break outer
			}
			switch {
			case flat && e.Kind == tree.KindValue:
				names[name] = true
			case !flat && e.Kind == tree.KindDir:
				if err := r.listAll(idx+"/"+e.Name, func(name string) { names[name] = true }); err != nil {
					return err
				}
			}
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	for _, n := range sorted {
		p := joinName(dir, n)
		e, ok, err := r.tr.Leaf(r.root, p, false)
		if err != nil {
			return err
		}
		if !ok || e.Kind != tree.KindValue {
			continue
		}
		more, err := add(p, e.ID)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// listAll calls fn with the name of each value in dir.
func (r *runner) listAll(dir string, fn func(string)) error {
	from := ""
	for {
		ents, err := r.tr.ListFrom(r.root, dir, from, 1024)
		if err != nil || len(ents) == 0 {
			return err
		}
		for _, e := range ents {
			from = e.Name
			if e.Kind == tree.KindValue {
				fn(e.Name)
			}
		}
	}
}

// before returns the greatest string below h that sorts before every
// hex string ≥ h (docs/query.md §6): ListFrom(before(h)) starts at h.
func before(h string) string {
	if h == "" {
		return ""
	}
	c := h[len(h)-1]
	p := h[:len(h)-1]
	switch {
	case c == '0':
		return p
	case c == 'a':
		return p + "9g"
	default:
		return p + string(c-1) + "g"
	}
}

// history returns the versions of the value at p: for each commit
// reachable from the queried one that put p, newest first, the value it
// put, if the reader may read it there.
func (r *runner) history(p string) ([]match, error) {
	r.stats.Plan = "history " + p
	log, err := r.v.Log(r.at, p, 0)
	if err != nil {
		return nil, err
	}
	var ms []match
	for i, ci := range log {
		c, err := r.w.LoadCommit(ci.ID)
		if err != nil {
			return nil, err
		}
		put := false
		for _, o := range c.Ops {
			if o.Path == p && !o.Meta && !o.Delete {
				put = true
			}
		}
		if !put {
			continue
		}
		ok, err := r.v.CanRead(ci.ID, p)
		if err != nil || !ok {
			continue
		}
		e, ok, err := r.tr.Leaf(c.Tree, p, false)
		if err != nil || !ok || e.Kind != tree.KindValue {
			continue
		}
		m, ok, err := r.test(p, e.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			m.commit, m.seq = ci.ID, i
			ms = append(ms, m)
		}
	}
	r.sortMatches(ms)
	return ms, nil
}
