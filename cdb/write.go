package cdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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
	// nodes caches the decoded nodes of mem (nil: none are cached), over
	// a store that caches nodes; once the batch is committed they may go
	// to the store's cache.
	nodes *tree.NodeCache
}

// nodeCacheBytes and objectCacheBytes bound a home's caches of decoded
// tree nodes and of small objects.
const (
	nodeCacheBytes   = 64 << 20
	objectCacheBytes = 8 << 20
)

// cachedStore is the home's store as a tree.CachingStore: Trees over it
// (and over a staging over it) cache the nodes they read in the home's
// NodeCache. Only nodes read from the store itself are cached.
type cachedStore struct {
	s     store.Store
	nodes *tree.NodeCache
	objs  *objectCache
}

// Get returns the object id, from the cache of small objects if it is
// there (ACLs, directory metadata, schemas: what every write and read
// looks up again).
func (c cachedStore) Get(id coda.ID) ([]byte, error) {
	if b, ok := c.objs.get(id); ok {
		return b, nil
	}
	b, err := c.s.Get(id)
	if err == nil {
		c.objs.add(id, b)
	}
	return b, err
}

func (c cachedStore) Put(data []byte) (coda.ID, error)     { return c.s.Put(data) }
func (c cachedStore) NodeCache(id coda.ID) *tree.NodeCache { return c.nodes }

// objectCache holds small objects read from the store, by id, in two
// generations of at most max bytes each (the older is dropped when the
// newer is full). Get returns copies: callers may keep or change them.
type objectCache struct {
	mu       sync.Mutex
	cur, old map[coda.ID][]byte
	size     int
	max      int
}

// maxCachedObject is the size of the largest object objectCache keeps.
const maxCachedObject = 16 << 10

func newObjectCache(maxBytes int) *objectCache {
	return &objectCache{cur: make(map[coda.ID][]byte), max: max(maxBytes/2, maxCachedObject)}
}

func (c *objectCache) get(id coda.ID) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.cur[id]
	if !ok {
		if b, ok = c.old[id]; ok {
			c.addLocked(id, b)
		}
	}
	if !ok {
		return nil, false
	}
	return bytes.Clone(b), true
}

func (c *objectCache) add(id coda.ID, b []byte) {
	if len(b) > maxCachedObject {
		return
	}
	b = bytes.Clone(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(id, b)
}

func (c *objectCache) addLocked(id coda.ID, b []byte) {
	if _, ok := c.cur[id]; ok {
		return
	}
	if c.size+len(b) > c.max {
		c.old, c.cur, c.size = c.cur, make(map[coda.ID][]byte, len(c.cur)), 0
	}
	c.cur[id] = b
	c.size += len(b) + 64
}

// NodeCache implements tree.CachingStore: the cache of what st reads
// through, nil for an object written in this staging (which may yet be
// discarded).
func (st *staging) NodeCache(id coda.ID) *tree.NodeCache {
	if _, ok := st.mem[id]; ok {
		return st.nodes
	}
	if cs, ok := st.s.(tree.CachingStore); ok {
		return cs.NodeCache(id)
	}
	return nil
}

func newStaging(s tree.Store, b store.Batch) *staging {
	st := &staging{s: s, b: b, mem: make(map[coda.ID][]byte)}
	if _, ok := s.(tree.CachingStore); ok && b != nil {
		st.nodes = tree.NewNodeCache(stagedNodeBytes)
	}
	return st
}

// stagedNodeBytes bounds the decoded nodes a write keeps of those it made.
const stagedNodeBytes = 16 << 20

func (st *staging) Get(id coda.ID) ([]byte, error) {
	if b, ok := st.mem[id]; ok {
		return bytes.Clone(b), nil
	}
	return st.s.Get(id)
}

func (st *staging) Put(data []byte) (coda.ID, error) { return st.put(data, false) }

// PutOwned implements tree.OwningStore: Put keeping data, not a copy.
func (st *staging) PutOwned(data []byte) (coda.ID, error) { return st.put(data, true) }

func (st *staging) put(data []byte, own bool) (coda.ID, error) {
	id := coda.Sum(data)
	if _, ok := st.mem[id]; ok {
		return id, nil
	}
	if !own {
		data = bytes.Clone(data)
	}
	st.mem[id] = data
	if sp, ok := st.b.(store.SummedPutter); ok {
		// id is coda.Sum(data), just computed: not hashed again.
		if err := sp.PutSummed(id, data); err != nil {
			return coda.ID{}, err
		}
	} else if st.b != nil {
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

	// puts holds, while every op applied is a plain put of a value
	// (notPut false), the id each path was last set to: then the commit's
	// ops are these puts, in path order, without a diff of the trees
	// (ValidateCommit's replay checks that they give the tree).
	puts   map[string]coda.ID
	notPut bool
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
			tx.notPut = true
		} else {
			tx.putPaths[o.Path] = struct{}{}
			if tx.puts == nil {
				tx.puts = make(map[string]coda.ID)
			}
			tx.puts[o.Path] = o.Entry.ID
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

// rerun says when write may run a commit's fn again.
type rerun uint8

const (
	// rerunNever: fn cannot run twice (it consumes a reader).
	rerunNever rerun = iota
	// rerunRebuild: fn may run again on the state it was built on: when
	// the pending commit it was built on failed (writeOnce), which leaves
	// the branch as if that commit had never been made.
	rerunRebuild
	// rerunAlways: fn depends on nothing of the old state (puts, mkdirs),
	// so it may also run again on a head that moved.
	rerunAlways
)

// rebuildLimit bounds how often write rebuilds a commit whose parent
// failed.
const rebuildLimit = 64

// write runs fn against the head of the current branch and commits the
// result as one signed commit by author, rerunning fn as mode allows.
func (w *World) write(ctx context.Context, author Identity, message string, mode rerun, fn func(tx *txn) error) (*Commit, error) {
	if !author.CanSign() {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("identity %q cannot sign", author.Name))
	}
	if len(message) > MaxMessage {
		return nil, errs.E(errs.Limit, fmt.Sprintf("commit message of %d bytes, more than %d", len(message), MaxMessage))
	}
	branch := w.Branch()
	for attempt, rebuilds := 0, 0; ; {
		if err := ctx.Err(); err != nil {
			return nil, errs.E(errs.Canceled, err)
		}
		c, err := w.writeOnce(ctx, author, message, branch, rebuilds > 0, fn)
		if errors.Is(err, errParentFailed) && mode >= rerunRebuild && rebuilds < rebuildLimit {
			rebuilds++
			continue
		}
		if errs.Is(err, errs.Conflict) && mode == rerunAlways && attempt < commitRetries {
			attempt++
			w.h.log.Debug("cdb: branch head moved; retrying", "world", w.name, "branch", branch)
			continue
		}
		return c, err
	}
}

// errParentFailed is the cause of the errs.Conflict error of a commit
// built on a pending commit that failed.
var errParentFailed = errors.New("the commit it was built on failed")

// writeOnce makes one commit on the head of branch, in three steps:
//
//  1. build, one commit at a time (buildQueued): the tree, the ops, the
//     signed commit, built on the branch's tip — the last commit built on it,
//     which may still be pending (steps 2 and 3 not done), in which case
//     its objects are read from its staging area;
//  2. validate (ValidateCommit: signature, replay, rights), outside the
//     lock, so that the commits of concurrent writers are validated in
//     parallel while the next one is built;
//  3. apply, in build order: once the commit it is built on is applied,
//     its batch (objects, the head's compare-and-swap, the clock) is
//     committed to the store, unsynced.
//
// Then it waits for the store's sync and only then returns (acknowledges)
// the commit. The commits of a busy world form a chain whose fsyncs are
// shared: one sync makes every commit applied before it durable (the
// store's log is written in order), so a commit is never durable without
// its parent. If the commit built on fails (refused by validation, say),
// this one fails with errs.Conflict, as if the head had moved (write
// retries it when it may); nothing is applied out of order.
//
// The commit's audit record is appended (group-committed with the records
// of other writers) once it is validated (finish), while it is applied and
// the store syncs, not after: the fsyncs overlap. If the commit fails
// after that, a second record says so.
func (w *World) writeOnce(ctx context.Context, author Identity, message, branch string, settled bool, fn func(tx *txn) error) (*Commit, error) {
	req := &buildReq{ctx: ctx, author: author, message: message, branch: branch, settled: settled, fn: fn, done: make(chan struct{})}
	w.bmu.Lock()
	w.bq = append(w.bq, req)
	lead := !w.building
	w.building = true
	w.bmu.Unlock()
	if lead {
		// A goroutine of its own: the builder may wait for a pending
		// commit to settle (a rebuild), which must not be one whose
		// writer is the builder.
		go w.buildQueued()
	}
	<-req.done
	p, err := req.p, req.err
	if err != nil {
		return nil, err
	}
	audited, err := w.finish(ctx, p, author, branch)
	p.err = err
	if err == nil {
		// p's objects (and those of the commits it was built on) are
		// in the store now. A failed p keeps its overlay: commits built
		// on it may still be reading it before they fail in turn.
		if p.st.nodes != nil {
			w.h.nodes.AddFrom(p.st.nodes)
		}
		p.ov.release(w.h.cstore)
	}
	p.st, p.b, p.parent, p.obj = nil, nil, nil, nil
	close(p.done)
	if err != nil {
		if audited != nil {
			// Its record said ok: a second one says it failed.
			<-audited
			w.h.recordWrite(author.Public, "commit", w.id, p.c.ID, err)
		}
		return nil, err
	}
	c := p.c
	err = w.h.syncStore()
	<-audited
	if err != nil {
		return nil, w.h.recordWrite(author.Public, "commit", w.id, c.ID, err)
	}
	w.durableNow(p, branch)
	w.h.notify(w.id)
	return c, nil
}

// buildReq is a commit waiting to be built (writeOnce): the writers of a
// world queue their commits and one goroutine builds every queued one in
// turn, rather than each writer taking a lock (a convoy when many wait)
// and building its own.
type buildReq struct {
	ctx     context.Context
	author  Identity
	message string
	branch  string
	settled bool
	fn      func(tx *txn) error
	done    chan struct{} // closed once p or err is set (or excl ran)
	p       *pending
	err     error
	// excl, if not nil, is run by the builder instead of a build, once
	// no commit of the world is pending (exclusively).
	excl func()
}

// exclusively runs fn in the builder's turn, once every commit built
// before is applied or failed and while none is built: fn sees the
// branches' heads settled in the store and may move one itself (a commit
// built outside writeOnce, as CommitCall's is).
func (w *World) exclusively(fn func()) {
	req := &buildReq{excl: fn, done: make(chan struct{})}
	w.bmu.Lock()
	w.bq = append(w.bq, req)
	lead := !w.building
	w.building = true
	w.bmu.Unlock()
	if lead {
		go w.buildQueued()
	}
	<-req.done
}

// buildQueued builds the queued commits, in order, until none is left.
func (w *World) buildQueued() {
	for {
		w.bmu.Lock()
		q := w.bq
		w.bq = nil
		if len(q) == 0 {
			w.building = false
			w.bmu.Unlock()
			return
		}
		w.bmu.Unlock()
		for _, r := range q {
			if r.excl != nil {
				// Every commit built before is applied or failed once
				// the last one built on each branch is.
				for _, p := range w.tips {
					<-p.done
				}
				r.excl()
				close(r.done)
				continue
			}
			r.p, r.err = w.build(r.ctx, r.author, r.message, r.branch, r.settled, r.fn)
			if r.err == nil {
				if w.tips == nil {
					w.tips = make(map[string]*pending)
				}
				w.tips[r.branch] = r.p
			}
			close(r.done)
		}
	}
}

// pending is a commit built and not yet applied (writeOnce).
type pending struct {
	seq    uint64 // build sequence number (World.seq)
	c      *Commit
	obj    []byte // its object
	parent *Commit
	head   coda.ID // parent's id
	b      store.Batch
	st     *staging
	ov     *overlay // st's objects, for commits built on this one
	prev   *pending // the pending commit this one is built on, or nil
	done   chan struct{}
	err    error // set before done is closed
}

// storeRef holds a tree.Store in an atomic.Pointer.
type storeRef struct{ s tree.Store }

// overlay is what a commit built on a pending one reads through: the
// pending commit's objects, then what it read through itself. Once the
// pending commit is applied its objects are in the store, and release
// cuts the overlay down to the store, so that a busy world does not
// accumulate a chain of them.
type overlay struct {
	objs  atomic.Pointer[map[coda.ID][]byte]
	nodes *tree.NodeCache // the decoded nodes of objs (nil: none)
	next  atomic.Pointer[storeRef]
}

func newOverlay(objs map[coda.ID][]byte, nodes *tree.NodeCache, next tree.Store) *overlay {
	ov := &overlay{nodes: nodes}
	ov.objs.Store(&objs)
	ov.next.Store(&storeRef{next})
	return ov
}

func (ov *overlay) release(base tree.Store) {
	ov.objs.Store(nil)
	ov.next.Store(&storeRef{base})
}

func (ov *overlay) Get(id coda.ID) ([]byte, error) {
	if m := ov.objs.Load(); m != nil {
		if b, ok := (*m)[id]; ok {
			return bytes.Clone(b), nil
		}
	}
	return ov.next.Load().s.Get(id)
}

func (ov *overlay) Put(data []byte) (coda.ID, error) {
	return coda.ID{}, errs.E(errs.Internal, "cdb: a write to a pending commit's objects")
}

// NodeCache implements tree.CachingStore: the pending commit's nodes are
// in its own cache (it may yet fail), not the home's.
func (ov *overlay) NodeCache(id coda.ID) *tree.NodeCache {
	if m := ov.objs.Load(); m != nil {
		if _, ok := (*m)[id]; ok {
			return ov.nodes
		}
	}
	if cs, ok := ov.next.Load().s.(tree.CachingStore); ok {
		return cs.NodeCache(id)
	}
	return nil
}

// syncStore makes everything applied to the store durable, if the store
// has a Sync method (pebblestore); for a store without one, finish
// commits synced.
func (h *Home) syncStore() error {
	if s, ok := h.store.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}

// build is step 1 of writeOnce, by the one builder (buildQueued): it builds and signs the
// commit on the tip of branch. With settled, it first waits for the
// pending tip to be applied or to fail, and builds on what the store
// holds: a commit rebuilt because the one it was built on failed does not
// build on another pending one, so that writers whose commits are refused
// cannot make it fail over and over.
func (w *World) build(ctx context.Context, author Identity, message, branch string, settled bool, fn func(tx *txn) error) (_ *pending, err error) {
	var (
		head   coda.ID
		parent *Commit
		base   tree.Store = w.h.cstore
	)
	prev := w.tips[branch]
	if prev != nil && settled {
		<-prev.done
	}
	if prev != nil {
		select {
		case <-prev.done:
			// Applied or failed: build on what the store holds.
			prev = nil
		default:
		}
	}
	if prev != nil {
		head, parent, base = prev.c.ID, prev.c, prev.ov
	} else {
		if head, err = w.branchHead(branch); err != nil {
			return nil, err
		}
		if parent, err = w.parentCommit(head); err != nil {
			return nil, err
		}
	}
	t := w.h.clock.After(parent.Time)
	b := w.h.store.NewBatch()
	defer func() {
		if err != nil {
			b.Discard()
		}
	}()
	st := newStaging(base, b)
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
	var ops []Change
	if !tx.notPut && len(tx.puts) > 0 {
		ops, err = putOps(tx.puts)
	} else {
		ops, err = diffOps(tx.tr, parent.Tree, tx.root)
	}
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
	w.seq++
	return &pending{seq: w.seq, c: c, obj: obj, parent: parent, head: head, b: b, st: st, ov: newOverlay(st.mem, st.nodes, base),
		prev: prev, done: make(chan struct{})}, nil
}

// finish is steps 2 and 3 of writeOnce: validate p, wait for the commit
// it is built on, apply p. On error p's batch is discarded.
//
// Once p is valid, its audit record ("ok") is appended, group-committed
// with the others, while p waits for the commit it is built on, is
// applied and the store syncs; finish returns the channel closed when
// the record is written (nil if validation failed: the refusal is
// recorded here). If p then fails, writeOnce records that too.
func (w *World) finish(ctx context.Context, p *pending, author Identity, branch string) (audited chan struct{}, err error) {
	b := p.b
	defer b.Discard()
	env := w.validateEnv(p.st, false)
	// build signed p.c itself: see ValidateEnv.signedHere.
	env.signedHere = true
	verr := ValidateCommit(env, p.c, []*Commit{p.parent})
	if verr == nil {
		audited = make(chan struct{})
		id := p.c.ID
		go func() {
			w.h.recordWrite(author.Public, "commit", w.id, id, nil)
			close(audited)
		}()
	}
	err = w.applyPending(ctx, p, author, branch, verr)
	return audited, err
}

// applyPending is the rest of finish: it waits for the commit p is built on and,
// if that one and p's validation (verr) succeeded, applies p.
func (w *World) applyPending(ctx context.Context, p *pending, author Identity, branch string, verr error) error {
	b := p.b
	if p.prev != nil {
		<-p.prev.done
		if p.prev.err != nil {
			return errs.E(errs.Conflict, fmt.Errorf("branch %s: commit %s: %w", branch, p.prev.c.ID.Short(), errParentFailed))
		}
	}
	if verr != nil {
		if errs.Is(verr, errs.Permission) || errs.Is(verr, errs.Invalid) && w.h.policy != nil {
			// The policy refused it: the author's rights, or what
			// an .acl or group holds.
			return w.h.recordWrite(author.Public, "commit", w.id, p.c.ID, verr)
		}
		return errs.E(errs.Internal, fmt.Errorf("cdb: a commit built here fails validation: %w", verr))
	}
	if err := ctx.Err(); err != nil {
		return errs.E(errs.Canceled, err)
	}
	if err := putCommit(b, p.c, p.obj); err != nil {
		return err
	}
	if err := b.SwapRef(headRef(w.id, branch), p.head, p.c.ID); err != nil {
		return err
	}
	if err := b.SetRef(clockRef, clockID(w.h.clock.Last())); err != nil {
		return err
	}
	// Unsynced: writeOnce syncs after this. Until then, readers see the
	// head before it.
	w.applying(p, branch)
	if err := b.Commit(!w.h.canSync()); err != nil {
		w.applyFailed(p)
		if errs.Is(err, errs.Conflict) {
			return errs.E(errs.Conflict, fmt.Errorf("branch %s moved during the commit: %w", branch, err))
		}
		return err
	}
	// The next commit on this branch needs c as its parent: cache it
	// rather than decode it again (all of its ops) from the store.
	w.h.commits.put(p.c)
	return nil
}

// canSync reports whether the store syncs on request (syncStore).
func (h *Home) canSync() bool {
	_, ok := h.store.(interface{ Sync() error })
	return ok
}

// putOps returns the ops of a commit whose only changes are the puts
// puts (path → value id): a put always changes its leaf (its stamp is
// new), and makes no other leaf (an implicit directory has none), so
// these are the ops diffOps would find, in path order.
func putOps(puts map[string]coda.ID) ([]Change, error) {
	type keyed struct {
		k  []string
		ch Change
	}
	ks := make([]keyed, 0, len(puts))
	for p, id := range puts {
		segs, err := tree.SplitPath(p)
		if err != nil {
			return nil, err
		}
		ks = append(ks, keyed{opKey(segs, false), Change{Path: p, ID: id}})
	}
	slices.SortFunc(ks, func(a, b keyed) int { return comparePathKeys(a.k, b.k) })
	ops := make([]Change, len(ks))
	for i := range ks {
		ops[i] = ks[i].ch
	}
	return ops, nil
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
	ops = slices.Clone(ops)
	for i := range ops {
		if err := checkOp(&ops[i]); err != nil {
			return CommitInfo{}, errs.E(op, err)
		}
	}
	// Puts and mkdirs may run again on a moved head; anything else only
	// on the state it was built on; a blob only if it can be read again.
	mode := rerunAlways
	var blobs []io.Seeker
	for i := range ops {
		switch ops[i].Kind {
		case Put, Mkdir:
		case PutBlob:
			if inMemory(ops[i].Blob) {
				// Read while the commit is built, it costs nothing; a
				// rerun rewinds it.
				if sk, ok := ops[i].Blob.(io.Seeker); ok {
					blobs = append(blobs, sk)
				} else {
					mode = rerunNever
				}
				break
			}
			// A blob is stored before the commit is built: reading it
			// (an upload, say) holds up no other writer, and a moved
			// head can be retried. If the commit fails, the blob stays
			// unreachable in the store.
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
			mode = min(mode, rerunRebuild)
		}
	}
	c, err := w.write(ctx, author, message, mode, func(tx *txn) error {
		for _, b := range blobs {
			if _, err := b.Seek(0, io.SeekStart); err != nil {
				return err
			}
		}
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
	return w.dirSchemaIn(w.h.cstore, reg, root, p)
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

// childSchema is the schema a value at p must have from its directory:
// the directory's schema, except for entries whose name begins with "."
// (.acl, .on, .index): those are the directory's own metadata, not its
// children, and keep their own schemas (docs/cdb.md, "Directory schemas").
func (tx *txn) childSchema(p string) (*coda.Schema, error) {
	if isMetaName(p) {
		return nil, nil
	}
	return tx.dirSchema(parentDir(p))
}

// isMetaName reports whether the last segment of p begins with ".".
func isMetaName(p string) bool {
	return strings.HasPrefix(p[strings.LastIndexByte(p, '/')+1:], ".")
}

func (tx *txn) put(p string, o *Op) error {
	ds, err := tx.childSchema(p)
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
	ds, err := tx.childSchema(p)
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
			if d.Kind == tree.KindDir || isMetaName(d.Name) {
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
		ds, err := tx.childSchema(p)
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
				ds, err := tx.childSchema(dst)
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
