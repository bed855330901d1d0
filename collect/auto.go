package collect

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"

	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
)

// Automatic collect (docs/protocols.md §7.4): a node collects from every
// peer that speaks collect as soon as identify says it does, and again
// every period, so modules spread without anyone running coal collect.

// DefaultEvery is the period of automatic collect with each peer.
const DefaultEvery = 5 * time.Minute

// Backoff after failed automatic sessions with a peer: the first retry
// waits autoRetry, each further failure doubles the wait, up to
// autoMaxBackoff.
const (
	autoRetry      = 30 * time.Second
	autoMaxBackoff = time.Hour
)

// AutoOptions configure StartAuto. The zero value is ready to use.
type AutoOptions struct {
	// Every is the period of the incremental collect with each connected
	// peer that speaks collect; 0 is DefaultEvery.
	Every time.Duration
	// Connected lists the peers to consider each period; nil: the
	// host's connected peers.
	Connected func() []peer.ID
	// Skip reports a peer never to collect from automatically (the
	// swarm's bad peers); nil: none. Denied peers are always skipped.
	Skip func(peer.ID) bool
	// Done, if set, is told of every automatic session when it ends.
	Done func(Report, error)
}

// backoff is how long to wait after fails consecutive failed sessions
// (fails ≥ 1) before the next automatic one.
func backoff(fails int) time.Duration {
	d := autoRetry
	for i := 1; i < fails && d < autoMaxBackoff; i++ {
		d *= 2
	}
	return min(d, autoMaxBackoff)
}

// autoPeer is what the automatic collector remembers of one peer.
type autoPeer struct {
	next  time.Time // no periodic session before
	fails int       // consecutive failed sessions
}

// autoState is the automatic collector's schedule. Its methods are pure
// given the time, so the schedule is tested without a network.
type autoState struct {
	every time.Duration
	peers map[peer.ID]*autoPeer
}

// due reports whether a session with p may run at now: a periodic one
// once its time has come; one for a new connection unless the peer is
// backing off after failures.
func (a *autoState) due(p peer.ID, now time.Time, connected bool) bool {
	st := a.peers[p]
	if st == nil {
		return true
	}
	if connected && st.fails == 0 {
		return true
	}
	return !now.Before(st.next)
}

// done records how a session with p that ended at now went.
func (a *autoState) done(p peer.ID, now time.Time, ok bool) {
	st := a.peers[p]
	if st == nil {
		st = &autoPeer{}
		a.peers[p] = st
	}
	if ok {
		st.fails = 0
		st.next = now.Add(a.every)
		return
	}
	st.fails++
	st.next = now.Add(backoff(st.fails))
}

// forget drops the peers not in keep (disconnected ones), keeping those
// backing off so a reconnect does not skip the backoff.
func (a *autoState) forget(keep []peer.ID, now time.Time) {
	for p, st := range a.peers {
		if !slices.Contains(keep, p) && (st.fails == 0 || !now.Before(st.next)) {
			delete(a.peers, p)
		}
	}
}

// StartAuto starts collecting automatically: from each peer as soon as
// identify reports that it speaks collect, and from every connected such
// peer every o.Every, with backoff after failures. Sessions run one at a
// time, incrementally, into the Service's own catalog world; a peer with
// a session under way (coal collect) is not asked again meanwhile. Close
// stops it.
func (s *Service) StartAuto(o AutoOptions) error {
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.Connected == nil {
		o.Connected = s.h.Network().Peers
	}
	sub, err := s.h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted), eventbus.BufSize(256))
	if err != nil {
		return errs.E(errs.Op("collect: auto"), err)
	}
	var mu sync.Mutex
	pending := map[peer.ID]bool{} // peer → from a new connection
	wake := make(chan struct{}, 1)
	add := func(p peer.ID, connected bool) {
		mu.Lock()
		pending[p] = pending[p] || connected
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	s.wg.Add(2)
	go func() { // identify events: only queue, never block the bus
		defer s.wg.Done()
		defer sub.Close()
		for {
			select {
			case <-s.ctx.Done():
				return
			case e, ok := <-sub.Out():
				if !ok {
					return
				}
				ev := e.(event.EvtPeerIdentificationCompleted)
				if slices.Contains(ev.Protocols, protocol.ID(Protocol)) {
					add(ev.Peer, true)
				}
			}
		}
	}()
	go func() {
		defer s.wg.Done()
		st := &autoState{every: o.Every, peers: map[peer.ID]*autoPeer{}}
		tick := time.NewTicker(max(o.Every/5, time.Second))
		defer tick.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-wake:
			case <-tick.C:
				conn := o.Connected()
				st.forget(conn, time.Now())
				for _, p := range conn {
					if ps, err := s.h.Peerstore().SupportsProtocols(p, protocol.ID(Protocol)); err == nil && len(ps) > 0 {
						add(p, false)
					}
				}
			}
			mu.Lock()
			batch := pending
			pending = map[peer.ID]bool{}
			mu.Unlock()
			ids := make([]peer.ID, 0, len(batch))
			for p := range batch {
				ids = append(ids, p)
			}
			slices.Sort(ids)
			for _, p := range ids {
				if s.ctx.Err() != nil {
					return
				}
				if !st.due(p, time.Now(), batch[p]) || !s.autoEligible(p, o) {
					continue
				}
				r, err := s.autoSession(p)
				if errs.Is(err, errs.Exist) {
					continue // a session with p is under way (coal collect)
				}
				st.done(p, time.Now(), err == nil)
				if err != nil {
					s.log.Info("collect: automatic session failed", "peer", p, "err", err)
				} else if r.Imported > 0 {
					s.log.Info("collect: automatic session", "peer", p, "listed", r.Listed, "imported", r.Imported)
				}
				if o.Done != nil {
					o.Done(r, err)
				}
			}
		}
	}()
	return nil
}

// autoEligible reports whether p may be asked automatically now:
// connected, not ours, not skipped, not denied.
func (s *Service) autoEligible(p peer.ID, o AutoOptions) bool {
	if p == s.h.ID() || s.h.Network().Connectedness(p) != network.Connected || (o.Skip != nil && o.Skip(p)) {
		return false
	}
	key, err := relay.PeerKey(p)
	return err == nil && s.trust.Accepts(key)
}

// autoSession runs one incremental session with p, unless one with p is
// under way (errs.Exist).
func (s *Service) autoSession(p peer.ID) (Report, error) {
	if !s.tryLockPeer(p) {
		return Report{Peer: p.String()}, errs.E(errs.Exist, "a session with the peer is under way")
	}
	defer s.unlockPeer(p)
	return s.collectInto(s.ctx, p, "", "")
}

// tryLockPeer marks a session with p as under way; false if one is.
func (s *Service) tryLockPeer(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[p] != nil {
		return false
	}
	if s.busy == nil {
		s.busy = map[peer.ID]chan struct{}{}
	}
	s.busy[p] = make(chan struct{})
	return true
}

// lockPeer waits until no session with p is under way and marks one.
func (s *Service) lockPeer(ctx context.Context, p peer.ID) error {
	for {
		s.mu.Lock()
		ch := s.busy[p]
		s.mu.Unlock()
		if ch == nil && s.tryLockPeer(p) {
			return nil
		}
		if ch == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return errs.E(errs.Canceled, ctx.Err())
		case <-ch:
		}
	}
}

// unlockPeer ends the session with p that tryLockPeer or lockPeer marked.
func (s *Service) unlockPeer(p peer.ID) {
	s.mu.Lock()
	if ch := s.busy[p]; ch != nil {
		close(ch)
		delete(s.busy, p)
	}
	s.mu.Unlock()
}
