package bundle

// Reusing a first-clone bundle (Reuse): as git serves a clone from the
// pack its gc made, a sender keeps the bundle that answered a pull with no
// haves and answers the next reader whose view is provably the same with
// those bytes, its own key in the header (docs/sync.md, "Bundle reuse").
//
// Why it is sound. Create(w, …, Reader: K) depends on K only through
// Header.Author and the read filters (cdb.View.Filter, Policy.ReadFilter),
// and the ACL policy's filters depend on K only where acl.Checker compares
// it: a rule or group member naming K (KeyWho), /home/K being K's, and
// the world's creator reading everything in a tree that never had a
// /.acl. Every tree a bundle's filters judge is the tree of a commit of
// the head's history (or of the world's current head, where cdb.View also
// judges), and every value those trees hold was put by an op of such a
// commit (merges only combine their parents'). So a key that no policy
// value (.acl, /sys/groups) put along those histories names, that owns no
// /home directory there and did not create the world is judged as every
// other such key, and its bundle is any other's with Author replaced.

import (
	"bytes"
	"container/list"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// DefaultReuseBytes is the bound on the bytes a Reuse made by callers
// that do not choose keeps (replica.Options.ReuseBytes).
const DefaultReuseBytes = 256 << 20

// maxNamedMemo bounds the (world, head) pairs whose named keys Reuse
// remembers.
const maxNamedMemo = 256

// Reuse keeps, in memory, the bundles Create made for a first clone
// (CreateOptions with no Since and no Haves) and writes them again for a
// later reader whose view is provably the same (see the top of this
// file): same world, head, current branch and head of the maker's world,
// same Leave threshold, a reader named by no policy value in the history.
// It holds at most maxBytes of entries; an entry larger than a quarter of
// that is not kept; the least recently used goes first. A nil *Reuse keeps
// nothing: its Create is Create. Safe for concurrent use.
type Reuse struct {
	max, maxEntry int64

	mu      sync.Mutex
	size    int64
	lru     *list.List // of *reuseEntry, the most recently used first
	entries map[reuseKey]*list.Element
	named   map[namedKey]*namedSet
	order   []namedKey // named's keys, oldest first
	stats   ReuseStats
}

// ReuseStats counts what a Reuse did.
type ReuseStats struct {
	Hits      int   `json:"hits"`      // bundles written from an entry
	Misses    int   `json:"misses"`    // first clones made afresh (none kept for them yet, or a named reader)
	Named     int   `json:"named"`     // of those, made afresh because the reader is named in the history
	Stored    int   `json:"stored"`    // entries kept
	Evicted   int   `json:"evicted"`   // entries dropped for room
	Entries   int   `json:"entries"`   // entries held now
	Bytes     int64 `json:"bytes"`     // their bytes
	Uncached  int   `json:"uncached"`  // first clones of histories that cannot be reused (opaque parts, a lacking maker, another policy)
	Oversized int   `json:"oversized"` // bundles larger than an entry may be
}

// NewReuse returns a Reuse holding at most maxBytes; nil (keep nothing) if
// maxBytes ≤ 0.
func NewReuse(maxBytes int64) *Reuse {
	if maxBytes <= 0 {
		return nil
	}
	return &Reuse{max: maxBytes, maxEntry: maxBytes / 4, lru: list.New(),
		entries: map[reuseKey]*list.Element{}, named: map[namedKey]*namedSet{}}
}

// Stats returns what r did so far (zero for a nil r).
func (r *Reuse) Stats() ReuseStats {
	if r == nil {
		return ReuseStats{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Entries, s.Bytes = r.lru.Len(), r.size
	return s
}

// reuseKey is everything besides the reader that Create's output
// depends on: the world (its name and current branch are in the header),
// the head bundled, the world's current head (cdb.View judges reads there
// too) and the Leave threshold.
type reuseKey struct {
	home         *cdb.Home // a Reuse may serve several homes
	world        coda.ID
	name, branch string
	head, cur    coda.ID
	leave        bool
	leaveKey     uint64
}

// reuseEntry is a bundle kept: its wire context and the bytes written
// (prefix: the context and the header frame, made again for each reader),
// its header and stats without the author, and the callbacks Create made.
type reuseEntry struct {
	key    reuseKey
	ctx    []coda.ID
	data   [][]byte // the stream, in chunks
	prefix int
	stats  Stats
	calls  [][]reuseCall // in blocks
	bytes  int64
}

// reuseCall is one callback Create made: OnValue, or a Leave that
// returned true.
type reuseCall struct {
	leave  bool
	commit coda.ID // Leave
	path   string
	id     coda.ID
	size   int64 // Leave
	sent   bool  // OnValue
}

// Create is Create(w, as, out, opts) for a first clone (no Since, no
// Haves), from an entry when one answers it, recording one otherwise;
// any other bundle is made by Create alone. leaveKey is the parameter
// opts.Leave depends on besides its arguments (sync: the puller's Large
// threshold): Leave must be a pure function of both, and only its true
// answers are replayed to it. reused reports that the bundle came from an
// entry. The bytes, stats and callbacks are those Create would make.
func (r *Reuse) Create(w *cdb.World, as cdb.Identity, out io.Writer, opts CreateOptions, leaveKey uint64) (st Stats, reused bool, err error) {
	if r == nil || !opts.Since.IsZero() || len(opts.Haves) > 0 {
		st, err = Create(w, as, out, opts)
		return st, false, err
	}
	reader := as.Public
	if opts.Reader != nil {
		reader = opts.Reader
	}
	key, ok := r.keyOf(w, reader, opts, leaveKey)
	if !ok {
		st, err = Create(w, as, out, opts)
		return st, false, err
	}
	r.mu.Lock()
	el := r.entries[key]
	var e *reuseEntry
	if el != nil {
		r.lru.MoveToFront(el)
		e = el.Value.(*reuseEntry)
		r.stats.Hits++
	} else {
		r.stats.Misses++
	}
	r.mu.Unlock()
	if e != nil {
		st, err = e.write(out, reader, opts)
		return st, true, err
	}
	st, err = r.record(w, as, out, opts, key)
	return st, false, err
}

// keyOf returns the key of the bundle of opts for reader, and whether it
// may be reused: the policy is acl's (or none), the histories of the head
// and of the world's current head are whole here and name no reader, and
// the maker lacks no subtree.
func (r *Reuse) keyOf(w *cdb.World, reader ed25519.PublicKey, opts CreateOptions, leaveKey uint64) (reuseKey, bool) {
	if len(reader) != ed25519.PublicKeySize {
		return reuseKey{}, false
	}
	pol := w.Home().Policy()
	switch pol.(type) {
	case nil, acl.Policy, *acl.Policy:
	default:
		r.count(func(s *ReuseStats) { s.Uncached++ })
		return reuseKey{}, false
	}
	cur, err := w.Head()
	if err != nil {
		return reuseKey{}, false
	}
	head := opts.Head
	if head.IsZero() {
		head = cur
	}
	k := reuseKey{home: w.Home(), world: w.ID(), name: w.Name(), branch: w.Branch(), head: head, cur: cur, leave: opts.Leave != nil}
	if k.leave {
		k.leaveKey = leaveKey
	}
	if o, err := w.OpaqueSubtrees(); err != nil || len(o) > 0 {
		r.count(func(s *ReuseStats) { s.Uncached++ })
		return reuseKey{}, false
	}
	if pol == nil {
		return k, true // everyone reads everything
	}
	for _, h := range []coda.ID{head, cur} {
		ns, err := r.namedAt(w, h)
		if err != nil || !ns.whole {
			r.count(func(s *ReuseStats) { s.Uncached++ })
			return reuseKey{}, false
		}
		if ns.names(reader) {
			r.count(func(s *ReuseStats) { s.Named++; s.Misses++ })
			return reuseKey{}, false
		}
		if head == cur {
			break
		}
	}
	return k, true
}

func (r *Reuse) count(f func(*ReuseStats)) {
	r.mu.Lock()
	f(&r.stats)
	r.mu.Unlock()
}

// record makes the bundle with Create, writing it to out and keeping it
// if it fits and nothing it depends on moved meanwhile.
func (r *Reuse) record(w *cdb.World, as cdb.Identity, out io.Writer, opts CreateOptions, key reuseKey) (Stats, error) {
	// The callbacks, in blocks: no copying as they grow.
	var calls [][]reuseCall
	var callBytes int64
	add := func(c reuseCall) {
		if n := len(calls); n == 0 || len(calls[n-1]) == cap(calls[n-1]) {
			calls = append(calls, make([]reuseCall, 0, 4096))
		}
		calls[len(calls)-1] = append(calls[len(calls)-1], c)
		callBytes += int64(len(c.path)) + 112
	}
	o := opts
	o.OnValue = func(path string, id coda.ID, sent bool) {
		add(reuseCall{path: path, id: id, sent: sent})
		if opts.OnValue != nil {
			opts.OnValue(path, id, sent)
		}
	}
	if opts.Leave != nil {
		o.Leave = func(commit coda.ID, path string, id coda.ID, size int64) bool {
			left := opts.Leave(commit, path, id, size)
			if left {
				add(reuseCall{leave: true, commit: commit, path: path, id: id, size: size})
			}
			return left
		}
	}
	tee := &teeWriter{w: out, limit: r.maxEntry}
	st, err := Create(w, as, tee, o)
	if err != nil {
		return st, err
	}
	if tee.over || tee.n+callBytes > r.maxEntry {
		r.count(func(s *ReuseStats) { s.Oversized++ })
		return st, nil
	}
	// What the key names must not have moved while Create ran, and the
	// maker must still hold no opaque subtree (a receive on another
	// branch may bring some: Create prunes them in every commit).
	if cur, err := w.Head(); err != nil || cur != key.cur || w.Branch() != key.branch {
		return st, nil
	}
	if o, err := w.OpaqueSubtrees(); err != nil || len(o) > 0 {
		return st, nil
	}
	// A value the maker lacks (withheld from it) may arrive later.
	for _, id := range st.Header.Withheld {
		if _, held, err := w.Withheld(id); err != nil || held {
			r.count(func(s *ReuseStats) { s.Uncached++ })
			return st, nil
		}
	}
	e, err := newReuseEntry(key, tee.chunks, tee.n, st, calls)
	if err != nil {
		return st, nil // not the stream expected: make it afresh each time
	}
	e.bytes += callBytes
	r.store(e)
	return st, nil
}

// newReuseEntry parses the stream Create wrote with stats st, n bytes in
// chunks: its wire context, and that the header frame follows it.
func newReuseEntry(key reuseKey, chunks [][]byte, n int64, st Stats, calls [][]reuseCall) (*reuseEntry, error) {
	bad := errs.E(errs.Internal, "bundle: reuse: not the stream Create writes")
	// The context: magic, version, the number of ids, the ids.
	b := firstBytes(chunks, len(coda.WireMagic)+1+binary.MaxVarintLen64)
	if len(b) < len(coda.WireMagic)+1 || string(b[:len(coda.WireMagic)]) != coda.WireMagic || b[len(coda.WireMagic)] != coda.WireVersion {
		return nil, bad
	}
	at := len(coda.WireMagic) + 1
	cnt, k := binary.Uvarint(b[at:])
	if k <= 0 || cnt > coda.MaxWireContext {
		return nil, bad
	}
	at += k
	b = firstBytes(chunks, at+int(cnt)*coda.IDSize)
	if len(b) < at+int(cnt)*coda.IDSize {
		return nil, bad
	}
	ctx := make([]coda.ID, cnt)
	for i := range ctx {
		ctx[i] = coda.ID(b[at+i*coda.IDSize:])
	}
	prefix, err := streamPrefix(ctx, st.Header)
	if err != nil || !bytes.Equal(firstBytes(chunks, len(prefix)), prefix) || n != st.Bytes {
		return nil, bad
	}
	st.Header.Author = ""
	e := &reuseEntry{key: key, ctx: ctx, data: chunks, prefix: len(prefix), stats: st, calls: calls}
	e.bytes = n + int64(len(ctx))*coda.IDSize + int64(len(st.Header.Withheld))*coda.IDSize + 256
	for _, p := range st.Header.Opaque {
		e.bytes += int64(len(p)) + 16
	}
	return e, nil
}

// streamPrefix returns the first bytes of a bundle of context ctx and
// header hdr: the context and the header's frame.
func streamPrefix(ctx []coda.ID, hdr Header) ([]byte, error) {
	hb, err := hdr.encode()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := coda.NewWireWriter(&b, ctx).WriteObject(hb); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// write writes e's bundle made as reader to out, after replaying Create's
// callbacks to opts' (as Create makes them, before the first byte).
func (e *reuseEntry) write(out io.Writer, reader ed25519.PublicKey, opts CreateOptions) (Stats, error) {
	for _, block := range e.calls {
		for _, c := range block {
			switch {
			case c.leave && opts.Leave != nil:
				opts.Leave(c.commit, c.path, c.id, c.size)
			case !c.leave && opts.OnValue != nil:
				opts.OnValue(c.path, c.id, c.sent)
			}
		}
	}
	st := e.stats
	st.Header.Author = cdb.KeyString(reader)
	prefix, err := streamPrefix(e.ctx, st.Header)
	if err != nil {
		return Stats{}, errs.E(errs.Op("bundle.Create"), err)
	}
	if len(prefix) != e.prefix {
		return Stats{}, errs.E(errs.Op("bundle.Create"), errs.Internal, fmt.Sprintf("bundle: reuse: a header of %d bytes, the entry's of %d", len(prefix), e.prefix))
	}
	if _, err := out.Write(prefix); err != nil {
		return Stats{}, errs.E(errs.Op("bundle.Create"), err)
	}
	skip := e.prefix
	for _, c := range e.data {
		if skip >= len(c) {
			skip -= len(c)
			continue
		}
		if _, err := out.Write(c[skip:]); err != nil {
			return Stats{}, errs.E(errs.Op("bundle.Create"), err)
		}
		skip = 0
	}
	return st, nil
}

// store keeps e, dropping the least recently used entries for room.
func (r *Reuse) store(e *reuseEntry) {
	if e.bytes > r.maxEntry {
		r.count(func(s *ReuseStats) { s.Oversized++ })
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.entries[e.key]; old != nil {
		r.drop(old)
	}
	for r.size+e.bytes > r.max && r.lru.Len() > 0 {
		r.drop(r.lru.Back())
		r.stats.Evicted++
	}
	r.entries[e.key] = r.lru.PushFront(e)
	r.size += e.bytes
	r.stats.Stored++
}

func (r *Reuse) drop(el *list.Element) {
	e := r.lru.Remove(el).(*reuseEntry)
	delete(r.entries, e.key)
	r.size -= e.bytes
}

// teeWriter writes to w and keeps a copy of what it wrote, n bytes in
// chunks of teeChunk (none copied again as they grow), up to limit bytes
// (past it, over, and nothing is kept).
type teeWriter struct {
	w      io.Writer
	chunks [][]byte
	n      int64
	limit  int64
	over   bool
}

const teeChunk = 1 << 20

func (t *teeWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if t.over {
		return n, err
	}
	if t.n+int64(n) > t.limit {
		t.over, t.chunks = true, nil
		return n, err
	}
	t.n += int64(n)
	for q := p[:n]; len(q) > 0; {
		k := len(t.chunks) - 1
		if k < 0 || len(t.chunks[k]) == cap(t.chunks[k]) {
			t.chunks = append(t.chunks, make([]byte, 0, min(teeChunk, max(t.n, 4096))))
			k++
		}
		m := min(len(q), cap(t.chunks[k])-len(t.chunks[k]))
		t.chunks[k] = append(t.chunks[k], q[:m]...)
		q = q[m:]
	}
	return n, err
}

// firstBytes returns the first n bytes of chunks (fewer if they hold
// fewer), copied only if they span chunks.
func firstBytes(chunks [][]byte, n int) []byte {
	if len(chunks) > 0 && len(chunks[0]) >= n {
		return chunks[0][:n]
	}
	var b []byte
	for _, c := range chunks {
		if len(b) >= n {
			break
		}
		b = append(b, c[:min(len(c), n-len(b))]...)
	}
	return b
}

// namedKey is a head of a world of a home.
type namedKey struct {
	home        *cdb.Home
	world, head coda.ID
}

// namedSet is what the history of a head says of readers: the keys its
// policy values name, the /home directories its ops touch, the world's
// creator; whole is false if this node lacks some of it (hidden op
// groups, a policy value or a call's object missing), and then nothing
// may be reused.
type namedSet struct {
	keys  map[[32]byte]bool
	homes map[string]bool
	whole bool
}

// names reports whether the history treats reader apart from others.
func (n *namedSet) names(reader ed25519.PublicKey) bool {
	return n.keys[[32]byte(reader)] || n.homes[cdb.KeyString(reader)]
}

func (n *namedSet) union(o *namedSet) {
	for k := range o.keys {
		n.keys[k] = true
	}
	for h := range o.homes {
		n.homes[h] = true
	}
	n.whole = n.whole && o.whole
}

// namedAt returns the named set of the history of head, from the sets
// remembered for its ancestors: the commits it walks are those no
// remembered head reaches, so a head one commit past a remembered one
// costs that commit.
func (r *Reuse) namedAt(w *cdb.World, head coda.ID) (*namedSet, error) {
	k := namedKey{w.Home(), w.ID(), head}
	r.mu.Lock()
	ns := r.named[k]
	r.mu.Unlock()
	if ns != nil {
		return ns, nil
	}
	ns = &namedSet{keys: map[[32]byte]bool{}, homes: map[string]bool{}, whole: true}
	st := w.Home().Store()
	err := walk(w, head, func(c *cdb.Commit) bool {
		if c.ID != head {
			r.mu.Lock()
			m := r.named[namedKey{w.Home(), w.ID(), c.ID}]
			r.mu.Unlock()
			if m != nil {
				ns.union(m)
				return false
			}
		}
		namedBy(st, c, ns)
		return true
	})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if _, ok := r.named[k]; !ok {
		r.named[k] = ns
		r.order = append(r.order, k)
		if len(r.order) > maxNamedMemo {
			delete(r.named, r.order[0])
			r.order = slices.Delete(r.order, 0, 1)
		}
	}
	r.mu.Unlock()
	return ns, nil
}

// namedBy adds to ns what the commit c says of readers: the keys named
// by the .acl and group values its ops put (decoded as acl decodes them
// when it evaluates: a value that does not decode names nobody), the
// /home directories its ops touch, a genesis's author (the creator reads
// everything while the world has no /.acl).
func namedBy(st store.Store, c *cdb.Commit, ns *namedSet) {
	if c.Opaque() {
		ns.whole = false // ops this node does not hold
	}
	if c.IsGenesis() && len(c.Author) == ed25519.PublicKeySize {
		ns.keys[[32]byte(c.Author)] = true
	}
	for _, id := range c.CallObjects() {
		if ok, err := st.Has(id); err != nil || !ok {
			ns.whole = false // a call's object that may arrive later
		}
	}
	for _, op := range c.Ops {
		p := op.Path
		if h, ok := strings.CutPrefix(p, "/home/"); ok {
			h, _, _ = strings.Cut(h, "/")
			ns.homes[h] = true
		}
		// Most paths: no need to split them.
		if op.Delete || op.Meta || !strings.Contains(p, aclName) && !strings.HasPrefix(p, "/sys/") {
			continue
		}
		if segs, err := tree.SplitPath(p); err != nil || !policyValue(segs) {
			continue
		}
		b, err := st.Get(op.ID)
		if err != nil {
			ns.whole = false // a policy value this node lacks
			continue
		}
		if a, err := acl.DecodeACL(b); err == nil {
			for _, rule := range a.Rules {
				if rule.Who.Kind == acl.KeyWho {
					ns.keys[rule.Who.Key] = true
				}
			}
		}
		if g, err := acl.DecodeGroup(b); err == nil {
			for _, m := range g.Members {
				if m.Kind == acl.KeyWho {
					ns.keys[m.Key] = true
				}
			}
		}
	}
}

// policyValue reports whether a value at the path segs may be read by
// rights evaluation: an .acl entry anywhere (any segment, to be safe), or
// anything under /sys/groups.
func policyValue(segs []string) bool {
	if len(segs) >= 2 && segs[0] == "sys" && segs[1] == "groups" {
		return true
	}
	return slices.Contains(segs, aclName)
}
