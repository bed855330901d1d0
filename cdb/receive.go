package cdb

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"maps"
	"math/bits"
	"runtime"
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

// ReceiveResult says what Receive did.
type ReceiveResult struct {
	Commits     int         `json:"commits"`      // new commits validated and stored
	Objects     int         `json:"objects"`      // objects stored
	Withheld    int         `json:"withheld"`     // values withheld by the sender and missing here, recorded
	Head        coda.ID     `json:"head"`         // the branch head after
	FastForward bool        `json:"fast_forward"` // the branch moved to the received head
	Merge       *CommitInfo `json:"merge,omitempty"`
	// Waiting: the heads diverged in a subtree opaque here, which this
	// node cannot merge; the received commits are stored, the branch is
	// left where it was, and the merge is left to a node that may read
	// the subtree (docs/sync.md, "Opaque subtrees").
	Waiting bool `json:"waiting,omitempty"`
	// Revalidated counts the commits held here with opaque parts that
	// arrived whole and were validated fully (docs/sync.md).
	Revalidated int             `json:"revalidated,omitempty"`
	Conflicts   []tree.Conflict `json:"-"`
}

// Incoming is what Receive takes from elsewhere (a bundle, later sync).
type Incoming struct {
	// Objects holds every object received — commits, tree nodes, values —
	// by id.
	Objects map[coda.ID][]byte
	// Summed says that every key of Objects was computed in this process
	// as coda.Sum of its bytes (bundle.Read does so while it reads), so
	// Receive does not hash them again. If false, Receive checks every id
	// (on every core) before anything else.
	Summed bool
	// Sorted, if not nil, holds the objects of Objects again, in
	// ascending id order, each once: a reader that has them in that order
	// gives them (bundle.Read), and Receive does not sort them (it checks
	// the order). Only with Summed, and it must say the same of Sorted:
	// every ID was computed in this process as coda.Sum of its Data, and
	// Sorted holds exactly the objects of Objects. Receive stores what
	// Sorted holds.
	Sorted *Sorted
	// Commits, if not nil, lists the objects of Objects that are commits,
	// as a reader that saw them gives them: Receive decodes them first,
	// on every core, instead of looking through every object for them (a
	// commit it lacks is decoded when needed, an id that is no commit is
	// an error only if read as one).
	Commits []coda.ID
	// Head is the received branch head.
	Head coda.ID
	// Withheld lists the values the received commits' trees hold that the
	// sender deliberately did not send: Maker, the key it acted as, may
	// not read them.
	Withheld []coda.ID
	Maker    ed25519.PublicKey
	// Opaque lists the directories whose tree nodes the sender did not
	// send (docs/sync.md, "Opaque subtrees"): Maker may read nothing in
	// them, or the sender lacks them by design. Each is known only by its
	// entry in its parent's node; the op groups inside are in Withheld.
	Opaque []string
}

// Sorted is a set of objects in ascending id order: IDs[i] names
// Data[i].
type Sorted struct {
	IDs  []coda.ID
	Data [][]byte
}

// Receive takes commits made elsewhere. Every commit reachable from
// in.Head that the home does not hold is validated by ValidateCommit with
// the home's Policy, reading in.Objects over the store, before anything
// is stored: each against its parents as received, on every CPU, the
// first invalid one in parents-first order named (docs/sync.md); and
// what was received must be whole and hold nothing else (checkComplete,
// beside the validation; for a world received whole, from the commits'
// replays after it, checkReplayed): every object is a commit, tree
// node or value of the received commits, and every value the new commits'
// trees hold is received, held here already, or listed as withheld. The
// first failure fails the whole call, naming the commit or object, and
// nothing is stored. Then, in one atomic batch, the objects are stored,
// the withheld values the home lacks are recorded (World.Withheld), and
// branch ("" : the current branch) moves to in.Head (fast-forward), or to
// the deterministic merge of its head and in.Head if they diverged.
func (w *World) Receive(ctx context.Context, in Incoming, branch string) (ReceiveResult, error) {
	op := errs.Op("cdb.Receive")
	if branch == "" {
		branch = w.Branch()
	}
	res, err := w.h.receive(ctx, w, "", in, branch)
	if err != nil {
		return ReceiveResult{}, w.h.recordWrite(nil, "receive", w.id, in.Head, errs.E(op, err))
	}
	w.h.notify(w.id)
	return res, w.h.recordWrite(nil, "receive", w.id, in.Head, nil)
}

// ReceiveWorld is Receive for a world the home does not hold: the genesis
// commit of the head's history must be in in.Objects; the world is
// created under name, its branch main at the head. errs.Exist if the name
// is taken or the home holds the world already.
func (h *Home) ReceiveWorld(ctx context.Context, name string, in Incoming) (*World, ReceiveResult, error) {
	op := errs.Op("cdb.ReceiveWorld")
	if err := validWorldName(name); err != nil {
		return nil, ReceiveResult{}, errs.E(op, err)
	}
	res, err := h.receive(ctx, nil, name, in, DefaultBranch)
	if err != nil {
		return nil, ReceiveResult{}, h.recordWrite(nil, "receive", coda.ID{}, in.Head, errs.E(op, err))
	}
	w, err := h.World(name)
	if err != nil {
		return nil, ReceiveResult{}, errs.E(op, err)
	}
	return w, res, h.recordWrite(nil, "receive", w.id, in.Head, nil)
}

// receive validates and stores objs up to head into w's branch, or (w nil)
// into a new world named name.
func (h *Home) receive(ctx context.Context, w *World, name string, in Incoming, branch string) (ReceiveResult, error) {
	objs, head := in.Objects, in.Head
	if !in.Summed {
		if err := checkIDs(objs); err != nil {
			return ReceiveResult{}, err
		}
	}
	// The objects go into the batch beside the checks, from the start; it
	// is committed only if they all pass.
	b := newReceiveBatch(h.store, in)
	defer b.Discard()
	// The objects in id order, found by id (indexObjects): made beside
	// the checks, by the goroutine filling the batch in that order.
	var idx *objIndex
	idxDone := make(chan struct{})
	putErr := make(chan error, 1)
	go func() {
		idx = indexObjects(in)
		close(idxDone)
		putErr <- putObjects(b, idx)
	}()
	waitPut := sync.OnceValue(func() error { return <-putErr })
	defer waitPut() // before Discard
	// The commits received, decoded on demand; commits the home holds are
	// read from the store.
	// load is safe for concurrent use: checkComplete runs beside the
	// validation of merges.
	decode := func(id coda.ID, b []byte) (*Commit, error) {
		c, err := h.schema.decode(b)
		if err == nil {
			err = h.schema.fill(c, func(id coda.ID) ([]byte, error) {
				if g, ok := objs[id]; ok {
					return g, nil
				}
				return h.store.Get(id)
			})
		}
		if err != nil {
			return nil, errs.E(errs.Invalid, fmt.Errorf("commit %s: %w", id, err))
		}
		return c, nil
	}
	// Every received object of the commit schema is decoded at once, on
	// every core; a failure counts only if the commit is loaded.
	var cids []coda.ID
	if in.Commits != nil {
		for _, id := range in.Commits {
			if _, ok := objs[id]; ok {
				cids = append(cids, id)
			}
		}
	} else {
		for id, b := range objs {
			if schemaOf(b) == h.schema.signed.ID {
				cids = append(cids, id)
			}
		}
	}
	cs, cerrs := make([]*Commit, len(cids)), make([]error, len(cids))
	parallel(len(cids), 1, func(i int) { cs[i], cerrs[i] = decode(cids[i], objs[cids[i]]) })
	decoded := make(map[coda.ID]*Commit, len(cids))
	undecodable := map[coda.ID]error{}
	for i, id := range cids {
		if cerrs[i] != nil {
			undecodable[id] = cerrs[i]
		} else {
			decoded[id] = cs[i]
		}
	}
	var loadMu sync.Mutex
	load := func(id coda.ID) (*Commit, error) {
		loadMu.Lock()
		defer loadMu.Unlock()
		if c, ok := decoded[id]; ok {
			return c, nil
		}
		if err, ok := undecodable[id]; ok {
			return nil, err
		}
		if b, ok := objs[id]; ok {
			c, err := decode(id, b)
			if err != nil {
				return nil, err
			}
			decoded[id] = c
			return c, nil
		}
		if w == nil {
			return nil, errs.E(errs.Invalid, fmt.Sprintf("commit %s is missing", id))
		}
		c, err := w.commit(id)
		if errs.Is(err, errs.NotExist) {
			return nil, errs.E(errs.Invalid, fmt.Sprintf("commit %s is missing: %v", id, err))
		}
		return c, err
	}
	known := func(id coda.ID) (bool, error) {
		if w == nil {
			return false, nil
		}
		if _, err := w.commit(id); err == nil {
			return true, nil
		} else if !errs.Is(err, errs.NotExist) {
			return false, err
		}
		return false, nil
	}
	// The new commits: reachable from head, not held.
	var fresh []*Commit
	seen := map[coda.ID]bool{}
	stack := []coda.ID{head}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		k, err := known(id)
		if err != nil {
			return ReceiveResult{}, err
		}
		if k {
			continue
		}
		c, err := load(id)
		if err != nil {
			return ReceiveResult{}, err
		}
		fresh = append(fresh, c)
		stack = append(stack, c.Parents...)
	}
	world := coda.ID{}
	if w != nil {
		world = w.id
	} else {
		for _, c := range fresh {
			if c.IsGenesis() {
				world = c.ID
			}
		}
		if world.IsZero() {
			return ReceiveResult{}, errs.E(errs.Invalid, "no genesis commit in what was received")
		}
		if _, err := h.store.GetRef(worldRef(name)); err == nil {
			return ReceiveResult{}, errs.E(errs.Exist, fmt.Sprintf("world %q already exists", name))
		}
		if infos, err := h.Worlds(); err == nil {
			for _, i := range infos {
				if i.ID == world {
					return ReceiveResult{}, errs.E(errs.Exist, fmt.Sprintf("the home holds world %s already, as %q", world, i.Name))
				}
			}
		}
	}
	// The opaque subtrees: recorded here, and those the sender names.
	var revalidated int
	opq := map[string]bool{}
	if w != nil {
		recorded, err := h.opaqueSubtrees(world)
		if err != nil {
			return ReceiveResult{}, err
		}
		for p := range recorded {
			opq[p] = true
		}
	}
	if len(in.Opaque) > 0 && len(in.Maker) != ed25519.PublicKeySize {
		return ReceiveResult{}, errs.E(errs.Invalid, "opaque subtrees listed without the key of their maker")
	}
	for _, p := range in.Opaque {
		segs, err := tree.SplitPath(p)
		if err != nil || len(segs) == 0 || p != tree.JoinPath(segs) {
			return ReceiveResult{}, errs.E(errs.Invalid, errs.Path(p), "an opaque subtree that is not a canonical path below the root")
		}
		if segs[0] == "sys" {
			// Rights evaluation reads the groups: /sys always travels.
			return ReceiveResult{}, errs.E(errs.Invalid, errs.Path(p), "/sys and what is under it are never opaque")
		}
		if len(opaquePrefix(world))+len(p) > store.MaxRefName {
			return ReceiveResult{}, errs.E(errs.Invalid, errs.Path(p), fmt.Sprintf("an opaque subtree path longer than %d bytes cannot be recorded", store.MaxRefName-len(opaquePrefix(world))))
		}
		opq[p] = true
	}
	order := topoOrder(fresh)
	// Validate every commit, parents first, reading objs over the store;
	// trees recomputed go to memory only.
	// The received objects are read over the store, their decoded nodes
	// cached for every commit's checks (a cache of their own: they may
	// yet be refused).
	rs := &received{objs: objs, s: h.cstore, nodes: tree.NewNodeCache(receivedNodeBytes)}
	vs := newStaging(rs, nil)
	env := ValidateEnv{Store: vs, World: world, Now: h.clock.Wall(), Skew: h.skew,
		MergeBase: func(a, b coda.ID) (coda.ID, error) {
			c, err := mergeBaseWith(load, a, b)
			if err != nil || c == nil {
				return coda.ID{}, err
			}
			return c.Tree, nil
		}, Derive: h.derive}
	if len(opq) > 0 {
		env.Opaque = func(p string) bool { return opq[p] }
		env.OpaquePaths = func() []string { return slices.Sorted(maps.Keys(opq)) }
	}
	if p := h.policy; p != nil {
		env.Rights = func(c *Commit, parents []*Commit) error { return p.CheckCommit(vs, c, parents) }
		env.MayRead = func(root coda.ID, dir string) bool {
			return p.ReadFilter(vs, world, root, h.key.Public)(dir + "/")
		}
	}
	h.callHook(&env, vs)
	isFresh := make(map[coda.ID]bool, len(fresh))
	for _, c := range fresh {
		isFresh[c.ID] = true
	}
	// Where nothing is opaque and every received commit is a signed one
	// new here, their replays tell which received nodes each needs, and
	// checkComplete's diffs are not needed to judge what was received
	// (checkReplayed).
	replay := len(opq) == 0 && replayable(objs, head, fresh, isFresh)
	var (
		madeMu sync.Mutex
		made   = make(map[coda.ID][]coda.ID, len(fresh))
	)
	if replay {
		env.replayed = func(c *Commit, nodes []coda.ID) {
			madeMu.Lock()
			made[c.ID] = nodes
			madeMu.Unlock()
		}
	}
	jobs := make([]validation, len(order))
	var maxT hlc.Time
	calls := false
	for i, c := range order {
		parents := make([]*Commit, len(c.Parents))
		for i, p := range c.Parents {
			pc, err := load(p)
			if err != nil {
				return ReceiveResult{}, errs.E(errs.Invalid, fmt.Errorf("commit %s: parent: %w", c.ID, err))
			}
			parents[i] = pc
		}
		jobs[i] = validation{c: c, parents: parents}
		maxT = max(maxT, c.Time)
		calls = calls || c.Call != nil
	}
	// What was received must be whole (checkComplete): checked beside the
	// validation, which it does not depend on; its verdict counts only
	// if every commit is valid, as if it ran after.
	var (
		record      []coda.ID
		completeErr error
		complete    = make(chan struct{})
	)
	// It reads shallow copies of the commits: Verify rewrites a commit's
	// OpGroups (with equal ones) while it checks the signature.
	snap := make(map[coda.ID]*Commit, len(decoded))
	for id, c := range decoded {
		cp := *c
		snap[id] = &cp
	}
	cload := func(id coda.ID) (*Commit, error) {
		if c, ok := snap[id]; ok {
			return c, nil
		}
		return load(id)
	}
	if replay {
		close(complete) // checked after the validation, from its replays
	} else {
		go func() {
			defer close(complete)
			record, completeErr = h.checkComplete(world, in, isFresh, cload, opq)
		}()
	}
	// Every commit is validated against its parents as received, so the
	// commits need not wait for each other: any invalid one refuses all.
	// Calls re-execute programs over vs, which they may write: commits
	// with calls are validated one after the other.
	workers := cores()
	if calls {
		workers = 1
	}
	err := validateAll(ctx, env, jobs, workers)
	<-complete
	if err != nil {
		return ReceiveResult{}, err
	}
	if replay {
		<-idxDone
		if record, completeErr = h.checkReplayed(world, in, fresh, made, idx); completeErr != nil {
			// The verdict, and the object to name, are the diffs'.
			record, completeErr = h.checkComplete(world, in, isFresh, cload, opq)
		}
	}
	// After checkComplete: it verifies commits checkComplete may read.
	if revalidated, err = h.revalidate(ctx, w, env, objs, load); err != nil {
		return ReceiveResult{}, err
	}
	if completeErr != nil {
		return ReceiveResult{}, completeErr
	}
	// Store everything and move the branch, in one batch (its objects
	// were put beside the checks).
	if err := waitPut(); err != nil {
		return ReceiveResult{}, err
	}
	// Withheld values: recorded if the home lacks them, forgotten once
	// they arrive.
	held, err := h.store.ListRefs(withheldPrefix(world))
	if err != nil {
		return ReceiveResult{}, err
	}
	for _, r := range held {
		id, err := coda.ParseID(strings.TrimPrefix(r.Name, withheldPrefix(world)))
		if err != nil {
			continue
		}
		if _, ok := objs[id]; ok {
			if err := b.DeleteRef(r.Name); err != nil {
				return ReceiveResult{}, err
			}
		}
	}
	for _, id := range record {
		if err := b.SetRef(withheldPrefix(world)+id.String(), coda.ID(in.Maker)); err != nil {
			return ReceiveResult{}, err
		}
	}
	recordedOpaque := map[string]ed25519.PublicKey{}
	if w != nil {
		if recordedOpaque, err = h.opaqueSubtrees(world); err != nil {
			return ReceiveResult{}, err
		}
	}
	for _, p := range in.Opaque {
		if _, ok := recordedOpaque[p]; !ok {
			if err := b.SetRef(opaquePrefix(world)+p, coda.ID(in.Maker)); err != nil {
				return ReceiveResult{}, err
			}
		}
	}
	res := ReceiveResult{Commits: len(fresh), Objects: len(objs), Withheld: len(record), Head: head, Revalidated: revalidated}
	if w == nil {
		if err := b.SwapRef(worldRef(name), coda.ID{}, world); err != nil {
			return ReceiveResult{}, err
		}
		if err := b.SwapRef(headRef(world, branch), coda.ID{}, head); err != nil {
			return ReceiveResult{}, err
		}
		res.FastForward = true
	} else {
		cur, err := w.branchHead(branch)
		if err != nil {
			return ReceiveResult{}, err
		}
		res.Head = cur
		done, err := isAncestorWith(load, head, cur)
		if err != nil {
			return ReceiveResult{}, err
		}
		ff, err := isAncestorWith(load, cur, head)
		if err != nil {
			return ReceiveResult{}, err
		}
		switch {
		case done:
		case ff:
			res.Head, res.FastForward = head, true
		default:
			hc, err := load(cur)
			if err != nil {
				return ReceiveResult{}, err
			}
			oc, err := load(head)
			if err != nil {
				return ReceiveResult{}, err
			}
			st := newStaging(vs, b)
			probe := &missing{s: st}
			mc, err := computeMerge(probe, env.MergeBase, world, []*Commit{hc, oc}, env.Derive)
			if err != nil && probe.missed && len(opq) > 0 {
				res.Waiting = true // keep both heads: a reader merges
				break
			}
			if err != nil {
				return ReceiveResult{}, err
			}
			menv := env
			menv.Store = st
			if err := ValidateCommit(menv, mc, w.parentsOf(mc, hc, oc)); err != nil {
				return ReceiveResult{}, errs.E(errs.Internal, fmt.Errorf("cdb: a merge built here fails validation: %w", err))
			}
			obj, err := h.schema.encode(mc)
			if err != nil {
				return ReceiveResult{}, err
			}
			if err := putCommit(b, mc, obj); err != nil {
				return ReceiveResult{}, err
			}
			info := mc.Info()
			res.Head, res.Merge = mc.ID, &info
			for _, k := range mc.Conflicts {
				res.Conflicts = append(res.Conflicts, tree.Conflict{Path: k.Path, Meta: k.Meta,
					Winner: entryOf(k.Winner, k.WinnerStamp), Loser: entryOf(k.Loser, k.LoserStamp)})
			}
		}
		if res.Head != cur {
			if err := b.SwapRef(headRef(world, branch), cur, res.Head); err != nil {
				return ReceiveResult{}, err
			}
		}
	}
	h.clock.Observe(maxT)
	if err := b.SetRef(clockRef, clockID(h.clock.Last())); err != nil {
		return ReceiveResult{}, err
	}
	if err := b.Commit(true); err != nil {
		return ReceiveResult{}, err
	}
	return res, nil
}

// receivedNodeBytes bounds the decoded nodes of received objects that a
// receive keeps for its checks.
const receivedNodeBytes = 64 << 20

// received is a tree.Store (and tree.CachingStore) reading the objects
// received over the home's store. Safe for concurrent use: it only reads.
type received struct {
	objs  map[coda.ID][]byte
	s     tree.Store
	nodes *tree.NodeCache // the decoded nodes of objs
}

func (r *received) Get(id coda.ID) ([]byte, error) {
	if b, ok := r.objs[id]; ok {
		return bytes.Clone(b), nil
	}
	return r.s.Get(id)
}

func (r *received) Put([]byte) (coda.ID, error) {
	return coda.ID{}, errs.E(errs.Internal, "cdb: a write to the objects received")
}

// NodeCache implements tree.CachingStore: received nodes in a cache of
// their own, the store's nodes in the store's.
func (r *received) NodeCache(id coda.ID) *tree.NodeCache {
	if _, ok := r.objs[id]; ok {
		return r.nodes
	}
	if cs, ok := r.s.(tree.CachingStore); ok {
		return cs.NodeCache(id)
	}
	return nil
}

// newReceiveBatch returns a batch of st with room for in's objects, if st
// can size one (their sizes read from in.Sorted if it has them all: a
// slice, not a map, to walk).
func newReceiveBatch(st store.Store, in Incoming) store.Batch {
	sb, ok := st.(store.SizedBatcher)
	if !ok {
		return st.NewBatch()
	}
	size := 0
	if s := in.Sorted; s != nil && len(s.Data) == len(in.Objects) {
		for _, b := range s.Data {
			size += len(b) + 48
		}
	} else {
		for _, b := range in.Objects {
			size += len(b) + 48 // the key, the entry's tag and lengths
		}
	}
	return sb.NewBatchSize(size)
}

// putObjects adds the objects of x to b, in id order: the order of the
// store's keys, which a large batch is sorted in when committed (Pebble's
// flushable batch), sorted input costing it one pass. Every id is
// coda.Sum of its bytes (checked by receive, or computed by the reader:
// Incoming.Summed): not hashed again where b can take it.
func putObjects(b store.Batch, x *objIndex) error {
	sp, summed := b.(store.SummedPutter)
	for i, id := range x.ids {
		var err error
		if summed {
			err = sp.PutSummed(id, x.data[i])
		} else {
			_, err = b.Put(x.data[i])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// objIndex is the objects received in id order, each found by its id in
// about one probe, with no hashing: ids are hashes, spread evenly over
// the 2^bits buckets of their first bits (2^bits just above their number),
// so a bucket holds one on average; start[k] is the first object of bucket
// k (the objects of bucket k are ids[start[k]:start[k+1]]). A map of 100,000
// ids costs a receive more, to fill and to read (memory, mostly), and a
// sort of them more again.
type objIndex struct {
	ids   []coda.ID
	data  [][]byte
	start []int32
	shift uint
}

// indexObjects indexes in.Objects: from in.Sorted where that can be
// taken (Summed, as many objects, ids strictly ascending), else by
// newObjIndex.
func indexObjects(in Incoming) *objIndex {
	if in.Summed && in.Sorted != nil {
		n := len(in.Objects)
		if len(in.Sorted.IDs) == n && len(in.Sorted.Data) == n {
			x := &objIndex{ids: in.Sorted.IDs, data: in.Sorted.Data}
			x.shift, x.start = indexShape(n)
			k := uint64(0)
			for i, id := range x.ids {
				if i > 0 && bytes.Compare(x.ids[i-1][:], id[:]) >= 0 {
					return newObjIndex(in.Objects)
				}
				for b := x.bucket(id); k <= b; k++ {
					x.start[k] = int32(i)
				}
			}
			for ; k < uint64(len(x.start)); k++ {
				x.start[k] = int32(n)
			}
			return x
		}
	}
	return newObjIndex(in.Objects)
}

// indexShape returns the shift and the zeroed start table of an index of
// n objects.
func indexShape(n int) (uint, []int32) {
	nb := min(max(bits.Len(uint(n)), 1), 22)
	return uint(64 - nb), make([]int32, 1<<nb+1)
}

// newObjIndex indexes objs: a counting sort by bucket, then each bucket
// (one id, mostly) sorted.
func newObjIndex(objs map[coda.ID][]byte) *objIndex {
	n := len(objs)
	x := &objIndex{ids: make([]coda.ID, n), data: make([][]byte, n)}
	x.shift, x.start = indexShape(n)
	for id := range objs {
		x.start[x.bucket(id)+1]++
	}
	for k := 1; k < len(x.start); k++ {
		x.start[k] += x.start[k-1]
	}
	next := slices.Clone(x.start[:len(x.start)-1])
	for id, b := range objs {
		k := x.bucket(id)
		x.ids[next[k]], x.data[next[k]] = id, b
		next[k]++
	}
	for k := 0; k+1 < len(x.start); k++ {
		for i := x.start[k] + 1; i < x.start[k+1]; i++ {
			for j := i; j > x.start[k] && bytes.Compare(x.ids[j-1][:], x.ids[j][:]) > 0; j-- {
				x.ids[j-1], x.ids[j] = x.ids[j], x.ids[j-1]
				x.data[j-1], x.data[j] = x.data[j], x.data[j-1]
			}
		}
	}
	return x
}

func (x *objIndex) bucket(id coda.ID) uint64 { return binary.BigEndian.Uint64(id[:8]) >> x.shift }

// findAll appends to pos the position of each of ids in x.ids (-1 if it
// is not there). It is find for many ids, which it looks up a run at a
// time, one step for all of them before the next, so that the memory
// reads of a run (ids are random: each a cache miss, mostly) overlap
// rather than follow one another.
func (x *objIndex) findAll(ids []coda.ID, pos []int32) []int32 {
	const run = 16
	var lo, hi [run]int32
	for len(ids) > 0 {
		m := min(run, len(ids))
		for j := range m {
			k := x.bucket(ids[j])
			lo[j], hi[j] = x.start[k], x.start[k+1]
		}
		for j := range m {
			p := int32(-1)
			for i := lo[j]; i < hi[j]; i++ {
				if x.ids[i] == ids[j] {
					p = i
					break
				}
			}
			pos = append(pos, p)
		}
		ids = ids[m:]
	}
	return pos
}

// find returns the position of id in x.ids, if it is there.
func (x *objIndex) find(id coda.ID) (int, bool) {
	k := x.bucket(id)
	for i := x.start[k]; i < x.start[k+1]; i++ {
		if x.ids[i] == id {
			return int(i), true
		}
	}
	return 0, false
}

// validation is one commit to validate, with its parents.
type validation struct {
	c       *Commit
	parents []*Commit
}

// validateAll validates jobs (parents first) with ValidateCommit on
// workers goroutines, and returns the error of the first invalid one in
// jobs' order, as validating them one after the other would (inOrder).
// env must be safe for concurrent use when workers > 1.
func validateAll(ctx context.Context, env ValidateEnv, jobs []validation, workers int) error {
	return inOrder(len(jobs), workers, func(_, i int) error {
		if err := ctx.Err(); err != nil {
			return errs.E(errs.Canceled, err)
		}
		return ValidateCommit(env, jobs[i].c, jobs[i].parents)
	})
}

// inOrder calls fn(worker, i) for i in [0, n) on workers goroutines
// (worker in [0, workers): the goroutine's number) and returns the error
// of the least i that failed, as calling them in order until the first
// failure would: a goroutine takes the next i in order, and none is taken
// after one that failed.
func inOrder(n, workers int, fn func(worker, i int) error) error {
	workers = max(1, min(workers, n))
	errsAt := make([]error, n)
	var next, failed atomic.Int64
	failed.Store(int64(n))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || i > failed.Load() {
					return
				}
				if err := fn(w, int(i)); err != nil {
					errsAt[i] = err
					for {
						f := failed.Load()
						if i >= f || failed.CompareAndSwap(f, i) {
							break
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f < int64(n) {
		return errsAt[f]
	}
	return nil
}

// checkIDs checks that every object of objs is named by its hash, on
// every core; a mismatch is errs.Invalid naming the least such id.
func checkIDs(objs map[coda.ID][]byte) error {
	ids := make([]coda.ID, 0, len(objs))
	for id := range objs {
		ids = append(ids, id)
	}
	bad := make([]bool, len(ids))
	parallel(len(ids), 256, func(i int) { bad[i] = coda.Sum(objs[ids[i]]) != ids[i] })
	var first *coda.ID
	for i, b := range bad {
		if b && (first == nil || bytes.Compare(ids[i][:], first[:]) < 0) {
			first = &ids[i]
		}
	}
	if first != nil {
		return errs.E(errs.Invalid, fmt.Sprintf("object %s: its bytes hash to %s", *first, coda.Sum(objs[*first])))
	}
	return nil
}

// cores is how many goroutines CPU-bound work is spread over: GOMAXPROCS,
// at most one per CPU (a node runs with a few more Ps than CPUs, for its
// goroutines blocked in fsync: internal/procs).
func cores() int { return max(1, min(runtime.GOMAXPROCS(0), runtime.NumCPU())) }

// parallel calls fn(i) for every i in [0, n), on cores() goroutines
// taking runs of run indexes in turn, and returns when all are done.
func parallel(n, run int, fn func(i int)) {
	workers := min(cores(), (n+run-1)/run)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(run))) - run
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+run, n); i++ {
					fn(i)
				}
			}
		}()
	}
	wg.Wait()
}

// topoOrder returns cs parents first (among cs), ties by (time, id).
func topoOrder(cs []*Commit) []*Commit {
	in := map[coda.ID]*Commit{}
	for _, c := range cs {
		in[c.ID] = c
	}
	children := map[coda.ID][]*Commit{}
	waiting := map[coda.ID]int{}
	var ready []*Commit
	for _, c := range cs {
		for _, p := range c.Parents {
			if in[p] != nil {
				waiting[c.ID]++
				children[p] = append(children[p], c)
			}
		}
		if waiting[c.ID] == 0 {
			ready = append(ready, c)
		}
	}
	order := func(a, b *Commit) int {
		return cmp.Or(cmp.Compare(b.Time, a.Time), bytes.Compare(b.ID[:], a.ID[:]))
	}
	out := make([]*Commit, 0, len(cs))
	for len(ready) > 0 {
		slices.SortFunc(ready, order)
		c := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		out = append(out, c)
		for _, k := range children[c.ID] {
			waiting[k.ID]--
			if waiting[k.ID] == 0 {
				ready = append(ready, k)
			}
		}
	}
	return out
}

// SetDefaultWorld makes the world named name the home's default.
func (h *Home) SetDefaultWorld(name string) error {
	if _, err := h.store.GetRef(worldRef(name)); err != nil {
		return errs.E(errs.Op("cdb.SetDefaultWorld"), err)
	}
	return h.setConfig(func(c *config) { c.DefaultWorld = name })
}

// withheldPrefix is the prefix of the refs recording the values of world
// withheld by a sender: withheld/WORLD/VALUE → the sender's key (its 32
// bytes in the ref, like clockRef's time: not an object id).
func withheldPrefix(world coda.ID) string { return "withheld/" + world.String() + "/" }

// Withheld reports whether the value id is missing from this node by
// design: commits received from elsewhere hold it but their sender, acting
// as maker, could not read it and did not send it (docs/bundle.md). ok is
// false if no received commit was missing it, or it has arrived since.
func (w *World) Withheld(id coda.ID) (maker ed25519.PublicKey, ok bool, err error) {
	k, err := w.h.store.GetRef(withheldPrefix(w.id) + id.String())
	if errs.Is(err, errs.NotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return ed25519.PublicKey(k[:]), true, nil
}

// missingValue is the error of reading the value id that the store lacks
// (err, errs.NotExist): if it was withheld by a sender, says so.
func (w *World) missingValue(id coda.ID, err error) error {
	if !errs.Is(err, errs.NotExist) {
		return err
	}
	maker, ok, werr := w.Withheld(id)
	if werr != nil || !ok {
		return err
	}
	return errs.E(errs.NotExist, fmt.Sprintf("value withheld by the bundle's maker (not readable by %s); not present on this node", KeyString(maker)))
}

// recording is a tree.Store reading received objects over the store, and
// noting which received objects were read.
type recording struct {
	objs map[coda.ID][]byte
	s    tree.Store
	used map[coda.ID]bool
	// nodes, if not nil, caches the decoded nodes of objs read through
	// this recording (so each was noted as used before it was cached).
	nodes *tree.NodeCache
}

// NodeCache implements tree.CachingStore: objs' nodes in r.nodes only
// (nil: not cached), the store's in the store's cache.
func (r *recording) NodeCache(id coda.ID) *tree.NodeCache {
	if _, ok := r.objs[id]; ok {
		return r.nodes
	}
	if cs, ok := r.s.(tree.CachingStore); ok {
		return cs.NodeCache(id)
	}
	return nil
}

func (r *recording) Get(id coda.ID) ([]byte, error) {
	if b, ok := r.objs[id]; ok {
		r.used[id] = true
		return bytes.Clone(b), nil
	}
	return r.s.Get(id)
}

func (r *recording) Put([]byte) (coda.ID, error) {
	return coda.ID{}, errs.E(errs.Internal, "cdb: a write while checking what was received")
}

// checkComplete checks that what was received is whole and holds nothing
// else, and returns the withheld values to record (those the home lacks).
// The received commits are those in in.Objects reachable from in.Head;
// what each brings is the diff of its tree against its first parent's
// (the empty tree for a genesis). Refused (errs.Invalid, naming the
// object):
//   - an object that is none of: a received commit, a tree node those
//     diffs read, a value they show in a received commit's tree;
//   - a value a new commit's diff shows that is neither received, nor
//     stored here, nor listed as withheld (nor recorded as withheld here);
//   - a withheld id that no diff shows, that was received all the same,
//     or that is listed twice; withheld ids without a 32-byte maker key.
func (h *Home) checkComplete(world coda.ID, in Incoming, fresh map[coda.ID]bool, load func(coda.ID) (*Commit, error), opq map[string]bool) ([]coda.ID, error) {
	objs := in.Objects
	withheld, err := withheldSet(in)
	if err != nil {
		return nil, err
	}
	used := make(map[coda.ID]bool, len(objs))
	var commits []*Commit
	stack := []coda.ID{in.Head}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := objs[id]; !ok || used[id] {
			continue
		}
		used[id] = true
		c, err := load(id)
		if err != nil {
			return nil, err
		}
		commits = append(commits, c)
		stack = append(stack, c.Parents...)
	}
	// held reports whether the node of the directory entry e is here
	// (received or stored): a subtree opaque elsewhere that arrives whole
	// is diffed like any other.
	held := func(e tree.Entry) bool {
		if e.Kind != tree.KindDir {
			return false
		}
		if _, ok := objs[e.ID]; ok {
			return true
		}
		ok, err := h.store.Has(e.ID)
		return err == nil && ok
	}
	recorded := map[string]bool{}
	if rec, err := h.opaqueSubtrees(world); err != nil {
		return nil, err
	} else {
		for p := range rec {
			recorded[p] = true
		}
	}
	wh := &World{h: h, id: world}
	// mayRead reports whether this node may read the directory dir in the
	// tree root (docs/sync.md, "Opaque subtrees"); reads are not noted as
	// used.
	mayRead := func(root coda.ID, dir string) bool {
		if h.policy == nil {
			return true
		}
		quiet := &recording{objs: objs, s: h.store, used: map[coda.ID]bool{}}
		return h.policy.ReadFilter(quiet, world, root, h.key.Public)(dir + "/")
	}
	// The commits are checked on every CPU, each worker noting what its
	// commits use and show; the notes are unions, merged after. The first
	// failing commit in walk order is named, as checking them one after
	// the other would. Each commit's diff reads its parent's nodes, which
	// another diff read as its own: decoded once, kept for the whole check
	// in a cache every worker shares (each node is noted as used by the
	// worker whose read put it there).
	nodes := tree.NewNodeCache(receivedNodeBytes)
	type notes struct {
		used, shown map[coda.ID]bool
		shownOpaque map[string]bool
		tr          *tree.Tree
	}
	workers := max(1, min(cores(), len(commits)))
	ns := make([]*notes, workers)
	for i := range ns {
		u := make(map[coda.ID]bool, len(objs)/workers+16)
		ns[i] = &notes{used: u, shown: map[coda.ID]bool{}, shownOpaque: map[string]bool{},
			tr: tree.New(&recording{objs: objs, s: h.cstore, used: u, nodes: nodes})}
	}
	check := func(c *Commit, n *notes) error {
		used, shown, shownOpaque, tr := n.used, n.shown, n.shownOpaque, n.tr
		base := tree.EmptyRoot
		if len(c.Parents) > 0 {
			p, err := load(c.Parents[0])
			if err != nil {
				return errs.E(errs.Invalid, fmt.Errorf("commit %s: parent: %w", c.ID, err))
			}
			base = p.Tree
		}
		var readable func(string) bool
		// lenient are the listed subtrees whose nodes are here on both
		// sides but which this node may read on neither (validation's
		// step 4' takes them unchecked): what was sent in them is used,
		// what was not is not required, and nodes not here are pruned.
		var lenient map[string]bool
		inLenient := func(p string) bool {
			for a := p; len(lenient) > 0 && a != "/" && a != ""; a = parentDir(a) {
				if lenient[a] {
					return true
				}
			}
			return false
		}
		err := tr.DiffPruned(base, c.Tree, func(p string, a, b tree.Entry) bool {
			if !opq[p] && len(lenient) == 0 {
				return false
			}
			lost := b.Kind == tree.KindDir && !held(b) || a.Kind == tree.KindDir && !held(a)
			if !opq[p] {
				return lost && inLenient(p)
			}
			// The commit changes the listed subtree p: the listing is
			// borne out, whether p is pruned here or, its nodes here and
			// readable (the maker lacked them by design), checked whole.
			shownOpaque[p] = true
			if lost {
				return true
			}
			if b.Kind == tree.KindDir && !mayRead(base, p) && !mayRead(c.Tree, p) {
				if lenient == nil {
					lenient = map[string]bool{}
				}
				lenient[p] = true
			}
			return false
		}, func(ch tree.Change) error {
			if ch.B.Kind != tree.KindValue {
				return nil
			}
			id := ch.B.ID
			if _, ok := objs[id]; ok {
				used[id] = true
				return nil
			}
			if withheld[id] {
				shown[id] = true
				return nil
			}
			if !fresh[c.ID] || inLenient(ch.Path) {
				return nil
			}
			if ok, err := h.store.Has(id); err != nil || ok {
				return err
			}
			if _, ok, err := wh.Withheld(id); err != nil || ok {
				return err
			}
			return errs.E(errs.Invalid, errs.Path(metaPath(ch.Path, ch.Meta)),
				fmt.Sprintf("value %s: neither received, nor stored here, nor listed as withheld", id))
		}, func(p string, _, _ tree.Entry) error {
			if !opq[p] {
				return nil // inside a lenient one
			}
			shownOpaque[p] = true
			if !fresh[c.ID] || recorded[p] {
				return nil
			}
			// A subtree is opaque here only if this node may read nothing
			// in it, judged on the commit's first parent: else it must
			// arrive whole. Where the parent's node of it is not here
			// (opaque already, by an earlier commit), neither is its .acl:
			// it stays opaque.
			quiet := &recording{objs: objs, s: h.store, used: map[coda.ID]bool{}}
			probe := &missing{s: quiet}
			if _, err := tree.New(probe).List(base, p); err != nil && probe.missed {
				return nil
			} else if errs.Is(err, errs.NotExist) && parentDir(p) != "/" {
				if _, perr := tree.New(probe).Get(base, parentDir(p)); errs.Is(perr, errs.NotExist) && !probe.missed {
					// Inside a directory new in this commit: there is no
					// version of it on the parent; judged on the commit's
					// tree, as the sender judged it.
					if mayRead(c.Tree, p) {
						return errs.E(errs.Unavailable, errs.Path(p), fmt.Sprintf("listed as an opaque subtree, but %s (this node) may read it: it must arrive whole, from a node that may read it", KeyString(h.key.Public)))
					}
					return nil
				}
			}
			if readable == nil {
				readable = func(string) bool { return true }
				if h.policy != nil {
					readable = h.policy.ReadFilter(quiet, world, base, h.key.Public)
				}
			}
			if readable(p + "/") {
				// Not the sender's fault if it lacks it by design (it relays
				// what it got): unavailable, to be had whole elsewhere.
				return errs.E(errs.Unavailable, errs.Path(p), fmt.Sprintf("listed as an opaque subtree, but %s (this node) may read it: it must arrive whole, from a node that may read it", KeyString(h.key.Public)))
			}
			return nil
		})
		if err != nil {
			if errs.Is(err, errs.Invalid) {
				return errs.E(errs.Invalid, fmt.Errorf("commit %s: %w", c.ID, err))
			}
			if errs.Is(err, errs.Unavailable) {
				return errs.E(errs.Unavailable, fmt.Errorf("commit %s: %w", c.ID, err))
			}
			return errs.E(errs.Invalid, fmt.Errorf("commit %s: its tree: %w", c.ID, err))
		}
		for _, g := range c.OpGroups {
			if _, ok := objs[g]; ok {
				used[g] = true
			}
		}
		for _, g := range c.Hidden {
			if withheld[g] {
				shown[g] = true
				continue
			}
			if !fresh[c.ID] {
				continue
			}
			if _, ok, err := wh.Withheld(g); err != nil {
				return err
			} else if !ok {
				return errs.E(errs.Invalid, fmt.Sprintf("commit %s: op group %s: neither received, nor stored here, nor listed as withheld", c.ID, g))
			}
		}
		return checkCallObjects(wh, c, objs, used, withheld, fresh[c.ID])
	}
	if err := inOrder(len(commits), workers, func(w, i int) error { return check(commits[i], ns[w]) }); err != nil {
		return nil, err
	}
	shown := map[coda.ID]bool{}
	shownOpaque := map[string]bool{}
	for _, n := range ns {
		for id := range n.used {
			used[id] = true
		}
		for id := range n.shown {
			shown[id] = true
		}
		for p := range n.shownOpaque {
			shownOpaque[p] = true
		}
	}
	var unused []coda.ID
	for id := range objs {
		if !used[id] {
			unused = append(unused, id)
		}
	}
	if len(unused) > 0 {
		// The least id, whatever order the map gives.
		id := slices.MinFunc(unused, func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) })
		return nil, errs.E(errs.Invalid, fmt.Sprintf("object %s is none of the received commits, their tree nodes or their values", id))
	}
	for _, p := range in.Opaque {
		if !shownOpaque[p] {
			return nil, errs.E(errs.Invalid, errs.Path(p), "listed as an opaque subtree but no received commit's tree changes it")
		}
	}
	return h.withheldToRecord(in, shown)
}

// withheldSet returns in.Withheld as a set, checking it (checkComplete).
func withheldSet(in Incoming) (map[coda.ID]bool, error) {
	if len(in.Withheld) > 0 && len(in.Maker) != ed25519.PublicKeySize {
		return nil, errs.E(errs.Invalid, "withheld values listed without the key of their maker")
	}
	withheld := make(map[coda.ID]bool, len(in.Withheld))
	for _, id := range in.Withheld {
		if withheld[id] {
			return nil, errs.E(errs.Invalid, fmt.Sprintf("value %s is listed as withheld twice", id))
		}
		if _, ok := in.Objects[id]; ok {
			return nil, errs.E(errs.Invalid, fmt.Sprintf("value %s is listed as withheld and sent all the same", id))
		}
		withheld[id] = true
	}
	return withheld, nil
}

// withheldToRecord checks that the received commits show (shown) every
// value listed as withheld, and returns those the home lacks.
func (h *Home) withheldToRecord(in Incoming, shown map[coda.ID]bool) ([]coda.ID, error) {
	var record []coda.ID
	for _, id := range in.Withheld {
		ok, err := h.store.Has(id)
		if err != nil {
			return nil, err
		}
		if ok {
			// Held here already (a maker that lacks it relays what it
			// got, and this node wrote it or got it whole elsewhere):
			// nothing to record, whatever the listing.
			continue
		}
		if !shown[id] {
			return nil, errs.E(errs.Invalid, fmt.Sprintf("value %s is listed as withheld but no received commit's tree holds it", id))
		}
		record = append(record, id)
	}
	return record, nil
}

// replayable reports whether checkReplayed may judge what was received:
// every received commit (those of objs reachable from head through objs,
// as checkComplete walks them) is new here (fresh, every commit reachable
// from head that the home lacks) with nothing withheld, and its parents
// are among them or it is the genesis — a world received whole, as a
// clone receives it. Then every node a commit's diff reads on its
// parent's side is a node of a received commit's tree, which some
// commit's replay made or a merge's diff read (checkReplayed); a sender
// of a history that starts at a commit held here sends the nodes its diff
// read of that commit's tree too, which no replay made.
func replayable(objs map[coda.ID][]byte, head coda.ID, fresh []*Commit, isFresh map[coda.ID]bool) bool {
	if _, ok := objs[head]; !ok || !isFresh[head] {
		return false
	}
	for _, c := range fresh {
		if c.Opaque() {
			return false
		}
		if _, ok := objs[c.ID]; !ok {
			return false
		}
		for _, p := range c.Parents {
			if !isFresh[p] {
				return false
			}
		}
	}
	return true
}

// indexReads is a tree.Store reading the objects received (idx) over the
// store, marking those read in used (a bitmap of idx's objects).
type indexReads struct {
	idx  *objIndex
	used []uint64
	s    tree.Store
}

func (r *indexReads) Get(id coda.ID) ([]byte, error) {
	if i, ok := r.idx.find(id); ok {
		r.used[i>>6] |= 1 << (i & 63)
		return bytes.Clone(r.idx.data[i]), nil
	}
	return r.s.Get(id)
}

func (r *indexReads) Put([]byte) (coda.ID, error) {
	return coda.ID{}, errs.E(errs.Internal, "cdb: a write while checking what was received")
}

// errNotReplayed is checkReplayed's answer when it cannot judge: the
// diffs of checkComplete do, and name the object.
var errNotReplayed = errs.E(errs.Invalid, "cdb: what was received is not judged by the replays")

// checkReplayed is checkComplete where nothing is opaque and the
// received commits are a history from its genesis, each new here
// (replayable), that validation checked, each valid: made holds, by
// signed commit, the nodes of its tree its replay made and did not read
// (tree.ApplyDryNew). Those are the nodes of its tree its parent's tree
// lacks, each read by the commit's diff against its first parent; a
// merge, which validation recomputes rather than replays, has its diff
// walked as checkComplete walks it, reading the same nodes. So the nodes
// those diffs read, on either side, are the nodes made and the merges'
// (a parent's tree is a received commit's, or the empty tree). And the
// values a signed commit's diff shows are its ops' (a replay that gives
// the commit's tree changes exactly the leaves of its ops, each to an
// entry stamped with the commit's stamp, which no leaf of its parent's
// tree holds). So this checks what checkComplete checks, with no diff
// but the merges': every object received is a received commit, a node one
// of them made or a merge's diff read, a value one of their ops puts or a
// merge's diff shows, an op group or call object of theirs; every such
// value is received, stored here, listed as withheld or recorded as
// such. It does not name what fails (errNotReplayed, or an error of the
// store): checkComplete is run then, for the verdict.
func (h *Home) checkReplayed(world coda.ID, in Incoming, commits []*Commit, made map[coda.ID][]coda.ID, idx *objIndex) ([]coda.ID, error) {
	withheld, err := withheldSet(in)
	if err != nil {
		return nil, err
	}
	wh := &World{h: h, id: world}
	// Every worker marks what its commits use in a bitmap of idx's
	// objects; the unions are merged after.
	type notes struct {
		used  []uint64
		shown map[coda.ID]bool
		ids   []coda.ID // looked up by findAll
		pos   []int32
	}
	workers := max(1, min(cores(), len(commits)))
	ns := make([]*notes, workers)
	for i := range ns {
		ns[i] = &notes{used: make([]uint64, (len(idx.ids)+63)/64), shown: map[coda.ID]bool{}}
	}
	mark := func(n *notes, id coda.ID) bool {
		i, ok := idx.find(id)
		if ok {
			n.used[i>>6] |= 1 << (i & 63)
		}
		return ok
	}
	// markAll marks those of ids in idx and returns the others.
	markAll := func(n *notes, ids []coda.ID) []coda.ID {
		n.pos = idx.findAll(ids, n.pos[:0])
		var missing []coda.ID
		for j, i := range n.pos {
			if i < 0 {
				missing = append(missing, ids[j])
				continue
			}
			n.used[i>>6] |= 1 << (i & 63)
		}
		return missing
	}
	// value checks a value a commit's tree shows, not received: withheld,
	// stored here, or recorded as withheld.
	value := func(n *notes, id coda.ID) error {
		if withheld[id] {
			n.shown[id] = true
			return nil
		}
		if ok, err := h.store.Has(id); err != nil || ok {
			return err
		}
		if _, ok, err := wh.Withheld(id); err != nil || !ok {
			return cmp.Or(err, errNotReplayed)
		}
		return nil
	}
	byID := make(map[coda.ID]*Commit, len(commits))
	for _, c := range commits {
		byID[c.ID] = c
	}
	// diff is checkComplete's check of a merge commit (validation
	// recomputes merges: no replay reports their nodes), nothing opaque.
	diff := func(c *Commit, n *notes) error {
		p := byID[c.Parents[0]]
		if p == nil {
			return errNotReplayed
		}
		tr := tree.New(&indexReads{idx: idx, used: n.used, s: h.cstore})
		err := tr.Diff(p.Tree, c.Tree, func(ch tree.Change) error {
			if ch.B.Kind != tree.KindValue || mark(n, ch.B.ID) {
				return nil
			}
			return value(n, ch.B.ID)
		})
		if err != nil && !errs.Is(err, errs.Internal) {
			return errNotReplayed // the diffs name it
		}
		return err
	}
	check := func(c *Commit, n *notes) error {
		if c.Opaque() || !mark(n, c.ID) {
			return errNotReplayed
		}
		if c.IsMerge() {
			if err := diff(c, n); err != nil {
				return err
			}
		} else {
			nodes, ok := made[c.ID]
			if !ok {
				return errNotReplayed
			}
			for _, id := range markAll(n, nodes) {
				if ok, err := h.store.Has(id); err != nil || !ok {
					return cmp.Or(err, errNotReplayed)
				}
			}
			n.ids = n.ids[:0]
			for _, o := range c.Ops {
				if !o.Delete {
					n.ids = append(n.ids, o.ID)
				}
			}
			for _, id := range markAll(n, n.ids) {
				if err := value(n, id); err != nil {
					return err
				}
			}
		}
		markAll(n, c.OpGroups)
		if c.Call != nil || len(c.CallObjects()) > 0 {
			used := map[coda.ID]bool{}
			if err := checkCallObjects(wh, c, in.Objects, used, withheld, true); err != nil {
				return err
			}
			for id := range used {
				mark(n, id)
			}
		}
		return nil
	}
	if err := inOrder(len(commits), workers, func(w, i int) error { return check(commits[i], ns[w]) }); err != nil {
		return nil, err
	}
	used, shown := ns[0].used, ns[0].shown
	for _, n := range ns[1:] {
		for i, u := range n.used {
			used[i] |= u
		}
		maps.Copy(shown, n.shown)
	}
	for i, u := range used {
		want := ^uint64(0)
		if rest := len(idx.ids) - 64*i; rest < 64 {
			want = 1<<rest - 1
		}
		if u != want {
			return nil, errNotReplayed // an object no commit uses
		}
	}
	return h.withheldToRecord(in, shown)
}

// opaquePrefix is the prefix of the refs recording the opaque subtrees of
// world (docs/sync.md): opaque/WORLD/PATH → the key of the sender that did
// not send their nodes (its 32 bytes, like withheldPrefix's).
func opaquePrefix(world coda.ID) string { return "opaque/" + world.String() }

// opaqueSubtrees returns the opaque subtrees recorded for world, by path,
// with the key of the maker that left them out.
func (h *Home) opaqueSubtrees(world coda.ID) (map[string]ed25519.PublicKey, error) {
	refs, err := h.store.ListRefs(opaquePrefix(world) + "/")
	if err != nil {
		return nil, err
	}
	out := make(map[string]ed25519.PublicKey, len(refs))
	for _, r := range refs {
		out[strings.TrimPrefix(r.Name, opaquePrefix(world))] = ed25519.PublicKey(r.ID[:])
	}
	return out, nil
}

// OpaqueSubtrees returns the directories of the world whose tree nodes
// this node lacks by design (docs/sync.md, "Opaque subtrees"), by path,
// with the key of the sender that left them out: that key may read
// nothing in them. Their entries in their parents' nodes are here.
func (w *World) OpaqueSubtrees() (map[string]ed25519.PublicKey, error) {
	return w.h.opaqueSubtrees(w.id)
}

// missing is a tree.Store that notes whether a read found nothing.
type missing struct {
	s      tree.Store
	missed bool
}

func (m *missing) Get(id coda.ID) ([]byte, error) {
	b, err := m.s.Get(id)
	if errs.Is(err, errs.NotExist) {
		m.missed = true
	}
	return b, err
}

func (m *missing) Put(b []byte) (coda.ID, error) { return m.s.Put(b) }

// opaqueRead is the error of reading path when the tree read failed with
// err: a node missing under a subtree recorded as opaque here (its nodes
// were not sent to this node, by design) is errs.NotExist, saying so.
func (w *World) opaqueRead(path string, err error) error {
	if !errs.Is(err, errs.Corrupt) || !strings.Contains(err.Error(), "missing from the store") {
		return err
	}
	opq, oerr := w.OpaqueSubtrees()
	if oerr != nil || len(opq) == 0 {
		return err
	}
	segs, serr := tree.SplitPath(path)
	if serr != nil {
		return err
	}
	for i := 1; i <= len(segs); i++ {
		p := tree.JoinPath(segs[:i])
		if maker, ok := opq[p]; ok {
			return errs.E(errs.NotExist, fmt.Sprintf("inside the opaque subtree %s, whose nodes were not sent to this node (%s may read nothing in it); not present on this node", p, KeyString(maker)))
		}
	}
	return err
}

// revalidate validates fully, parents first, the commits held in w with
// opaque parts (accepted without their withheld op groups) that arrive
// whole in objs, from a sender that may read them: the first invalid one
// fails the receive, naming it. One whose check needs a node still not
// here (its parent's subtree) is left as it was. It returns how many were
// validated.
func (h *Home) revalidate(ctx context.Context, w *World, env ValidateEnv, objs map[coda.ID][]byte, load func(coda.ID) (*Commit, error)) (int, error) {
	if w == nil {
		return 0, nil
	}
	var whole []*Commit
	for id, b := range objs {
		if schemaOf(b) != h.schema.signed.ID {
			continue
		}
		held, err := w.commit(id)
		if err != nil || !held.Opaque() {
			continue
		}
		c, err := load(id)
		if err != nil {
			return 0, err
		}
		if !c.Opaque() {
			whole = append(whole, c)
		}
	}
	n := 0
	for _, c := range topoOrder(whole) {
		if err := ctx.Err(); err != nil {
			return 0, errs.E(errs.Canceled, err)
		}
		parents := make([]*Commit, len(c.Parents))
		for i, p := range c.Parents {
			pc, err := load(p)
			if err != nil {
				return 0, errs.E(errs.Invalid, fmt.Errorf("commit %s: parent: %w", c.ID, err))
			}
			parents[i] = pc
		}
		probe := &missing{s: env.Store}
		penv := env
		penv.Store, penv.Now = probe, 0
		if p := h.policy; p != nil {
			penv.Rights = func(c *Commit, parents []*Commit) error { return p.CheckCommit(probe, c, parents) }
		}
		h.callHook(&penv, probe)
		err := ValidateCommit(penv, c, parents)
		if err != nil && probe.missed {
			continue // its parent's subtree is not here yet
		}
		if err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}
