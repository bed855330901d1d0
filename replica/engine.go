// Package replica keeps a home's worlds in sync with its peers over
// /coal/sync/1.0.0 (docs/sync.md): on connect, each side tells the other
// the heads of every branch of the worlds it may see; new heads are
// announced as they appear; a head a node does not hold is pulled — an incremental bundle
// (package bundle) made by the sender as the puller's key, so that only
// what the puller may read travels — and validated whole by
// cdb.World.Receive before anything is stored; diverged heads merge
// deterministically inside Receive, so every node converges on the same
// root, per branch. A peer that sends invalid data is reported to
// Options.OnInvalid.
package replica

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/bundle"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/ctp"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Protocol is the protocol id of world sync.
const Protocol = relay.Sync

// DefaultMaxPull bounds the bytes of one pull's answer (Options.MaxPull).
const DefaultMaxPull = 1 << 30

// Options configure an Engine. The zero value is usable.
type Options struct {
	// OnInvalid is told of a peer that sent invalid data (a forged or
	// invalid commit, an object that is not what it claims, a malformed or
	// oversized message); the swarm disconnects it and remembers it. Nil:
	// the engine closes the peer's connections. Either way the engine
	// ignores the peer afterwards.
	OnInvalid func(peer.ID, error)
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Accept reports whether to take a world the home does not hold when a
	// peer offers it (its id); nil takes every world.
	Accept func(world coda.ID) bool
	// MaxPull bounds the bytes of one pull's answer; 0: DefaultMaxPull.
	MaxPull int64
	// Relay configures the streams (message size bound, idle timeout).
	Relay relay.Options
	// OnValue, if set, observes every value a pull's answer shows to peer:
	// its path and whether its bytes were sent (false: withheld).
	OnValue func(p peer.ID, world coda.ID, path string, sent bool)
	// Progress, if set, is told of the bytes of a pull's answer received
	// so far.
	Progress func(p peer.ID, world coda.ID, bytes int64)
	// Fetcher, if set, fetches the large values (stored as chunks) that
	// pulls leave out of their answers, over CTP from every peer that has
	// the world, striped (a *ctp.Client). Nil: large values travel inside
	// the answers.
	Fetcher Fetcher
	// MergeDelay is how long a node whose head's id is the greater of two
	// diverged heads waits for the other side to merge them before it
	// merges them itself (docs/sync.md, "Merge"); 0: DefaultMergeDelay.
	MergeDelay time.Duration
	// ReuseBytes bounds the memory of the first-clone answers kept for
	// later pullers whose view is the same (bundle.Reuse, docs/sync.md,
	// "Bundle reuse"); 0: bundle.DefaultReuseBytes; negative: none kept.
	ReuseBytes int64
}

// Fetcher fetches one value over CTP into st (ctp.Client.FetchValue).
type Fetcher interface {
	FetchValue(ctx context.Context, peers []peer.ID, w ctp.Want, id coda.ID, st store.Store) error
}

// JoinFetcher is a Fetcher that takes peers joining a running fetch
// (ctp.Client.FetchValueJoin): a large value's fetch also stripes over the
// peers that announce heads of its world while it runs.
type JoinFetcher interface {
	Fetcher
	FetchValueJoin(ctx context.Context, peers []peer.ID, more <-chan peer.ID, w ctp.Want, id coda.ID, st store.Store) error
}

// LargeValue is the size over which a puller with a Fetcher asks that
// values be left to CTP: the values the store keeps as chunks.
const LargeValue = store.ChunkThreshold

// DefaultMergeDelay is Options.MergeDelay's default.
const DefaultMergeDelay = 2 * time.Second

// Engine syncs a home's worlds with the peers of a libp2p host. It is safe
// for concurrent use. Close it when done (the home and host stay open).
type Engine struct {
	home *cdb.Home
	host host.Host
	opts Options
	log  *slog.Logger
	self ed25519.PublicKey

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	peers map[peer.ID]*peerState
	bad   map[peer.ID]bool
	// joins are the running large-value fetches of each world (fetchLarge):
	// a peer that announces a head of the world is sent on each.
	joins  map[coda.ID]map[chan peer.ID]bool
	worlds map[coda.ID]*worldState
	notify *network.NotifyBundle
	reuse  *bundle.Reuse // nil: none kept
}

// peerState is what the engine knows of a peer (under Engine.mu).
type peerState struct {
	key   ed25519.PublicKey
	heads map[coda.ID]map[string]coda.ID // world → branch → the peer's head
	seen  time.Time                      // when heads last arrived
	stats PeerStats
	err   string // the last failure with this peer
}

// PeerStats counts the traffic with one peer.
type PeerStats struct {
	PullsServed   int   `json:"pulls_served"`
	PullsReused   int   `json:"pulls_reused"` // of those, answered with a first clone's bundle kept (bundle.Reuse)
	ObjectsSent   int   `json:"objects_sent"`
	BytesSent     int64 `json:"bytes_sent"`
	WithheldSent  int   `json:"withheld_sent"` // values withheld from the peer: it may not read them
	Pulls         int   `json:"pulls"`
	CommitsRecv   int   `json:"commits_received"`
	ObjectsRecv   int   `json:"objects_received"`
	BytesRecv     int64 `json:"bytes_received"`
	InvalidAnswer int   `json:"invalid"`
}

// worldState serializes the sync of one world.
type worldState struct {
	mu        sync.Mutex
	pending   atomic.Bool
	announced map[string]coda.ID // the branch heads last announced (under Engine.mu)
	cancel    func()             // stops the home subscription
	retry     bool               // a pull failed for a reason that may pass (under Engine.mu)
	// waits holds the divergences this node leaves to the other side to
	// merge, since when (under Engine.mu).
	waits map[[2]coda.ID]time.Time
}

// New starts an engine: it serves /coal/sync/1.0.0 on h, greets every
// connected peer and every peer that connects later, and announces the
// new heads of home's worlds.
func New(home *cdb.Home, h host.Host, opts Options) (*Engine, error) {
	if err := loadSchemas(); err != nil {
		return nil, err
	}
	if opts.MaxPull <= 0 {
		opts.MaxPull = DefaultMaxPull
	}
	if opts.MergeDelay <= 0 {
		opts.MergeDelay = DefaultMergeDelay
	}
	if opts.ReuseBytes == 0 {
		opts.ReuseBytes = bundle.DefaultReuseBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{home: home, host: h, opts: opts, log: log, self: home.NodeKey().Public, ctx: ctx, cancel: cancel,
		peers: map[peer.ID]*peerState{}, bad: map[peer.ID]bool{}, worlds: map[coda.ID]*worldState{}, reuse: bundle.NewReuse(opts.ReuseBytes)}
	h.SetStreamHandler(protocol.ID(Protocol), e.handle)
	e.notify = &network.NotifyBundle{
		ConnectedF:    func(_ network.Network, c network.Conn) { e.connected(c.RemotePeer()) },
		DisconnectedF: func(n network.Network, c network.Conn) { e.disconnected(n, c.RemotePeer()) },
	}
	h.Network().Notify(e.notify)
	e.watchWorlds()
	e.wg.Add(1)
	go e.loop()
	for _, p := range h.Network().Peers() {
		e.connected(p)
	}
	return e, nil
}

// linked reports whether c is a connection sync runs over: a direct one
// or a relayed one (network.Limited: swarm opens coal's streams over
// relayed connections, docs/swarm.md §8).
func linked(c network.Connectedness) bool {
	return c == network.Connected || c == network.Limited
}

// disconnected forgets what p told us once no connection to it is left,
// direct or relayed.
func (e *Engine) disconnected(n network.Network, p peer.ID) {
	if linked(n.Connectedness(p)) {
		return
	}
	e.mu.Lock()
	delete(e.peers, p)
	e.mu.Unlock()
}

// Close stops the engine: no more streams are served or opened, and the
// syncs under way are canceled.
func (e *Engine) Close() error {
	e.host.RemoveStreamHandler(protocol.ID(Protocol))
	e.host.Network().StopNotify(e.notify)
	e.cancel()
	e.mu.Lock()
	for _, ws := range e.worlds {
		if ws.cancel != nil {
			ws.cancel()
		}
	}
	e.mu.Unlock()
	e.wg.Wait()
	return nil
}

// spawn runs f in a goroutine the engine waits for on Close.
func (e *Engine) spawn(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx.Err() != nil {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		f()
	}()
}

// connected greets a peer that connected: a Heads exchange.
func (e *Engine) connected(p peer.ID) {
	if p == e.host.ID() {
		return
	}
	e.spawn(func() {
		if err := e.exchange(e.ctx, p); err != nil {
			e.log.Debug("sync: greeting", "peer", p, "err", err)
		}
	})
}

// invalid reports a peer that sent invalid data.
func (e *Engine) invalid(p peer.ID, err error) {
	e.mu.Lock()
	first := !e.bad[p]
	e.bad[p] = true
	if ps := e.peers[p]; ps != nil {
		ps.stats.InvalidAnswer++
		ps.err = err.Error()
	}
	delete(e.peers, p)
	e.mu.Unlock()
	if !first {
		return
	}
	e.log.Warn("sync: peer sent invalid data", "peer", p, "err", err)
	if e.opts.OnInvalid != nil {
		e.opts.OnInvalid(p, err)
		return
	}
	_ = e.host.Network().ClosePeer(p)
}

// isBad reports whether p was reported for invalid data.
func (e *Engine) isBad(p peer.ID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.bad[p]
}

// peer returns the state of p, created if new.
func (e *Engine) peer(p peer.ID) (*peerState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ps := e.peers[p]; ps != nil {
		return ps, nil
	}
	key, err := relay.PeerKey(p)
	if err != nil {
		return nil, err
	}
	ps := &peerState{key: key, heads: map[coda.ID]map[string]coda.ID{}}
	e.peers[p] = ps
	return ps, nil
}

// isInvalid reports whether err means the peer sent something invalid
// (rather than that the transport failed or a limit of ours was hit).
func isInvalid(err error) bool {
	switch errs.KindOf(err) {
	case errs.Invalid, errs.Permission, errs.Corrupt, errs.Limit:
		return true
	}
	return false
}

// dial opens a sync stream to p.
func (e *Engine) dial(ctx context.Context, p peer.ID) (*relay.Conn, error) {
	c, _, err := relay.Dial(ctx, e.host, p, []protocol.ID{protocol.ID(Protocol)}, sendSchemas(), schemaReg, e.opts.Relay)
	return c, err
}

// send sends one message.
func send(c *relay.Conn, m message) error { return c.Send(m.schema(), m.value()) }

// recv receives one message (io.EOF after the peer's end). An object of
// a schema the sync messages do not include is invalid.
func recv(c *relay.Conn) (any, error) {
	s, v, err := c.Recv()
	if errs.Is(err, errs.NotExist) {
		return nil, errs.E(errs.Invalid, fmt.Errorf("replica: a message of an unknown schema: %w", err))
	}
	if err != nil {
		return nil, err
	}
	return fromValue(s, v)
}

// handle serves one sync stream: a Heads (answered with ours) or a Pull
// (answered with a bundle, or a Refuse).
func (e *Engine) handle(s network.Stream) {
	p := s.Conn().RemotePeer()
	if e.isBad(p) {
		_ = s.Reset()
		return
	}
	c := relay.Accept(e.ctx, s, sendSchemas(), schemaReg, e.opts.Relay)
	defer c.Close()
	m, err := recv(c)
	if err == io.EOF {
		err = errs.E(errs.Invalid, "replica: a sync stream without a request")
	}
	if err != nil {
		if isInvalid(err) {
			e.invalid(p, err)
		}
		return
	}
	ps, err := e.peer(p)
	if err != nil {
		e.invalid(p, err)
		return
	}
	switch m := m.(type) {
	case Heads:
		if _, err := recv(c); err != io.EOF {
			if err == nil {
				err = errs.E(errs.Invalid, "replica: Heads followed by another message")
			}
			if isInvalid(err) {
				e.invalid(p, err)
			}
			return
		}
		if err := send(c, e.headsFor(ps.key)); err != nil {
			return
		}
		if err := c.CloseWrite(); err != nil {
			return
		}
		e.heard(p, m)
	case Pull:
		e.serve(c, p, ps.key, m)
	default:
		e.invalid(p, errs.E(errs.Invalid, fmt.Sprintf("replica: a stream opened with %T", m)))
	}
}

// exchange sends p our heads and takes its own in answer.
func (e *Engine) exchange(ctx context.Context, p peer.ID) error {
	if e.isBad(p) {
		return errs.E(errs.Permission, "replica: peer was reported for invalid data")
	}
	ps, err := e.peer(p)
	if err != nil {
		return err
	}
	c, err := e.dial(ctx, p)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := send(c, e.headsFor(ps.key)); err != nil {
		return err
	}
	if err := c.CloseWrite(); err != nil {
		return err
	}
	m, err := recv(c)
	if err == nil {
		if _, ok := m.(Heads); !ok {
			err = errs.E(errs.Invalid, fmt.Sprintf("replica: Heads answered with %T", m))
		} else if _, err2 := recv(c); err2 != io.EOF {
			err = errs.E(errs.Invalid, "replica: Heads answered with more than Heads")
			if err2 != nil && !isInvalid(err2) {
				err = err2
			}
		}
	} else if err == io.EOF {
		err = errs.E(errs.Invalid, "replica: Heads not answered")
	}
	if err != nil {
		if isInvalid(err) {
			e.invalid(p, err)
		}
		return err
	}
	e.heard(p, m.(Heads))
	return nil
}

// heard records the heads p told us — every branch of every world it
// shows us, so a world or branch it no longer lists is forgotten (here,
// not in our home: sync never deletes a branch) — and schedules their
// syncs.
func (e *Engine) heard(p peer.ID, m Heads) {
	var kick []coda.ID
	e.mu.Lock()
	ps := e.peers[p]
	if ps == nil {
		e.mu.Unlock()
		return
	}
	ps.seen = time.Now()
	ps.heads = make(map[coda.ID]map[string]coda.ID)
	for _, h := range m.Heads {
		if h.Head.IsZero() {
			continue
		}
		// Decode checked the names and the bound per world (MaxBranches).
		bs := ps.heads[h.World]
		if bs != nil {
			bs[h.Branch] = h.Head
			continue
		}
		ps.heads[h.World] = map[string]coda.ID{h.Branch: h.Head}
		kick = append(kick, h.World)
		if !e.bad[p] {
			for ch := range e.joins[h.World] {
				select {
				case ch <- p:
				default: // the fetch has peers enough waiting to join
				}
			}
		}
	}
	e.mu.Unlock()
	for _, w := range kick {
		e.kick(w)
	}
}

// worldState returns the state of world, created if new.
func (e *Engine) worldState(world coda.ID) *worldState {
	e.mu.Lock()
	defer e.mu.Unlock()
	ws := e.worlds[world]
	if ws == nil {
		ws = &worldState{}
		e.worlds[world] = ws
	}
	return ws
}

// kick schedules a sync of world with the peers' heads; kicks while one is
// scheduled and not started coalesce.
func (e *Engine) kick(world coda.ID) {
	ws := e.worldState(world)
	if !ws.pending.CompareAndSwap(false, true) {
		return
	}
	e.spawn(func() {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		ws.pending.Store(false)
		e.syncWorld(e.ctx, world, nil)
	})
}

// PeerReport is what one sync round did with one peer for one branch of
// one world.
type PeerReport struct {
	Peer    string  `json:"peer"`
	World   coda.ID `json:"world"`
	Branch  string  `json:"branch,omitempty"` // empty: the round failed before any branch
	Head    coda.ID `json:"head,omitzero"`    // the peer's head of the branch (zero: it shows none)
	InSync  bool    `json:"in_sync"`          // after the round, we hold the peer's head in our branch's history
	Commits int     `json:"commits"`          // commits pulled from it
	Objects int     `json:"objects"`          // objects pulled from it
	Bytes   int64   `json:"bytes"`
	Merged  bool    `json:"merged,omitempty"`
	Waiting bool    `json:"waiting,omitempty"` // diverged: left to the peer to merge for now
	Deleted bool    `json:"deleted,omitempty"` // the branch was deleted here and the peer's head is no newer: ignored
	Error   string  `json:"error,omitempty"`
}

// syncWorld brings in the heads of world's branches that peers told us
// and we do not hold in those branches' histories (the caller holds the
// world's lock): main first (it may bring the world itself), then the
// other branches by name, each from every peer by peer id. Reports, if
// not nil, collects what happened per peer and branch.
func (e *Engine) syncWorld(ctx context.Context, world coda.ID, report func(PeerReport)) {
	type want struct {
		p      peer.ID
		branch string
		head   coda.ID
	}
	e.mu.Lock()
	var wants []want
	for p, ps := range e.peers {
		if e.bad[p] {
			continue
		}
		for b, h := range ps.heads[world] {
			wants = append(wants, want{p, b, h})
		}
	}
	e.mu.Unlock()
	slices.SortFunc(wants, func(a, b want) int {
		if (a.branch == cdb.DefaultBranch) != (b.branch == cdb.DefaultBranch) {
			if a.branch == cdb.DefaultBranch {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.branch, b.branch); c != 0 {
			return c
		}
		return bytes.Compare([]byte(a.p), []byte(b.p))
	})
	for _, wt := range wants {
		if ctx.Err() != nil {
			return
		}
		r := PeerReport{Peer: wt.p.String(), World: world, Branch: wt.branch, Head: wt.head}
		err := e.bringIn(ctx, wt.p, world, wt.branch, wt.head, &r)
		if err != nil {
			r.Error = err.Error()
			e.mu.Lock()
			if ps := e.peers[wt.p]; ps != nil {
				ps.err = r.Error
			}
			if errs.Is(err, errs.Unavailable) || errs.Is(err, errs.Conflict) || errs.Is(err, errs.Canceled) && ctx.Err() == nil {
				e.worlds[world].retry = true
			}
			e.mu.Unlock()
			e.log.Info("sync: pull failed", "peer", wt.p, "world", world, "branch", wt.branch, "err", err)
		}
		if report != nil {
			report(r)
		}
	}
}

// world returns the home's world of id, nil if it holds none.
func (e *Engine) world(id coda.ID) (*cdb.World, error) {
	infos, err := e.home.Worlds()
	if err != nil {
		return nil, err
	}
	for _, i := range infos {
		if i.ID == id {
			return e.home.World(i.Name)
		}
	}
	return nil, nil
}

// branchHeads returns the heads of w's branches by name.
func branchHeads(w *cdb.World) (map[string]coda.ID, error) {
	bs, err := w.Branches()
	if err != nil {
		return nil, err
	}
	out := make(map[string]coda.ID, len(bs))
	for _, b := range bs {
		out[b.Name] = b.Head
	}
	return out, nil
}

// bringIn makes head part of world's branch: nothing if the branch's
// history holds it; else a fast-forward or a merge, with the commits
// pulled from p if we lack them; a branch the home lacks is made at head.
// Of two diverged heads, the node holding the one with the smaller id
// merges at once, the other waits MergeDelay for that merge to arrive (so
// that nodes do not race each other with merges of merges) before it
// merges too. A branch other than main of a world the home does not hold
// waits for main to bring the world.
func (e *Engine) bringIn(ctx context.Context, p peer.ID, world coda.ID, branch string, head coda.ID, r *PeerReport) error {
	w, err := e.world(world)
	if err != nil {
		return err
	}
	if w == nil {
		if branch != cdb.DefaultBranch {
			return nil // main comes first (syncWorld), and brings the world
		}
		if e.opts.Accept != nil && !e.opts.Accept(world) {
			return nil
		}
		return e.pull(ctx, p, nil, world, branch, head, r)
	}
	heads, err := branchHeads(w)
	if err != nil {
		return err
	}
	ours, have := heads[branch]
	if !have {
		if stale, err := staleDeleted(w, branch, head); err != nil || stale {
			r.Deleted = stale
			return err
		}
		if err := e.mayMake(w, p, branch, len(heads)); err != nil {
			return err
		}
	}
	if _, err := w.LoadCommit(head); errs.Is(err, errs.NotExist) {
		return e.pull(ctx, p, w, world, branch, head, r)
	} else if err != nil {
		return err
	}
	if !have {
		// We hold the commit (another branch's history has it).
		if err := w.CreateBranch(branch, head); err != nil && !errs.Is(err, errs.Exist) {
			return err
		} else if err == nil {
			r.InSync = true
			return nil
		}
		if heads, err = branchHeads(w); err != nil { // made meanwhile
			return err
		}
		ours = heads[branch]
	}
	in, err := isAncestor(w, head, ours)
	if err != nil || in {
		r.InSync = in
		return err
	}
	ff, err := isAncestor(w, ours, head)
	if err != nil {
		return err
	}
	if !ff && !e.mayMerge(world, ours, head) {
		r.Waiting = true
		return nil
	}
	res, err := w.Receive(ctx, cdb.Incoming{Objects: map[coda.ID][]byte{}, Head: head}, branch)
	if err != nil {
		return err
	}
	if res.Waiting { // diverged in a subtree opaque here: a reader merges
		r.Waiting = true
		return nil
	}
	r.InSync, r.Merged = true, res.Merge != nil
	return nil
}

// staleDeleted reports whether a peer's head of branch, which w lacks,
// is ignored because the branch was deleted here (docs/sync.md,
// "Deletion"): it is the head the branch had when deleted, or an ancestor
// of it. A head that descends from that one or diverged from it (someone
// wrote to the branch after) is not stale: the branch is made again, and
// making it clears the tombstone. A head whose commit is not here is not
// stale either: every ancestor of the tombstone's head is here, so an
// unknown commit is one written after.
func staleDeleted(w *cdb.World, branch string, head coda.ID) (bool, error) {
	dead, ok, err := w.DeletedBranch(branch)
	if err != nil || !ok {
		return false, err
	}
	if _, err := w.LoadCommit(head); errs.Is(err, errs.NotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if _, err := w.LoadCommit(dead); errs.Is(err, errs.NotExist) {
		return false, nil // cannot be: commits are never removed
	} else if err != nil {
		return false, err
	}
	return isAncestor(w, head, dead)
}

// mayMake checks that p may make branch in w here, which has n branches:
// p's node key may change the world's branches (acl.CheckRefChange: admin
// of / at our head, the rule a local caller meets), and the world has
// fewer than MaxBranches branches. Sync never makes a branch otherwise,
// so a peer that may only read or write cannot fill other nodes with
// branches that nothing deletes.
func (e *Engine) mayMake(w *cdb.World, p peer.ID, branch string, n int) error {
	if n >= MaxBranches {
		return errs.E(errs.Limit, fmt.Sprintf("replica: branch %q of peer %s not made: world %s has %d branches (MaxBranches)", branch, p, w.ID(), n))
	}
	e.mu.Lock()
	ps := e.peers[p]
	e.mu.Unlock()
	if ps == nil || len(ps.key) != 32 {
		return errs.E(errs.Unavailable, fmt.Sprintf("replica: peer %s is gone", p))
	}
	return acl.CheckRefChange(w, [32]byte(ps.key), fmt.Sprintf("branch %q announced by peer %s", branch, p))
}

// mayMerge reports whether this node merges the diverged heads ours and
// theirs now: if ours has the smaller id, or it has waited MergeDelay.
func (e *Engine) mayMerge(world, ours, theirs coda.ID) bool {
	if bytes.Compare(ours[:], theirs[:]) < 0 {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ws := e.worlds[world]
	if ws == nil {
		return true
	}
	if ws.waits == nil {
		ws.waits = map[[2]coda.ID]time.Time{}
	}
	key := [2]coda.ID{ours, theirs}
	since, ok := ws.waits[key]
	if !ok {
		for k, t := range ws.waits { // forget old divergences
			if time.Since(t) > 10*e.opts.MergeDelay {
				delete(ws.waits, k)
			}
		}
		ws.waits[key] = time.Now()
		ws.retry = true
		return false
	}
	if time.Since(since) >= e.opts.MergeDelay {
		delete(ws.waits, key)
		return true
	}
	ws.retry = true
	return false
}

// reaches reports whether the commit from leads to target, reading the
// commits received in objs over w's.
func reaches(w *cdb.World, objs map[coda.ID][]byte, from, target coda.ID) (bool, error) {
	tc, err := w.LoadCommit(target)
	if err != nil {
		return false, err
	}
	load := func(id coda.ID) (*cdb.Commit, error) {
		if b, ok := objs[id]; ok {
			return cdb.DecodeCommit(b)
		}
		return w.LoadCommit(id)
	}
	seen := map[coda.ID]bool{}
	stack := []coda.ID{from}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id == target {
			return true, nil
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		c, err := load(id)
		if err != nil {
			return false, errs.E(errs.Invalid, fmt.Errorf("replica: commit %s: %w", id, err))
		}
		if c.Time < tc.Time {
			continue
		}
		stack = append(stack, c.Parents...)
	}
	return false, nil
}

// isAncestor reports whether a is b or an ancestor of b. Commit times
// grow along parents, so the walk stops below a's time.
func isAncestor(w *cdb.World, a, b coda.ID) (bool, error) {
	if a == b {
		return true, nil
	}
	ac, err := w.LoadCommit(a)
	if err != nil {
		return false, err
	}
	seen := map[coda.ID]bool{}
	stack := []coda.ID{b}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id == a {
			return true, nil
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		c, err := w.LoadCommit(id)
		if err != nil {
			return false, err
		}
		if c.Time < ac.Time {
			continue
		}
		stack = append(stack, c.Parents...)
	}
	return false, nil
}

// haves returns our head and its first-parent ancestors 1, 2, 4, … 32
// back, and the genesis: what the sender may leave out.
func haves(w *cdb.World, head coda.ID) ([]coda.ID, error) {
	out := []coda.ID{head}
	next, depth := 1, 0
	id := head
	for len(out) < MaxHaves-1 {
		c, err := w.LoadCommit(id)
		if err != nil {
			return nil, err
		}
		if len(c.Parents) == 0 {
			break
		}
		id = c.Parents[0]
		depth++
		if depth == next {
			out = append(out, id)
			if next >= 32 {
				next += 32
			} else {
				next *= 2
			}
		}
	}
	if g := w.ID(); !slices.Contains(out, g) {
		out = append(out, g)
	}
	return out, nil
}

// pull asks p for world's commits up to head and gives them to Receive on
// branch (w nil: a world the home lacks, brought by main through
// ReceiveWorld). A branch the home lacks is made at the world's genesis
// commit, an ancestor of every commit of the world, just before Receive
// fast-forwards it to head; if Receive then refuses the commits, the
// branch stays at the genesis (and p is reported). The haves are the
// branch's head and its ancestors, or main's for a new branch (the
// branches of a world mostly share their history).
func (e *Engine) pull(ctx context.Context, p peer.ID, w *cdb.World, world coda.ID, branch string, head coda.ID, r *PeerReport) error {
	req := Pull{World: world, Want: head}
	if e.opts.Fetcher != nil {
		req.Large = LargeValue
	}
	var ours coda.ID
	have := false
	if w != nil {
		heads, err := branchHeads(w)
		if err != nil {
			return err
		}
		ours, have = heads[branch]
		from := ours
		if !have {
			from = heads[cdb.DefaultBranch]
		}
		if !from.IsZero() {
			if req.Haves, err = haves(w, from); err != nil {
				return err
			}
		}
	}
	c, err := e.dial(ctx, p)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := send(c, req); err != nil {
		return err
	}
	if err := c.CloseWrite(); err != nil {
		return err
	}
	pr := &partReader{c: c, max: e.opts.MaxPull}
	if e.opts.Progress != nil {
		pr.progress = func(n int64) { e.opts.Progress(p, world, n) }
	}
	fail := func(err error) error {
		if isInvalid(err) {
			e.invalid(p, err)
		}
		return err
	}
	// The objects by id, hashed, in id order, and the commits among them,
	// as Receive takes them (bundle.ReadIncoming).
	hdr, in, err := bundle.ReadIncoming(pr)
	objs := in.Objects
	if pr.err != nil {
		if pr.err == errRefused {
			return pr.refusal
		}
		if pr.ours {
			return pr.err
		}
		return fail(pr.err)
	}
	if err != nil {
		return fail(err)
	}
	if err := pr.end(); err != nil {
		return fail(err)
	}
	r.Bytes = pr.n
	if len(pr.fetch) > 0 && req.Large == 0 {
		return fail(errs.E(errs.Invalid, "replica: values left to CTP by a peer asked to send them all"))
	}
	if hdr.World != world || hdr.Head != head {
		return fail(errs.E(errs.Invalid, fmt.Sprintf("replica: asked for world %s at %s, answered with %s at %s", world, head, hdr.World, hdr.Head)))
	}
	if !in.Maker.Equal(e.self) {
		return fail(errs.E(errs.Invalid, fmt.Sprintf("replica: the answer is made as %s, not as the puller %s", hdr.Author, cdb.KeyString(e.self))))
	}
	defer func() {
		if len(pr.fetch) > 0 {
			e.log.Debug("sync: large values fetched over CTP", "peer", p, "world", world, "branch", branch, "values", len(pr.fetch))
		}
	}()
	if have {
		// Diverged: merge now, or leave it to the peer for a while.
		ff, err := reaches(w, objs, head, ours)
		if err != nil {
			return fail(err)
		}
		if !ff && !e.mayMerge(world, ours, head) {
			r.Waiting = true
			return nil
		}
	}
	if err := e.fetchLarge(ctx, p, world, pr.fetch, req.Large); err != nil {
		return fail(err)
	}
	if w != nil && !have {
		if err := w.CreateBranch(branch, world); err != nil && !errs.Is(err, errs.Exist) {
			return err
		}
	}
	var res cdb.ReceiveResult
	if w != nil {
		res, err = w.Receive(ctx, in, branch)
	} else {
		_, res, err = e.home.ReceiveWorld(ctx, e.worldName(hdr), in)
	}
	if err != nil {
		return fail(err)
	}
	r.InSync, r.Commits, r.Objects, r.Merged = !res.Waiting, res.Commits, res.Objects, res.Merge != nil
	r.Waiting = r.Waiting || res.Waiting // diverged in a subtree opaque here: a reader merges
	if err := e.fetchGranted(ctx, p, world, branch, objs); err != nil {
		e.log.Info("sync: fetching values granted since", "peer", p, "world", world, "branch", branch, "err", err)
	}
	e.mu.Lock()
	if ps := e.peers[p]; ps != nil {
		ps.stats.Pulls++
		ps.stats.CommitsRecv += res.Commits
		ps.stats.ObjectsRecv += res.Objects
		ps.stats.BytesRecv += pr.n
		ps.err = ""
	}
	e.mu.Unlock()
	if w == nil {
		e.watchWorlds()
		e.maybeDefault()
	}
	e.log.Debug("sync: pulled", "peer", p, "world", world, "branch", branch, "commits", res.Commits, "objects", res.Objects, "bytes", pr.n, "merge", res.Merge != nil)
	return nil
}

// fetchLarge fetches the values an answer left to CTP into the store,
// from p and every other peer that announced the world, striped; each
// chunk is checked against its id as it arrives (ctp). They are stored
// before the commits that hold them are validated: content-addressed,
// they are at worst unreferenced if those commits are refused.
func (e *Engine) fetchLarge(ctx context.Context, p peer.ID, world coda.ID, vals []Large, large uint64) error {
	if len(vals) == 0 {
		return nil
	}
	// The peers are p and every peer that has shown us a head of world, now
	// or while the fetch runs (a peer that has not is never told the
	// world or the path): registered in e.joins in the same critical
	// section as the list is made, so that no announcement falls between.
	jf, _ := e.opts.Fetcher.(JoinFetcher)
	var more chan peer.ID
	holders := func() []peer.ID { // with e.mu held
		peers := []peer.ID{p}
		for q, ps := range e.peers {
			if _, ok := ps.heads[world]; ok && q != p && !e.bad[q] {
				peers = append(peers, q)
			}
		}
		return peers
	}
	e.mu.Lock()
	peers := holders()
	if jf != nil {
		more = make(chan peer.ID, 64)
		if e.joins == nil {
			e.joins = map[coda.ID]map[chan peer.ID]bool{}
		}
		if e.joins[world] == nil {
			e.joins[world] = map[chan peer.ID]bool{}
		}
		e.joins[world][more] = true
	}
	e.mu.Unlock()
	if more != nil {
		defer func() {
			e.mu.Lock()
			delete(e.joins[world], more)
			if len(e.joins[world]) == 0 {
				delete(e.joins, world)
			}
			e.mu.Unlock()
		}()
	}
	seen := map[coda.ID]bool{}
	for i, l := range vals {
		if seen[l.ID] {
			continue
		}
		seen[l.ID] = true
		if i > 0 && more != nil {
			// Peers that joined the last fetch are on the list now (the
			// channel may hold them again: the fetch ignores repeats).
			e.mu.Lock()
			peers = holders()
			e.mu.Unlock()
		}
		if l.Size <= large || l.Size > store.MaxValueSize {
			return errs.E(errs.Invalid, fmt.Sprintf("replica: value %s left to CTP with a size of %d bytes (asked: over %d)", l.ID, l.Size, large))
		}
		want := ctp.Want{World: world, Commit: l.Commit, Path: l.Path}
		var err error
		if jf != nil {
			err = jf.FetchValueJoin(ctx, peers, more, want, l.ID, e.home.Store())
		} else {
			err = e.opts.Fetcher.FetchValue(ctx, peers, want, l.ID, e.home.Store())
		}
		if err != nil {
			if errs.Is(err, errs.Invalid) {
				err = errs.E(errs.Unavailable, err) // ctp punished the peer that lied itself
			}
			return fmt.Errorf("replica: fetch %s (%s): %w", l.Path, l.ID, err)
		}
	}
	return nil
}

// fetchGranted fetches over CTP the values this node may read now but
// lacks, under each directory whose .acl the commits received in objs
// changed: values withheld from it before a grant arrive with the grant
// (pulls carry diffs, and the grant's diff shows only the .acl). Without
// a Fetcher it does nothing. The values are those of branch's head.
func (e *Engine) fetchGranted(ctx context.Context, p peer.ID, world coda.ID, branch string, objs map[coda.ID][]byte) error {
	if e.opts.Fetcher == nil {
		return nil
	}
	dirs := map[string]bool{}
	for _, b := range objs {
		c, err := cdb.DecodeCommitWith(b, func(id coda.ID) ([]byte, error) {
			if g, ok := objs[id]; ok {
				return g, nil
			}
			return nil, errs.E(errs.NotExist, "op group not received") // withheld
		})
		if err != nil {
			continue // not a commit
		}
		for _, ch := range c.Ops {
			if d, ok := strings.CutSuffix(ch.Path, "/.acl"); ok {
				if d == "" {
					d = "/"
				}
				dirs[d] = true
			}
		}
	}
	if len(dirs) == 0 {
		return nil
	}
	w, err := e.world(world)
	if err != nil || w == nil {
		return err
	}
	heads, err := branchHeads(w)
	if err != nil {
		return err
	}
	head, ok := heads[branch]
	if !ok {
		return errs.E(errs.NotExist, fmt.Sprintf("replica: no branch %q", branch))
	}
	hc, err := w.LoadCommit(head)
	if err != nil {
		return err
	}
	readable, err := w.As(e.self).Filter(head)
	if err != nil {
		return err
	}
	st := e.home.Store()
	peers := []peer.ID{p}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		var missing []Large
		err := e.home.Tree().Walk(hc.Tree, d, func(path string, en tree.Entry) error {
			if !readable(path) {
				return nil
			}
			if ok, err := st.Has(en.ID); err != nil || ok {
				return err
			}
			missing = append(missing, Large{Commit: head, Path: path, ID: en.ID})
			return nil
		})
		if err != nil && !errs.Is(err, errs.NotExist) {
			return err
		}
		for _, l := range missing {
			if err := e.opts.Fetcher.FetchValue(ctx, peers, ctp.Want{World: world, Commit: l.Commit, Path: l.Path}, l.ID, st); err != nil {
				return fmt.Errorf("%s: %w", l.Path, err)
			}
		}
	}
	return nil
}

// worldName is the name a new world received takes: the sender's, or
// its id if that name is taken here.
func (e *Engine) worldName(h bundle.Header) string {
	name := h.Name
	if name == "" {
		return h.World.String()
	}
	if infos, err := e.home.Worlds(); err == nil {
		for _, i := range infos {
			if i.Name == name {
				return h.World.String()
			}
		}
	}
	return name
}

// maybeDefault makes the only world of a home without a default world
// (a home made for a clone) its default.
func (e *Engine) maybeDefault() {
	if _, err := e.home.World(""); err == nil {
		return
	}
	infos, err := e.home.Worlds()
	if err == nil && len(infos) == 1 {
		_ = e.home.SetDefaultWorld(infos[0].Name)
	}
}

var errRefused = errors.New("replica: pull refused")

// keepAliveEvery is a third of the streams' idle timeout.
func keepAliveEvery(o relay.Options) time.Duration {
	d := o.IdleTimeout
	if d <= 0 {
		d = relay.DefaultIdleTimeout
	}
	return max(d/3, 10*time.Millisecond)
}

// partReader reads the bundle carried by the Parts of an answer.
type partReader struct {
	c        *relay.Conn
	buf      []byte
	n, max   int64
	err      error // the first failure of the stream (not of the bundle)
	ours     bool  // err is a bound of ours, not the peer's fault
	refusal  error
	eof      bool
	progress func(int64)
	fetch    []Large // the values left to CTP (Fetch, after the Parts)
}

func (r *partReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.eof {
			return 0, io.EOF
		}
		m, err := recv(r.c)
		if err == io.EOF {
			r.eof = true
			continue
		}
		if err != nil {
			r.err = err
			return 0, err
		}
		switch m := m.(type) {
		case Part:
			if r.fetch != nil {
				r.err = errs.E(errs.Invalid, "replica: a Part after the Fetch")
				return 0, r.err
			}
			r.n += int64(len(m.Data))
			if r.n > r.max {
				// Our bound, not the peer's fault: not invalid.
				r.err, r.ours = errs.E(errs.Limit, fmt.Sprintf("replica: a pull's answer over %d bytes (Options.MaxPull)", r.max)), true
				return 0, r.err
			}
			r.buf = m.Data
			if r.progress != nil {
				r.progress(r.n)
			}
		case Fetch:
			if len(r.fetch)+len(m.Values) > MaxFetch*16 {
				r.err = errs.E(errs.Limit, "replica: too many values left to CTP")
				return 0, r.err
			}
			if r.fetch == nil {
				r.fetch = []Large{} // non-nil: the Parts are over
			}
			r.fetch = append(r.fetch, m.Values...)
		case Refuse:
			r.err = errRefused
			k, _ := errs.KindByName(m.Kind)
			if k == errs.Invalid || k == errs.Limit || k == errs.Corrupt || k == errs.Permission {
				k = errs.Other // the peer's word is not proof against us
			}
			r.refusal = errs.E(k, fmt.Sprintf("replica: pull refused: %s", m.Reason))
			return 0, r.err
		default:
			r.err = errs.E(errs.Invalid, fmt.Sprintf("replica: a Pull answered with %T", m))
			return 0, r.err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// end checks that nothing follows the bundle.
func (r *partReader) end() error {
	var b [1]byte
	if n, err := r.Read(b[:]); n > 0 || err != io.EOF {
		if err != nil && err != io.EOF {
			return err
		}
		return errs.E(errs.Invalid, "replica: bytes after the bundle's end")
	}
	return nil
}

// partWriter cuts what is written into Parts.
type partWriter struct {
	c    *relay.Conn
	buf  []byte
	sent atomic.Int64 // unix nanoseconds of the last Part sent
}

// keepAlive sends an empty Part whenever nothing was sent for every, until
// stop is closed: while the sender reads a large history before its first
// Part, the asker's idle deadline must not pass.
func (w *partWriter) keepAlive(every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every / 2)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if time.Since(time.Unix(0, w.sent.Load())) >= every {
				w.sent.Store(time.Now().UnixNano())
				if send(w.c, Part{}) != nil {
					return
				}
			}
		}
	}
}

const partSize = 256 << 10

func (w *partWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(partSize-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == partSize {
			if err := w.Flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *partWriter) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	w.sent.Store(time.Now().UnixNano())
	err := send(w.c, Part{Data: w.buf})
	w.buf = w.buf[:0]
	return err
}

// serve answers a Pull with the bundle made as the asker's key.
func (e *Engine) serve(c *relay.Conn, p peer.ID, key ed25519.PublicKey, m Pull) {
	if _, err := recv(c); err != io.EOF {
		if err == nil {
			err = errs.E(errs.Invalid, "replica: Pull followed by another message")
		}
		if isInvalid(err) {
			e.invalid(p, err)
		}
		return
	}
	refuse := func(kind errs.Kind, reason string) {
		_ = send(c, Refuse{Kind: kind.String(), Reason: reason})
		_ = c.CloseWrite()
	}
	w, err := e.world(m.World)
	if err != nil {
		refuse(errs.Internal, "cannot list worlds")
		return
	}
	if w == nil || !e.visible(w, key) {
		refuse(errs.NotExist, fmt.Sprintf("no world %s", m.World))
		return
	}
	if _, err := w.LoadCommit(m.Want); err != nil {
		refuse(errs.NotExist, fmt.Sprintf("world %s: no commit %s", m.World, m.Want))
		return
	}
	withheld := 0
	opts := bundle.CreateOptions{Head: m.Want, Haves: m.Haves, Reader: key, OnValue: func(path string, _ coda.ID, sent bool) {
		if !sent {
			withheld++
		}
		if e.opts.OnValue != nil {
			e.opts.OnValue(p, m.World, path, sent)
		}
	}}
	var larges []Large
	if m.Large > 0 {
		left := map[coda.ID]bool{}
		opts.Leave = func(commit coda.ID, path string, id coda.ID, size int64) bool {
			if uint64(size) <= m.Large {
				return false
			}
			if !left[id] {
				left[id] = true
				larges = append(larges, Large{Commit: commit, Path: path, ID: id, Size: uint64(size)})
			}
			return true
		}
	}
	pw := &partWriter{c: c}
	pw.sent.Store(time.Now().UnixNano())
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		pw.keepAlive(keepAliveEvery(e.opts.Relay), stop)
	}()
	// A first clone's answer is kept, and given again to the pullers the
	// history names nowhere (docs/sync.md, "Bundle reuse"): Leave depends
	// on its arguments and m.Large alone.
	st, reused, err := e.reuse.Create(w, cdb.Identity{}, pw, opts, m.Large)
	close(stop)
	<-stopped // no empty Part after the Fetch
	if err == nil {
		err = pw.Flush()
	}
	for len(larges) > 0 && err == nil {
		n := min(len(larges), MaxFetch)
		err = send(c, Fetch{Values: larges[:n]})
		larges = larges[n:]
	}
	if err == nil {
		err = c.CloseWrite()
	}
	if err != nil {
		e.log.Info("sync: serving a pull", "peer", p, "world", m.World, "err", err)
		return
	}
	e.mu.Lock()
	if ps := e.peers[p]; ps != nil {
		ps.stats.PullsServed++
		if reused {
			ps.stats.PullsReused++
		}
		ps.stats.ObjectsSent += st.Objects
		ps.stats.BytesSent += st.Bytes
		ps.stats.WithheldSent += withheld
	}
	e.mu.Unlock()
}

// visible reports whether the world is shown to key: key may read the
// root, or a top-level entry, at the head of main (docs/sync.md). Its own
// /home/KEY does not count.
func (e *Engine) visible(w *cdb.World, key ed25519.PublicKey) bool {
	head, err := w.Resolve(cdb.DefaultBranch)
	if err != nil {
		return false
	}
	return visibleAt(w, key, head)
}

// visibleAt is visible at the commit head: a branch of a world shown to
// key is shown to it if visibleAt its head.
func visibleAt(w *cdb.World, key ed25519.PublicKey, head coda.ID) bool {
	f, err := w.As(key).Filter(head)
	if err != nil {
		return false
	}
	if f("/") {
		return true
	}
	entries, err := w.List(head, "/")
	if err != nil {
		return false
	}
	for _, d := range entries {
		if d.Name == "home" {
			continue
		}
		if f("/"+d.Name) || f("/"+d.Name+"/") {
			return true
		}
	}
	return false
}

// headsFor returns the heads of every branch of every world shown to key:
// main if the world is visible, each other branch if the world is and the
// branch's head is visibleAt. At most MaxBranches per world (main first,
// then by name) and MaxHeads in all (the mains first).
func (e *Engine) headsFor(key ed25519.PublicKey) Heads {
	var m Heads
	infos, err := e.home.Worlds()
	if err != nil {
		return m
	}
	var others []Head
	for _, i := range infos {
		w, err := e.home.World(i.Name)
		if err != nil || !e.visible(w, key) {
			continue
		}
		heads, err := branchHeads(w)
		if err != nil {
			continue
		}
		main, ok := heads[cdb.DefaultBranch]
		if !ok {
			continue
		}
		m.Heads = append(m.Heads, Head{World: i.ID, Branch: cdb.DefaultBranch, Head: main})
		n := 1
		shown := map[coda.ID]bool{main: true} // visibleAt, by head
		for _, b := range slices.Sorted(maps.Keys(heads)) {
			if b == cdb.DefaultBranch || ValidBranch(b) != nil {
				continue
			}
			if n == MaxBranches {
				e.log.Debug("sync: a world has more branches than a Heads may carry: the rest are not announced", "world", i.ID, "max", MaxBranches)
				break
			}
			h := heads[b]
			ok, known := shown[h]
			if !known {
				ok = visibleAt(w, key, h)
				shown[h] = ok
			}
			if ok {
				others = append(others, Head{World: i.ID, Branch: b, Head: h})
				n++
			}
		}
	}
	if len(m.Heads) > MaxHeads {
		m.Heads = m.Heads[:MaxHeads]
	}
	if room := MaxHeads - len(m.Heads); len(others) > room {
		e.log.Debug("sync: more heads than a Heads may carry: some branches are not announced", "max", MaxHeads)
		others = others[:room]
	}
	m.Heads = append(m.Heads, others...)
	slices.SortFunc(m.Heads, func(a, b Head) int {
		if c := bytes.Compare(a.World[:], b.World[:]); c != 0 {
			return c
		}
		return strings.Compare(a.Branch, b.Branch)
	})
	return m
}

// watchWorlds subscribes to the worlds of the home not yet watched.
func (e *Engine) watchWorlds() {
	infos, err := e.home.Worlds()
	if err != nil {
		return
	}
	for _, i := range infos {
		ws := e.worldState(i.ID)
		e.mu.Lock()
		if ws.cancel != nil || e.ctx.Err() != nil {
			e.mu.Unlock()
			continue
		}
		ch, cancel := e.home.Subscribe(i.ID)
		ws.cancel = cancel
		e.mu.Unlock()
		world := i.ID
		e.spawn(func() {
			e.announce(world) // what changed before we watched
			for {
				select {
				case <-e.ctx.Done():
					return
				case <-ch:
					e.announce(world)
				}
			}
		})
	}
}

// announce sends our heads to every peer that may see world, if a branch
// head of it moved (or a branch appeared or went) since the last
// announcement.
func (e *Engine) announce(world coda.ID) {
	w, err := e.world(world)
	if err != nil || w == nil {
		return
	}
	heads, err := branchHeads(w)
	if err != nil {
		return
	}
	ws := e.worldState(world)
	e.mu.Lock()
	if maps.Equal(ws.announced, heads) {
		e.mu.Unlock()
		return
	}
	ws.announced = heads
	peers := slices.Collect(maps.Keys(e.peers))
	e.mu.Unlock()
	for _, p := range peers {
		ps, err := e.peer(p)
		if err != nil || !e.visible(w, ps.key) {
			continue
		}
		e.spawn(func() {
			if err := e.exchange(e.ctx, p); err != nil {
				e.log.Debug("sync: announcing", "peer", p, "err", err)
			}
		})
	}
}

// loop watches for new worlds, announces branches made since the last
// tick (making a branch moves no head, so it signals no subscriber), and
// retries the pulls that failed for a reason that may pass.
func (e *Engine) loop() {
	defer e.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
		e.watchWorlds()
		e.mu.Lock()
		var retry, watched []coda.ID
		for id, ws := range e.worlds {
			if ws.retry {
				ws.retry = false
				retry = append(retry, id)
			}
			if ws.cancel != nil {
				watched = append(watched, id)
			}
		}
		e.mu.Unlock()
		for _, id := range watched {
			e.announce(id)
		}
		for _, id := range retry {
			e.kick(id)
		}
	}
}

// SyncNow runs one sync round now with every connected peer for world
// (zero: every world): a Heads exchange, then the pulls it calls for. It
// reports per peer and world.
func (e *Engine) SyncNow(ctx context.Context, world coda.ID) ([]PeerReport, error) {
	var reports []PeerReport
	var mu sync.Mutex
	add := func(r PeerReport) {
		mu.Lock()
		reports = append(reports, r)
		mu.Unlock()
	}
	peers := e.host.Network().Peers()
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.exchange(ctx, p); err != nil {
				add(PeerReport{Peer: p.String(), World: world, Error: err.Error()})
			}
		}()
	}
	wg.Wait()
	worlds := map[coda.ID]bool{}
	e.mu.Lock()
	for _, ps := range e.peers {
		for w := range ps.heads {
			if world.IsZero() || w == world {
				worlds[w] = true
			}
		}
	}
	e.mu.Unlock()
	for _, w := range slices.SortedFunc(maps.Keys(worlds), func(a, b coda.ID) int { return bytes.Compare(a[:], b[:]) }) {
		ws := e.worldState(w)
		ws.mu.Lock()
		e.syncWorld(ctx, w, add)
		ws.mu.Unlock()
	}
	if err := ctx.Err(); err != nil {
		return reports, errs.E(errs.Canceled, err)
	}
	return reports, nil
}

// PeerStatus is what the engine knows of one peer for one world.
type PeerStatus struct {
	Peer   string    `json:"peer"`
	Key    string    `json:"key"`
	Head   coda.ID   `json:"head,omitzero"` // the peer's head of main (zero: it shows none)
	InSync bool      `json:"in_sync"`       // its head of main is ours
	Seen   time.Time `json:"seen,omitzero"` // when its heads last arrived
	Stats  PeerStats `json:"stats"`
	Error  string    `json:"error,omitempty"`
	// Branches are the world's branches the peer or we have, by name.
	Branches []BranchStatus `json:"branches"`
}

// BranchStatus is one branch of a world as a peer and we hold it.
type BranchStatus struct {
	Branch string  `json:"branch"`
	Head   coda.ID `json:"head,omitzero"` // the peer's (zero: it shows none)
	Ours   coda.ID `json:"ours,omitzero"` // ours (zero: we have no such branch)
	InSync bool    `json:"in_sync"`       // the two are the same commit
}

// Status returns what the engine knows of every connected peer for world,
// sorted by peer id, with every branch either side has.
func (e *Engine) Status(world coda.ID) []PeerStatus {
	var ours map[string]coda.ID
	if w, err := e.world(world); err == nil && w != nil {
		ours, _ = branchHeads(w)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]PeerStatus, 0, len(e.peers))
	for p, ps := range e.peers {
		if !linked(e.host.Network().Connectedness(p)) {
			continue
		}
		theirs := ps.heads[world]
		h := theirs[cdb.DefaultBranch]
		st := PeerStatus{Peer: p.String(), Key: cdb.KeyString(ps.key), Head: h, InSync: !h.IsZero() && h == ours[cdb.DefaultBranch],
			Seen: ps.seen, Stats: ps.stats, Error: ps.err, Branches: []BranchStatus{}}
		names := map[string]bool{}
		for b := range theirs {
			names[b] = true
		}
		for b := range ours {
			names[b] = true
		}
		for _, b := range slices.Sorted(maps.Keys(names)) {
			t, o := theirs[b], ours[b]
			st.Branches = append(st.Branches, BranchStatus{Branch: b, Head: t, Ours: o, InSync: !t.IsZero() && t == o})
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b PeerStatus) int { return bytes.Compare([]byte(a.Peer), []byte(b.Peer)) })
	return out
}

// ReuseStats says what the engine's kept first-clone answers did
// (bundle.Reuse; zero if none are kept).
func (e *Engine) ReuseStats() bundle.ReuseStats { return e.reuse.Stats() }

// Stats returns the traffic counts with p.
func (e *Engine) Stats(p peer.ID) PeerStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ps := e.peers[p]; ps != nil {
		return ps.stats
	}
	return PeerStats{}
}
