package cdb

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Limits on what a commit may hold.
const (
	// MaxValueSize bounds the object bytes of one value (blobs are not
	// values: they are chunked and have no bound).
	MaxValueSize = 16 << 20
	// MaxMessage bounds a commit message, in bytes.
	MaxMessage = 64 << 10
	// commitRetries is how often Commit retries when the branch head
	// moved under it and its ops do not depend on the old state.
	commitRetries = 5
)

// SchemasDir is the directory of schemas: /sys/schemas/NAME holds the
// schema object of NAME.
const SchemasDir = "/sys/schemas"

// OpKind is the kind of a write Op.
type OpKind uint8

// The kinds of write ops.
const (
	// Put stores a value at Path: Value (a value of the schema named
	// Schema, or of the directory's schema), JSON (its JSON text), or Raw
	// (object bytes, schema id ‖ body, whose schema must be known).
	Put OpKind = iota + 1
	// PutBlob stores the bytes read from Blob at Path as a Blob object.
	// Size is their length if known (-1: unknown; they are spooled first).
	PutBlob
	// Delete removes the value at Path; with Recursive, a directory and
	// everything under it. Deletes leave tombstones.
	Delete
	// Mkdir makes the directory Path; with Schema, every value put in it
	// must be of that schema (a name in /sys/schemas).
	Mkdir
	// Move moves the value or directory From to Path.
	Move
	// Copy copies the value or directory From to Path.
	Copy
)

var opNames = [...]string{Put: "put", PutBlob: "put-blob", Delete: "delete", Mkdir: "mkdir", Move: "move", Copy: "copy"}

func (k OpKind) String() string {
	if int(k) < len(opNames) && opNames[k] != "" {
		return opNames[k]
	}
	return fmt.Sprintf("op(%d)", uint8(k))
}

// ParseOpKind returns the OpKind named s ("put", "put-blob", "delete",
// "mkdir", "move", "copy"; also "rm", "mv", "cp").
func ParseOpKind(s string) (OpKind, bool) {
	switch s {
	case "rm":
		return Delete, true
	case "mv":
		return Move, true
	case "cp":
		return Copy, true
	}
	for i, n := range opNames {
		if n != "" && n == s {
			return OpKind(i), true
		}
	}
	return 0, false
}

// Op is one change requested of a commit. Ops apply in order, as if one
// after the other; the commit holds all of them or none.
type Op struct {
	Kind OpKind
	Path string
	// Schema names a schema in /sys/schemas: the schema of a Put's value
	// (optional if the directory has one; they must agree), or the schema
	// a Mkdir's directory requires of its children.
	Schema string
	// Put: exactly one of Value, JSON and Raw.
	Value coda.Value
	JSON  []byte
	Raw   []byte
	// PutBlob: the bytes, and their length (-1: unknown).
	Blob io.Reader
	Size int64
	// Move, Copy: the source path.
	From string
	// Delete: remove a directory and everything under it.
	Recursive bool

	staged bool    // PutBlob: Blob is stored already (Commit), as blobID
	blobID coda.ID // the staged blob
}

// CommitInfo summarises a commit, as the CLI prints it.
type CommitInfo struct {
	ID        coda.ID   `json:"id"`
	World     coda.ID   `json:"world"`
	Parents   []coda.ID `json:"parents"`
	Tree      coda.ID   `json:"tree"`
	Author    string    `json:"author,omitempty"` // KeyString; "" for merges
	Time      hlc.Time  `json:"time"`
	Message   string    `json:"message"`
	Ops       int       `json:"ops"`
	Conflicts int       `json:"conflicts,omitempty"`
	Merge     bool      `json:"merge,omitempty"`
	// FastForward is set by Merge when the branch head just moved to the
	// other branch's head (no new commit).
	FastForward bool `json:"fast_forward,omitempty"`
}

// Info summarises c.
func (c *Commit) Info() CommitInfo {
	ci := CommitInfo{ID: c.ID, World: c.World, Parents: c.Parents, Tree: c.Tree, Time: c.Time,
		Message: c.Message, Ops: len(c.Ops), Conflicts: len(c.Conflicts), Merge: c.IsMerge()}
	if ci.World.IsZero() {
		ci.World = c.ID
	}
	if c.Author != nil {
		ci.Author = KeyString(c.Author)
	}
	return ci
}

// staging is the store view of one write: reads see the store and
// everything written so far; writes go to a batch (nil: memory only, for
// recomputing trees in validation).
type staging struct {
	s   tree.Store
	b   store.Batch
	mem map[coda.ID][]byte
}

func newStaging(s tree.Store, b store.Batch) *staging {
	return &staging{s: s, b: b, mem: make(map[coda.ID][]byte)}
}

func (st *staging) Get(id coda.ID) ([]byte, error) {
	if b, ok := st.mem[id]; ok {
		return bytes.Clone(b), nil
	}
	return st.s.Get(id)
}

func (st *staging) Put(data []byte) (coda.ID, error) {
	id := coda.Sum(data)
	if _, ok := st.mem[id]; ok {
		return id, nil
	}
	st.mem[id] = bytes.Clone(data)
	if st.b != nil {
		if _, err := st.b.Put(data); err != nil {
			return coda.ID{}, err
		}
	}
	return id, nil
}

// txn is one write being built: the running root with pending tree ops.
//
// Ops appended to pending are applied (checked) by the next step that
// needs the tree, in an open tree.Batch over root whose nodes are written
// only when something must read the resulting tree (flush), so that a
// commit of k puts writes each changed node once rather than once per put.
type txn struct {
	w       *World
	st      *staging
	tr      *tree.Tree
	root    coda.ID // the tree with every op up to the last flush
	parent  *Commit
	stamp   tree.Stamp
	reg     *coda.Registry
	pending []tree.Op

	open     *tree.Batch         // ops applied since the last flush, or nil
	putPaths map[string]struct{} // the paths of open's ops, all plain puts
	other    bool                // open holds an op that is not a plain put

	schemaRoot coda.ID                 // the root schemas caches dirSchema for
	schemas    map[string]*coda.Schema // dirSchema's answers at schemaRoot
}

// apply applies the pending tree ops to the open batch, with the errors
// tree.Apply gives, without writing nodes.
func (tx *txn) apply() error {
	if len(tx.pending) == 0 {
		return nil
	}
	if tx.open == nil {
		tx.open = tx.tr.NewBatch(tx.root)
		tx.putPaths = make(map[string]struct{})
		tx.other = false
	}
	err := tx.open.Apply(tx.pending...)
	for _, o := range tx.pending {
		if o.Meta || o.Raw || o.Recursive || o.Entry.Kind != tree.KindValue {
			tx.other = true
		} else {
			tx.putPaths[o.Path] = struct{}{}
		}
	}
	tx.pending = tx.pending[:0]
	if err != nil {
		tx.open = nil
	}
	return err
}

// flush applies the pending tree ops and writes the changed nodes: root
// then holds every op so far.
func (tx *txn) flush() error {
	if err := tx.apply(); err != nil {
		return err
	}
	if tx.open == nil {
		return nil
	}
	root, err := tx.open.Flush()
	tx.open, tx.putPaths = nil, nil
	if err != nil {
		return err
	}
	tx.root = root
	return nil
}

// flushFor is flush for a reader of the metadata of the directory dir: it
// writes nodes only if an op since the last flush may have changed it. A
// plain put changes no directory's metadata leaf unless it is at dir or
// above it (making it a value, or failing).
func (tx *txn) flushFor(dir string) error {
	if err := tx.apply(); err != nil {
		return err
	}
	if tx.open == nil {
		return nil
	}
	if !tx.other {
		touched := false
		for p := dir; p != "/" && p != ""; p = parentDir(p) {
			if _, ok := tx.putPaths[p]; ok {
				touched = true
				break
			}
		}
		if !touched {
			return nil
		}
	}
	return tx.flush()
}

// write runs fn against the head of the current branch and commits the
// result as one signed commit by author. With retry, a moved head (a
// concurrent commit) makes it run fn again on the new head.
func (w *World) write(ctx context.Context, author Identity, message string, retry bool, fn func(tx *txn) error) (*Commit, error) {
	if !author.CanSign() {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("identity %q cannot sign", author.Name))
	}
	if len(message) > MaxMessage {
		return nil, errs.E(errs.Limit, fmt.Sprintf("commit message of %d bytes, more than %d", len(message), MaxMessage))
	}
	branch := w.Branch()
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, errs.E(errs.Canceled, err)
		}
		c, err := w.writeOnce(ctx, author, message, branch, fn)
		if errs.Is(err, errs.Conflict) && retry && attempt < commitRetries {
			w.h.log.Debug("cdb: branch head moved; retrying", "world", w.name, "branch", branch)
			continue
		}
		return c, err
	}
}

// writeOnce builds one commit on the head of branch under the world's
// write lock and applies it unsynced, then waits for the store's sync
// outside the lock and only then returns (acknowledges) it. Writers that
// queue on the lock meanwhile build on this commit, so the commits of a
// busy world form a chain whose fsyncs are shared: one sync makes every
// commit applied before it durable (the store's log is written in order),
// so a commit is never durable without its parent.
func (w *World) writeOnce(ctx context.Context, author Identity, message, branch string, fn func(tx *txn) error) (*Commit, error) {
	w.wmu.Lock()
	c, err := w.buildOnce(ctx, author, message, branch, fn)
	w.wmu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := w.h.syncStore(); err != nil {
		return nil, err
	}
	w.h.notify(w.id)
	return c, w.h.recordWrite(author.Public, "commit", w.id, c.ID, nil)
}

// syncStore makes everything applied to the store durable, if the store
// has a Sync method (pebblestore); for a store without one, buildOnce
// commits synced.
func (h *Home) syncStore() error {
	if s, ok := h.store.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}

func (w *World) buildOnce(ctx context.Context, author Identity, message, branch string, fn func(tx *txn) error) (*Commit, error) {
	head, err := w.branchHead(branch)
	if err != nil {
		return nil, err
	}
	parent, err := w.parentCommit(head)
	if err != nil {
		return nil, err
	}
	t := w.h.clock.After(parent.Time)
	b := w.h.store.NewBatch()
	defer b.Discard()
	st := newStaging(w.h.store, b)
	reg, err := schemasIn(st, parent.Tree)
	if err == nil {
		reg = w.h.withPolicySchemas(reg)
	}
	if err != nil {
		return nil, err
	}
	tx := &txn{w: w, st: st, tr: tree.New(st), root: parent.Tree, parent: parent, reg: reg,
		stamp: tree.Stamp{Time: uint64(t), Author: author.Public32()}}
	if err := fn(tx); err != nil {
		return nil, err
	}
	if err := tx.flush(); err != nil {
		return nil, err
	}
	ops, err := diffOps(tx.tr, parent.Tree, tx.root)
	if err != nil {
		return nil, err
	}
	if w.h.derive != nil {
		if tx.root, ops, err = w.derive(tx, parent, ops); err != nil {
			return nil, err
		}
	}
	if len(ops) == 0 {
		return nil, errs.E(errs.Invalid, "nothing to commit: the ops change nothing")
	}
	c := &Commit{World: w.id, Parents: []coda.ID{head}, Tree: tx.root, Time: t, Message: message, Ops: ops}
	obj, err := w.h.schema.sign(c, author)
	if err != nil {
		return nil, err
	}
	if err := ValidateCommit(w.validateEnv(st, false), c, []*Commit{parent}); err != nil {
		if errs.Is(err, errs.Permission) || errs.Is(err, errs.Invalid) && w.h.policy != nil {
			// The policy refused it: the author's rights, or what
			// an .acl or group holds.
			return nil, w.h.recordWrite(author.Public, "commit", w.id, c.ID, err)
		}
		return nil, errs.E(errs.Internal, fmt.Errorf("cdb: a commit built here fails validation: %w", err))
	}
	if err := ctx.Err(); err != nil {
		return nil, errs.E(errs.Canceled, err)
	}
	if _, err := b.Put(obj); err != nil {
		return nil, err
	}
	if err := b.SwapRef(headRef(w.id, branch), head, c.ID); err != nil {
		return nil, err
	}
	if err := b.SetRef(clockRef, clockID(w.h.clock.Last())); err != nil {
		return nil, err
	}
	// Unsynced: writeOnce syncs after releasing the write lock.
	if err := b.Commit(!w.h.canSync()); err != nil {
		if errs.Is(err, errs.Conflict) {
			return nil, errs.E(errs.Conflict, fmt.Errorf("branch %s moved during the commit: %w", branch, err))
		}
		return nil, err
	}
	// The next commit on this branch needs c as its parent: cache it
	// rather than decode it again (all of its ops) from the store.
	w.h.commits.put(c)
	return c, nil
}

// canSync reports whether the store syncs on request (syncStore).
func (h *Home) canSync() bool {
	_, ok := h.store.(interface{ Sync() error })
	return ok
}

// diffOps returns the ops of a commit from parent root a to root b: every
// leaf whose entry differs, in path order.
func diffOps(tr *tree.Tree, a, b coda.ID) ([]Change, error) {
	var ops []Change
	err := tr.Diff(a, b, func(ch tree.Change) error {
		switch ch.B.Kind {
		case tree.KindValue:
			ops = append(ops, Change{Path: ch.Path, Meta: ch.Meta, ID: ch.B.ID})
		case tree.KindTombstone:
			ops = append(ops, Change{Path: ch.Path, Meta: ch.Meta, Delete: true})
		default:
			return errs.E(errs.Internal, errs.Path(ch.Path), "cdb: a leaf vanished from the tree")
		}
		return nil
	})
	return ops, err
}

// Commit applies ops to the head of the current branch as one signed
// commit by author, durable when it returns. It validates every op (paths,
// schemas — a value that does not fit is refused with the field path —
// and sizes); on any error nothing changes. If the head moves during the
// commit, it is retried on the new head when the ops do not depend on the
// old state (only puts and mkdirs); otherwise the error is errs.Conflict.
func (w *World) Commit(ctx context.Context, author Identity, ops []Op, message string) (CommitInfo, error) {
	op := errs.Op("cdb.Commit")
	if len(ops) == 0 {
		return CommitInfo{}, errs.E(op, errs.Invalid, "no ops")
	}
	retry := true
	ops = slices.Clone(ops)
	for i := range ops {
		if err := checkOp(&ops[i]); err != nil {
			return CommitInfo{}, errs.E(op, err)
		}
		switch ops[i].Kind {
		case Put, Mkdir:
		case PutBlob:
			if inMemory(ops[i].Blob) {
				// Read under the lock, it costs nothing.
				retry = false
				break
			}
			// A blob is stored before the commit takes the world's
			// write lock: reading it (an upload, say) holds up no other
			// writer, and a moved head can be retried. If the commit
			// fails, the blob stays unreachable in the store.
			if len(ops) == 1 {
				// Alone, it is judged on the head as it is now.
				if err := w.precheckBlobs(ops[i].Path, false); err != nil {
					return CommitInfo{}, errs.E(op, err)
				}
			}
			id, _, err := w.stageBlob(ops[i].Blob, ops[i].Size)
			if err != nil {
				return CommitInfo{}, errs.E(op, errs.Path(ops[i].Path), err)
			}
			ops[i].staged, ops[i].blobID = true, id
		default:
			retry = false
		}
	}
	c, err := w.write(ctx, author, message, retry, func(tx *txn) error {
		for i := range ops {
			if err := tx.do(&ops[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return CommitInfo{}, errs.E(op, err)
	}
	return c.Info(), nil
}

// checkOp checks what can be checked of o alone.
func checkOp(o *Op) error {
	if _, err := tree.SplitPath(o.Path); err != nil {
		return err
	}
	n := 0
	if o.Value.IsValid() {
		n++
	}
	if o.JSON != nil {
		n++
	}
	if o.Raw != nil {
		n++
	}
	switch o.Kind {
	case Put:
		if n != 1 {
			return errs.E(errs.Invalid, errs.Path(o.Path), "put: give exactly one of a value, JSON text or raw bytes")
		}
	case PutBlob:
		if o.Blob == nil {
			return errs.E(errs.Invalid, errs.Path(o.Path), "put-blob: no reader")
		}
	case Move, Copy:
		if _, err := tree.SplitPath(o.From); err != nil {
			return err
		}
	case Delete, Mkdir:
	default:
		return errs.E(errs.Invalid, errs.Path(o.Path), fmt.Sprintf("unknown op kind %d", o.Kind))
	}
	if o.Kind != Put && o.Kind != Mkdir && o.Kind != PutBlob && o.Schema != "" {
		return errs.E(errs.Invalid, errs.Path(o.Path), fmt.Sprintf("%s takes no schema", o.Kind))
	}
	return nil
}

func canon(p string) (string, []string, error) {
	segs, err := tree.SplitPath(p)
	if err != nil {
		return "", nil, err
	}
	return tree.JoinPath(segs), segs, nil
}

func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// do applies one op.
func (tx *txn) do(o *Op) error {
	p, segs, err := canon(o.Path)
	if err != nil {
		return err
	}
	if len(segs) == 0 && o.Kind != Mkdir {
		return errs.E(errs.Invalid, errs.Path("/"), fmt.Sprintf("%s: the root is a directory", o.Kind))
	}
	switch o.Kind {
	case Put:
		return tx.put(p, o)
	case PutBlob:
		return tx.putBlob(p, o)
	case Delete:
		return tx.del(p, o.Recursive)
	case Mkdir:
		return tx.mkdir(p, o.Schema)
	case Move, Copy:
		return tx.copy(p, o.From, o.Kind == Move)
	}
	return errs.E(errs.Invalid, fmt.Sprintf("unknown op kind %d", o.Kind))
}

// dirSchema returns the schema the directory dir requires of its
// children, or nil.
func (tx *txn) dirSchema(dir string) (*coda.Schema, error) {
	if err := tx.flushFor(dir); err != nil {
		return nil, err
	}
	if tx.schemas == nil || tx.schemaRoot != tx.root {
		tx.schemaRoot, tx.schemas = tx.root, make(map[string]*coda.Schema)
	}
	if s, ok := tx.schemas[dir]; ok {
		return s, nil
	}
	s, err := tx.w.dirSchemaIn(tx.st, tx.reg, tx.root, dir)
	if err == nil {
		tx.schemas[dir] = s
	}
	return s, err
}

// dirSchema returns the schema required by the directory p at root, or nil.
func (w *World) dirSchema(root coda.ID, p string) (*coda.Schema, error) {
	reg, err := w.schemasAt(root)
	if err != nil {
		return nil, err
	}
	return w.dirSchemaIn(w.h.store, reg, root, p)
}

func (w *World) dirSchemaIn(ts tree.Store, reg *coda.Registry, root coda.ID, dir string) (*coda.Schema, error) {
	e, err := tree.New(ts).GetMeta(root, dir)
	if errs.Is(err, errs.NotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if e.Kind != tree.KindValue {
		return nil, nil
	}
	id, err := w.h.schema.dirMetaSchema(ts, e.ID)
	if err != nil || id.IsZero() {
		return nil, err
	}
	s, err := reg.SchemaByID(id)
	if err != nil {
		return nil, errs.E(errs.Invalid, errs.Path(dir), fmt.Sprintf("the directory's schema %s is no longer in %s: add it again, or remake the directory", id.Short(), SchemasDir))
	}
	return s, nil
}

// dirMetaSchema reads a DirMeta object and returns its schema id (zero:
// none).
func (cs *commitSchemas) dirMetaSchema(ts tree.Store, id coda.ID) (coda.ID, error) {
	b, err := ts.Get(id)
	if err != nil {
		return coda.ID{}, err
	}
	s, val, err := coda.DecodeObject(b, coda.DecodeOptions{Resolver: cs.reg})
	if err == nil && s.ID != cs.dirMeta.ID {
		err = fmt.Errorf("schema %s is not DirMeta", s.ID)
	}
	if err != nil {
		return coda.ID{}, errs.E(errs.Corrupt, fmt.Errorf("directory metadata %s: %w", id, err))
	}
	f := val.Index(0)
	if !f.IsSome() {
		return coda.ID{}, nil
	}
	x, _ := f.Payload()
	return x.AsID(), nil
}

func (cs *commitSchemas) dirMetaObject(schema *coda.Schema) ([]byte, error) {
	f := coda.None()
	if schema != nil {
		f = coda.Some(coda.Link(schema.ID))
	}
	return coda.EncodeObject(cs.dirMeta, coda.Struct(f))
}

func (tx *txn) lookupSchema(p, name string) (*coda.Schema, error) {
	s, ok := tx.reg.Lookup(name)
	if !ok {
		return nil, errs.E(errs.Invalid, errs.Path(p), fmt.Sprintf("unknown schema %q (add it with coal schema add)", name))
	}
	return s, nil
}

func (tx *txn) put(p string, o *Op) error {
	ds, err := tx.dirSchema(parentDir(p))
	if err != nil {
		return err
	}
	s := ds
	if o.Schema != "" {
		if s, err = tx.lookupSchema(p, o.Schema); err != nil {
			return err
		}
		if ds != nil && s.ID != ds.ID {
			return errs.E(errs.Invalid, errs.Path(p), fmt.Sprintf("directory %s holds values of schema %s, not %s", parentDir(p), schemaName(ds), schemaName(s)))
		}
	}
	var obj []byte
	switch {
	case o.Raw != nil:
		if len(o.Raw) > MaxValueSize {
			return errs.E(errs.Limit, errs.Path(p), fmt.Sprintf("value of %d bytes, more than %d", len(o.Raw), MaxValueSize))
		}
		rs, _, err := coda.DecodeObject(o.Raw, coda.DecodeOptions{Resolver: tx.reg})
		if err != nil {
			return errs.E(errs.Invalid, errs.Path(p), err)
		}
		if s != nil && rs.ID != s.ID {
			return errs.E(errs.Invalid, errs.Path(p), fmt.Sprintf("value of schema %s where %s is required", schemaName(rs), schemaName(s)))
		}
		obj = o.Raw
	case o.JSON != nil:
		if s == nil {
			return errs.E(errs.Invalid, errs.Path(p), "no schema for this value: name one, or put it in a directory made with a schema")
		}
		if len(o.JSON) > MaxValueSize {
			return errs.E(errs.Limit, errs.Path(p), fmt.Sprintf("JSON text of %d bytes, more than %d", len(o.JSON), MaxValueSize))
		}
		v, err := fromJSON(s, o.JSON, tx.reg)
		if err != nil {
			return errs.E(errs.Invalid, errs.Path(p), err)
		}
		if obj, err = encodeValue(p, s, v); err != nil {
			return err
		}
	default:
		if s == nil {
			return errs.E(errs.Invalid, errs.Path(p), "no schema for this value: name one, or put it in a directory made with a schema")
		}
		if obj, err = encodeValue(p, s, o.Value); err != nil {
			return err
		}
	}
	if len(obj) > MaxValueSize {
		return errs.E(errs.Limit, errs.Path(p), fmt.Sprintf("value of %d bytes, more than %d", len(obj), MaxValueSize))
	}
	if err := checkSchemaPath(p, obj, tx.reg); err != nil {
		return err
	}
	id, err := tx.st.Put(obj)
	if err != nil {
		return err
	}
	tx.pending = append(tx.pending, tree.Op{Path: p, Entry: tree.Value(id, tx.stamp)})
	return nil
}

func encodeValue(p string, s *coda.Schema, v coda.Value) ([]byte, error) {
	if err := coda.CheckSchema(s, v); err != nil {
		return nil, errs.E(errs.Invalid, errs.Path(p), fmt.Errorf("value does not fit schema %s: %w", schemaName(s), err))
	}
	obj, err := coda.EncodeObject(s, v)
	if err != nil {
		return nil, errs.E(errs.Invalid, errs.Path(p), err)
	}
	return obj, nil
}

// checkSchemaPath: a value under /sys/schemas must be a schema object.
func checkSchemaPath(p string, obj []byte, reg *coda.Registry) error {
	if !strings.HasPrefix(p, SchemasDir+"/") {
		return nil
	}
	if strings.Contains(p[len(SchemasDir)+1:], "/") {
		return errs.E(errs.Invalid, errs.Path(p), SchemasDir+" holds schemas, not directories")
	}
	if _, err := coda.DecodeSchema(obj, reg); err != nil {
		return errs.E(errs.Invalid, errs.Path(p), fmt.Errorf("not a schema object: %w", err))
	}
	return nil
}

func schemaName(s *coda.Schema) string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID.Short()
}

func (tx *txn) putBlob(p string, o *Op) error {
	ds, err := tx.dirSchema(parentDir(p))
	if err != nil {
		return err
	}
	blob := coda.BlobSchema()
	if ds != nil && ds.ID != blob.ID {
		return errs.E(errs.Invalid, errs.Path(p), fmt.Sprintf("directory %s holds values of schema %s, not blobs", parentDir(p), schemaName(ds)))
	}
	if o.Schema != "" && o.Schema != blob.Name {
		return errs.E(errs.Invalid, errs.Path(p), fmt.Sprintf("a blob has schema Blob, not %s", o.Schema))
	}
	if strings.HasPrefix(p, SchemasDir+"/") {
		return errs.E(errs.Invalid, errs.Path(p), SchemasDir+" holds schemas, not blobs")
	}
	id := o.blobID
	if !o.staged {
		var err error
		if id, _, err = putBlob(tx.st.b, o.Blob, o.Size); err != nil {
			return errs.E(errs.Path(p), err)
		}
	}
	tx.pending = append(tx.pending, tree.Op{Path: p, Entry: tree.Value(id, tx.stamp)})
	return nil
}

func (tx *txn) del(p string, recursive bool) error {
	tx.pending = append(tx.pending, tree.Op{Path: p, Entry: tree.Tombstone(tx.stamp), Recursive: recursive})
	return tx.flush()
}

func (tx *txn) mkdir(p, schema string) error {
	if err := tx.flush(); err != nil {
		return err
	}
	var s *coda.Schema
	if schema != "" {
		var err error
		if s, err = tx.lookupSchema(p, schema); err != nil {
			return err
		}
	}
	if e, err := tx.tr.Get(tx.root, p); err == nil {
		if e.Kind != tree.KindDir {
			return errs.E(errs.Exist, errs.Path(p), "a value exists at this path")
		}
		if _, err := tx.tr.GetMeta(tx.root, p); err == nil || s == nil {
			return errs.E(errs.Exist, errs.Path(p), "directory exists")
		}
		// An implicit directory (made by putting under it) gets a schema:
		// every value already in it must fit.
		ents, err := tx.tr.List(tx.root, p)
		if err != nil {
			return err
		}
		for _, d := range ents {
			if d.Kind == tree.KindDir {
				continue
			}
			if err := tx.fits(tx.st, p+"/"+d.Name, d.ID, s); err != nil {
				return err
			}
		}
	} else if !errs.Is(err, errs.NotExist) {
		return err
	}
	obj, err := tx.w.h.schema.dirMetaObject(s)
	if err != nil {
		return err
	}
	id, err := tx.st.Put(obj)
	if err != nil {
		return err
	}
	tx.pending = append(tx.pending, tree.Op{Path: p, Meta: true, Entry: tree.Value(id, tx.stamp)})
	return tx.flush()
}

// fits checks that the object id at p is of schema s.
func (tx *txn) fits(ts tree.Store, p string, id coda.ID, s *coda.Schema) error {
	if s == nil {
		return nil
	}
	size, err := tx.w.h.store.Size(id)
	var head []byte
	if err == nil {
		head, err = readHead(tx.w.h.store, id, size)
	} else if b, err2 := ts.Get(id); err2 == nil {
		head, err = b[:min(len(b), coda.IDSize)], nil
	}
	if err != nil {
		return err
	}
	if schemaOf(head) != s.ID {
		name := schemaOf(head).Short()
		if hs, err := tx.reg.SchemaByID(schemaOf(head)); err == nil {
			name = schemaName(hs)
		}
		return errs.E(errs.Invalid, errs.Path(p), fmt.Sprintf("value of schema %s where %s is required", name, schemaName(s)))
	}
	return nil
}

// copy copies (or moves) the value or directory from to p.
func (tx *txn) copy(p, from string, move bool) error {
	from, fsegs, err := canon(from)
	if err != nil {
		return err
	}
	if len(fsegs) == 0 {
		return errs.E(errs.Invalid, errs.Path(from), "cannot copy or move the root")
	}
	if p == from || strings.HasPrefix(p, from+"/") {
		return errs.E(errs.Invalid, errs.Path(p), fmt.Sprintf("cannot copy or move %s into itself", from))
	}
	if err := tx.flush(); err != nil {
		return err
	}
	e, err := tx.tr.Get(tx.root, from)
	if err != nil {
		return err
	}
	if e.Kind == tree.KindValue {
		ds, err := tx.dirSchema(parentDir(p))
		if err != nil {
			return err
		}
		if err := tx.fits(tx.st, p, e.ID, ds); err != nil {
			return err
		}
		tx.pending = append(tx.pending, tree.Op{Path: p, Entry: tree.Value(e.ID, tx.stamp)})
	} else {
		var ops []tree.Op
		err := tx.eachLeaf(from, func(rel string, meta bool, id coda.ID) error {
			dst := p + rel
			if !meta {
				ds, err := tx.dirSchema(parentDir(dst))
				if err != nil {
					return err
				}
				if err := tx.fits(tx.st, dst, id, ds); err != nil {
					return err
				}
			}
			ops = append(ops, tree.Op{Path: dst, Meta: meta, Entry: tree.Value(id, tx.stamp)})
			return nil
		})
		if err != nil {
			return err
		}
		tx.pending = append(tx.pending, ops...)
	}
	if move {
		tx.pending = append(tx.pending, tree.Op{Path: from, Entry: tree.Tombstone(tx.stamp), Recursive: e.Kind == tree.KindDir})
	}
	return tx.flush()
}

// eachLeaf calls fn for every live value and metadata leaf under the
// directory dir, with its path relative to dir ("" for dir's own metadata).
func (tx *txn) eachLeaf(dir string, fn func(rel string, meta bool, id coda.ID) error) error {
	if m, err := tx.tr.GetMeta(tx.root, dir); err == nil && m.Kind == tree.KindValue {
		if err := fn("", true, m.ID); err != nil {
			return err
		}
	}
	ents, err := tx.tr.List(tx.root, dir)
	if err != nil {
		return err
	}
	for _, d := range ents {
		sub := dir + "/" + d.Name
		if d.Kind == tree.KindDir {
			err := tx.eachLeaf(sub, func(rel string, meta bool, id coda.ID) error {
				return fn("/"+d.Name+rel, meta, id)
			})
			if err != nil {
				return err
			}
			continue
		}
		if err := fn("/"+d.Name, false, d.ID); err != nil {
			return err
		}
	}
	return nil
}
