package collect

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestAutoSchedule: after a good session a peer is due again one period
// later (at once on a new connection); after failures it backs off 30 s,
// 1 min, 2 min, … up to an hour, new connections included; a success
// resets that; forget keeps a peer that is backing off.
func TestAutoSchedule(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	p := peer.ID("p")
	a := &autoState{every: 5 * time.Minute, peers: map[peer.ID]*autoPeer{}}
	if !a.due(p, t0, false) {
		t.Fatal("an unknown peer is not due")
	}
	a.done(p, t0, true)
	for _, c := range []struct {
		after     time.Duration
		connected bool
		want      bool
	}{{time.Minute, false, false}, {time.Minute, true, true}, {5 * time.Minute, false, true}} {
		if got := a.due(p, t0.Add(c.after), c.connected); got != c.want {
			t.Errorf("after a success, %v later (new connection %v): due %v, want %v", c.after, c.connected, got, c.want)
		}
	}
	var waits []time.Duration
	now := t0
	for range 9 {
		a.done(p, now, false)
		w := a.peers[p].next.Sub(now)
		waits = append(waits, w)
		if a.due(p, now.Add(w-time.Second), true) || !a.due(p, now.Add(w), false) {
			t.Fatalf("after %d failures: due before %v, or not at it", len(waits), w)
		}
		now = now.Add(w)
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute,
		32 * time.Minute, time.Hour, time.Hour}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("backoffs %v, want %v", waits, want)
		}
	}
	a.forget(nil, now.Add(-time.Minute))
	if a.peers[p] == nil {
		t.Fatal("forget dropped a peer backing off")
	}
	a.done(p, now, true)
	if a.peers[p].fails != 0 || !a.due(p, now, true) {
		t.Fatal("a success did not reset the backoff")
	}
	a.forget(nil, now)
	if a.peers[p] != nil {
		t.Fatal("forget kept a disconnected peer in good standing")
	}
}
