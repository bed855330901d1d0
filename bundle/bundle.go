// Package bundle carries a world on a disk, no network needed: Create
// writes the commits of a branch and the objects its holder may read as
// one CODA wire stream; Apply validates every commit of a bundle with the
// receiving home's policy (cdb.World.Receive, the path sync will take too)
// before storing anything, then stores all of it atomically; CloneBundle
// starts a new home from one. What its maker may not read does not travel:
// values as ids (withheld), directories it may read nothing in as their id
// only (opaque subtrees, docs/sync.md). The format is specified byte by
// byte in docs/bundle.md.
package bundle

// A bundle is one CODA wire stream (docs/coda.md §7):
//
//	"CODW" ‖ 0x01 ‖ uvarint(n) ‖ n × schema id      the wire context
//	frame(Header)                                   k = 1: bundle.coda's Header
//	frame(commit)*                                  parents before children
//	frame(object)*                                  tree nodes, op groups and values, by id
//	0x00                                            end of stream
//
// The context lists Header's schema id first, then every other schema id
// in the order of first use. Objects travel as their object bytes without
// the schema id (the frame's k gives it); each is named by its hash.

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/ed25519"
	_ "embed"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Version is the bundle format version in the header. Version 1 (whose
// header did not list withheld values) and version 2 (commits of format 1,
// no opaque subtrees) are refused.
const Version = 3

// headerV1 and headerV2 are the schema ids of versions 1's and 2's
// headers, recognized only to refuse such bundles clearly.
var (
	headerV1, _ = coda.ParseID("llx74lpwcmq5inkzk5erx55g7jphndymoyikyatdzwnh5zofqk3a")
	headerV2, _ = coda.ParseID("5kydpz7pe2wbotevyl2p2j34knj5e7e3owflluazrtvczu3ovacq")
)

//go:embed bundle.coda
var bundleCoda []byte

var (
	headerOnce   sync.Once
	headerSchema *coda.Schema
	headerReg    *coda.Registry
	headerErr    error
)

func loadHeaderSchema() (*coda.Schema, error) {
	headerOnce.Do(func() {
		headerReg = coda.NewRegistry()
		list, err := headerReg.Compile("bundle.coda", bundleCoda)
		if err != nil || len(list) != 1 {
			headerErr = errs.E(errs.Internal, fmt.Errorf("bundle: compile bundle.coda: %v", err))
			return
		}
		headerSchema = list[0]
	})
	return headerSchema, headerErr
}

// HeaderSchemaID returns the schema id of bundle headers.
func HeaderSchemaID() coda.ID {
	s, err := loadHeaderSchema()
	if err != nil {
		return coda.ID{}
	}
	return s.ID
}

// Header is the first object of a bundle.
type Header struct {
	Version uint64  `json:"version"`
	World   coda.ID `json:"world"`  // the world's id (its genesis commit)
	Name    string  `json:"name"`   // the world's name where it was made
	Branch  string  `json:"branch"` // the branch it was made from
	Head    coda.ID `json:"head"`   // the commit bundled (that branch's head)
	Since   coda.ID `json:"since,omitzero"`
	// Author is the key the bundle was made as (KeyString): values it
	// could not read travel only as ids.
	Author  string `json:"author"`
	Commits uint64 `json:"commits"`
	Objects uint64 `json:"objects"` // every object after the header, commits included
	// Withheld lists, in ascending order, the values the bundled commits'
	// trees hold that Author may not read, and their op groups inside
	// opaque subtrees: they do not travel.
	Withheld []coda.ID `json:"withheld"`
	// Opaque lists, in ascending byte order, the directories whose tree
	// nodes do not travel: Author may read nothing in them (or the maker
	// lacks them by design). Each travels as its id in its parent's node.
	Opaque []string `json:"opaque"`
}

func (h Header) encode() ([]byte, error) {
	s, err := loadHeaderSchema()
	if err != nil {
		return nil, err
	}
	pub, err := cdb.ParseKey(h.Author)
	if err != nil {
		return nil, err
	}
	since := coda.None()
	if !h.Since.IsZero() {
		since = coda.Some(coda.FixedBytes(h.Since[:]))
	}
	withheld := make([]coda.Value, len(h.Withheld))
	for i, id := range h.Withheld {
		withheld[i] = coda.FixedBytes(id[:])
	}
	opaque := make([]coda.Value, len(h.Opaque))
	for i, p := range h.Opaque {
		opaque[i] = coda.String(p)
	}
	return coda.EncodeObject(s, coda.Struct(coda.U64(h.Version), coda.FixedBytes(h.World[:]), coda.String(h.Name),
		coda.String(h.Branch), coda.FixedBytes(h.Head[:]), since, coda.FixedBytes(pub), coda.U64(h.Commits), coda.U64(h.Objects),
		coda.List(withheld...), coda.List(opaque...)))
}

func decodeHeader(b []byte) (Header, error) {
	s, err := loadHeaderSchema()
	if err != nil {
		return Header{}, err
	}
	if len(b) >= coda.IDSize && coda.ID(b[:coda.IDSize]) == headerV1 {
		return Header{}, errs.E(errs.Invalid, fmt.Sprintf("bundle: format version 1, this coal reads %d (version 1 does not list the values its maker withheld): make the bundle again with this coal", Version))
	}
	if len(b) >= coda.IDSize && coda.ID(b[:coda.IDSize]) == headerV2 {
		return Header{}, errs.E(errs.Invalid, fmt.Sprintf("bundle: format version 2, this coal reads %d (version 2 holds commits of format 1, docs/cdb.md): make the bundle again with this coal", Version))
	}
	if len(b) < coda.IDSize || coda.ID(b[:coda.IDSize]) != s.ID {
		return Header{}, errs.E(errs.Invalid, "bundle: the first object is not a bundle header")
	}
	_, v, err := coda.DecodeObject(b, coda.DecodeOptions{Resolver: headerReg})
	if err != nil {
		return Header{}, errs.E(errs.Invalid, fmt.Errorf("bundle: header: %w", err))
	}
	h := Header{Version: v.Index(0).AsUint(), World: coda.ID(v.Index(1).AsBytes()), Name: v.Index(2).AsString(),
		Branch: v.Index(3).AsString(), Head: coda.ID(v.Index(4).AsBytes()), Author: cdb.KeyString(v.Index(6).AsBytes()),
		Commits: v.Index(7).AsUint(), Objects: v.Index(8).AsUint()}
	if x := v.Index(5); x.IsSome() {
		p, _ := x.Payload()
		h.Since = coda.ID(p.AsBytes())
	}
	list := v.Index(9)
	for i := range list.Len() {
		id := coda.ID(list.Index(i).AsBytes())
		if i > 0 && bytes.Compare(h.Withheld[i-1][:], id[:]) >= 0 {
			return Header{}, errs.E(errs.Invalid, "bundle: header: withheld ids not in strictly ascending order")
		}
		h.Withheld = append(h.Withheld, id)
	}
	list = v.Index(10)
	for i := range list.Len() {
		p := list.Index(i).AsString()
		segs, err := tree.SplitPath(p)
		if err != nil || len(segs) == 0 || p != tree.JoinPath(segs) {
			return Header{}, errs.E(errs.Invalid, errs.Path(p), "bundle: header: an opaque subtree that is not a canonical path below the root")
		}
		if i > 0 && h.Opaque[i-1] >= p {
			return Header{}, errs.E(errs.Invalid, "bundle: header: opaque paths not in strictly ascending order")
		}
		h.Opaque = append(h.Opaque, p)
	}
	if h.Version != Version {
		return Header{}, errs.E(errs.Invalid, fmt.Sprintf("bundle: format version %d, this coal reads %d", h.Version, Version))
	}
	return h, nil
}

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
	// .acl, group and metadata leaves validation needs: true leaves its
	// bytes out of the bundle, and out of withheld — the caller sends them
	// another way (sync: CTP, docs/sync.md). commit is a commit whose tree
	// holds id at path where the reader may read it.
	Leave func(commit coda.ID, path string, id coda.ID) bool
}

// Stats says what a bundle holds.
type Stats struct {
	Header   Header `json:"header"`
	Commits  int    `json:"commits"`
	Objects  int    `json:"objects"`  // all objects after the header, commits included
	Withheld int    `json:"withheld"` // values that do not travel: the maker may not read them
	Bytes    int64  `json:"bytes"`
}

// recorder is a tree.Store that remembers the ids it read.
type recorder struct {
	s    tree.Store
	seen map[coda.ID]bool
}

func (r *recorder) Get(id coda.ID) ([]byte, error) {
	b, err := r.s.Get(id)
	if err == nil {
		r.seen[id] = true
	}
	return b, err
}

func (r *recorder) Put(data []byte) (coda.ID, error) {
	return coda.ID{}, errs.E(errs.Internal, "bundle: a write while reading trees")
}

// policyPath reports whether the leaf at p (meta: a directory's metadata
// leaf) must travel whoever reads it: validation and rights evaluation
// read .acl entries, groups and directory metadata.
func policyPath(p string, meta bool) bool {
	if meta {
		return true
	}
	segs, err := tree.SplitPath(p)
	if err != nil || len(segs) == 0 {
		return false
	}
	return segs[len(segs)-1] == ".acl" || len(segs) == 3 && segs[0] == "sys" && segs[1] == "groups"
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
	rec := &recorder{s: st, seen: map[coda.ID]bool{}}
	tr := tree.New(rec)
	view := w.As(reader)
	plain := tree.New(st) // reads that are not the diffs' (they must not travel)
	var headRoot coda.ID
	var headReadable func(string) bool
	values := map[coda.ID]bool{}
	unreadable := map[coda.ID]bool{}
	left := map[coda.ID]bool{}       // values the caller sends another way
	hiddenFrom := map[coda.ID]bool{} // op groups inside opaque subtrees
	var later []candidate
	// decide records whether the value id at path (p: as the filters
	// take it) travels; at is a commit where the reader may read it there.
	decide := func(at coda.ID, path, p string, id coda.ID, sent, policy bool) {
		switch {
		case sent && !policy && opts.Leave != nil && opts.Leave(at, path, id):
			left[id] = true
		case sent:
			values[id] = true
		default:
			unreadable[id] = true
		}
		if opts.OnValue != nil {
			opts.OnValue(p, id, sent)
		}
	}
	trees := map[coda.ID]coda.ID{} // commit → tree
	for _, c := range commits {
		trees[c.ID] = c.Tree
	}
	// Opaque subtrees (docs/sync.md): directories the reader may read
	// nothing in travel as their entry in their parent's node only; so do
	// those the maker lacks by design.
	makerOpaque, err := w.OpaqueSubtrees()
	if err != nil {
		return Stats{}, errs.E(op, err)
	}
	opaqueSent := map[string]bool{} // pruned by some diff: listed in the header
	grants := map[[2]coda.ID]bool{} // (tree, directory node) → a .acl under it lets the reader read
	// opaqueFor reports whether the directory p is opaque to the reader
	// in a commit whose first parent has the tree root, where readable is
	// the reader's filter (nil: a genesis, where nothing is opaque).
	// Rights are judged on the parent, as the receiver judges them.
	opaqueFor := func(root coda.ID, readable func(string) bool, p string) (bool, error) {
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
		if readable(p+"/") || headReadable(p+"/") {
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
		errGrant := errs.E(errs.Other, "grant")
		err = plain.Walk(root, p, func(path string, _ tree.Entry) error {
			if d, ok := strings.CutSuffix(path, "/"+aclName); ok && (readable(d+"/") || headReadable(d+"/")) {
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
		grants[[2]coda.ID{root, e.ID}] = err == errGrant
		return err != errGrant, nil
	}
	for _, c := range commits {
		base := tree.EmptyRoot
		if len(c.Parents) > 0 {
			pc, err := w.LoadCommit(c.Parents[0])
			if err != nil {
				return Stats{}, errs.E(op, err)
			}
			base = pc.Tree
		}
		readable, err := view.Filter(c.ID)
		if err != nil {
			return Stats{}, errs.E(op, err)
		}
		if headReadable == nil {
			hc, err := w.LoadCommit(head)
			if err != nil {
				return Stats{}, errs.E(op, err)
			}
			headRoot = hc.Tree
			if headReadable, err = view.Filter(head); err != nil {
				return Stats{}, errs.E(op, err)
			}
		}
		var perr error
		pruned := map[string]bool{}
		// The reader's rights on the parent's tree alone (as the receiver
		// judges them); no policy: everything is readable.
		var parentReadable func(string) bool
		if pol := w.Home().Policy(); len(c.Parents) > 0 && pol != nil {
			parentReadable = pol.ReadFilter(st, w.ID(), base, reader)
		}
		prune := func(p string, _, _ tree.Entry) bool {
			if perr != nil {
				return true
			}
			o, err := opaqueFor(base, parentReadable, p)
			if err != nil {
				perr = err
				return true
			}
			return o
		}
		err = tr.DiffPruned(base, c.Tree, prune, func(ch tree.Change) error {
			if ch.B.Kind != tree.KindValue {
				return nil
			}
			p := ch.Path
			if ch.Meta && p != "/" {
				p += "/"
			}
			policy := policyPath(ch.Path, ch.Meta)
			sent := policy || readable(p)
			if !sent && !ch.Meta && headReadable(p) {
				// Perhaps written before the reader was granted read and
				// still there at the head, which it may read: decided
				// below, for all such values at once.
				later = append(later, candidate{path: ch.Path, id: ch.B.ID})
				return nil
			}
			decide(c.ID, ch.Path, p, ch.B.ID, sent, policy)
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
		if len(pruned) > 0 || len(makerOpaque) > 0 {
			dirs, err := c.GroupDirs()
			if err != nil {
				return Stats{}, errs.E(op, fmt.Errorf("commit %s: %w", c.ID, err))
			}
			for g, d := range dirs {
				for a := d; a != "/"; a = parentDir(a) {
					if pruned[a] {
						hiddenFrom[g] = true
						break
					}
					if o, err := opaqueFor(base, parentReadable, a); err != nil {
						return Stats{}, errs.E(op, fmt.Errorf("commit %s: %w", c.ID, err))
					} else if o {
						hiddenFrom[g] = true
						break
					}
				}
			}
		}
		for _, id := range c.CallObjects() { // a call's input and output (issue 8)
			if ok, err := st.Has(id); err == nil && ok {
				values[id] = true
			}
		}
	}
	if len(later) > 0 {
		atHead, err := headValues(plain, headRoot, later)
		if err != nil {
			return Stats{}, errs.E(op, fmt.Errorf("the head's tree: %w", err))
		}
		for _, k := range later {
			decide(head, k.path, k.path, k.id, atHead[k.path] == k.id, false)
		}
	}
	// Every tree node read, whatever the diff found, and the values.
	var ids []coda.ID
	isCommit := map[coda.ID]bool{}
	for _, c := range commits {
		isCommit[c.ID] = true
	}
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
	groupSeen := map[coda.ID]bool{}
	for _, c := range commits {
		for _, g := range c.OpGroups {
			if groupSeen[g] || rec.seen[g] {
				continue
			}
			groupSeen[g] = true
			if hiddenGroups[g] || hiddenFrom[g] {
				unreadable[g] = true
				continue
			}
			ids = append(ids, g)
		}
	}
	for id := range values {
		if rec.seen[id] || left[id] {
			continue
		}
		// A value withheld from the maker (it got the commits from a
		// sender who could not send it) travels as withheld too.
		ok, err := st.Has(id)
		if err != nil {
			return Stats{}, errs.E(op, err)
		}
		if !ok {
			if _, held, err := w.Withheld(id); err != nil || !held {
				if err == nil {
					err = errs.E(errs.Corrupt, fmt.Sprintf("value %s: missing from the store", id))
				}
				return Stats{}, errs.E(op, err)
			}
			delete(values, id)
			unreadable[id] = true
			continue
		}
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
	// The values withheld: unreadable wherever the commits hold them.
	withheld := []coda.ID{}
	for id := range unreadable {
		if !values[id] && !left[id] {
			withheld = append(withheld, id)
		}
	}
	slices.SortFunc(withheld, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
	hdr := Header{Version: Version, World: w.ID(), Name: w.Name(), Branch: w.Branch(), Head: head, Since: opts.Since,
		Author: cdb.KeyString(reader), Commits: uint64(len(commits)), Objects: uint64(len(commits) + len(ids)), Withheld: withheld,
		Opaque: slices.Sorted(maps.Keys(opaqueSent))}
	all := make([]coda.ID, 0, len(commits)+len(ids))
	for _, c := range commits {
		all = append(all, c.ID)
	}
	all = append(all, ids...)
	n, err := writeFrom(out, hdr, all, func(id coda.ID) ([]byte, error) {
		b, err := st.Get(id)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", id, err)
		}
		return b, nil
	}, func(id coda.ID) ([]byte, error) { return objectHead(st, id) })
	if err != nil {
		return Stats{}, errs.E(op, err)
	}
	return Stats{Header: hdr, Commits: len(commits), Objects: len(all), Withheld: len(withheld), Bytes: n}, nil
}

// candidate is a value a diff showed at path that the reader may not read
// in its commit but may at the head.
type candidate struct {
	path string
	id   coda.ID
}

// headValues returns the ids of the values at the candidates' paths in
// the tree root: a lookup each for a few, one walk of the tree for many
// (each node decoded once).
func headValues(tr *tree.Tree, root coda.ID, cs []candidate) (map[string]coda.ID, error) {
	out := make(map[string]coda.ID, len(cs))
	if len(cs) < 256 {
		for _, k := range cs {
			e, ok, err := tr.Leaf(root, k.path, false)
			if err != nil {
				return nil, err
			}
			if ok && e.Kind == tree.KindValue {
				out[k.path] = e.ID
			}
		}
		return out, nil
	}
	want := make(map[string]bool, len(cs))
	for _, k := range cs {
		want[k.path] = true
	}
	err := tr.Walk(root, "/", func(p string, e tree.Entry) error {
		if want[p] {
			out[p] = e.ID
		}
		return nil
	})
	if errs.Is(err, errs.NotExist) {
		err = nil
	}
	return out, err
}

// objectHead returns the first bytes of object id, its schema id among them,
// without reading a large object whole.
func objectHead(st store.Store, id coda.ID) ([]byte, error) {
	size, err := st.Size(id)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", id, err)
	}
	if size <= 4096 {
		return st.Get(id)
	}
	b, err := st.Open(id)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", id, err)
	}
	defer b.Close()
	buf := make([]byte, coda.IDSize)
	if _, err := b.ReadAt(buf, 0); err != nil {
		return nil, fmt.Errorf("object %s: %w", id, err)
	}
	return buf, nil
}

// writeFrom writes a bundle streaming: hdr, then the objects ids in order,
// each read with get when it is written (and its first bytes once before
// with schemaOf, for the wire context's schema ids), so that only one
// object is held at a time.
func writeFrom(out io.Writer, hdr Header, ids []coda.ID, get, schemaOf func(coda.ID) ([]byte, error)) (int64, error) {
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
	for _, id := range ids {
		b, err := schemaOf(id)
		if err != nil {
			return 0, err
		}
		if len(b) < coda.IDSize {
			return 0, errs.E(errs.Corrupt, fmt.Sprintf("bundle: object %s is shorter than a schema id", id))
		}
		s := coda.ID(b[:coda.IDSize])
		if !inCtx[s] {
			inCtx[s] = true
			ctx = append(ctx, s)
		}
	}
	cw := &countWriter{w: out}
	ww := coda.NewWireWriter(cw, ctx)
	if err := ww.WriteObject(hb); err != nil {
		return cw.n, err
	}
	for _, id := range ids {
		b, err := get(id)
		if err != nil {
			return cw.n, err
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

// write writes a bundle: hdr, then objs (object bytes) in order.
func write(out io.Writer, hdr Header, objs [][]byte) (int64, error) {
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
	for _, b := range objs {
		if len(b) < coda.IDSize {
			return 0, errs.E(errs.Corrupt, "bundle: an object shorter than a schema id")
		}
		s := coda.ID(b[:coda.IDSize])
		if !inCtx[s] {
			inCtx[s] = true
			ctx = append(ctx, s)
		}
	}
	cw := &countWriter{w: out}
	ww := coda.NewWireWriter(cw, ctx)
	if err := ww.WriteObject(hb); err != nil {
		return cw.n, err
	}
	for _, b := range objs {
		if err := ww.WriteObject(b); err != nil {
			return cw.n, err
		}
	}
	if err := ww.Close(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
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

// MaxObjects bounds the objects a bundle may hold (Read).
const MaxObjects = 1 << 24

// Read reads a whole bundle into memory, checking its framing: its header
// and its objects by id (each named by its hash). Nothing is validated
// against any history (Apply does that). The objects are hashed while
// the stream is read, in batches on every core, so the ids
// of a large bundle cost little time after its last byte; the map's keys
// are coda.Sum of their bytes (Incoming.Summed).
func Read(in io.Reader) (Header, map[coda.ID][]byte, error) {
	op := errs.Op("bundle.Read")
	wr := coda.NewWireReader(in, coda.DecodeOptions{})
	first, err := wr.NextObject()
	if err == io.EOF {
		return Header{}, nil, errs.E(op, errs.Invalid, "bundle: empty stream, no header")
	}
	if err != nil {
		return Header{}, nil, errs.E(op, errs.Invalid, err)
	}
	hdr, err := decodeHeader(first)
	if err != nil {
		return Header{}, nil, errs.E(op, err)
	}
	sums := newSummer()
	n := 0
	for {
		b, err := wr.NextObject()
		if err == io.EOF {
			break
		}
		if err != nil {
			sums.stop()
			return Header{}, nil, errs.E(op, errs.Invalid, err)
		}
		// Frames, not distinct objects: a maker writes each object once,
		// and duplicates must not grow memory without bound.
		if n >= MaxObjects {
			sums.stop()
			return Header{}, nil, errs.E(op, errs.Limit, fmt.Sprintf("bundle: more than %d objects", MaxObjects))
		}
		n++
		sums.add(b)
	}
	objs := sums.wait()
	if uint64(len(objs)) != hdr.Objects {
		return Header{}, nil, errs.E(op, errs.Invalid, fmt.Sprintf("bundle: the header announces %d objects, the stream holds %d distinct ones", hdr.Objects, len(objs)))
	}
	return hdr, objs, nil
}

// summer hashes objects in batches on every core while more are read,
// and gathers them by id.
type summer struct {
	cur     *sumBatch
	batches []*sumBatch
	work    chan *sumBatch
	wg      sync.WaitGroup
	n       int // objects added
}

// sumBatch is a run of objects and, once hashed, their ids.
type sumBatch struct {
	objs  [][]byte
	ids   []coda.ID
	bytes int
}

// Objects or bytes in one batch of hashing: enough to outweigh the
// hand-over, few enough to keep every core busy while a stream arrives.
const (
	sumBatchObjects = 512
	sumBatchBytes   = 1 << 20
)

func newSummer() *summer {
	// One worker a CPU: GOMAXPROCS may be more (internal/procs).
	w := max(1, min(runtime.GOMAXPROCS(0), runtime.NumCPU()))
	s := &summer{work: make(chan *sumBatch, 2*w)}
	for range w {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for b := range s.work {
				b.ids = make([]coda.ID, len(b.objs))
				for i, o := range b.objs {
					b.ids[i] = coda.Sum(o)
				}
			}
		}()
	}
	return s
}

func (s *summer) add(b []byte) {
	if s.cur == nil {
		s.cur = &sumBatch{objs: make([][]byte, 0, sumBatchObjects)}
	}
	s.cur.objs = append(s.cur.objs, b)
	s.cur.bytes += len(b)
	s.n++
	if len(s.cur.objs) == sumBatchObjects || s.cur.bytes >= sumBatchBytes {
		s.flush()
	}
}

func (s *summer) flush() {
	if s.cur != nil {
		s.batches = append(s.batches, s.cur)
		s.work <- s.cur
		s.cur = nil
	}
}

// stop stops the workers once they are done. The summer must not be
// used after.
func (s *summer) stop() {
	close(s.work)
	s.wg.Wait()
}

// wait hashes what is left, stops the workers and returns the objects by
// id. The summer must not be used after.
func (s *summer) wait() map[coda.ID][]byte {
	s.flush()
	s.stop()
	objs := make(map[coda.ID][]byte, s.n)
	for _, b := range s.batches {
		for i, id := range b.ids {
			objs[id] = b.objs[i]
		}
	}
	return objs
}

// Apply reads a bundle of w's world and gives it to w.Receive (branch ""
// : the current branch): every commit new to w is validated, parents
// first, with the home's policy, before anything is stored; the first
// invalid commit rejects the whole bundle, naming it (id and reason), and
// nothing is stored. So does a bundle that is not whole or holds
// anything else: an object its commits do not refer to, or a value a new
// commit holds that is neither in it, nor held by w's home, nor listed as
// withheld (cdb.World.Receive names the object). Then the objects are
// stored, the withheld values the home lacks recorded (cdb.World.Withheld),
// and the branch fast-forwards, or moves to the deterministic merge of
// both heads.
func Apply(ctx context.Context, w *cdb.World, in io.Reader, branch string) (cdb.ReceiveResult, error) {
	op := errs.Op("bundle.Apply")
	hdr, objs, err := Read(in)
	if err != nil {
		return cdb.ReceiveResult{}, errs.E(op, err)
	}
	if hdr.World != w.ID() {
		return cdb.ReceiveResult{}, errs.E(op, errs.Invalid, fmt.Sprintf("bundle of world %s, not %s (%s)", hdr.World, w.ID(), w.Name()))
	}
	inc, err := incoming(hdr, objs)
	if err != nil {
		return cdb.ReceiveResult{}, errs.E(op, err)
	}
	res, err := w.Receive(ctx, inc, branch)
	if err != nil {
		return cdb.ReceiveResult{}, errs.E(op, err)
	}
	return res, nil
}

// incoming is what cdb.World.Receive takes of a bundle.
func incoming(hdr Header, objs map[coda.ID][]byte) (cdb.Incoming, error) {
	maker, err := cdb.ParseKey(hdr.Author)
	if err != nil {
		return cdb.Incoming{}, errs.E(errs.Invalid, fmt.Errorf("bundle: header: author: %w", err))
	}
	return cdb.Incoming{Objects: objs, Summed: true, Head: hdr.Head, Withheld: hdr.Withheld, Opaque: hdr.Opaque, Maker: maker}, nil
}

// ApplyHome applies a bundle to the world of h it belongs to, found by
// id, on its current branch; a world h does not hold is created under the
// bundle's name (or its id, if the name is taken).
func ApplyHome(ctx context.Context, h *cdb.Home, in io.Reader) (*cdb.World, cdb.ReceiveResult, error) {
	op := errs.Op("bundle.Apply")
	hdr, objs, err := Read(in)
	if err != nil {
		return nil, cdb.ReceiveResult{}, errs.E(op, err)
	}
	inc, err := incoming(hdr, objs)
	if err != nil {
		return nil, cdb.ReceiveResult{}, errs.E(op, err)
	}
	worlds, err := h.Worlds()
	if err != nil {
		return nil, cdb.ReceiveResult{}, errs.E(op, err)
	}
	taken := false
	for _, wi := range worlds {
		if wi.ID == hdr.World {
			w, err := h.World(wi.Name)
			if err != nil {
				return nil, cdb.ReceiveResult{}, errs.E(op, err)
			}
			res, err := w.Receive(ctx, inc, "")
			if err != nil {
				return nil, cdb.ReceiveResult{}, errs.E(op, err)
			}
			return w, res, nil
		}
		taken = taken || wi.Name == hdr.Name
	}
	name := hdr.Name
	if taken || name == "" {
		name = hdr.World.String()
	}
	w, res, err := h.ReceiveWorld(ctx, name, inc)
	if err != nil {
		return nil, cdb.ReceiveResult{}, errs.E(op, err)
	}
	return w, res, nil
}

// CloneBundle creates a new home in dir (cdb.Init with opts, which should
// carry the policy: acl.With) whose only world, the default, comes from
// the bundle, under the bundle's world name. On any error no home is
// left in dir.
func CloneBundle(ctx context.Context, dir string, in io.Reader, opts cdb.Options) (*cdb.Home, cdb.ReceiveResult, error) {
	op := errs.Op("bundle.CloneBundle")
	hdr, objs, err := Read(in)
	if err != nil {
		return nil, cdb.ReceiveResult{}, errs.E(op, err)
	}
	inc, err := incoming(hdr, objs)
	if err != nil {
		return nil, cdb.ReceiveResult{}, errs.E(op, err)
	}
	opts.NoWorld = true
	h, err := cdb.Init(dir, opts)
	if err != nil {
		return nil, cdb.ReceiveResult{}, errs.E(op, err)
	}
	fail := func(err error) (*cdb.Home, cdb.ReceiveResult, error) {
		h.Close()
		os.RemoveAll(h.Dir())
		return nil, cdb.ReceiveResult{}, errs.E(op, err)
	}
	name := hdr.Name
	if name == "" {
		name = cdb.DefaultWorld
	}
	_, res, err := h.ReceiveWorld(ctx, name, inc)
	if err != nil {
		return fail(err)
	}
	if err := h.SetDefaultWorld(name); err != nil {
		return fail(err)
	}
	return h, res, nil
}

// acl is the name of the leaf holding a directory's rights.
const aclName = ".acl"

// parentDir returns the directory holding the directory p ("/" for a
// top-level one).
func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
