package cdb

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// World is one world of a home: a tree with its history and branches. It is
// safe for concurrent use. Reads take a commit id (from Head or Resolve), so
// that a sequence of reads sees one state.
type World struct {
	h    *Home
	name string
	id   coda.ID

	// The local commits of this world are built one at a time, each on
	// the one before it, perhaps not yet validated, applied or synced
	// (writeOnce): bq queues the commits to build, and the writer that
	// finds building false starts a goroutine that builds them all
	// (buildQueued). They are
	// validated, applied (in order) and synced outside, so concurrent
	// writers share fsyncs (group commit, docs/node.md) instead of racing
	// for the branch head. bmu guards bq and building.
	bmu      sync.Mutex
	bq       []*buildReq
	building bool
	// tips holds, by branch, the last commit built on it (pending until
	// its done is closed); only the builder uses it.
	tips map[string]*pending
	seq  uint64 // build sequence number of the last commit built

	// Readers see only durable commits: dmu guards unsynced, the commits
	// writeOnce applied and does not yet know synced (by id: branch and
	// build sequence), and synced, by branch, the newest commit known
	// durable. Head returns synced's commit where the store's ref names
	// an unsynced one.
	dmu      sync.Mutex
	unsynced map[coda.ID]unsyncedCommit
	synced   map[string]unsyncedCommit
}

type unsyncedCommit struct {
	id     coda.ID
	branch string
	seq    uint64
}

// durable maps the head id of branch, as the store's ref holds it, to the
// newest durable commit: id itself unless writeOnce applied it and its
// sync has not returned.
func (w *World) durable(branch string, id coda.ID) coda.ID {
	w.dmu.Lock()
	defer w.dmu.Unlock()
	if _, ok := w.unsynced[id]; ok {
		if s, ok := w.synced[branch]; ok {
			return s.id
		}
	}
	return id
}

// applying records that p is about to be applied (not yet synced).
func (w *World) applying(p *pending, branch string) {
	w.dmu.Lock()
	defer w.dmu.Unlock()
	if w.unsynced == nil {
		w.unsynced = make(map[coda.ID]unsyncedCommit)
		w.synced = make(map[string]unsyncedCommit)
	}
	w.unsynced[p.c.ID] = unsyncedCommit{p.c.ID, branch, p.seq}
	if _, ok := w.synced[branch]; !ok {
		// The first commit applied on branch is built on a durable one.
		w.synced[branch] = unsyncedCommit{p.head, branch, 0}
	}
}

// applyFailed forgets p, which was not applied after all.
func (w *World) applyFailed(p *pending) {
	w.dmu.Lock()
	defer w.dmu.Unlock()
	delete(w.unsynced, p.c.ID)
}

// durableNow records that p is synced, and with it every commit applied
// on its branch before it (applied in build order, so of smaller seq).
func (w *World) durableNow(p *pending, branch string) {
	w.dmu.Lock()
	defer w.dmu.Unlock()
	for id, u := range w.unsynced {
		if u.branch == branch && u.seq <= p.seq {
			delete(w.unsynced, id)
		}
	}
	if s := w.synced[branch]; s.seq < p.seq {
		w.synced[branch] = unsyncedCommit{p.c.ID, branch, p.seq}
	}
}

// ID returns the world's id: the id of its genesis commit.
func (w *World) ID() coda.ID { return w.id }

// Name returns the world's local name.
func (w *World) Name() string { return w.name }

// Home returns the home the world belongs to.
func (w *World) Home() *Home { return w.h }

// Branch returns the world's current branch (node state in config.json).
func (w *World) Branch() string { return w.h.currentBranch(w.id) }

// headRef is the ref of a branch head.
func headRef(world coda.ID, branch string) string {
	return "head/" + world.String() + "/" + branch
}

// Head returns the head commit of the current branch: the newest durable
// one (a commit applied but not yet synced is not shown to readers).
func (w *World) Head() (coda.ID, error) {
	branch := w.Branch()
	id, err := w.branchHead(branch)
	if err != nil {
		return id, err
	}
	return w.durable(branch, id), nil
}

func (w *World) branchHead(branch string) (coda.ID, error) {
	id, err := w.h.store.GetRef(headRef(w.id, branch))
	if errs.Is(err, errs.NotExist) {
		return coda.ID{}, errs.E(errs.NotExist, fmt.Sprintf("no branch %q in world %s", branch, w.name))
	}
	return id, err
}

// Resolve turns a revision into a commit id: a full commit id, a unique
// prefix of one, a branch name, "HEAD", or any of
// these followed by "~N" (the Nth first parent). Unknown revisions are
// errs.NotExist, ambiguous prefixes errs.Invalid.
func (w *World) Resolve(rev string) (coda.ID, error) {
	return w.resolve(rev, nil)
}

// resolve is Resolve, seeing only the commits visible reports true for
// (nil: all of them): a prefix is searched among them, and a name
// resolving to another commit is answered as an unknown one.
func (w *World) resolve(rev string, visible func(*Commit) (bool, error)) (coda.ID, error) {
	op := errs.Op("cdb.Resolve")
	base, n := rev, 0
	if i := strings.LastIndexByte(rev, '~'); i >= 0 {
		base = rev[:i]
		k, err := strconv.Atoi(rev[i+1:])
		if rev[i+1:] == "" {
			k, err = 1, nil
		}
		if err != nil || k < 0 {
			return coda.ID{}, errs.E(op, errs.Invalid, fmt.Sprintf("bad revision %q", rev))
		}
		n = k
	}
	id, err := w.resolveBase(base, visible)
	if err != nil {
		return coda.ID{}, errs.E(op, err)
	}
	for range n {
		c, err := w.commit(id)
		if err != nil {
			return coda.ID{}, errs.E(op, err)
		}
		if len(c.Parents) == 0 {
			return coda.ID{}, errs.E(op, errs.NotExist, fmt.Sprintf("revision %q: history is shorter", rev))
		}
		id = c.firstParent()
	}
	if visible != nil {
		c, err := w.commit(id)
		if err != nil {
			return coda.ID{}, errs.E(op, err)
		}
		ok, err := visible(c)
		if err != nil {
			return coda.ID{}, errs.E(op, err)
		}
		if !ok {
			return coda.ID{}, errs.E(op, unknownRevision(rev))
		}
	}
	return id, nil
}

// unknownRevision is the error of a name rev that names no commit: a full
// commit id, or any other name.
func unknownRevision(rev string) error {
	if len(rev) == coda.IDTextLen {
		if id, err := coda.ParseID(rev); err == nil {
			return errs.E(errs.NotExist, fmt.Sprintf("no commit %s", id))
		}
	}
	return errs.E(errs.NotExist, fmt.Sprintf("unknown revision %q", rev))
}

func (w *World) resolveBase(rev string, visible func(*Commit) (bool, error)) (coda.ID, error) {
	if rev == "" || rev == "HEAD" || rev == "@" {
		return w.Head()
	}
	if id, err := w.h.store.GetRef(headRef(w.id, rev)); err == nil {
		return w.durable(rev, id), nil
	}
	if len(rev) == coda.IDTextLen {
		id, err := coda.ParseID(rev)
		if err == nil {
			if _, err := w.commit(id); err != nil {
				return coda.ID{}, err
			}
			return id, nil
		}
	}
	if !coda.IsIDPrefix(rev) {
		return coda.ID{}, errs.E(errs.NotExist, fmt.Sprintf("unknown revision %q", rev))
	}
	// Search the history of every branch: commits not reachable from a
	// branch are not part of the world as this node sees it.
	prefix := strings.ToLower(rev)
	var found []coda.ID
	seen := map[coda.ID]bool{}
	refs, err := w.h.store.ListRefs("head/" + w.id.String() + "/")
	if err != nil {
		return coda.ID{}, err
	}
	for _, r := range refs {
		err := w.walkHistory(r.ID, seen, func(c *Commit) error {
			if !c.ID.HasPrefix(prefix) {
				return nil
			}
			if visible != nil {
				if ok, err := visible(c); err != nil || !ok {
					return err
				}
			}
			found = append(found, c.ID)
			return nil
		})
		if err != nil {
			return coda.ID{}, err
		}
	}
	switch len(found) {
	case 0:
		return coda.ID{}, errs.E(errs.NotExist, fmt.Sprintf("unknown revision %q", rev))
	case 1:
		return found[0], nil
	}
	return coda.ID{}, errs.E(errs.Invalid, fmt.Sprintf("revision %q is ambiguous: %d commits start with it", rev, len(found)))
}

// walkHistory calls fn for every commit reachable from id not yet in seen.
func (w *World) walkHistory(id coda.ID, seen map[coda.ID]bool, fn func(*Commit) error) error {
	return walkWith(w.commit, id, seen, fn)
}

func (c *Commit) firstParent() coda.ID {
	if len(c.Parents) == 0 {
		return coda.ID{}
	}
	return c.Parents[0]
}

// LoadCommit reads and decodes the commit id of this world. Its signature
// is not verified here: call Commit.Verify. errs.NotExist if there is no
// such commit in the world; errs.Corrupt if the object does not decode.
// The caller owns the result.
func (w *World) LoadCommit(id coda.ID) (*Commit, error) {
	c, err := w.commit(id)
	if err != nil {
		return nil, err
	}
	cp := *c
	cp.Parents = slices.Clone(c.Parents)
	cp.Ops = slices.Clone(c.Ops)
	cp.Conflicts = slices.Clone(c.Conflicts)
	cp.Author = slices.Clone(c.Author)
	cp.Signature = slices.Clone(c.Signature)
	cp.OpGroups = slices.Clone(c.OpGroups)
	cp.Hidden = slices.Clone(c.Hidden)
	if c.Call != nil {
		call := *c.Call
		cp.Call = &call
	}
	return &cp, nil
}

// commit is LoadCommit through the home's cache of decoded commits
// (commits are immutable). The result is shared: never modify it.
func (w *World) commit(id coda.ID) (*Commit, error) {
	if c := w.h.commits.get(id); c != nil {
		if c.World != w.id && !(c.IsGenesis() && id == w.id) {
			return nil, errs.E(errs.NotExist, fmt.Sprintf("commit %s is not in world %s", id, w.name))
		}
		return c, nil
	}
	c, err := w.readCommit(id)
	if err != nil {
		return nil, err
	}
	if !c.Opaque() { // its withheld groups may arrive later
		w.h.commits.put(c)
	}
	return c, nil
}

// readCommit reads and decodes the commit id from the store.
func (w *World) readCommit(id coda.ID) (*Commit, error) {
	b, err := w.h.store.Get(id)
	if err != nil {
		if errs.Is(err, errs.NotExist) {
			return nil, errs.E(errs.NotExist, fmt.Sprintf("no commit %s", id))
		}
		return nil, err
	}
	c, err := w.h.schema.decode(b)
	if err == nil {
		err = w.h.schema.fill(c, w.h.store.Get)
	}
	if err != nil {
		if schemaOf(b) != w.h.schema.signed.ID {
			return nil, errs.E(errs.NotExist, fmt.Sprintf("%s is not a commit", id))
		}
		return nil, errs.E(errs.Corrupt, fmt.Errorf("commit %s: %w", id, err))
	}
	if c.ID != id {
		return nil, errs.E(errs.Corrupt, fmt.Sprintf("commit %s: stored bytes hash to %s", id, c.ID))
	}
	if c.World != w.id && !(c.IsGenesis() && id == w.id) {
		return nil, errs.E(errs.NotExist, fmt.Sprintf("commit %s is not in world %s", id, w.name))
	}
	return c, nil
}

// commitCache holds decoded commits by id. It is safe for concurrent use.
type commitCache struct {
	mu sync.Mutex
	m  map[coda.ID]*Commit
	n  int // ops held, bounding memory
}

// maxCachedOps bounds the ops held by the cache (about 100 bytes each).
const maxCachedOps = 1 << 20

func (cc *commitCache) get(id coda.ID) *Commit {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.m[id]
}

func (cc *commitCache) put(c *Commit) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil || cc.n+len(c.Ops) > maxCachedOps || len(cc.m) >= 1<<16 {
		cc.m, cc.n = make(map[coda.ID]*Commit), 0
	}
	cc.m[c.ID] = c
	cc.n += len(c.Ops) + 1
}

// root returns the tree root of commit rev (zero: the head).
func (w *World) root(rev coda.ID) (coda.ID, error) {
	if rev.IsZero() {
		h, err := w.Head()
		if err != nil {
			return coda.ID{}, err
		}
		rev = h
	}
	c, err := w.commit(rev)
	if err != nil {
		return coda.ID{}, err
	}
	return c.Tree, nil
}

// ItemKind is what a path holds, as a reader sees it.
type ItemKind string

// The item kinds.
const (
	ItemValue ItemKind = "value" // a CODA object
	ItemBlob  ItemKind = "blob"  // a Blob object: bytes, read with OpenBlob
	ItemDir   ItemKind = "dir"   // a directory
)

// Item is what Get returns. For a value, Schema and Value are the decoded
// object (Schema nil if the object's schema is not in /sys/schemas nor
// built in, then Value is invalid and Raw still holds the bytes); for a
// blob, Size is its length and the bytes are read with OpenBlob; for a
// directory, ID is its top node, Schema the schema its children must have
// (nil if none) and Size its number of live values.
type Item struct {
	Path   string
	Kind   ItemKind
	ID     coda.ID
	Schema *coda.Schema
	Value  coda.Value
	Raw    []byte // the object bytes of a value (not of a blob)
	Size   int64
	Stamp  tree.Stamp
}

// Get returns the item at path in the tree of commit rev (the zero id: the
// head). Missing, deleted and invisible paths are errs.NotExist.
func (w *World) Get(rev coda.ID, path string) (Item, error) {
	op := errs.Op("cdb.Get")
	root, err := w.root(rev)
	if err != nil {
		return Item{}, errs.E(op, err)
	}
	it, err := w.getAt(root, path)
	if err != nil {
		return Item{}, errs.E(op, errs.Path(path), w.opaqueRead(path, err))
	}
	return it, nil
}

func (w *World) getAt(root coda.ID, path string) (Item, error) {
	e, err := w.h.cached.Get(root, path)
	if err != nil {
		return Item{}, err
	}
	segs, _ := tree.SplitPath(path)
	p := tree.JoinPath(segs)
	if e.Kind == tree.KindDir {
		it := Item{Path: p, Kind: ItemDir, ID: e.ID, Size: int64(e.Live)}
		s, err := w.dirSchema(root, p)
		if err != nil {
			return Item{}, err
		}
		it.Schema = s
		return it, nil
	}
	it := Item{Path: p, Kind: ItemValue, ID: e.ID, Stamp: e.Stamp}
	if err := w.loadValue(root, &it); err != nil {
		return Item{}, err
	}
	return it, nil
}

// loadValue fills it (ID set) with the value's schema and value, or its
// blob size.
func (w *World) loadValue(root coda.ID, it *Item) error {
	size, err := w.h.store.Size(it.ID)
	if err != nil {
		return w.missingValue(it.ID, err)
	}
	head, err := readHead(w.h.store, it.ID, size)
	if err != nil {
		return err
	}
	if schemaOf(head) == coda.BlobSchema().ID {
		it.Kind = ItemBlob
		_, n, err := blobHeader(head, size)
		if err != nil {
			return errs.E(errs.Corrupt, fmt.Errorf("blob %s: %w", it.ID, err))
		}
		it.Size = size - int64(n)
		return nil
	}
	b, err := w.h.store.Get(it.ID)
	if err != nil {
		return err
	}
	it.Raw = b
	it.Size = int64(len(b))
	reg, err := w.schemasAt(root)
	if err != nil {
		return err
	}
	s, v, err := coda.DecodeObject(b, coda.DecodeOptions{Resolver: reg})
	if errs.Is(err, errs.NotExist) {
		return nil // unknown schema: Raw only
	}
	if err != nil {
		return errs.E(errs.Corrupt, fmt.Errorf("object %s: %w", it.ID, err))
	}
	it.Schema, it.Value = s, v
	return nil
}

// OpenBlob opens the bytes of the blob at path in commit rev (zero: head).
// errs.Invalid if the path holds a value that is not a blob.
func (w *World) OpenBlob(rev coda.ID, path string) (store.Blob, error) {
	op := errs.Op("cdb.OpenBlob")
	root, err := w.root(rev)
	if err != nil {
		return nil, errs.E(op, err)
	}
	e, err := w.h.cached.Get(root, path)
	if err != nil {
		return nil, errs.E(op, errs.Path(path), w.opaqueRead(path, err))
	}
	if e.Kind != tree.KindValue {
		return nil, errs.E(op, errs.Invalid, errs.Path(path), "is a directory")
	}
	b, err := openBlob(w.h.store, e.ID)
	if err != nil {
		return nil, errs.E(op, errs.Path(path), w.missingValue(e.ID, err))
	}
	return b, nil
}

// DirEntry is one name in a listing.
type DirEntry struct {
	Name  string     `json:"name"`
	Kind  ItemKind   `json:"kind"` // value, blob or dir
	ID    coda.ID    `json:"id"`
	Size  int64      `json:"size"` // a blob's length, a value's object size, a dir's live values
	Stamp tree.Stamp `json:"-"`
	// Withheld marks a value missing here by design (World.Withheld): its
	// kind is "value" and its size 0, whatever they are.
	Withheld bool `json:"withheld,omitempty"`
}

// List returns the visible entries of the directory at path in commit rev
// (zero: head), in name order (a value before a directory of the same name).
func (w *World) List(rev coda.ID, path string) ([]DirEntry, error) {
	op := errs.Op("cdb.List")
	root, err := w.root(rev)
	if err != nil {
		return nil, errs.E(op, err)
	}
	ents, err := w.h.cached.List(root, path)
	if errs.Is(err, errs.NotExist) {
		if e, gerr := w.h.cached.Get(root, path); gerr == nil && e.Kind == tree.KindValue {
			return nil, errs.E(op, errs.Invalid, errs.Path(path), "not a directory (a value: read it with Get)")
		}
	}
	if err != nil {
		return nil, errs.E(op, errs.Path(path), w.opaqueRead(path, err))
	}
	out := make([]DirEntry, 0, len(ents))
	for _, e := range ents {
		d := DirEntry{Name: e.Name, ID: e.ID, Stamp: e.Stamp}
		if e.Kind == tree.KindDir {
			d.Kind, d.Size = ItemDir, int64(e.Live)
		} else {
			d.Kind = ItemValue
			size, err := w.h.store.Size(e.ID)
			if errs.Is(err, errs.NotExist) {
				if _, ok, werr := w.Withheld(e.ID); werr == nil && ok {
					d.Withheld = true
					out = append(out, d)
					continue
				}
			}
			if err != nil {
				return nil, errs.E(op, errs.Path(path), err)
			}
			head, err := readHead(w.h.store, e.ID, size)
			if err != nil {
				return nil, errs.E(op, err)
			}
			d.Size = size
			if schemaOf(head) == coda.BlobSchema().ID {
				_, n, err := blobHeader(head, size)
				if err == nil {
					d.Kind, d.Size = ItemBlob, size-int64(n)
				}
			}
		}
		out = append(out, d)
	}
	return out, nil
}
