package cdb

import (
	"sync"

	"github.com/coalescent/coal/coda"
)

// subscribers are the watchers of the home's worlds (Home.Subscribe). The
// zero value is ready.
type subscribers struct {
	mu sync.Mutex
	m  map[coda.ID]map[chan struct{}]struct{}
}

// Subscribe returns a channel that receives a signal after a branch head
// of world moves (a local commit, durable when signalled; a merge; a
// received bundle), and a cancel func that stops the signals. Signals
// coalesce: the channel holds at most one, and a subscriber that is busy
// when several commits land gets one signal for all of them, so a slow
// subscriber is never dropped and never blocks a writer. A subscriber
// reads what changed from the history (World.Log), from where it was.
func (h *Home) Subscribe(world coda.ID) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s := &h.subs
	s.mu.Lock()
	if s.m == nil {
		s.m = map[coda.ID]map[chan struct{}]struct{}{}
	}
	if s.m[world] == nil {
		s.m[world] = map[chan struct{}]struct{}{}
	}
	s.m[world][ch] = struct{}{}
	s.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.m[world], ch)
			if len(s.m[world]) == 0 {
				delete(s.m, world)
			}
			s.mu.Unlock()
		})
	}
}

// notify signals the subscribers of world, without blocking.
func (h *Home) notify(world coda.ID) {
	s := &h.subs
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.m[world] {
		select {
		case ch <- struct{}{}:
		default: // a signal is pending: it covers this commit too
		}
	}
}
