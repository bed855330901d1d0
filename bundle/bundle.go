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
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coalescent/coal/cdb"
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

// MaxObjects bounds the objects a bundle may hold (Read).
const MaxObjects = 1 << 24

// Read reads a whole bundle into memory, checking its framing: its header
// and its objects by id (each named by its hash). Nothing is validated
// against any history (Apply does that). The objects are hashed while
// the stream is read, in batches on every core, so the ids
// of a large bundle cost little time after its last byte; the map's keys
// are coda.Sum of their bytes (Incoming.Summed).
func Read(in io.Reader) (Header, map[coda.ID][]byte, error) {
	hdr, r, err := read(in)
	if err != nil {
		return Header{}, nil, err
	}
	return hdr, r.objs, nil
}

// ReadIncoming is Read, giving what cdb.World.Receive takes of the
// bundle: its objects by id (Summed), and also in ascending id order
// (Sorted) if the stream held them in the order Create writes them, the
// commits among them, the header's head, withheld values and opaque
// subtrees, and its author as the maker (an author that is no key is
// errs.Invalid). Receive then neither sorts the objects nor looks through
// them for the commits (docs/bundle.md §3).
func ReadIncoming(in io.Reader) (Header, cdb.Incoming, error) {
	hdr, r, err := read(in)
	if err != nil {
		return Header{}, cdb.Incoming{}, err
	}
	inc, err := incomingRead(hdr, r)
	if err != nil {
		return Header{}, cdb.Incoming{}, err
	}
	return hdr, inc, nil
}

// readObjects is what read gives of a bundle's objects: by id, in
// ascending id order (nil if the stream did not hold them in the order
// Create writes them), and the ids of the commits among them.
type readObjects struct {
	objs    map[coda.ID][]byte
	sorted  *cdb.Sorted
	commits []coda.ID
}

// read is Read, also giving the objects in order and the commits.
func read(in io.Reader) (Header, readObjects, error) {
	op := errs.Op("bundle.Read")
	wr := coda.NewWireReader(in, coda.DecodeOptions{})
	first, err := wr.NextObject()
	if err == io.EOF {
		return Header{}, readObjects{}, errs.E(op, errs.Invalid, "bundle: empty stream, no header")
	}
	if err != nil {
		return Header{}, readObjects{}, errs.E(op, errs.Invalid, err)
	}
	hdr, err := decodeHeader(first)
	if err != nil {
		return Header{}, readObjects{}, errs.E(op, err)
	}
	sums := newSummer(hdr.Objects)
	n := 0
	for {
		b, err := wr.NextObject()
		if err == io.EOF {
			break
		}
		if err != nil {
			sums.stop()
			return Header{}, readObjects{}, errs.E(op, errs.Invalid, err)
		}
		// Frames, not distinct objects: a maker writes each object once,
		// and duplicates must not grow memory without bound.
		if n >= MaxObjects {
			sums.stop()
			return Header{}, readObjects{}, errs.E(op, errs.Limit, fmt.Sprintf("bundle: more than %d objects", MaxObjects))
		}
		n++
		sums.add(b)
	}
	r := sums.wait()
	if uint64(len(r.objs)) != hdr.Objects {
		return Header{}, readObjects{}, errs.E(op, errs.Invalid, fmt.Sprintf("bundle: the header announces %d objects, the stream holds %d distinct ones", hdr.Objects, len(r.objs)))
	}
	return hdr, r, nil
}

// summer hashes objects in batches on every core while more are read,
// and gathers them by id: the batches hashed, in order, while more are
// read (gather), the rest once all are read (wait).
type summer struct {
	cur     *sumBatch
	batches []*sumBatch
	work    chan *sumBatch
	wg      sync.WaitGroup
	n       int // objects added
	// What is gathered of batches[:next]: the objects by id and the
	// commits (r), the others in order (ids, data) while inOrder, the
	// commits (cs).
	next       int
	r          readObjects
	ids        []coda.ID
	data       [][]byte
	cs         []gotObject
	outOfOrder bool
}

// sumBatch is a run of objects and, once hashed, their ids and which
// are commits.
type sumBatch struct {
	objs   [][]byte
	ids    []coda.ID
	commit []bool
	bytes  int
	done   atomic.Bool // ids and commit are set
}

// Objects or bytes in one batch of hashing: enough to outweigh the
// hand-over, few enough to keep every core busy while a stream arrives.
const (
	sumBatchObjects = 512
	sumBatchBytes   = 1 << 20
)

// newSummer returns a summer for about n objects (a hint: the header's
// count, which nothing has checked yet).
func newSummer(n uint64) *summer {
	// One worker a CPU: GOMAXPROCS may be more (internal/procs).
	w := max(1, min(runtime.GOMAXPROCS(0), runtime.NumCPU()))
	n = min(n, 1<<20)
	s := &summer{work: make(chan *sumBatch, 2*w), r: readObjects{objs: make(map[coda.ID][]byte, n)},
		ids: make([]coda.ID, 0, n), data: make([][]byte, 0, n)}
	commit := cdb.CommitSchemaID()
	for range w {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for b := range s.work {
				b.ids = make([]coda.ID, len(b.objs))
				b.commit = make([]bool, len(b.objs))
				for i, o := range b.objs {
					b.ids[i] = coda.Sum(o)
					b.commit[i] = len(o) >= coda.IDSize && coda.ID(o[:coda.IDSize]) == commit
				}
				b.done.Store(true)
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
	s.gather(false)
}

// gather gathers the batches hashed since the last gather, in order,
// stopping at the first not hashed yet (all: every batch is hashed).
func (s *summer) gather(all bool) {
	for ; s.next < len(s.batches); s.next++ {
		b := s.batches[s.next]
		if !all && !b.done.Load() {
			return
		}
		for i, id := range b.ids {
			s.r.objs[id] = b.objs[i]
			if b.commit[i] {
				s.r.commits = append(s.r.commits, id)
				s.cs = append(s.cs, gotObject{id, b.objs[i]})
				continue
			}
			if n := len(s.ids); !s.outOfOrder && n > 0 && bytes.Compare(s.ids[n-1][:], id[:]) >= 0 {
				s.outOfOrder = true
			}
			s.ids, s.data = append(s.ids, id), append(s.data, b.objs[i])
		}
		s.batches[s.next] = nil // gathered
	}
}

// stop stops the workers once they are done. The summer must not be
// used after.
func (s *summer) stop() {
	close(s.work)
	s.wg.Wait()
}

// wait hashes what is left, stops the workers and returns the objects by
// id, the commits among them and, if the objects other than commits came
// in strictly ascending id order (as Create writes them) and each once,
// all of them in ascending id order. The summer must not be used after.
func (s *summer) wait() readObjects {
	s.flush()
	s.stop()
	s.gather(true)
	r := s.r
	if !s.outOfOrder && len(s.ids)+len(s.cs) == len(r.objs) {
		r.sorted = mergeSorted(s.ids, s.data, s.cs)
	}
	return r
}

// gotObject is an object read, and its id.
type gotObject struct {
	id   coda.ID
	data []byte
}

// mergeSorted returns the objects of ids and data (in ascending id
// order) and cs (in any order), none twice, in ascending id order.
func mergeSorted(ids []coda.ID, data [][]byte, cs []gotObject) *cdb.Sorted {
	if len(cs) == 0 {
		return &cdb.Sorted{IDs: ids, Data: data}
	}
	slices.SortFunc(cs, func(a, b gotObject) int { return bytes.Compare(a.id[:], b.id[:]) })
	n := len(ids) + len(cs)
	out := &cdb.Sorted{IDs: make([]coda.ID, 0, n), Data: make([][]byte, 0, n)}
	c := 0
	for j, id := range ids {
		for ; c < len(cs) && bytes.Compare(cs[c].id[:], id[:]) < 0; c++ {
			out.IDs, out.Data = append(out.IDs, cs[c].id), append(out.Data, cs[c].data)
		}
		out.IDs, out.Data = append(out.IDs, id), append(out.Data, data[j])
	}
	for _, o := range cs[c:] {
		out.IDs, out.Data = append(out.IDs, o.id), append(out.Data, o.data)
	}
	return out
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
	hdr, objs, err := read(in)
	if err != nil {
		return cdb.ReceiveResult{}, errs.E(op, err)
	}
	if hdr.World != w.ID() {
		return cdb.ReceiveResult{}, errs.E(op, errs.Invalid, fmt.Sprintf("bundle of world %s, not %s (%s)", hdr.World, w.ID(), w.Name()))
	}
	inc, err := incomingRead(hdr, objs)
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

// incomingRead is incoming of what read gave: the objects also in order,
// and the commits among them.
func incomingRead(hdr Header, r readObjects) (cdb.Incoming, error) {
	in, err := incoming(hdr, r.objs)
	in.Sorted, in.Commits = r.sorted, r.commits
	return in, err
}

// ApplyHome applies a bundle to the world of h it belongs to, found by
// id, on its current branch; a world h does not hold is created under the
// bundle's name (or its id, if the name is taken).
func ApplyHome(ctx context.Context, h *cdb.Home, in io.Reader) (*cdb.World, cdb.ReceiveResult, error) {
	op := errs.Op("bundle.Apply")
	hdr, inc, err := ReadIncoming(in)
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
// left in dir. The home is made while the bundle is read (its files and
// their syncs beside the reading and hashing); a bundle that cannot be
// read fails as before, and its home is removed.
func CloneBundle(ctx context.Context, dir string, in io.Reader, opts cdb.Options) (*cdb.Home, cdb.ReceiveResult, error) {
	op := errs.Op("bundle.CloneBundle")
	opts.NoWorld = true
	type made struct {
		h   *cdb.Home
		err error
	}
	home := make(chan made, 1)
	go func() {
		h, err := cdb.Init(dir, opts)
		home <- made{h, err}
	}()
	hdr, inc, err := ReadIncoming(in)
	m := <-home
	if err != nil {
		if m.err == nil {
			m.h.Close()
			os.RemoveAll(m.h.Dir())
		}
		return nil, cdb.ReceiveResult{}, errs.E(op, err)
	}
	if m.err != nil {
		return nil, cdb.ReceiveResult{}, errs.E(op, m.err)
	}
	h := m.h
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
