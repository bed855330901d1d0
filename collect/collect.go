// Package collect moves modules between catalogs: the protocol
// /coal/collect/1.0.0 (docs/protocols.md §7). A node asks a peer for the
// catalog entries it added since the peer's catalog commit the node last
// saw (or for one module: discover), fetches the objects it lacks, checks
// each against its id, and imports them into its own catalog
// (module.Import). Results signed by other nodes are re-checked with the
// probability trust gives their signer (module.Recheck), and the signer's
// trust moves by what the re-check finds; a Result found false is not
// stored. Trust opinions and peer addresses ride along in every answer.
//
// The answerer serves through the asker's read view of its catalog world
// (the asker is named by its node key, which its peer id embeds): an entry
// or byte the asker may not read is never listed nor sent.
package collect

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
	"github.com/coalescent/coal/trust"
)

// Protocol is the protocol id of collect.
const Protocol = "/coal/collect/1.0.0"

// DefaultTimeout bounds one session.
const DefaultTimeout = 2 * time.Minute

// Entry is one catalog entry (module.Entry, with its kind as the wire
// number).
type Entry struct {
	Kind   uint8
	Module string
	ID     coda.ID
	Path   string
}

// Catalog is what collect needs of package module; Modules() (module.go)
// is the real one.
type Catalog interface {
	// Entries lists the entries of the catalog at commit rev (zero: the
	// head) that v may read, of module (""; every module).
	Entries(v *cdb.View, rev coda.ID, module string) ([]Entry, error)
	// Import validates objs and stores the new ones in one commit,
	// returning how many entries it added; an invalid object fails it
	// (errs.Invalid naming the object), nothing stored.
	Import(ctx context.Context, w *cdb.World, as cdb.Identity, objs [][]byte) (int, error)
	// Validate checks one object on its own: a module object that
	// decodes (a Result with a good signature) or a program. An error
	// means the sender is invalid.
	Validate(obj []byte) error
	// Claim returns the signer of a Result object and the trust kind of
	// its claim (verdicts for verify, scores for evaluate); ok is false
	// for an object that is not a Result; err for a Result that does not
	// decode or whose signature fails.
	Claim(obj []byte) (signer ed25519.PublicKey, kind trust.Kind, ok bool, err error)
	// Recheck re-runs what a Result claims in w and reports whether we
	// agree.
	Recheck(ctx context.Context, w *cdb.World, as cdb.Identity, obj []byte) (agree bool, why string, err error)
}

// Options configure a Service. Catalog is required; the rest have useful
// zero values.
type Options struct {
	Catalog Catalog
	// World names the catalog world; "" is the home's default world.
	World string
	// OnInvalid is told of a peer that sent invalid data (the node passes
	// swarm.Punish). Nil: the peer is only disconnected.
	OnInvalid func(peer.ID, error)
	// Peers returns the addresses to share with asker; nil shares none.
	Peers func(asker peer.ID) []peer.AddrInfo
	// Learn is given the peers an answer shares; nil drops them.
	Learn func(peer.AddrInfo)
	// State is the file that keeps, across restarts, the catalog commit
	// each peer last showed us (HOME/collect); "" keeps it in memory.
	State string
	// Timeout bounds one session; 0 is DefaultTimeout.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Service serves collect on a host and runs sessions. It is safe for
// concurrent use.
type Service struct {
	home  *cdb.Home
	h     host.Host
	trust *trust.Store
	opts  Options
	log   *slog.Logger
	self  ed25519.PublicKey

	ctx    context.Context
	cancel func()
	wg     sync.WaitGroup

	mu    sync.Mutex
	since map[peer.ID]coda.ID       // the catalog commit each peer last showed us
	busy  map[peer.ID]chan struct{} // peers with a session under way, closed when it ends (auto.go)
}

// New returns a Service serving /coal/collect/1.0.0 on h for home, with
// trust tr.
func New(home *cdb.Home, h host.Host, tr *trust.Store, opts Options) (*Service, error) {
	if err := loadSchemas(); err != nil {
		return nil, err
	}
	if opts.Catalog == nil {
		return nil, errs.E(errs.Internal, errs.Op("collect.New"), "no Catalog")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{home: home, h: h, trust: tr, opts: opts, log: log, self: home.NodeKey().Public,
		ctx: ctx, cancel: cancel, since: map[peer.ID]coda.ID{}}
	s.loadState()
	h.SetStreamHandler(protocol.ID(Protocol), s.handle)
	return s, nil
}

// Close stops serving and cancels the sessions under way.
func (s *Service) Close() error {
	s.h.RemoveStreamHandler(protocol.ID(Protocol))
	s.cancel()
	s.wg.Wait()
	return nil
}

// Trust returns the Service's trust table.
func (s *Service) Trust() *trust.Store { return s.trust }

func (s *Service) world() (*cdb.World, error) { return s.home.World(s.opts.World) }

func (s *Service) relayOpts() relay.Options {
	return relay.Options{MaxMessage: maxMessage, IdleTimeout: 30 * time.Second}
}

// invalid punishes p for invalid data and lowers its objects trust.
func (s *Service) invalid(p peer.ID, key ed25519.PublicKey, err error) {
	s.log.Warn("collect: peer sent invalid data", "peer", p, "err", err)
	if key != nil {
		if terr := s.trust.Record(key, trust.Objects, false); terr != nil {
			s.log.Warn("collect: trust", "err", terr)
		}
	}
	if s.opts.OnInvalid != nil {
		s.opts.OnInvalid(p, err)
		return
	}
	_ = s.h.Network().ClosePeer(p)
}

// isInvalid reports whether err means the peer sent something invalid
// rather than that the transport failed.
func isInvalid(err error) bool {
	switch errs.KindOf(err) {
	case errs.Invalid, errs.Corrupt, errs.Limit, errs.NotExist:
		return true
	}
	return false
}

// ---- answerer ----

// handle answers one session.
func (s *Service) handle(st network.Stream) {
	s.wg.Add(1)
	defer s.wg.Done()
	remote := st.Conn().RemotePeer()
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	c := relay.Accept(ctx, st, []coda.ID{invSchema.ID, objSchema.ID, refuseSchema.ID}, schemaReg, s.relayOpts())
	defer c.Close()
	key, err := relay.PeerKey(remote)
	if err != nil {
		c.Reset()
		return
	}
	loop := manet.IsIPLoopback(st.Conn().RemoteMultiaddr())
	if err := s.serve(ctx, c, remote, key, loop); err != nil {
		if isInvalid(err) {
			s.invalid(remote, key, err)
		} else {
			s.log.Debug("collect: serving", "peer", remote, "err", err)
		}
		c.Reset()
	}
}

// recv reads the next message, which must be of schema want.
func recv(c *relay.Conn, want *coda.Schema) (any, error) {
	sch, v, err := c.Recv()
	if err == io.EOF {
		return nil, errs.E(errs.Invalid, errs.Op("collect"), "the stream ended before "+want.Name)
	}
	if err != nil {
		return nil, err
	}
	if sch.ID != want.ID && !(want == invSchema && sch.ID == refuseSchema.ID) {
		return nil, errs.E(errs.Invalid, errs.Op("collect"), fmt.Sprintf("expected %s, got a %s", want.Name, sch.Name))
	}
	return fromValue(sch, v)
}

func recvEnd(c *relay.Conn, after string) error {
	_, _, err := c.Recv()
	switch {
	case err == io.EOF:
		return nil
	case err == nil:
		return errs.E(errs.Invalid, errs.Op("collect"), "an object after "+after)
	}
	return err
}

func (s *Service) refuse(c *relay.Conn, kind errs.Kind, reason string) error {
	if len(reason) > MaxReasonLen {
		reason = reason[:MaxReasonLen]
	}
	reason = strings.ToValidUTF8(reason, "?") // a cut rune, or bad bytes in an error
	if err := c.Send(refuseSchema, Refuse{Kind: kind.String(), Reason: reason}.value()); err != nil {
		return err
	}
	return c.CloseWrite()
}

// serve answers an Ask on c from remote (node key key); loop says the
// asker reached us over loopback (only then are loopback addresses
// shared with it, as peer exchange does).
func (s *Service) serve(ctx context.Context, c *relay.Conn, remote peer.ID, key ed25519.PublicKey, loop bool) error {
	m, err := recv(c, askSchema)
	if err != nil {
		return err
	}
	ask := m.(Ask)
	if !s.trust.Accepts(key) {
		return s.refuse(c, errs.Permission, "this node denies you")
	}
	w, err := s.world()
	if err != nil {
		return s.refuse(c, errs.NotExist, "no catalog world")
	}
	head, err := w.Head()
	if err != nil {
		return s.refuse(c, errs.KindOf(err), "no catalog head")
	}
	v := w.As(key)
	cur, err := s.opts.Catalog.Entries(v, head, ask.Module)
	if err != nil {
		return s.refuse(c, errs.KindOf(err), err.Error())
	}
	inv := Inventory{Head: head, Full: true}
	if !ask.Since.IsZero() && ask.Module == "" {
		// since must be a commit of this world (the asker had it from us as a head); else
		// the answer is full.
		if _, err := w.LoadCommit(ask.Since); err != nil {
			// full
		} else if old, err := s.opts.Catalog.Entries(v, ask.Since, ""); err == nil {
			inv.Full = false
			had := make(map[string]bool, len(old))
			for _, e := range old {
				had[e.Path] = true
			}
			kept := cur[:0:0]
			for _, e := range cur {
				if !had[e.Path] {
					kept = append(kept, e)
				}
			}
			cur = kept
		}
	}
	byID := map[coda.ID]string{} // id → a path the asker may read it at
	for _, e := range cur {
		if e.Kind < KindInterface || e.Kind > KindResult || !validModule(e.Module) {
			continue
		}
		inv.Entries = append(inv.Entries, Item{Kind: e.Kind, Module: e.Module, ID: e.ID})
		byID[e.ID] = e.Path
	}
	sort.Slice(inv.Entries, func(i, j int) bool { return cmpItem(inv.Entries[i], inv.Entries[j]) < 0 })
	inv.Entries = dedupItems(inv.Entries)
	if len(inv.Entries) > MaxEntries {
		return s.refuse(c, errs.Limit, fmt.Sprintf("%d entries, at most %d in one answer: ask per module", len(inv.Entries), MaxEntries))
	}
	for _, op := range s.trust.Share(key) {
		if len(inv.Opinions) >= MaxOpinions {
			break
		}
		inv.Opinions = append(inv.Opinions, Opinion{About: [32]byte(op.About), Kind: uint8(op.Kind), Agree: op.Agree, Disagree: op.Disagree})
	}
	sort.Slice(inv.Opinions, func(i, j int) bool { return cmpOpinion(inv.Opinions[i], inv.Opinions[j]) < 0 })
	if s.opts.Peers != nil {
		inv.Peers = sharable(s.opts.Peers(remote), remote, loop)
	}
	if err := c.Send(invSchema, inv.value()); err != nil {
		return err
	}
	m, err = recv(c, wantSchema)
	if err != nil {
		return err
	}
	want := m.(Want)
	if err := recvEnd(c, "Want"); err != nil {
		return err
	}
	for i, id := range want.IDs {
		p, ok := byID[id]
		if !ok {
			return errs.E(errs.Invalid, errs.Op("collect"), errs.Path(fmt.Sprintf("Want.ids[%d]", i)), fmt.Sprintf("id %s is not in the inventory", id))
		}
		it, err := v.Get(head, p)
		if err != nil {
			// Our own listing at head named it: a failure here is ours,
			// never the asker's (no kind that would punish it).
			return errs.E(errs.Internal, errs.Op("collect: serve"), errs.Path(p), err)
		}
		if len(it.Raw) > MaxObject {
			return errs.E(errs.Internal, errs.Op("collect: serve"), errs.Path(p), fmt.Sprintf("object of %d bytes, over %d", len(it.Raw), MaxObject))
		}
		if err := c.Send(objSchema, Object{Data: it.Raw}.value()); err != nil {
			return err
		}
	}
	return c.CloseWrite()
}

func dedupItems(items []Item) []Item {
	out := items[:0]
	for i, it := range items {
		if i > 0 && cmpItem(items[i-1], it) == 0 {
			continue
		}
		out = append(out, it)
	}
	return out
}

// sharable keeps infos within the wire's bounds, never remote itself;
// loopback addresses only if loop.
func sharable(infos []peer.AddrInfo, remote peer.ID, loop bool) []peer.AddrInfo {
	var out []peer.AddrInfo
	seen := map[peer.ID]bool{remote: true}
	for _, ai := range infos {
		if len(out) >= MaxPeers {
			break
		}
		if seen[ai.ID] || len(ai.ID) > maxIDLen || ai.ID.Validate() != nil {
			continue
		}
		x := peer.AddrInfo{ID: ai.ID}
		for _, a := range ai.Addrs {
			if len(x.Addrs) >= MaxAddrs {
				break
			}
			if rest, last := ma.SplitLast(a); last != nil && last.Protocol().Code == ma.P_P2P {
				a = rest
			}
			if a == nil || len(a.Bytes()) == 0 || len(a.Bytes()) > maxAddrLen || !loop && manet.IsIPLoopback(a) {
				continue
			}
			x.Addrs = append(x.Addrs, a)
		}
		if len(x.Addrs) > 0 {
			seen[ai.ID] = true
			out = append(out, x)
		}
	}
	return out
}

// ---- asker ----

// Report says what one session did.
type Report struct {
	Peer     string        `json:"peer"`
	Key      string        `json:"key"`
	Module   string        `json:"module,omitempty"`
	Head     coda.ID       `json:"head"`
	Full     bool          `json:"full"`
	Listed   int           `json:"listed"`   // entries in the inventory
	Wanted   int           `json:"wanted"`   // objects asked for
	Objects  int           `json:"objects"`  // objects received
	Bytes    int64         `json:"bytes"`    // bytes received on the stream
	Imported int           `json:"imported"` // entries stored in our catalog
	Results  ResultsReport `json:"results"`
	Opinions int           `json:"opinions"` // trust opinions received
	Peers    int           `json:"peers"`    // peer addresses received
	Millis   int64         `json:"ms"`
	Error    string        `json:"error,omitempty"` // CollectAll: why this peer failed
}

// ResultsReport says what happened to the Results received.
type ResultsReport struct {
	Received  int `json:"received"`
	Denied    int `json:"denied"`    // signed by a denied node: dropped
	Rechecked int `json:"rechecked"` // re-run
	Agreed    int `json:"agreed"`
	Disagreed int `json:"disagreed"` // found false: not stored, signer's trust lowered
	Failed    int `json:"failed"`    // the re-check could not run, or it does not fit our catalog: not stored
	Stored    int `json:"stored"`
}

// Collect runs one session with p: the entries of module ("" every
// module) that we lack, imported into our catalog. A peer that sends
// invalid data is punished (Options.OnInvalid) and the error returned.
func (s *Service) Collect(ctx context.Context, p peer.ID, module string) (Report, error) {
	return s.CollectInto(ctx, p, module, "")
}

// CollectInto is Collect into the catalog of the world named world (""
// the Service's). Only sessions into the Service's own catalog world are
// incremental: the since of a peer is about what that world holds.
//
// One session with a peer runs at a time: CollectInto waits for one under
// way (an automatic one, auto.go) to end.
func (s *Service) CollectInto(ctx context.Context, p peer.ID, module, world string) (Report, error) {
	if err := s.lockPeer(ctx, p); err != nil {
		return Report{Peer: p.String(), Module: module}, errs.E(errs.Op("collect"), err)
	}
	defer s.unlockPeer(p)
	return s.collectInto(ctx, p, module, world)
}

func (s *Service) collectInto(ctx context.Context, p peer.ID, module, world string) (Report, error) {
	start := time.Now()
	op := errs.Op("collect")
	r := Report{Peer: p.String(), Module: module}
	key, err := relay.PeerKey(p)
	if err != nil {
		return r, errs.E(op, err)
	}
	r.Key = cdb.KeyString(key)
	if !s.trust.Accepts(key) {
		return r, errs.E(op, errs.Permission, errs.Path(p.String()), "the peer is denied (coal trust set PEER auto)")
	}
	if module != "" && !validModule(module) {
		return r, errs.E(op, errs.Invalid, fmt.Sprintf("bad module name %q", module))
	}
	own, err := s.world()
	if err != nil {
		return r, errs.E(op, err)
	}
	w := own
	if world != "" {
		if w, err = s.home.World(world); err != nil {
			return r, errs.E(op, err)
		}
	}
	incremental := module == "" && w.ID() == own.ID()
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	c, _, err := relay.Dial(ctx, s.h, p, []protocol.ID{Protocol}, []coda.ID{askSchema.ID, wantSchema.ID}, schemaReg, s.relayOpts())
	if err != nil {
		return r, errs.E(op, err)
	}
	defer c.Close()
	err = s.ask(ctx, c, p, key, w, module, incremental, &r)
	_, r.Bytes = c.Counts()
	r.Millis = time.Since(start).Milliseconds()
	if err != nil {
		if isInvalid(err) && !errors.Is(err, errRefused) && !errors.Is(err, errUnfit) {
			s.invalid(p, key, err)
		}
		c.Reset()
		return r, errs.E(op, errs.Path(p.String()), err)
	}
	return r, nil
}

var errRefused = errors.New("collect: refused")

// errUnfit marks objects that are each valid but that our catalog
// refuses together (a program no impl names, an impl of an interface the
// peer did not show us): the peer's catalog may be so for honest reasons
// (its ACLs, a manual edit), so it is not punished.
var errUnfit = errors.New("collect: the objects do not fit our catalog")

func (s *Service) ask(ctx context.Context, c *relay.Conn, p peer.ID, key ed25519.PublicKey, w *cdb.World, module string, incremental bool, r *Report) error {
	var since coda.ID
	if incremental {
		s.mu.Lock()
		since = s.since[p]
		s.mu.Unlock()
	}
	if err := c.Send(askSchema, Ask{Since: since, Module: module}.value()); err != nil {
		return err
	}
	m, err := recv(c, invSchema)
	if err != nil {
		return err
	}
	if rf, ok := m.(Refuse); ok {
		k := errs.Unavailable
		for _, kk := range []errs.Kind{errs.Permission, errs.NotExist, errs.Limit, errs.Invalid} {
			if kk.String() == rf.Kind {
				k = kk
			}
		}
		if k == errs.Invalid || k == errs.NotExist || k == errs.Limit {
			// Not the peer's data being invalid: keep the kind out of
			// isInvalid's reach.
			return fmt.Errorf("%w: %s: %s", errRefused, rf.Kind, rf.Reason)
		}
		return errs.E(k, fmt.Sprintf("refused: %s", rf.Reason))
	}
	inv := m.(Inventory)
	r.Head, r.Full, r.Listed = inv.Head, inv.Full, len(inv.Entries)
	// Opinions and peers.
	ops := make([]trust.Opinion, 0, len(inv.Opinions))
	for _, o := range inv.Opinions {
		ops = append(ops, trust.Opinion{About: ed25519.PublicKey(o.About[:]), Kind: trust.Kind(o.Kind), Evidence: trust.Evidence{Agree: o.Agree, Disagree: o.Disagree}})
	}
	if err := s.trust.Merge(key, s.self, ops); err != nil {
		s.log.Warn("collect: trust", "err", err)
	}
	r.Opinions = len(ops)
	r.Peers = len(inv.Peers)
	if s.opts.Learn != nil {
		for _, ai := range inv.Peers {
			if ai.ID != s.h.ID() {
				s.opts.Learn(ai)
			}
		}
	}
	// What we lack: an entry whose path our catalog does not have (a
	// program shared by two modules is wanted once per module it lacks
	// in, but asked for once).
	mine, err := s.opts.Catalog.Entries(w.As(s.self), coda.ID{}, module)
	if err != nil {
		return errs.E(errs.Internal, fmt.Errorf("our catalog: %w", err))
	}
	have := map[string]bool{}
	for _, e := range mine {
		have[pathKey(e.Module, e.Kind, e.ID)] = true
	}
	wantSet := map[coda.ID]bool{}
	for _, it := range inv.Entries {
		if module != "" && it.Module != module {
			return errs.E(errs.Invalid, fmt.Sprintf("an entry of module %s in an answer about %s", it.Module, module))
		}
		if !have[pathKey(it.Module, it.Kind, it.ID)] {
			wantSet[it.ID] = true
		}
	}
	want := Want{IDs: make([]coda.ID, 0, len(wantSet))}
	for id := range wantSet {
		want.IDs = append(want.IDs, id)
	}
	sort.Slice(want.IDs, func(i, j int) bool { return string(want.IDs[i][:]) < string(want.IDs[j][:]) })
	r.Wanted = len(want.IDs)
	if err := c.Send(wantSchema, want.value()); err != nil {
		return err
	}
	if err := c.CloseWrite(); err != nil {
		return err
	}
	objs := make([][]byte, 0, len(want.IDs))
	for i, id := range want.IDs {
		m, err := recv(c, objSchema)
		if err != nil {
			return err
		}
		data := m.(Object).Data
		if got := coda.Sum(data); got != id {
			return errs.E(errs.Corrupt, errs.Path(fmt.Sprintf("object %d", i)), fmt.Sprintf("wanted %s, got bytes hashing to %s", id, got))
		}
		objs = append(objs, data)
	}
	if err := recvEnd(c, "the last Object"); err != nil {
		return err
	}
	r.Objects = len(objs)
	// Split off the Results: checked (and filtered) after the objects
	// they are about are in our catalog.
	type claim struct {
		obj    []byte
		signer ed25519.PublicKey
		kind   trust.Kind
	}
	var plain [][]byte
	var claims []claim
	for _, obj := range objs {
		if err := s.opts.Catalog.Validate(obj); err != nil {
			return errs.E(errs.Invalid, fmt.Errorf("object %s: %w", coda.Sum(obj), err))
		}
	}
	for _, obj := range objs {
		signer, kind, ok, err := s.opts.Catalog.Claim(obj)
		if err != nil {
			return errs.E(errs.Invalid, fmt.Errorf("object %s: %w", coda.Sum(obj), err))
		}
		if !ok {
			plain = append(plain, obj)
			continue
		}
		r.Results.Received++
		if !s.trust.Accepts(signer) {
			r.Results.Denied++
			continue
		}
		claims = append(claims, claim{obj, signer, kind})
	}
	if len(plain) > 0 {
		n, err := s.opts.Catalog.Import(ctx, w, s.home.NodeKey(), plain)
		if err != nil {
			if errs.Is(err, errs.Invalid) {
				return errs.E(errs.Invalid, fmt.Errorf("%w: import: %w", errUnfit, err))
			}
			return local(fmt.Errorf("import: %w", err))
		}
		r.Imported += n
	}
	if err := s.trust.Record(key, trust.Objects, true); err != nil {
		s.log.Warn("collect: trust", "err", err)
	}
	var keep [][]byte
	for _, cl := range claims {
		if cl.signer.Equal(s.self) || !s.trust.ShouldRecheck(cl.signer, cl.kind) {
			keep = append(keep, cl.obj)
			continue
		}
		r.Results.Rechecked++
		agree, why, err := s.opts.Catalog.Recheck(ctx, w, s.home.NodeKey(), cl.obj)
		if err != nil {
			r.Results.Failed++
			s.log.Info("collect: re-check failed", "result", coda.Sum(cl.obj), "signer", cdb.KeyString(cl.signer), "err", err)
			continue
		}
		if terr := s.trust.Record(cl.signer, cl.kind, agree); terr != nil {
			s.log.Warn("collect: trust", "err", terr)
		}
		if !agree {
			r.Results.Disagreed++
			s.log.Warn("collect: a false claim", "result", coda.Sum(cl.obj), "signer", cdb.KeyString(cl.signer), "why", why)
			continue
		}
		r.Results.Agreed++
		keep = append(keep, cl.obj)
	}
	if len(keep) > 0 {
		n, err := s.opts.Catalog.Import(ctx, w, s.home.NodeKey(), keep)
		switch {
		case err == nil:
			r.Imported += n
			r.Results.Stored = len(keep)
		case errs.Is(err, errs.Invalid):
			// One Result does not fit (its impl or interface is not in our
			// catalog): store the others one by one.
			for _, obj := range keep {
				n, err := s.opts.Catalog.Import(ctx, w, s.home.NodeKey(), [][]byte{obj})
				if err != nil {
					r.Results.Failed++
					s.log.Info("collect: a Result does not fit our catalog", "result", coda.Sum(obj), "err", err)
					continue
				}
				r.Imported += n
				r.Results.Stored++
			}
		default:
			return local(fmt.Errorf("import results: %w", err))
		}
	}
	if incremental {
		s.mu.Lock()
		s.since[p] = inv.Head
		s.saveStateLocked()
		s.mu.Unlock()
	}
	return nil
}

// local marks a failure on our side: its kind is kept unless it is one
// that would make Collect punish the peer.
func local(err error) error {
	k := errs.KindOf(err)
	if isInvalid(err) || k == errs.Other {
		k = errs.Internal
	}
	return errs.E(k, err)
}

func pathKey(module string, kind uint8, id coda.ID) string {
	return fmt.Sprintf("%s\x00%d\x00%s", module, kind, id)
}

// CollectAll runs a session with each of peers in turn (denied ones are
// skipped), into the catalog of world ("" the Service's), and returns one
// report per peer; a peer that fails has its Error set. ctx bounds them
// all.
func (s *Service) CollectAll(ctx context.Context, peers []peer.ID, module, world string) []Report {
	var out []Report
	for _, p := range peers {
		if p == s.h.ID() {
			continue
		}
		if key, err := relay.PeerKey(p); err != nil || !s.trust.Accepts(key) {
			continue
		}
		r, err := s.CollectInto(ctx, p, module, world)
		if err != nil {
			r.Error = err.Error()
		}
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}
