package bundle

// Making a bundle (Create): the commits to send, the tree nodes and values
// they need, and the bundle written as one CODA wire stream
// (docs/bundle.md; its format is drawn at the top of bundle.go).

import (
	"bytes"
	"cmp"
	"container/heap"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// CreateOptions configures Create.
type CreateOptions struct {
	// Since, if not zero, leaves out the commits reachable from it (the
	// receiver has them). The header names it.
	Since coda.ID
	// Haves are more commits the receiver holds (sync's Pull): the commits
	// reachable from those w holds are left out, as for Since; ids w does
	// not hold are ignored (the receiver may be ahead). The header does not
	// name them.
	Haves []coda.ID
	// Head is the commit to bundle; zero: the head of the current branch.
	Head coda.ID
	// Reader, if set, is the key the bundle is made as, instead of Create's
	// identity: only its public half is needed (sync makes a bundle as the
	// peer that pulls).
	Reader ed25519.PublicKey
	// OnValue, if set, observes every value the commits' diffs show, with
	// its path and whether its bytes travel (false: withheld). Sync counts
	// with it what it sends to whom.
	OnValue func(path string, id coda.ID, sent bool)
	// Leave, if set, is asked of every value that would travel, except the
	// .acl, group and metadata leaves validation needs, and those missing
	// from w's store: true leaves its bytes out of the bundle, and out of
	// withheld — the caller sends them another way (sync: CTP,
	// docs/sync.md). commit is a commit whose tree holds id at path where
	// the reader may read it; size is the value's size in bytes.
	Leave func(commit coda.ID, path string, id coda.ID, size int64) bool
}

// Stats says what a bundle holds.
type Stats struct {
	Header   Header `json:"header"`
	Commits  int    `json:"commits"`
	Objects  int    `json:"objects"`  // all objects after the header, commits included
	Withheld int    `json:"withheld"` // values that do not travel: the maker may not read them
	Bytes    int64  `json:"bytes"`
}

// keepBytes bounds the object bytes Create holds between reading an object
// (a tree node the diffs read, or a value for its schema id) and writing
// it; past it, objects are read again when they are written. A variable
// so that tests can make it small.
var keepBytes int64 = 32 << 20

// budget counts the bytes kept against keepBytes. Safe for concurrent use.
type budget struct{ n atomic.Int64 }

// take reports whether n more bytes may be kept, and counts them if so.
func (b *budget) take(n int) bool {
	if b.n.Add(int64(n)) > keepBytes {
		b.n.Add(-int64(n))
		return false
	}
	return true
}

// nodeCacheBytes bounds each of Create's caches of decoded tree nodes.
const nodeCacheBytes = 64 << 20

// recorder is the store the diffs read trees through. It remembers every
// node they read (those travel), with its bytes while they fit in
// keepBytes, and lets the diffs of successive commits decode a node they
// share once: its NodeCache holds only nodes read through it, so a node
// served from the cache is recorded.
type recorder struct {
	s     tree.Store
	nodes *tree.NodeCache
	seen  map[coda.ID][]byte // nil: not kept, read again when written
	kept  *budget            // shared with the values'
}

func (r *recorder) Get(id coda.ID) ([]byte, error) {
	b, err := r.s.Get(id)
	if err != nil {
		return b, err
	}
	if _, ok := r.seen[id]; !ok {
		var keep []byte
		if r.kept.take(len(b)) {
			keep = b
		}
		r.seen[id] = keep
	}
	return b, nil
}

func (r *recorder) Put(data []byte) (coda.ID, error) {
	return coda.ID{}, errs.E(errs.Internal, "bundle: a write while reading trees")
}

func (r *recorder) NodeCache(coda.ID) *tree.NodeCache { return r.nodes }

// plainStore is the store of the reads that must not make nodes travel
// (rights, the head's values): it shares the decoded nodes the diffs read
// and caches the others apart, so the recorder's cache still holds only
// recorded nodes.
type plainStore struct {
	s   tree.Store
	rec *recorder
	own *tree.NodeCache
}

func (p *plainStore) Get(id coda.ID) ([]byte, error) { return p.s.Get(id) }

func (p *plainStore) Put(data []byte) (coda.ID, error) {
	return coda.ID{}, errs.E(errs.Internal, "bundle: a write while reading trees")
}

func (p *plainStore) NodeCache(id coda.ID) *tree.NodeCache {
	if _, ok := p.rec.seen[id]; ok {
		return p.rec.nodes
	}
	return p.own
}

// dirFilter asks a read filter once per directory. An entry path is
// judged in the directory that holds it, as that directory's own path
// ("/a/b" as "/a/", docs/security.md §3), so the answer for one path of a
// directory is the answer for all.
// The diffs show paths in order, so most are in the directory of the
// one before: that answer is kept apart.
type dirFilter struct {
	f      func(string) bool
	dirs   map[string]bool
	last   string // the directory asked last ("" before the first)
	lastOK bool
}

func newDirFilter(f func(string) bool) *dirFilter {
	return &dirFilter{f: f, dirs: map[string]bool{}}
}

func (d *dirFilter) can(p string) bool {
	k := p[:strings.LastIndexByte(p, '/')+1]
	if k == d.last && k != "" {
		return d.lastOK
	}
	ok, hit := d.dirs[k]
	if !hit {
		ok = d.f(p)
		d.dirs[k] = ok
	}
	d.last, d.lastOK = k, ok
	return ok
}

// policyPath reports whether the leaf at p (meta: a directory's metadata
// leaf) must travel whoever reads it: validation and rights evaluation
// read .acl entries, groups and directory metadata.
func policyPath(p string, meta bool) bool {
	if meta {
		return true
	}
	if !strings.Contains(p, aclName) && !strings.Contains(p, "sys") {
		return false // most paths: no need to split them
	}
	segs, err := tree.SplitPath(p)
	if err != nil || len(segs) == 0 {
		return false
	}
	return segs[len(segs)-1] == aclName || len(segs) == 3 && segs[0] == "sys" && segs[1] == "groups"
}

// Create writes a bundle of w, made as the identity as, to out: every
// commit reachable from the head (opts.Head, or the current branch's)
// and not from opts.Since, parents first, with its op groups; every tree
// node of their diffs; every value they hold at a path as may read
// (cdb.View.Filter, judged at each commit), and, whoever reads them, the
// .acl entries, groups and directory metadata that validating the commits
// needs. An unreadable value travels only as its id in the tree nodes (the
// header lists it as withheld). A directory as may read nothing in (judged
// on each commit's first parent) travels only as its entry in its parent's
// node: the diff does not enter it, the header lists it as opaque, and the
// op groups inside it as withheld (docs/sync.md, "Opaque subtrees").
//
// Reads are judged once per directory and commit (docs/bundle.md, "How
// Create works"); the bundle's header, its wire context and its object
// count come before the objects, so everything is decided before the
// first byte is written; then the objects are written as read, those
// kept since they were first read (up to keepBytes) without reading them
// again.
func Create(w *cdb.World, as cdb.Identity, out io.Writer, opts CreateOptions) (Stats, error) {
	op := errs.Op("bundle.Create")
	head := opts.Head
	if head.IsZero() {
		h, err := w.Head()
		if err != nil {
			return Stats{}, errs.E(op, err)
		}
		head = h
	}
	reader := as.Public
	if opts.Reader != nil {
		if len(opts.Reader) != ed25519.PublicKeySize {
			return Stats{}, errs.E(op, errs.Invalid, fmt.Sprintf("reader key of %d bytes, want %d", len(opts.Reader), ed25519.PublicKeySize))
		}
		reader = opts.Reader
	}
	// The commits: from head, not from since or any have.
	bases := slices.Clone(opts.Haves)
	if !opts.Since.IsZero() {
		if _, err := w.LoadCommit(opts.Since); err != nil {
			return Stats{}, errs.E(op, err)
		}
		bases = append(bases, opts.Since)
	}
	commits, err := newCommits(w, head, bases)
	if err != nil {
		return Stats{}, errs.E(op, err)
	}
	commits = topo(commits)
	st := w.Home().Store()
	kept := &budget{}
	rec := &recorder{s: st, nodes: tree.NewNodeCache(nodeCacheBytes), seen: map[coda.ID][]byte{}, kept: kept}
	diffTree := tree.New(rec) // every commit's diff; DiffPruned reuses its stacks
	view := w.As(reader)
	ps := &plainStore{s: st, rec: rec, own: tree.NewNodeCache(nodeCacheBytes)}
	plain := tree.New(ps) // reads that are not the diffs' (they must not travel)
	var headRoot coda.ID
	var headReadable *dirFilter
	// The commits' ops (a path each) estimate the values their diffs show.
	hint := 0
	for _, c := range commits {
		hint += len(c.Ops)
	}
	hint = min(hint, 1<<20)
	// travel are the values that travel (unless also left: the caller
	// sends them another way), as often as decided, each with its slot
	// in the prober's results.
	travel := make([]vref, 0, hint)
	unreadable := map[coda.ID]bool{}
	left := map[coda.ID]bool{}       // values the caller sends another way
	hiddenFrom := map[coda.ID]bool{} // op groups inside opaque subtrees
	// hidIn are the groups each commit hides (commits hiding none are
	// not there): the same group (the same ops in one directory) may be
	// inside an opaque subtree in one commit and readable in another,
	// where it travels.
	hidIn := map[coda.ID]map[coda.ID]bool{}
	var later []candidate
	// The values the diffs show that may travel are read on a second
	// goroutine while the diffs go on (their sizes for Leave, their schema
	// ids and bytes for writing).
	pr := startProber(st, kept, hint)
	defer pr.wait()
	var probed []probe // pr's results by slot, once it is done
	// read returns the value v, from the prober if it read it.
	read := func(v vref) (*object, error) {
		if v.slot >= 0 && probed[v.slot].ok {
			return &probed[v.slot].object, nil
		}
		o, err := readObject(st, v.id, nil, kept)
		return &o, err
	}
	// pending are the values that travel unless Leave says otherwise: it
	// is asked once the prober is done, in the order they were decided.
	type pend struct {
		at   coda.ID
		path string
		v    vref
	}
	var pending []pend
	// settle asks Leave of the value v at path in commit at, which would
	// travel, with its size.
	settle := func(at coda.ID, path string, v vref) {
		o, err := read(v)
		if err == nil && opts.Leave(at, path, v.id, o.size) {
			left[v.id] = true
			return
		}
		travel = append(travel, v) // if missing: withheld from the maker (or an error, below)
	}
	// decide records whether the value v at path (p: as the filters take
	// it) travels; at is a commit where the reader may read it there.
	decide := func(at coda.ID, path, p string, v vref, sent, policy bool) {
		switch {
		case sent && !policy && opts.Leave != nil && probed == nil:
			pending = append(pending, pend{at, path, v})
		case sent && !policy && opts.Leave != nil:
			settle(at, path, v)
		case sent:
			travel = append(travel, v)
		default:
			unreadable[v.id] = true
		}
		if opts.OnValue != nil {
			opts.OnValue(p, v.id, sent)
		}
	}
	// Opaque subtrees (docs/sync.md): directories the reader may read
	// nothing in travel as their entry in their parent's node only; so do
	// those the maker lacks by design.
	makerOpaque, err := w.OpaqueSubtrees()
	if err != nil {
		return Stats{}, errs.E(op, err)
	}
	opaqueSent := map[string]bool{} // pruned by some diff: listed in the header
	// noGrantBelow reports whether no .acl under the directory p of tree
	// root lets the reader read its directory, judged by can or at the
	// head (only the nearest .acl counts, docs/security.md §4, so one
	// below p may widen). A subtree the maker lacks below p is not opaque
	// for that: it is pruned there.
	noGrantBelow := func(root coda.ID, p string, can func(string) bool) (bool, error) {
		errGrant := errs.E(errs.Other, "grant")
		err := plain.Walk(root, p, func(path string, _ tree.Entry) error {
			if d, ok := strings.CutSuffix(path, "/"+aclName); ok && (can(d+"/") || headReadable.can(d+"/")) {
				return errGrant
			}
			return nil
		})
		if errs.Is(err, errs.NotExist) {
			return false, nil // a subtree the maker lacks below: pruned there
		}
		if err != nil && err != errGrant {
			return false, err
		}
		return err != errGrant, nil
	}
	grants := map[[2]coda.ID]bool{} // (tree, directory node) → a .acl under it lets the reader read
	// opaqueFor reports whether the directory p is opaque to the reader
	// in a commit whose first parent has the tree root, where readable is
	// the reader's filter (nil: a genesis, where nothing is opaque) and
	// own its filter on the commit's own tree. Rights are judged on the
	// parent, as the receiver judges them, and on the commit's tree: a
	// commit after which the reader may read p (a grant) travels whole
	// there, as the receiver requires (docs/sync.md, "Opaque subtrees").
	opaqueFor := func(root coda.ID, readable, own func(string) bool, p string) (bool, error) {
		if _, ok := makerOpaque[p]; ok {
			return true, nil
		}
		if readable == nil {
			return false, nil
		}
		if p == "/sys" || strings.HasPrefix(p, "/sys/") {
			return false, nil // groups: rights evaluation reads them
		}
		// Its listing, judged in it (its entry, judged in its parent,
		// travels anyway: it is the id in the parent's node).
		if readable(p+"/") || headReadable.can(p+"/") || own(p+"/") {
			return false, nil
		}
		// Only the nearest .acl counts (docs/security.md §4): one below
		// p may let the reader read there.
		e, err := plain.Get(root, p)
		if errs.Is(err, errs.NotExist) {
			return true, nil // new here: judged by the .acl above, which denies
		}
		if err != nil || e.Kind != tree.KindDir {
			return false, err
		}
		if g, ok := grants[[2]coda.ID{root, e.ID}]; ok {
			return !g, nil
		}
		opaque, err := noGrantBelow(root, p, readable)
		if err == nil {
			grants[[2]coda.ID{root, e.ID}] = !opaque
		}
		return opaque, err
	}
	// newOpaque reports whether the directory p, inside a directory new
	// in the commit of tree root (absent in its first parent's tree), is
	// opaque to the reader whose filter on root is own (nil: no policy,
	// or a genesis, where nothing is opaque). There is no version of p to
	// judge on the parent, so it is judged on the commit's own tree and
	// at the head: opaque unless the reader may read p's listing in one
	// of them or an .acl under p in root lets it read its directory
	// (docs/sync.md, "Opaque subtrees").
	newOpaque := func(root coda.ID, own func(string) bool, p string) (bool, error) {
		if _, ok := makerOpaque[p]; ok {
			return true, nil
		}
		if own == nil || p == "/sys" || strings.HasPrefix(p, "/sys/") {
			return false, nil
		}
		if own(p+"/") || headReadable.can(p+"/") {
			return false, nil
		}
		return noGrantBelow(root, p, own)
	}
	// treeOf returns the tree of commit id: from the bundle's, or loaded.
	trees := make(map[coda.ID]coda.ID, len(commits))
	for _, c := range commits {
		trees[c.ID] = c.Tree
	}
	treeOf := func(id coda.ID) (coda.ID, error) {
		if t, ok := trees[id]; ok {
			return t, nil
		}
		c, err := w.LoadCommit(id)
		if err != nil {
			return coda.ID{}, err
		}
		return c.Tree, nil
	}
	for _, c := range commits {
		base := tree.EmptyRoot
		if len(c.Parents) > 0 {
			if base, err = treeOf(c.Parents[0]); err != nil {
				return Stats{}, errs.E(op, err)
			}
		}
		f, err := view.Filter(c.ID)
		if err != nil {
			return Stats{}, errs.E(op, err)
		}
		readable := newDirFilter(f)
		if headReadable == nil {
			if headRoot, err = treeOf(head); err != nil {
				return Stats{}, errs.E(op, err)
			}
			hf, err := view.Filter(head)
			if err != nil {
				return Stats{}, errs.E(op, err)
			}
			headReadable = newDirFilter(hf)
		}
		var perr error
		pruned := map[string]bool{}
		// The reader's rights on the parent's tree alone (as the receiver
		// judges them); no policy: everything is readable.
		var parentReadable, ownReadable func(string) bool
		if pol := w.Home().Policy(); len(c.Parents) > 0 && pol != nil {
			parentReadable = newDirFilter(pol.ReadFilter(ps, w.ID(), base, reader)).can
			var own *dirFilter // asked only where the parent denies: made then
			ownReadable = func(p string) bool {
				if own == nil {
					own = newDirFilter(pol.ReadFilter(ps, w.ID(), c.Tree, reader))
				}
				return own.can(p)
			}
		}
		var added map[string]bool // new directories the diff enters
		prune := func(p string, a, b tree.Entry) bool {
			if perr != nil {
				return true
			}
			var o bool
			var err error
			if a.Kind == 0 && added[parentDir(p)] {
				// Inside a directory new here: judged on its own tree.
				o, err = newOpaque(c.Tree, ownReadable, p)
			} else {
				o, err = opaqueFor(base, parentReadable, ownReadable, p)
			}
			if err != nil {
				perr = err
				return true
			}
			if !o && a.Kind == 0 && b.Kind == tree.KindDir {
				if added == nil {
					added = map[string]bool{}
				}
				added[p] = true
			}
			return o
		}
		err = diffTree.DiffPruned(base, c.Tree, prune, func(ch tree.Change) error {
			if ch.B.Kind != tree.KindValue {
				return nil
			}
			p := ch.Path
			if ch.Meta && p != "/" {
				p += "/"
			}
			policy := policyPath(ch.Path, ch.Meta)
			sent := policy || readable.can(p)
			if !sent && !ch.Meta && headReadable.can(p) {
				// Perhaps written before the reader was granted read and
				// still there at the head, which it may read: decided
				// below, for all such values at once.
				if later == nil {
					later = make([]candidate, 0, hint)
				}
				later = append(later, candidate{path: ch.Path, id: ch.B.ID, slot: pr.add(ch.B.ID)})
				return nil
			}
			v := vref{id: ch.B.ID, slot: -1}
			if sent {
				v.slot = pr.add(v.id)
			}
			decide(c.ID, ch.Path, p, v, sent, policy)
			return nil
		}, func(p string, _, _ tree.Entry) error {
			pruned[p], opaqueSent[p] = true, true
			return nil
		})
		if err == nil {
			err = perr
		}
		if err != nil {
			return Stats{}, errs.E(op, fmt.Errorf("tree of commit %s: %w", c.ID, err))
		}
		// Its op groups inside opaque subtrees travel as ids only.
		var hid map[coda.ID]bool
		if len(pruned) > 0 || len(makerOpaque) > 0 {
			hid = map[coda.ID]bool{}
			dirs, err := c.GroupDirs()
			if err != nil {
				return Stats{}, errs.E(op, fmt.Errorf("commit %s: %w", c.ID, err))
			}
			for g, d := range dirs {
				// In a new directory the diff entered, its nodes travel:
				// so do its ops (they name nothing more), unless they are
				// in an opaque directory inside it (pruned, the nearer).
				for a := d; a != "/"; a = parentDir(a) {
					if pruned[a] {
						hid[g] = true
						break
					}
					if added[a] {
						break
					}
					if o, err := opaqueFor(base, parentReadable, ownReadable, a); err != nil {
						return Stats{}, errs.E(op, fmt.Errorf("commit %s: %w", c.ID, err))
					} else if o {
						hid[g] = true
						break
					}
				}
			}
		}
		if len(hid) > 0 {
			hidIn[c.ID] = hid
			for g := range hid {
				hiddenFrom[g] = true
			}
		}
		for _, id := range c.CallObjects() { // a call's input and output (issue 8)
			if ok, err := st.Has(id); err == nil && ok {
				travel = append(travel, vref{id: id, slot: -1})
			}
		}
	}
	var at []bool
	if len(later) > 0 {
		if at, err = atHead(plain, headRoot, later); err != nil {
			return Stats{}, errs.E(op, fmt.Errorf("the head's tree: %w", err))
		}
	}
	probed = pr.wait()
	for _, q := range pending {
		settle(q.at, q.path, q.v)
	}
	for i, k := range later {
		decide(head, k.path, k.path, vref{id: k.id, slot: k.slot}, at[i], false)
	}
	// Every tree node read, whatever the diff found, the op groups, and
	// the values.
	isCommit := make(map[coda.ID]bool, len(commits))
	for _, c := range commits {
		isCommit[c.ID] = true
	}
	ids := make([]coda.ID, 0, len(rec.seen))
	for id := range rec.seen {
		if !isCommit[id] {
			ids = append(ids, id)
		}
	}
	// The commits' op groups (docs/cdb.md, "Redactable ops"); a group
	// withheld from the maker travels as withheld too.
	hiddenGroups := map[coda.ID]bool{}
	for _, c := range commits {
		for _, g := range c.Hidden {
			hiddenGroups[g] = true
		}
	}
	var shownGroups map[coda.ID]bool // groups some commit shows
	if len(hiddenFrom) > 0 {
		shownGroups = map[coda.ID]bool{}
		for _, c := range commits {
			for _, g := range c.OpGroups {
				if !hidIn[c.ID][g] {
					shownGroups[g] = true
				}
			}
		}
	}
	groupSeen := map[coda.ID]bool{}
	for _, c := range commits {
		for _, g := range c.OpGroups {
			if _, ok := rec.seen[g]; ok || groupSeen[g] {
				continue
			}
			groupSeen[g] = true
			if hiddenGroups[g] || hiddenFrom[g] && !shownGroups[g] {
				unreadable[g] = true
				continue
			}
			ids = append(ids, g)
		}
	}
	// The values, each once.
	sortByID(travel)
	travel = slices.CompactFunc(travel, func(a, b vref) bool { return a.id == b.id })
	slices.SortFunc(ids, compareIDs)
	// Each object's schema id (the wire context lists them before the
	// objects), and its bytes while they fit. A value withheld from the
	// maker (it got the commits from a sender who could not send it)
	// travels as withheld too.
	objs := make([]*object, 0, len(commits)+len(ids)+len(travel))
	for _, c := range commits {
		o, err := readObject(st, c.ID, nil, kept)
		if err != nil {
			return Stats{}, errs.E(op, err)
		}
		objs = append(objs, &o)
	}
	rest := make([]object, len(ids))
	for i, id := range ids {
		if rest[i], err = readObject(st, id, rec.seen[id], kept); err != nil {
			return Stats{}, errs.E(op, err)
		}
	}
	missing := map[coda.ID]bool{}
	vobjs := make([]*object, 0, len(travel))
	for _, v := range travel {
		if _, ok := rec.seen[v.id]; ok || left[v.id] {
			continue
		}
		o, err := read(v)
		if errs.Is(err, errs.NotExist) {
			if _, held, err := w.Withheld(v.id); err != nil || !held {
				if err == nil {
					err = errs.E(errs.Corrupt, fmt.Sprintf("value %s: missing from the store", v.id))
				}
				return Stats{}, errs.E(op, err)
			}
			missing[v.id] = true
			unreadable[v.id] = true
			continue
		}
		if err != nil {
			return Stats{}, errs.E(op, err)
		}
		vobjs = append(vobjs, o)
	}
	objs = mergeObjects(objs, rest, vobjs)
	// The values withheld: unreadable wherever the commits hold them.
	withheld := []coda.ID{}
	for id := range unreadable {
		_, travels := slices.BinarySearchFunc(travel, id, func(v vref, id coda.ID) int { return compareIDs(v.id, id) })
		if (!travels || missing[id]) && !left[id] {
			withheld = append(withheld, id)
		}
	}
	slices.SortFunc(withheld, compareIDs)
	hdr := Header{Version: Version, World: w.ID(), Name: w.Name(), Branch: w.Branch(), Head: head, Since: opts.Since,
		Author: cdb.KeyString(reader), Commits: uint64(len(commits)), Objects: uint64(len(objs)), Withheld: withheld,
		Opaque: slices.Sorted(maps.Keys(opaqueSent))}
	n, err := writeObjects(out, hdr, objs, st)
	if err != nil {
		return Stats{}, errs.E(op, err)
	}
	return Stats{Header: hdr, Commits: len(commits), Objects: len(objs), Withheld: len(withheld), Bytes: n}, nil
}

// prober reads values on a goroutine of its own, in the order add is
// given them, with readObject, keeping bytes within Create's budget; from
// a store.WholeReader (pebblestore) it reads them all at once when the
// diffs are done, in id order, which costs a step per value instead of a
// search (a clone reads most of a world's objects). Its results are the
// caller's once wait has returned.
type prober struct {
	st    store.Store
	in    chan []coda.ID
	batch []coda.ID
	n     int32 // ids added
	done  chan struct{}
	got   []probe // by slot
	kept  *budget
	ended bool
}

// probe is what the prober read of one value: ok, or it could not.
type probe struct {
	object
	ok bool
}

const probeBatch = 512

func startProber(st store.Store, kept *budget, hint int) *prober {
	p := &prober{st: st, kept: kept, in: make(chan []coda.ID, 64), done: make(chan struct{}), got: make([]probe, 0, hint)}
	wr, sorted := st.(store.WholeReader)
	go func() {
		defer close(p.done)
		for ids := range p.in {
			for _, id := range ids {
				if sorted {
					p.got = append(p.got, probe{object: object{id: id}})
					continue
				}
				o, err := readObject(p.st, id, nil, p.kept)
				p.got = append(p.got, probe{o, err == nil})
			}
		}
		if sorted {
			p.readSorted(wr)
		}
	}()
	return p
}

// readSorted reads every value added from wr in id order, then those it
// skipped (chunked, missing, unreadable) one by one with readObject.
func (p *prober) readSorted(wr store.WholeReader) {
	order := make([]int32, len(p.got))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return compareIDs(p.got[a].id, p.got[b].id) })
	ids := make([]coda.ID, 0, len(order))
	slots := make([][]int32, 0, len(order)) // the slots of each distinct id
	for _, i := range order {
		if n := len(ids); n > 0 && ids[n-1] == p.got[i].id {
			slots[n-1] = append(slots[n-1], i)
			continue
		}
		ids = append(ids, p.got[i].id)
		slots = append(slots, []int32{i})
	}
	_ = wr.ReadWhole(ids, func(i int, data []byte) error {
		if len(data) < coda.IDSize {
			return nil // readObject says why, below
		}
		o := object{id: ids[i], schema: coda.ID(data[:coda.IDSize]), size: int64(len(data))}
		if len(data) <= objectHeadMax && p.kept.take(len(data)) {
			o.b = bytes.Clone(data)
		}
		for _, s := range slots[i] {
			p.got[s] = probe{o, true}
		}
		return nil
	})
	for i := range p.got {
		if !p.got[i].ok {
			o, err := readObject(p.st, p.got[i].id, nil, p.kept)
			p.got[i] = probe{o, err == nil}
		}
	}
}

// add gives the prober id to read and returns its slot.
func (p *prober) add(id coda.ID) int32 {
	if p.batch == nil {
		p.batch = make([]coda.ID, 0, probeBatch)
	}
	p.batch = append(p.batch, id)
	if len(p.batch) == probeBatch {
		p.in <- p.batch
		p.batch = nil
	}
	p.n++
	return p.n - 1
}

// wait returns what the prober read, by slot, once it has read
// everything given.
func (p *prober) wait() []probe {
	if !p.ended {
		p.ended = true
		if len(p.batch) > 0 {
			p.in <- p.batch
		}
		close(p.in)
		<-p.done
	}
	return p.got
}

// compareIDs orders ids bytewise, as bytes.Compare does, faster.
func compareIDs(a, b coda.ID) int {
	if x, y := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8]); x != y {
		return cmp.Compare(x, y)
	}
	return bytes.Compare(a[8:], b[8:])
}

// sortByID sorts vs by id, keeping equal ids in order. Ids are hashes, evenly spread: it deals them
// into buckets by their first two bytes (a counting sort) and sorts each
// small bucket, instead of comparing n log n times.
func sortByID(vs []vref) {
	if len(vs) < 4096 {
		slices.SortStableFunc(vs, func(a, b vref) int { return compareIDs(a.id, b.id) })
		return
	}
	var start [1<<16 + 1]int32
	for _, v := range vs {
		start[int(binary.BigEndian.Uint16(v.id[:2]))+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out := make([]vref, len(vs))
	next := start
	for _, v := range vs {
		b := binary.BigEndian.Uint16(v.id[:2])
		out[next[b]] = v
		next[b]++
	}
	for b := range 1 << 16 {
		if s := out[start[b]:start[b+1]]; len(s) > 1 {
			slices.SortStableFunc(s, func(a, b vref) int { return compareIDs(a.id, b.id) })
		}
	}
	copy(vs, out)
}

// object is an object to write: its id, its schema id and, if kept, its
// bytes.
type object struct {
	id     coda.ID
	schema coda.ID
	size   int64
	b      []byte // nil: read when written
}

// readObject returns the object id with its size and schema id, keeping
// its bytes if they fit (b: its bytes, already read). It opens the object
// once and reads it whole only if it has at most objectHeadMax bytes. A
// missing object is an errs.NotExist error.
func readObject(st store.Store, id coda.ID, b []byte, kept *budget) (object, error) {
	o := object{id: id, b: b, size: int64(len(b))}
	if b == nil {
		bl, err := st.Open(id)
		if err != nil {
			return o, fmt.Errorf("object %s: %w", id, err)
		}
		defer bl.Close()
		o.size = bl.Size()
		b = make([]byte, min(o.size, objectHeadMax))
		if o.size > objectHeadMax {
			b = b[:min(o.size, coda.IDSize)]
		}
		if n, err := bl.ReadAt(b, 0); n < len(b) || err != nil && err != io.EOF {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return o, fmt.Errorf("object %s: %w", id, err)
		}
		if o.size <= objectHeadMax && kept.take(len(b)) {
			o.b = b
		}
	}
	if len(b) < coda.IDSize {
		return o, errs.E(errs.Corrupt, fmt.Sprintf("bundle: object %s is shorter than a schema id", id))
	}
	o.schema = coda.ID(b[:coda.IDSize])
	return o, nil
}

// mergeObjects appends the objects of a and b, each sorted by id, to out
// in id order.
func mergeObjects(out []*object, a []object, b []*object) []*object {
	for len(a) > 0 && len(b) > 0 {
		if compareIDs(b[0].id, a[0].id) < 0 {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, &a[0]), a[1:]
		}
	}
	for i := range a {
		out = append(out, &a[i])
	}
	return append(out, b...)
}

// candidate is a value a diff showed at path that the reader may not read
// in its commit but may at the head; slot is its slot in the prober's
// results.
type candidate struct {
	path string
	id   coda.ID
	slot int32
}

// vref is a value with its slot in the prober's results (-1: none).
type vref struct {
	id   coda.ID
	slot int32
}

// errDone stops a walk that has found what it looked for.
var errDone = errs.E(errs.Other, "bundle: done")

// atHead reports, for each candidate, whether the tree root holds its
// value at its path: a lookup each for a few; for many, the values of each
// directory they are in are merged with them by name (tree.Values).
func atHead(tr *tree.Tree, root coda.ID, cs []candidate) ([]bool, error) {
	out := make([]bool, len(cs))
	if len(cs) < 256 {
		for i, k := range cs {
			e, ok, err := tr.Leaf(root, k.path, false)
			if err != nil {
				return nil, err
			}
			out[i] = ok && e.Kind == tree.KindValue && e.ID == k.id
		}
		return out, nil
	}
	byDir := map[string][]int{}
	var dirs []string
	for i, k := range cs {
		d := parentDir(k.path)
		if _, ok := byDir[d]; !ok {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], i)
	}
	for _, d := range dirs {
		idx := byDir[d]
		off := len(d) + 1
		if d == "/" {
			off = 1
		}
		name := func(i int) string { return cs[i].path[off:] }
		byName := func(a, b int) int { return strings.Compare(name(a), name(b)) }
		if !slices.IsSortedFunc(idx, byName) {
			slices.SortStableFunc(idx, byName)
		}
		j := 0
		err := tr.Values(root, d, func(n string, e tree.Entry) error {
			for j < len(idx) && name(idx[j]) < n {
				j++
			}
			for k := j; k < len(idx) && name(idx[k]) == n; k++ {
				out[idx[k]] = cs[idx[k]].id == e.ID
			}
			if j == len(idx) {
				return errDone
			}
			return nil
		})
		if err != nil && err != errDone && !errs.Is(err, errs.NotExist) { // NotExist: nothing there at the head
			return nil, err
		}
	}
	return out, nil
}

// objectHeadMax is the largest object Create reads before it writes it
// (for its schema id): of a larger one it reads the schema id alone.
const objectHeadMax = 4096

// writeObjects writes a bundle: hdr, then objs in order, each from its
// kept bytes or read from st when it is written, so that only the kept
// objects and one other are held at a time.
func writeObjects(out io.Writer, hdr Header, objs []*object, st store.Store) (int64, error) {
	hs, err := loadHeaderSchema()
	if err != nil {
		return 0, err
	}
	hb, err := hdr.encode()
	if err != nil {
		return 0, err
	}
	ctx := []coda.ID{hs.ID}
	inCtx := map[coda.ID]bool{hs.ID: true}
	last := hs.ID
	for _, o := range objs {
		if o.schema != last && !inCtx[o.schema] {
			inCtx[o.schema] = true
			ctx = append(ctx, o.schema)
		}
		last = o.schema
	}
	cw := &countWriter{w: out}
	ww := coda.NewWireWriter(cw, ctx)
	if err := ww.WriteObject(hb); err != nil {
		return cw.n, err
	}
	for _, o := range objs {
		b := o.b
		if b == nil {
			if b, err = st.Get(o.id); err != nil {
				return cw.n, fmt.Errorf("object %s: %w", o.id, err)
			}
		}
		if err := ww.WriteObject(b); err != nil {
			return cw.n, err
		}
	}
	if err := ww.Close(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

// write writes a bundle: hdr, then objs (object bytes) in order (tests
// make bundles, forged ones too, with it).
func write(out io.Writer, hdr Header, objs [][]byte) (int64, error) {
	os := make([]*object, len(objs))
	for i, b := range objs {
		if len(b) < coda.IDSize {
			return 0, errs.E(errs.Corrupt, "bundle: an object shorter than a schema id")
		}
		os[i] = &object{schema: coda.ID(b[:coda.IDSize]), size: int64(len(b)), b: b}
	}
	return writeObjects(out, hdr, os, nil)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newCommits returns the commits reachable from head and from none of
// haves (those w does not hold are ignored). It walks both sides at once,
// latest commit first (git's paint-down): a commit's descendants are never
// earlier than it, so once every commit still queued is reachable from a
// have, nothing new is left, and the walk costs the new commits plus the
// haves' side down to the oldest of them, not the whole history. Of
// commits with the same time (merges share their latest parent's), those
// reachable from a have go first, so a commit of that time they lead to
// is known as theirs before it is taken.
func newCommits(w *cdb.World, head coda.ID, haves []coda.ID) ([]*cdb.Commit, error) {
	const (
		fromHead = 1
		fromHave = 2
	)
	flags := map[coda.ID]int{}
	q := &commitQueue{flags: flags}
	mine := 0 // queued commits flagged fromHead only
	push := func(c *cdb.Commit, f int) {
		old, seen := flags[c.ID]
		now := old | f
		flags[c.ID] = now
		i := q.index(c.ID)
		switch {
		case !seen:
			heap.Push(q, c)
			if now == fromHead {
				mine++
			}
		case i >= 0 && now != old:
			heap.Fix(q, i)
			if old == fromHead {
				mine--
			}
		}
	}
	hc, err := w.LoadCommit(head)
	if err != nil {
		return nil, err
	}
	push(hc, fromHead)
	for _, h := range haves {
		c, err := w.LoadCommit(h)
		if errs.Is(err, errs.NotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		push(c, fromHave)
	}
	var out []*cdb.Commit
	for q.Len() > 0 && mine > 0 {
		c := heap.Pop(q).(*cdb.Commit)
		f := flags[c.ID]
		if f == fromHead {
			mine--
			out = append(out, c)
		}
		for _, p := range c.Parents {
			pc, err := w.LoadCommit(p)
			if err != nil {
				return nil, err
			}
			push(pc, f)
		}
	}
	return out, nil
}

// commitQueue is a heap of commits, latest first; of equal times, those
// reachable from a have first, then by id.
type commitQueue struct {
	cs    []*cdb.Commit
	flags map[coda.ID]int
	pos   map[coda.ID]int
}

func (q *commitQueue) Len() int { return len(q.cs) }
func (q *commitQueue) Less(i, j int) bool {
	a, b := q.cs[i], q.cs[j]
	if a.Time != b.Time {
		return a.Time > b.Time
	}
	ha, hb := q.flags[a.ID]&2 != 0, q.flags[b.ID]&2 != 0
	if ha != hb {
		return ha
	}
	return bytes.Compare(a.ID[:], b.ID[:]) < 0
}
func (q *commitQueue) Swap(i, j int) {
	q.cs[i], q.cs[j] = q.cs[j], q.cs[i]
	q.pos[q.cs[i].ID], q.pos[q.cs[j].ID] = i, j
}
func (q *commitQueue) Push(x any) {
	if q.pos == nil {
		q.pos = map[coda.ID]int{}
	}
	c := x.(*cdb.Commit)
	q.pos[c.ID] = len(q.cs)
	q.cs = append(q.cs, c)
}
func (q *commitQueue) Pop() any {
	c := q.cs[len(q.cs)-1]
	q.cs = q.cs[:len(q.cs)-1]
	q.pos[c.ID] = -1
	return c
}

// index returns the heap position of id, -1 if it is not queued.
func (q *commitQueue) index(id coda.ID) int {
	if i, ok := q.pos[id]; ok {
		return i
	}
	return -1
}

// walk visits the commits reachable from id (each once) while fn returns
// true for them.
func walk(w *cdb.World, id coda.ID, fn func(*cdb.Commit) bool) error {
	seen := map[coda.ID]bool{}
	stack := []coda.ID{id}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		c, err := w.LoadCommit(id)
		if err != nil {
			return err
		}
		if fn(c) {
			stack = append(stack, c.Parents...)
		}
	}
	return nil
}

// topo orders commits parents first, ties by (time, id).
func topo(cs []*cdb.Commit) []*cdb.Commit {
	in := map[coda.ID]bool{}
	for _, c := range cs {
		in[c.ID] = true
	}
	done := map[coda.ID]bool{}
	slices.SortFunc(cs, func(a, b *cdb.Commit) int {
		if a.Time != b.Time {
			if a.Time < b.Time {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
	out := make([]*cdb.Commit, 0, len(cs))
	for len(out) < len(cs) {
		progress := false
		for _, c := range cs {
			if done[c.ID] {
				continue
			}
			ready := true
			for _, p := range c.Parents {
				if in[p] && !done[p] {
					ready = false
				}
			}
			if ready {
				done[c.ID] = true
				out = append(out, c)
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	return out
}
