package bundle

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// refRecorder is a tree.Store that remembers the ids it read.
type refRecorder struct {
	s    tree.Store
	seen map[coda.ID]bool
}

func (r *refRecorder) Get(id coda.ID) ([]byte, error) {
	b, err := r.s.Get(id)
	if err == nil {
		r.seen[id] = true
	}
	return b, err
}

func (r *refRecorder) Put(data []byte) (coda.ID, error) {
	return coda.ID{}, errs.E(errs.Internal, "bundle: a write while reading trees")
}

// refPolicyPath reports whether the leaf at p (meta: a directory's metadata
// leaf) must travel whoever reads it: validation and rights evaluation
// read .acl entries, groups and directory metadata.
func refPolicyPath(p string, meta bool) bool {
	if meta {
		return true
	}
	segs, err := tree.SplitPath(p)
	if err != nil || len(segs) == 0 {
		return false
	}
	return segs[len(segs)-1] == ".acl" || len(segs) == 3 && segs[0] == "sys" && segs[1] == "groups"
}

// createRef is Create as it was before create.go (the diff of each
// commit, each value judged by path): the naive reference the fast Create
// must match byte for byte.
//
// It writes a bundle of w, made as the identity as, to out: every
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
// refNewOpaque is the reference's rule for a directory p inside a
// directory new in a commit of tree root: opaque unless the reader may
// read its listing in root (own: nil, no policy or a genesis) or at the
// head, or an .acl under p in root lets it read its directory.
func refNewOpaque(plain *tree.Tree, root coda.ID, own, head func(string) bool, makerOpaque map[string]ed25519.PublicKey, p string) (bool, error) {
	if _, ok := makerOpaque[p]; ok {
		return true, nil
	}
	if own == nil || p == "/sys" || strings.HasPrefix(p, "/sys/") {
		return false, nil
	}
	if own(p+"/") || head(p+"/") {
		return false, nil
	}
	grants := false
	err := plain.Walk(root, p, func(path string, _ tree.Entry) error {
		if d, ok := strings.CutSuffix(path, "/"+aclName); ok && (own(d+"/") || head(d+"/")) {
			grants = true
		}
		return nil
	})
	if errs.Is(err, errs.NotExist) {
		return false, nil
	}
	return !grants, err
}

func createRef(w *cdb.World, as cdb.Identity, out io.Writer, opts CreateOptions) (Stats, error) {
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
	rec := &refRecorder{s: st, seen: map[coda.ID]bool{}}
	tr := tree.New(rec)
	view := w.As(reader)
	plain := tree.New(st) // reads that are not the diffs' (they must not travel)
	var headRoot coda.ID
	var headReadable func(string) bool
	values := map[coda.ID]bool{}
	unreadable := map[coda.ID]bool{}
	left := map[coda.ID]bool{}        // values the caller sends another way
	hiddenFrom := map[coda.ID]bool{}  // op groups inside opaque subtrees
	shownGroups := map[coda.ID]bool{} // op groups some commit shows: they travel
	var later []refCandidate
	// decide records whether the value id at path (p: as the filters
	// take it) travels; at is a commit where the reader may read it there.
	decide := func(at coda.ID, path, p string, id coda.ID, sent, policy bool) {
		switch {
		case sent && !policy && opts.Leave != nil && refLeave(st, opts.Leave, at, path, id):
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
	// the reader's filter (nil: a genesis, where nothing is opaque) and
	// own its filter on the commit's tree. Rights are judged on the
	// parent, as the receiver judges them, and on the commit's tree.
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
		if readable(p+"/") || own(p+"/") || headReadable(p+"/") {
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
		var parentReadable, ownReadable func(string) bool
		if pol := w.Home().Policy(); len(c.Parents) > 0 && pol != nil {
			parentReadable = pol.ReadFilter(st, w.ID(), base, reader)
			ownReadable = pol.ReadFilter(st, w.ID(), c.Tree, reader)
		}
		added := map[string]bool{} // new directories the diff enters
		prune := func(p string, a, b tree.Entry) bool {
			if perr != nil {
				return true
			}
			o, err := opaqueFor(base, parentReadable, ownReadable, p)
			if a.Kind == 0 && added[parentDir(p)] {
				// Inside a new directory: judged on the commit's tree.
				o, err = refNewOpaque(plain, c.Tree, ownReadable, headReadable, makerOpaque, p)
			}
			if err != nil {
				perr = err
				return true
			}
			if !o && a.Kind == 0 && b.Kind == tree.KindDir {
				added[p] = true
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
			policy := refPolicyPath(ch.Path, ch.Meta)
			sent := policy || readable(p)
			if !sent && !ch.Meta && headReadable(p) {
				// Perhaps written before the reader was granted read and
				// still there at the head, which it may read: decided
				// below, for all such values at once.
				later = append(later, refCandidate{path: ch.Path, id: ch.B.ID})
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
		hid := map[coda.ID]bool{}
		if len(pruned) > 0 || len(makerOpaque) > 0 {
			dirs, err := c.GroupDirs()
			if err != nil {
				return Stats{}, errs.E(op, fmt.Errorf("commit %s: %w", c.ID, err))
			}
			for g, d := range dirs {
				// In a new directory the diff entered, its nodes travel:
				// so do its ops, unless a nearer directory was pruned.
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
		for _, g := range c.OpGroups {
			if hid[g] {
				hiddenFrom[g] = true
			} else {
				shownGroups[g] = true
			}
		}
		for _, id := range c.CallObjects() { // a call's input and output (issue 8)
			if ok, err := st.Has(id); err == nil && ok {
				values[id] = true
			}
		}
	}
	if len(later) > 0 {
		atHead, err := refHeadValues(plain, headRoot, later)
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
			if hiddenGroups[g] || hiddenFrom[g] && !shownGroups[g] {
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
	n, err := refWriteFrom(out, hdr, all, func(id coda.ID) ([]byte, error) {
		b, err := st.Get(id)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", id, err)
		}
		return b, nil
	}, func(id coda.ID) ([]byte, error) { return refObjectHead(st, id) })
	if err != nil {
		return Stats{}, errs.E(op, err)
	}
	return Stats{Header: hdr, Commits: len(commits), Objects: len(all), Withheld: len(withheld), Bytes: n}, nil
}

// refCandidate is a value a diff showed at path that the reader may not read
// in its commit but may at the head.
type refCandidate struct {
	path string
	id   coda.ID
}

// refHeadValues returns the ids of the values at the candidates' paths in
// the tree root: a lookup each for a few, one walk of the tree for many
// (each node decoded once).
func refHeadValues(tr *tree.Tree, root coda.ID, cs []refCandidate) (map[string]coda.ID, error) {
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

// refWriteFrom writes a bundle streaming: hdr, then the objects ids in order,
// each read with get when it is written (and its first bytes once before
// with schemaOf, for the wire context's schema ids), so that only one
// object is held at a time.
func refWriteFrom(out io.Writer, hdr Header, ids []coda.ID, get, schemaOf func(coda.ID) ([]byte, error)) (int64, error) {
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

// call is one call of OnValue or Leave.
type call struct {
	leave  bool
	commit coda.ID
	path   string
	id     coda.ID
	size   int64
	sent   bool
}

// sameAsRef checks that Create and createRef make the same bundle, byte
// for byte, with the same stats and the same OnValue and Leave calls.
func sameAsRef(t *testing.T, w *cdb.World, as cdb.Identity, opts CreateOptions, leave func(coda.ID) bool, what string) {
	t.Helper()
	run := func(f func(*cdb.World, cdb.Identity, io.Writer, CreateOptions) (Stats, error)) ([]byte, Stats, []call, error) {
		var calls []call
		o := opts
		o.OnValue = func(p string, id coda.ID, sent bool) { calls = append(calls, call{path: p, id: id, sent: sent}) }
		if leave != nil {
			o.Leave = func(c coda.ID, p string, id coda.ID, size int64) bool {
				calls = append(calls, call{leave: true, commit: c, path: p, id: id, size: size})
				return leave(id)
			}
		}
		var b bytes.Buffer
		st, err := f(w, as, &b, o)
		return b.Bytes(), st, calls, err
	}
	want, wst, wcalls, werr := run(createRef)
	got, gst, gcalls, gerr := run(Create)
	if werr != nil && gerr == nil && strings.Contains(werr.Error(), "the head's tree") {
		// The reference walked all of the head's tree for the values
		// granted later, into subtrees the maker lacks by design; Create
		// lists only the directories that hold them.
		t.Logf("%s: the reference fails where Create does not: %v", what, werr)
		return
	}
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%s: Create: %v; the reference: %v", what, gerr, werr)
	}
	if werr != nil {
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: Create made %d bytes (%d objects, %d withheld), the reference %d (%d objects, %d withheld)",
			what, len(got), gst.Objects, gst.Withheld, len(want), wst.Objects, wst.Withheld)
	}
	if !reflect.DeepEqual(gst, wst) {
		t.Errorf("%s: stats %+v, the reference's %+v", what, gst, wst)
	}
	// Create asks Leave once it has read the values: each sequence in
	// the same order, not interleaved as the reference's.
	for _, leave := range []bool{false, true} {
		of := func(cs []call) []call {
			return slices.DeleteFunc(slices.Clone(cs), func(c call) bool { return c.leave != leave })
		}
		if g, w := of(gcalls), of(wcalls); !slices.Equal(g, w) {
			t.Errorf("%s: %d calls (Leave: %v), the reference %d; first difference at %d", what, len(g), leave, len(w), firstDiff(g, w))
		}
	}
}

func firstDiff(a, b []call) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestCreateMatchesRef: on random histories (puts, deletes, many values at
// once, .acl grants and revocations for bob and anyone, groups, opaque
// directories, branches and merges), Create makes the bundle the naive
// reference makes, as alice (who may read everything), bob and carol,
// whole, since and with haves, at the head and before it, with values
// left out by Leave.
func TestCreateMatchesRef(t *testing.T) {
	t.Run("clone", func(t *testing.T) {
		// A clone made as bob lacks what he may not read: withheld values,
		// op groups hidden from it, an opaque subtree.
		a := origin(t)
		a.putACL(t, "alice", "/q", grant(a.key(t, "alice"), acl.All))
		a.put(t, "alice", "/q/base", "alice only")
		a.put(t, "bob", "/pub/x", "x")
		since := a.head(t)
		a.put(t, "alice", "/q/more", "alice only too")
		a.put(t, "bob", "/pub/y", "y")
		a.put(t, "bob", "/pub/large", strings.Repeat("large ", 2000))
		a.put(t, "bob", "/pub/chunked", strings.Repeat("chunked ", 200000))
		before := a.head(t)
		// More values written before bob's grant than are looked up one
		// by one, one replaced before it.
		var ops []cdb.Op
		for i := range 300 {
			ops = append(ops, putOp(fmt.Sprintf("/many/v%03d", i), fmt.Sprintf("value %d", i)))
		}
		must(t, a.commit(t, "alice", ops...))
		a.put(t, "alice", "/many/v007", "replaced")
		a.putACL(t, "alice", "/many", grant(a.key(t, "bob"), acl.Read))
		sameAsRef(t, a.w, a.key(t, "bob"), CreateOptions{}, nil, "bob, granted later")
		c := clone(t, a.bundle(t, "bob", CreateOptions{}), secured())
		for _, who := range []string{"alice", "bob"} {
			pub := a.key(t, who).Public
			sameAsRef(t, c.w, c.h.NodeKey(), CreateOptions{Reader: pub}, nil, who)
			sameAsRef(t, c.w, c.h.NodeKey(), CreateOptions{Reader: pub, Since: since}, func(id coda.ID) bool { return id[0]%2 == 0 }, who+", since")
			sameAsRef(t, c.w, c.h.NodeKey(), CreateOptions{Reader: pub, Head: before}, nil, who+", before /many")
		}
		// Bob's bundle made by his clone (which lacks /q by design) makes
		// a clone of its own.
		var b bytes.Buffer
		_, err := Create(c.w, c.h.NodeKey(), &b, CreateOptions{Reader: a.key(t, "bob").Public})
		must(t, err)
		cc := clone(t, b.Bytes(), secured())
		if got, err := cc.text(t, "/many/v299"); err != nil || got != "value 299" {
			t.Errorf("the clone of the clone: /many/v299 = %q, %v", got, err)
		}
	})
	t.Run("new directory", func(t *testing.T) {
		// Directories made inside a new directory in one commit (issue
		// 7): /pub/n/h denies bob (opaque to him), /pub/n/h/g below it
		// grants him read (so /pub/n/h is not opaque), /pub/n/k denies
		// him with nothing granting below; then writes in each.
		a := origin(t)
		alice := grant(a.key(t, "alice"), acl.All)
		bobToo := grant(a.key(t, "alice"), acl.All)
		bobToo.Grant(acl.Key(a.key(t, "bob").Public32()), acl.Read)
		must(t, a.commit(t, "alice", putOp("/pub/n/x", "x"),
			aclOp(t, "/pub/n/h", alice), putOp("/pub/n/h/s", "s in h"),
			aclOp(t, "/pub/n/h/g", bobToo), putOp("/pub/n/h/g/v", "v in g"),
			aclOp(t, "/pub/n/k", alice), putOp("/pub/n/k/deep/w", "w in k")))
		mid := a.head(t)
		a.put(t, "alice", "/pub/n/k/later", "later in k")
		a.put(t, "alice", "/pub/n/h/g/later", "later in g")
		for _, who := range []string{"alice", "bob"} {
			sameAsRef(t, a.w, a.key(t, who), CreateOptions{}, nil, who)
			sameAsRef(t, a.w, a.key(t, who), CreateOptions{Since: mid}, nil, who+" since")
		}
		var b bytes.Buffer
		_, err := Create(a.w, a.key(t, "bob"), &b, CreateOptions{})
		must(t, err)
		hdr, _, err := Read(bytes.NewReader(b.Bytes()))
		must(t, err)
		if !slices.Equal(hdr.Opaque, []string{"/pub/n/k"}) {
			t.Errorf("bob's bundle: opaque %q, want [/pub/n/k]", hdr.Opaque)
		}
		c := clone(t, b.Bytes(), secured())
		if c.head(t) != a.head(t) {
			t.Errorf("bob's clone: head %s, want %s", c.head(t), a.head(t))
		}
		if got, err := c.text(t, "/pub/n/h/g/v"); err != nil || got != "v in g" {
			t.Errorf("bob's clone: /pub/n/h/g/v = %q, %v", got, err)
		}
	})
	t.Run("budget", func(t *testing.T) {
		// Past the budget, objects are read again when written. Values
		// granted later among others, at the root and in a directory gone
		// before the head.
		defer func(k int64) { keepBytes = k }(keepBytes)
		keepBytes = 2000
		a := origin(t)
		var ops []cdb.Op
		for i := range 300 {
			ops = append(ops, putOp(fmt.Sprintf("/pub/v%03d", i), fmt.Sprintf("value %d", i)), putOp(fmt.Sprintf("/later/v%03d", i), fmt.Sprintf("later %d", i)))
			if i%50 == 0 {
				ops = append(ops, putOp(fmt.Sprintf("/later/v%03da/in", i), "a directory among the values"))
			}
		}
		must(t, a.commit(t, "alice", ops...))
		a.put(t, "alice", "/pub/v001", "again")
		a.put(t, "alice", "/later/v002", "replaced")
		a.putACL(t, "alice", "/later", grant(a.key(t, "bob"), acl.Read))
		// At the root, and in a directory gone before the grant.
		ops = nil
		for i := range 300 {
			ops = append(ops, putOp(fmt.Sprintf("/r%03d", i), fmt.Sprintf("root %d", i)), putOp(fmt.Sprintf("/gone/v%03d", i), fmt.Sprintf("gone %d", i)))
		}
		must(t, a.commit(t, "alice", ops...))
		must(t, a.commit(t, "alice", cdb.Op{Kind: cdb.Delete, Path: "/gone", Recursive: true}))
		root := grant(a.key(t, "alice"), acl.All)
		root.Grant(acl.Key(a.key(t, "bob").Public32()), acl.Read)
		a.putACL(t, "alice", "", root)
		for _, who := range []string{"alice", "bob"} {
			sameAsRef(t, a.w, a.key(t, who), CreateOptions{}, nil, who)
		}
	})
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			a := origin(t)
			carol, err := a.h.NewKey("carol")
			must(t, err)
			a.keys["carol"] = carol
			dirs := []string{"/pub", "/pl", "/q", "/q/in", "/r", "/r/s/t", "/big"}
			var commits []coda.ID
			for step := range 40 {
				var ops []cdb.Op
				switch k := rng.IntN(10); {
				case k < 4:
					for range 1 + rng.IntN(3) {
						d := dirs[rng.IntN(len(dirs))]
						ops = append(ops, putOp(fmt.Sprintf("%s/v%d", d, rng.IntN(6)), fmt.Sprintf("value %d.%d", step, rng.IntN(3))))
					}
				case k == 4:
					d := dirs[rng.IntN(len(dirs))]
					ops = append(ops, cdb.Op{Kind: cdb.Delete, Path: fmt.Sprintf("%s/v%d", d, rng.IntN(6))})
				case k == 5:
					n := 20
					if rng.IntN(3) == 0 {
						n = 300 // more than refHeadValues looks up one by one
					}
					base := rng.IntN(1000)
					for i := range n {
						ops = append(ops, putOp(fmt.Sprintf("/big/e%04d", base+i), fmt.Sprintf("big %d %d", step, i)))
					}
				case k == 6 || k == 7:
					d := dirs[rng.IntN(len(dirs))]
					var acl1 acl.ACL
					acl1.Grant(acl.Key(a.key(t, "alice").Public32()), acl.All)
					switch rng.IntN(4) {
					case 0:
						acl1.Grant(acl.Key(a.key(t, "bob").Public32()), acl.Read|acl.Write)
					case 1:
						acl1.Grant(acl.Anyone, acl.Read)
					case 2:
						acl1.Grant(acl.GroupNamed("friends"), acl.Read)
					}
					ops = append(ops, aclOp(t, d, acl1))
				case k == 8:
					var g acl.Group
					g.Add(acl.Key(carol.Public32()))
					if rng.IntN(2) == 0 {
						g.Add(acl.Key(a.key(t, "bob").Public32()))
					}
					b, err := g.Encode()
					must(t, err)
					ops = append(ops, cdb.Op{Kind: cdb.Put, Path: "/sys/groups/friends", Raw: b})
				default:
					// A branch from an earlier commit, merged back.
					if len(commits) < 3 {
						continue
					}
					side := fmt.Sprintf("side%d", step)
					must(t, a.w.CreateBranch(side, commits[rng.IntN(len(commits))]))
					must(t, a.w.Switch(side))
					a.put(t, "alice", fmt.Sprintf("/r/side%d", step), "on side")
					a.put(t, "alice", "/big/e0001", fmt.Sprintf("side %d", step))
					must(t, a.w.Switch("main"))
					if _, _, err := a.w.Merge(ctx, side); err != nil {
						t.Fatal(err)
					}
					commits = append(commits, a.head(t))
					continue
				}
				if err := a.commit(t, "alice", ops...); errs.Is(err, errs.NotExist) {
					continue // a delete of nothing
				} else if err != nil {
					t.Fatal(err)
				}
				commits = append(commits, a.head(t))
			}
			head := a.head(t)
			even := func(id coda.ID) bool { return id[0]%2 == 0 }
			for _, who := range []string{"alice", "bob", "carol"} {
				as := a.key(t, who)
				mid := commits[len(commits)/2]
				for _, c := range []struct {
					name  string
					opts  CreateOptions
					leave func(coda.ID) bool
				}{
					{"whole", CreateOptions{}, nil},
					{"leave", CreateOptions{}, even},
					{"since", CreateOptions{Since: mid}, nil},
					{"haves", CreateOptions{Haves: []coda.ID{commits[rng.IntN(len(commits))], commits[rng.IntN(len(commits))]}}, even},
					{"before the head", CreateOptions{Head: commits[len(commits)*3/4], Reader: as.Public}, nil},
					{"head", CreateOptions{Head: head, Haves: []coda.ID{commits[0]}}, nil},
				} {
					sameAsRef(t, a.w, as, c.opts, c.leave, who+" "+c.name)
				}
			}
			// A clone made as bob lacks what bob may not read (withheld
			// values, hidden op groups, opaque subtrees): its bundles list
			// them too. Every one is received (issue 7: grants,
			// revocations and grants again), at the origin's head.
			h, _, err := CloneBundle(ctx, t.TempDir()+"/clone", bytes.NewReader(a.bundle(t, "bob", CreateOptions{})), secured())
			if err != nil {
				t.Fatalf("bob's clone: %v", err)
			}
			c := wrap(t, h)
			if c.head(t) != head {
				t.Fatalf("bob's clone: head %s, want the origin's %s", c.head(t), head)
			}
			onlyReadable(t, a, h, a.key(t, "bob").Public, "bob's clone")
			for _, who := range []string{"alice", "bob", "carol"} {
				pub := a.key(t, who).Public
				sameAsRef(t, c.w, c.h.NodeKey(), CreateOptions{Reader: pub}, nil, "clone, "+who)
				sameAsRef(t, c.w, c.h.NodeKey(), CreateOptions{Reader: pub, Since: commits[len(commits)/3]}, even, "clone, since, "+who)
			}
		})
	}
}

// refObjectHead returns the first bytes of object id, its schema id among them,
// without reading a large object whole.
func refObjectHead(st store.Store, id coda.ID) ([]byte, error) {
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

// refLeave asks leave as replica's serve did before Leave took the size:
// a value it could not size stays in the bundle.
func refLeave(st store.Store, leave func(coda.ID, string, coda.ID, int64) bool, at coda.ID, path string, id coda.ID) bool {
	size, err := st.Size(id)
	if err != nil {
		return false
	}
	return leave(at, path, id, size)
}

// TestSortByID: the bucket sort orders as bytes.Compare does, keeping
// equal ids in their order, for few ids and many, with repeats and ids
// that share their first bytes.
func TestSortByID(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 100, 5000, 70000} {
		vs := make([]vref, n)
		for i := range vs {
			for j := range vs[i].id {
				vs[i].id[j] = byte(rng.Uint32())
			}
			if i > 0 && rng.IntN(10) == 0 {
				vs[i].id = vs[rng.IntN(i)].id // a repeat
			}
			if i > 0 && rng.IntN(10) == 0 {
				copy(vs[i].id[:4], vs[rng.IntN(i)].id[:4]) // the same first bytes
			}
			vs[i].slot = int32(i)
		}
		want := slices.Clone(vs)
		slices.SortStableFunc(want, func(a, b vref) int { return bytes.Compare(a.id[:], b.id[:]) })
		sortByID(vs)
		if !slices.Equal(vs, want) {
			t.Errorf("%d ids: sortByID differs from a stable sort by bytes", n)
		}
	}
}
