package api

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/coda"
)

// dag is a random commit history with branches and merges, as commits
// are: a commit's time is greater than its parent's, a merge's is the
// greatest of its parents' (so equal times happen), and branches made on
// other nodes carry times older than commits already on main.
type dag struct {
	rng     *rand.Rand
	commits map[coda.ID]*cdb.Commit
	touch   map[coda.ID]bool // the commits "touching the prefix"
	heads   []coda.ID        // branch tips; 0 is main
	mainSeq []coda.ID        // the heads main had, in order
	loads   int
}

func newDAG(seed uint64) *dag {
	d := &dag{rng: rand.New(rand.NewPCG(seed, 1)), commits: map[coda.ID]*cdb.Commit{}, touch: map[coda.ID]bool{}}
	g := d.add(nil, 1, false)
	d.heads = []coda.ID{g, g, g}
	d.mainSeq = []coda.ID{g}
	return d
}

func (d *dag) add(parents []coda.ID, t hlc.Time, merge bool) coda.ID {
	var id coda.ID
	for i := range id {
		id[i] = byte(d.rng.Uint32())
	}
	c := &cdb.Commit{ID: id, Parents: parents, Time: t}
	if !merge {
		c.Author = []byte{1}
	}
	d.commits[id] = c
	d.touch[id] = d.rng.IntN(3) > 0
	return id
}

func (d *dag) load(id coda.ID) (*cdb.Commit, error) {
	d.loads++
	c, ok := d.commits[id]
	if !ok {
		return nil, fmt.Errorf("no commit %s", id)
	}
	return c, nil
}

// anc returns the ancestors of id, id included.
func (d *dag) anc(id coda.ID) map[coda.ID]bool {
	seen := map[coda.ID]bool{id: true}
	stack := []coda.ID{id}
	for len(stack) > 0 {
		c := d.commits[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		for _, p := range c.Parents {
			if !seen[p] {
				seen[p] = true
				stack = append(stack, p)
			}
		}
	}
	return seen
}

// step makes one change: a commit on a branch, or a merge of one branch
// into another (a fast-forward where it can be). It returns whether
// main's head moved.
func (d *dag) step() bool {
	b := d.rng.IntN(len(d.heads))
	head := d.commits[d.heads[b]]
	if d.rng.IntN(4) > 0 {
		// A commit. Off main, its time may lag (another node's clock).
		t := head.Time + hlc.Time(1+d.rng.IntN(3))
		if b == 0 {
			t += hlc.Time(d.rng.IntN(20))
		}
		d.heads[b] = d.add([]coda.ID{head.ID}, t, false)
	} else {
		o := d.rng.IntN(len(d.heads))
		other := d.commits[d.heads[o]]
		switch {
		case o == b || d.anc(head.ID)[other.ID]:
			return false // merged already
		case d.anc(other.ID)[head.ID]:
			d.heads[b] = other.ID // fast-forward
		default:
			ps := []coda.ID{head.ID, other.ID}
			slices.SortFunc(ps, func(x, y coda.ID) int { return slices.Compare(x[:], y[:]) })
			d.heads[b] = d.add(ps, max(head.Time, other.Time), true)
		}
	}
	if b == 0 {
		d.mainSeq = append(d.mainSeq, d.heads[0])
	}
	return b == 0
}

// stream runs a watch over main's heads seq[0:] from position pos, as
// sendSince does, and returns the events of each batch.
func (d *dag) stream(t *testing.T, pos coda.ID, seq []coda.ID) [][]*cdb.Commit {
	t.Helper()
	see := func(c *cdb.Commit, cover bool) (*cdb.Commit, error) {
		if cover || d.touch[c.ID] {
			return c, nil
		}
		return nil, nil
	}
	var batches [][]*cdb.Commit
	for _, h := range seq {
		if h == pos {
			batches = append(batches, nil)
			continue
		}
		fresh, err := newCommits(d.load, pos, h)
		if err != nil {
			t.Fatal(err)
		}
		// newCommits is the set difference, parents first.
		want, old := d.anc(h), d.anc(pos)
		for id := range old {
			delete(want, id)
		}
		placed := map[coda.ID]bool{}
		for _, c := range fresh {
			if !want[c.ID] || placed[c.ID] {
				t.Fatalf("newCommits(%x, %x): %x is not new or comes twice", pos[:4], h[:4], c.ID[:4])
			}
			for _, p := range c.Parents {
				if want[p] && !placed[p] {
					t.Fatalf("newCommits(%x, %x): %x before its parent %x", pos[:4], h[:4], c.ID[:4], p[:4])
				}
			}
			placed[c.ID] = true
		}
		if len(placed) != len(want) {
			t.Fatalf("newCommits(%x, %x): %d commits, want %d", pos[:4], h[:4], len(placed), len(want))
		}
		evs, err := eventsOf(fresh, pos, see)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, evs)
		pos = h
	}
	return batches
}

// TestWatchDAG checks the watch's choice of commits against naive set
// arithmetic on random histories with branches, merges and
// fast-forwards: every commit touching the prefix that enters main is
// sent once, parents first; after each batch the last event descends
// from everything sent before it, so resuming from it (Last-Event-ID)
// sends exactly the touching commits the unbroken stream sent later; and
// a batch of one new commit on top of the position loads O(1) commits.
func TestWatchDAG(t *testing.T) {
	covers, merged := 0, 0 // cover events sent; commits sent from other branches
	for seed := range uint64(150) {
		d := newDAG(seed)
		for range 60 {
			d.step()
		}
		start := len(d.mainSeq) - 1
		for range 120 {
			d.step()
		}
		seq := d.mainSeq[start:]
		batches := d.stream(t, seq[0], seq[1:])

		var sent []*cdb.Commit
		count := map[coda.ID]int{}
		before := d.anc(seq[0])
		for k, evs := range batches {
			for _, e := range evs {
				count[e.ID]++
				if !d.touch[e.ID] {
					covers++
				}
				if !d.touch[e.ID] && !e.IsMerge() {
					t.Fatalf("seed %d: batch %d: %x neither touches nor is a merge", seed, k, e.ID[:4])
				}
				if count[e.ID] > 1 {
					t.Fatalf("seed %d: batch %d: %x sent twice", seed, k, e.ID[:4])
				}
				for _, p := range e.Parents {
					if count[p] == 0 && d.touch[p] && !before[p] {
						t.Fatalf("seed %d: batch %d: %x before its parent %x", seed, k, e.ID[:4], p[:4])
					}
				}
			}
			sent = append(sent, evs...)
			if len(sent) > 0 && len(evs) > 0 {
				a := d.anc(sent[len(sent)-1].ID)
				for _, e := range append(slices.Clone(sent), d.commits[seq[0]]) {
					if !a[e.ID] {
						t.Fatalf("seed %d: after batch %d the last event %x does not descend from %x", seed, k, sent[len(sent)-1].ID[:4], e.ID[:4])
					}
				}
			}
		}
		mainline := map[coda.ID]bool{}
		for _, h := range seq {
			mainline[h] = true
		}
		for id := range d.anc(seq[len(seq)-1]) {
			if !mainline[id] && count[id] == 1 {
				merged++
			}
			if !before[id] && d.touch[id] && count[id] != 1 {
				t.Fatalf("seed %d: %x touches and entered main, sent %d times", seed, id[:4], count[id])
			}
		}

		// Resume from the last event of some batches that had one.
		n := 0
		for k, evs := range batches {
			n += len(evs)
			if len(evs) == 0 || k == len(batches)-1 || d.rng.IntN(10) > 0 {
				continue
			}
			last := evs[len(evs)-1].ID
			var got, want []coda.ID
			for _, b := range d.stream(t, last, seq[k+2:]) {
				for _, e := range b {
					if d.touch[e.ID] {
						got = append(got, e.ID)
					}
				}
			}
			for _, e := range sent[n:] {
				if d.touch[e.ID] {
					want = append(want, e.ID)
				}
			}
			slices.SortFunc(got, func(x, y coda.ID) int { return slices.Compare(x[:], y[:]) })
			slices.SortFunc(want, func(x, y coda.ID) int { return slices.Compare(x[:], y[:]) })
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d: resumed after batch %d: %d touching events, want the %d the stream sent later", seed, k, len(got), len(want))
			}
		}
	}
	t.Logf("%d events of commits from other branches, %d merges sent to cover them", merged, covers)
	if covers == 0 || merged == 0 {
		t.Error("the histories exercised no merge of other branches' commits")
	}
}

// TestWatchCost: a wake-up for one new commit on top of the position
// reads a constant number of commits, however long the history and
// however rarely the prefix is touched.
func TestWatchCost(t *testing.T) {
	d := newDAG(1)
	d.heads = d.heads[:1]
	for range 5000 {
		d.step()
	}
	for id := range d.touch {
		d.touch[id] = false
	}
	seq := d.mainSeq
	pos, head := seq[len(seq)-2], seq[len(seq)-1]
	if d.commits[head].Parents[0] != pos {
		t.Fatal("the last two heads are not a commit and its parent")
	}
	d.loads = 0
	d.stream(t, pos, []coda.ID{head})
	if d.loads > 4 {
		t.Errorf("one new commit on a history of %d: %d commits read, want ≤ 4", len(d.commits), d.loads)
	}
}
