// Package cdb is coal's database: a home holding the node's identity and
// store, the worlds in it, and for each world its signed commits, branches,
// history, merge, replay and fsck (docs/cdb.md). It builds on cdb/store
// (objects and refs) and cdb/tree (the Merkle tree of paths).
//
// A Home is safe for concurrent use, as are the Worlds it returns. Writes to
// one branch serialise by compare-and-swap on the branch head ref.
package cdb

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/pebblestore"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// DefaultWorld is the name of the world Init creates.
const DefaultWorld = "default"

// DefaultBranch is the branch a world starts on.
const DefaultBranch = "main"

// DefaultSkew is how far ahead of the local clock a commit's time may be
// before it is held (docs/cdb.md, "Clock").
const DefaultSkew = 60 * time.Second

// Options configures Init and Open. The zero value is ready to use.
type Options struct {
	// Logger receives diagnostics. Nil discards them.
	Logger *slog.Logger
	// Clock is the wall clock. Nil means time.Now.
	Clock func() time.Time
	// Store, if not nil, is used instead of the Pebble store in DIR/store
	// (tests pass a memstore). The Home closes it on Close.
	Store store.Store
	// Skew is the clock skew bound; zero means DefaultSkew.
	Skew time.Duration
	// Policy, if not nil, checks the rights of every commit (local, merge,
	// replay, received), writes the genesis leaves of new worlds, and
	// filters reads of World.As views (package acl: acl.With(opts)).
	Policy Policy
	// Calls, if not nil, re-executes the call of every commit that
	// records one (package call: call.With(opts)). Nil: such commits are
	// refused.
	Calls CallChecker
	// Audit, if not nil, receives every read made through a World.As view
	// and every write (commit, merge, receive). Nil: the home's own audit
	// log in DIR/audit (package cdb/audit), unless NoAudit.
	Audit Auditor
	// NoAudit turns the home's own audit log off (tests, tools).
	NoAudit bool
	// NoWorld makes Init create no world (a home cloned from a bundle
	// gets its world from the bundle).
	NoWorld bool
	// Derive, if not nil, adds derived leaves (query indexes: query.With)
	// to every commit and checks them in every commit validated.
	Derive Deriver
}

// Home is an open coal home: the node key, config and store. Close it when
// done. A Home is safe for concurrent use.
type Home struct {
	dir   string
	log   *slog.Logger
	store store.Store
	tree  *tree.Tree // over store, uncached: what fsck and replay check
	// nodes caches the decoded tree nodes read from store; cached (over
	// cstore, a tree.CachingStore) is the Tree of reads and writes.
	nodes  *tree.NodeCache
	cstore cachedStore
	cached *tree.Tree
	clock  *hlc.Clock
	skew   time.Duration
	key    Identity
	schema *commitSchemas
	policy Policy
	calls  CallChecker
	derive Deriver
	audit  Auditor
	alog   auditLog

	regMu sync.Mutex // guards regs
	regs  map[*coda.Registry]*coda.Registry

	commits commitCache

	subs subscribers // watchers of worlds (Subscribe)

	mu     sync.Mutex // guards cfg and the config file
	cfg    config
	worlds map[coda.ID]*World
	// named holds the worlds found by name (Home.World): a world's ref
	// is only ever created (NewWorld, Receive), never moved or removed,
	// so a name once found keeps its world. Guarded by mu.
	named map[string]*World
}

// homeVersion is the version of the homes this coal makes and opens.
const homeVersion = 2

// config is config.json. Unknown fields are rejected.
type config struct {
	// Version is the home format version, 2: commits of format 2 (op
	// groups, docs/cdb.md). A version-1 home is refused.
	Version int `json:"version"`
	// DefaultWorld names the world used when none is given.
	DefaultWorld string `json:"default_world"`
	// Branches maps a world id (text form) to its current branch.
	Branches map[string]string `json:"branches,omitempty"`
}

// Dir returns the home's directory.
func (h *Home) Dir() string { return h.dir }

// Store returns the home's object store.
func (h *Home) Store() store.Store { return h.store }

// Tree returns the tree over the home's store.
func (h *Home) Tree() *tree.Tree { return h.tree }

// NodeKey returns the node's identity, which signs the commits the node
// makes for its own user.
func (h *Home) NodeKey() Identity { return h.key }

// Init creates a coal home in dir: keys/node.key (mode 0600), config.json,
// the store, and a world named "default" with its genesis commit, signed by
// the new node key. It fails with errs.Exist if dir already holds a home (or
// anything but an empty directory), and is atomic: the home is built in a
// temporary directory beside dir and renamed into place, so a crash leaves
// no home or a whole one. The returned Home is open.
func Init(dir string, opts Options) (*Home, error) {
	op := errs.Op("cdb.Init")
	if dir == "" {
		return nil, errs.E(op, errs.Invalid, "no home directory given")
	}
	dir = filepath.Clean(dir)
	if err := checkFree(dir); err != nil {
		return nil, errs.E(op, errs.Path(dir), err)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, errs.E(op, errs.Path(dir), err)
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dir)+".tmp-")
	if err != nil {
		return nil, errs.E(op, errs.Path(dir), err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o700); err != nil {
		return nil, errs.E(op, errs.Path(dir), err)
	}
	if err := os.Mkdir(filepath.Join(tmp, "keys"), 0o700); err != nil {
		return nil, errs.E(op, errs.Path(dir), err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if err := writeFileSync(filepath.Join(tmp, "keys", "node.key"), priv.Seed(), 0o600); err != nil {
		return nil, errs.E(op, errs.Path(dir), err)
	}
	cfg := config{Version: homeVersion, DefaultWorld: DefaultWorld}
	if err := writeConfig(tmp, &cfg); err != nil {
		return nil, errs.E(op, errs.Path(dir), err)
	}
	// Open the store in the temporary directory and create the default
	// world, then close, rename and reopen: the rename is the commit point.
	h, err := open(tmp, opts, true)
	if err != nil {
		return nil, errs.E(op, errs.Path(dir), err)
	}
	if !opts.NoWorld {
		if _, err := h.NewWorld(DefaultWorld); err != nil {
			h.closeStore(opts)
			return nil, errs.E(op, errs.Path(dir), err)
		}
	}
	if opts.Store == nil {
		if err := h.Close(); err != nil {
			return nil, errs.E(op, errs.Path(dir), err)
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, errs.E(op, errs.Exist, errs.Path(dir), fmt.Errorf("a file or directory is in the way: %w", err))
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, errs.E(op, errs.Path(dir), err)
	}
	ok = true
	syncDir(parent)
	if opts.Store != nil {
		h.dir = dir
		return h, nil
	}
	return Open(dir, opts)
}

func (h *Home) closeStore(opts Options) {
	if opts.Store == nil {
		h.store.Close()
	}
}

// checkFree fails with errs.Exist unless dir is absent or an empty directory.
func checkFree(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		return errs.E(errs.Exist, fmt.Sprintf("a coal home already exists at %s", dir))
	}
	if !fi.IsDir() {
		return errs.E(errs.Exist, fmt.Sprintf("%s exists and is not a directory", dir))
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return errs.E(errs.Exist, fmt.Sprintf("%s exists and is not empty", dir))
	}
	return nil
}

// Open opens the coal home in dir. It fails with errs.NotExist if there is
// none, and with errs.Unavailable if another process has it open.
func Open(dir string, opts Options) (*Home, error) {
	op := errs.Op("cdb.Open")
	dir = filepath.Clean(dir)
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errs.E(op, errs.NotExist, errs.Path(dir), fmt.Sprintf("no coal home at %s (run coal init)", dir))
		}
		return nil, errs.E(op, errs.Path(dir), err)
	}
	h, err := open(dir, opts, false)
	if err != nil {
		return nil, errs.E(op, errs.Path(dir), err)
	}
	return h, nil
}

func open(dir string, opts Options, creating bool) (*Home, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	key, err := readKey(filepath.Join(dir, "keys", "node.key"), "node")
	if err != nil {
		return nil, err
	}
	schemas, err := loadCommitSchemas()
	if err != nil {
		return nil, err
	}
	st := opts.Store
	if st == nil {
		ps, err := pebblestore.Open(filepath.Join(dir, "store"), pebblestore.Options{Logger: log})
		if err != nil {
			if errs.Is(err, errs.Unavailable) {
				return nil, errs.E(errs.Unavailable, fmt.Sprintf("home %s is in use by another coal process", dir))
			}
			return nil, err
		}
		st = ps
	}
	h := &Home{
		dir:    dir,
		log:    log,
		store:  st,
		tree:   tree.New(st),
		skew:   opts.Skew,
		key:    key,
		schema: schemas,
		policy: opts.Policy,
		calls:  opts.Calls,
		derive: opts.Derive,
		audit:  opts.Audit,
		cfg:    *cfg,
		worlds: make(map[coda.ID]*World),
	}
	h.nodes = tree.NewNodeCache(nodeCacheBytes)
	h.cstore = cachedStore{s: st, nodes: h.nodes, objs: newObjectCache(objectCacheBytes)}
	h.cached = tree.New(h.cstore)
	if h.skew == 0 {
		h.skew = DefaultSkew
	}
	last, err := h.loadClock()
	if err != nil {
		if opts.Store == nil {
			st.Close()
		}
		return nil, err
	}
	h.clock = hlc.New(opts.Clock, last)
	if h.audit == nil && !opts.NoAudit {
		h.audit = &h.alog
		h.alog.h = h
	}
	_ = creating
	return h, nil
}

// Close closes the home's store. The Home and its Worlds are unusable after.
func (h *Home) Close() error {
	err := h.store.Close()
	if aerr := h.alog.close(); err == nil {
		err = aerr
	}
	return err
}

// clockRef is the ref holding the clock's last time, in the first 8 bytes
// (little-endian) of the ref's id.
const clockRef = "clock"

func (h *Home) loadClock() (hlc.Time, error) {
	id, err := h.store.GetRef(clockRef)
	if errs.Is(err, errs.NotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return hlc.Time(leU64(id[:8])), nil
}

func clockID(t hlc.Time) coda.ID {
	var id coda.ID
	for i := range 8 {
		id[i] = byte(uint64(t) >> (8 * i))
	}
	return id
}

func leU64(b []byte) uint64 {
	var x uint64
	for i := range 8 {
		x |= uint64(b[i]) << (8 * i)
	}
	return x
}

func readConfig(dir string) (*config, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var c config
	if err := dec.Decode(&c); err != nil {
		return nil, errs.E(errs.Invalid, errs.Path(filepath.Join(dir, "config.json")), err)
	}
	if c.Version == 1 {
		return nil, errs.E(errs.Invalid, errs.Path(filepath.Join(dir, "config.json")),
			"home version 1: its commits are of format 1 (ops inline), this coal reads format 2 (op groups, docs/cdb.md): make the home again with this coal")
	}
	if c.Version != homeVersion {
		return nil, errs.E(errs.Invalid, errs.Path(filepath.Join(dir, "config.json")), fmt.Sprintf("unknown config version %d", c.Version))
	}
	return &c, nil
}

func writeConfig(dir string, c *config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	tmp := filepath.Join(dir, "config.json.tmp")
	if err := writeFileSync(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "config.json")); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// setConfig changes the config under h.mu and writes it.
func (h *Home) setConfig(f func(c *config)) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.cfg
	c.Branches = make(map[string]string, len(h.cfg.Branches))
	for k, v := range h.cfg.Branches {
		c.Branches[k] = v
	}
	f(&c)
	if err := writeConfig(h.dir, &c); err != nil {
		return err
	}
	h.cfg = c
	return nil
}

func writeFileSync(name string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// WorldInfo describes one world of the home.
type WorldInfo struct {
	Name   string  `json:"name"`
	ID     coda.ID `json:"id"`
	Branch string  `json:"branch"` // the current branch
	Head   coda.ID `json:"head"`   // its head commit
}

// worldRef is the ref naming a world.
func worldRef(name string) string { return "world/" + name }

// Worlds lists the home's worlds by name.
func (h *Home) Worlds() ([]WorldInfo, error) {
	refs, err := h.store.ListRefs("world/")
	if err != nil {
		return nil, err
	}
	var out []WorldInfo
	for _, r := range refs {
		w := h.world(strings.TrimPrefix(r.Name, "world/"), r.ID)
		head, err := w.Head()
		if err != nil {
			return nil, err
		}
		out = append(out, WorldInfo{Name: w.name, ID: w.id, Branch: w.Branch(), Head: head})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ValidWorldName reports whether name can name a world: a valid path
// segment of at most 64 bytes that is not a possible id prefix clash… any
// segment is accepted; names are looked up before id prefixes.
func validWorldName(name string) error {
	if name == "" || len(name) > 64 || !tree.ValidName(name) || strings.ContainsAny(name, " \t\n") {
		return errs.E(errs.Invalid, fmt.Sprintf("bad world name %q: want 1–64 bytes, no '/', spaces or NUL, not . or ..", name))
	}
	return nil
}

// NewWorld creates a world named name with a genesis commit signed by the
// node key, on branch main. With a Policy, the genesis commit puts the
// policy's genesis leaves (acl: /.acl making the node key admin of /).
// errs.Exist if the name is taken.
func (h *Home) NewWorld(name string) (*World, error) {
	return h.NewWorldAs(name, h.key)
}

// NewWorldAs is NewWorld with the genesis commit signed by creator, who
// becomes the world's creator (with acl: admin of /).
func (h *Home) NewWorldAs(name string, creator Identity) (*World, error) {
	op := errs.Op("cdb.NewWorld")
	if !creator.CanSign() {
		return nil, errs.E(op, errs.Invalid, fmt.Sprintf("identity %q cannot sign", creator.Name))
	}
	if err := validWorldName(name); err != nil {
		return nil, errs.E(op, err)
	}
	if _, err := h.store.GetRef(worldRef(name)); err == nil {
		return nil, errs.E(op, errs.Exist, fmt.Sprintf("world %q already exists", name))
	}
	t := h.clock.Now()
	c := &Commit{
		Tree:    tree.EmptyRoot,
		Author:  creator.Public,
		Time:    t,
		Message: "create world " + name,
	}
	b := h.store.NewBatch()
	defer b.Discard()
	if h.policy != nil {
		leaves, err := h.policy.Genesis(creator.Public)
		if err != nil {
			return nil, errs.E(op, err)
		}
		st := newStaging(h.store, b)
		tr := tree.New(st)
		stamp := tree.Stamp{Time: uint64(t), Author: creator.Public32()}
		var tops []tree.Op
		for _, l := range leaves {
			id, err := st.Put(l.Data)
			if err != nil {
				return nil, errs.E(op, err)
			}
			tops = append(tops, tree.Op{Path: l.Path, Entry: tree.Value(id, stamp)})
		}
		if len(tops) > 0 {
			root, err := tr.Apply(tree.EmptyRoot, tops)
			if err != nil {
				return nil, errs.E(op, err)
			}
			if c.Ops, err = diffOps(tr, tree.EmptyRoot, root); err != nil {
				return nil, errs.E(op, err)
			}
			c.Tree = root
		}
	}
	obj, err := h.schema.sign(c, creator)
	if err != nil {
		return nil, errs.E(op, err)
	}
	id := coda.Sum(obj)
	if err := putCommit(b, c, obj); err != nil {
		return nil, errs.E(op, err)
	}
	if err := b.SwapRef(worldRef(name), coda.ID{}, id); err != nil {
		return nil, errs.E(op, err)
	}
	if err := b.SetRef(headRef(id, DefaultBranch), id); err != nil {
		return nil, errs.E(op, err)
	}
	if err := b.SetRef(clockRef, clockID(h.clock.Last())); err != nil {
		return nil, errs.E(op, err)
	}
	if err := b.Commit(true); err != nil {
		if errs.Is(err, errs.Conflict) {
			return nil, errs.E(op, errs.Exist, fmt.Sprintf("world %q already exists", name))
		}
		return nil, errs.E(op, err)
	}
	return h.world(name, id), nil
}

// World returns the world named nameOrID, or whose id is nameOrID or starts
// with it (a unique prefix); "" is the default world. errs.NotExist if there
// is none, errs.Invalid if a prefix is ambiguous.
func (h *Home) World(nameOrID string) (*World, error) {
	op := errs.Op("cdb.World")
	h.mu.Lock()
	if nameOrID == "" {
		nameOrID = h.cfg.DefaultWorld
	}
	w, ok := h.named[nameOrID]
	h.mu.Unlock()
	if ok {
		return w, nil
	}
	if id, err := h.store.GetRef(worldRef(nameOrID)); err == nil {
		w := h.world(nameOrID, id)
		h.mu.Lock()
		if h.named == nil {
			h.named = make(map[string]*World)
		}
		h.named[nameOrID] = w
		h.mu.Unlock()
		return w, nil
	} else if !errs.Is(err, errs.NotExist) {
		return nil, errs.E(op, err)
	}
	refs, err := h.store.ListRefs("world/")
	if err != nil {
		return nil, errs.E(op, err)
	}
	var found []store.Ref
	if coda.IsIDPrefix(nameOrID) {
		for _, r := range refs {
			if r.ID.HasPrefix(strings.ToLower(nameOrID)) {
				found = append(found, r)
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, errs.E(op, errs.NotExist, fmt.Sprintf("no world %q", nameOrID))
	case 1:
		return h.world(strings.TrimPrefix(found[0].Name, "world/"), found[0].ID), nil
	}
	return nil, errs.E(op, errs.Invalid, fmt.Sprintf("world id prefix %q is ambiguous", nameOrID))
}

func (h *Home) world(name string, id coda.ID) *World {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w, ok := h.worlds[id]; ok {
		return w
	}
	w := &World{h: h, name: name, id: id}
	h.worlds[id] = w
	return w
}

func (h *Home) currentBranch(id coda.ID) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.cfg.Branches[id.String()]; ok {
		return b
	}
	return DefaultBranch
}

var _ = context.Background
