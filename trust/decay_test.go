package trust

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/errs"
)

var t0 = time.Unix(1_700_000_000, 0)

func fixedNow() time.Time { return t0 }

// clock is a settable clock for a Store.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// TestDecay: evidence halves every half-life (docs/trust.md §2): eight
// agreements score 9/10 today, 5/6 after 30 days (they weigh 4), 3/4
// after 60 and 2/3 after 90, when the peer's verdicts stop counting; an
// old disagreement weighs less than new agreements; a shared opinion
// decays from when it arrived; without decay nothing moves.
func TestDecay(t *testing.T) {
	day := 24 * time.Hour
	c := &clock{t0}
	s := New(Options{Seed: 1, Now: c.now})
	p := key(1)
	for range 8 {
		s.Record(p, Verdicts, true)
	}
	for _, x := range []struct {
		after time.Duration
		score float64
		count bool
	}{{0, 9.0 / 10, true}, {30 * day, 5.0 / 6, true}, {60 * day, 3.0 / 4, true}, {90 * day, 2.0 / 3, false}} {
		c.t = t0.Add(x.after)
		if got := s.Score(p, Verdicts); !near(got, x.score) {
			t.Errorf("after %v: score %v, want %v", x.after, got, x.score)
		}
		if got := s.Counts(p, Verdicts); got != x.count {
			t.Errorf("after %v: counts %v, want %v", x.after, got, x.count)
		}
		if got, want := s.RecheckP(p, Verdicts), max(DefaultPMin, 1-x.score); !near(got, want) {
			t.Errorf("after %v: recheck p %v, want %v", x.after, got, want)
		}
	}
	// Lifetime counts do not decay; what is shared does (rounded).
	c.t = t0.Add(60 * day)
	if r := s.List()[0].Kinds[Verdicts]; r.Agree != 8 || r.Disagree != 0 {
		t.Errorf("list after 60 days: %+v, want the 8 agreements counted", r)
	}
	if sh := s.Share(nil); len(sh) != 1 || sh[0].Agree != 2 {
		t.Errorf("shared after 60 days: %+v, want 2 agreements (8 halved twice)", sh)
	}
	// An old lie weighs less than new truths: one disagreement, then two
	// agreements 60 days later: a = 2, d = 1/4.
	q := key(2)
	c.t = t0
	s.Record(q, Scores, false)
	c.t = t0.Add(60 * day)
	s.Record(q, Scores, true)
	s.Record(q, Scores, true)
	if got, want := s.Score(q, Scores), 3/(2+0.5+2.0); !near(got, want) {
		t.Errorf("old lie, new truths: score %v, want %v", got, want)
	}
	// A shared opinion decays from when it arrived: p vouches for x
	// (weight = p's score, 3/4 at day 60); 30 days later it weighs half.
	x := key(3)
	s.Merge(p, nil, []Opinion{{About: x, Kind: Verdicts, Evidence: Evidence{Agree: 4}}})
	a, _ := s.weighted([32]byte(x), Verdicts, c.t.UnixNano())
	if !near(a, 0.75*4) {
		t.Errorf("fresh opinion weighs %v, want %v", a, 0.75*4)
	}
	c.t = t0.Add(90 * day)
	a, _ = s.weighted([32]byte(x), Verdicts, c.t.UnixNano())
	if want := (2.0 / 3) * 4 * 0.5; !near(a, want) {
		t.Errorf("opinion 30 days old weighs %v, want %v", a, want)
	}
	// Without decay: nothing moves.
	c.t = t0
	n := New(Options{Seed: 1, Now: c.now, HalfLife: -1})
	for range 8 {
		n.Record(p, Verdicts, true)
	}
	c.t = t0.Add(3650 * day)
	if got := n.Score(p, Verdicts); got != 0.9 {
		t.Errorf("no decay, 10 years later: score %v, want 0.9", got)
	}
}

// TestDecayFile: the decayed weights and their dates survive a restart;
// a file without them (written before decay) dates its evidence to when
// it is read; a weight over its count is invalid, naming the field.
func TestDecayFile(t *testing.T) {
	day := 24 * time.Hour
	path := filepath.Join(t.TempDir(), FileName)
	c := &clock{t0}
	s, err := Open(path, Options{Seed: 1, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	p := key(1)
	for range 8 {
		s.Record(p, Verdicts, true)
	}
	c.t = t0.Add(30 * day)
	s2, err := Open(path, Options{Seed: 1, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.Score(p, Verdicts); !near(got, 5.0/6) {
		t.Errorf("reopened 30 days later: score %v, want 5/6", got)
	}
	old := `{"version":1,"peers":[{"key":"` + s.List()[0].Key + `","policy":"auto","own":{"verdicts":{"agree":8,"disagree":0}}}]}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(path, Options{Seed: 1, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if got := s3.Score(p, Verdicts); !near(got, 9.0/10) {
		t.Errorf("an undated file, just read: score %v, want 9/10", got)
	}
	c.t = c.t.Add(30 * day)
	if got := s3.Score(p, Verdicts); !near(got, 5.0/6) {
		t.Errorf("an undated file, 30 days after it was read: score %v, want 5/6", got)
	}
	bad := strings.Replace(old, `"disagree":0}`, `"disagree":0,"weight":{"agree":9,"disagree":0,"at":1}}`, 1)
	if _, err := Decode([]byte(bad)); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "peers[0].own.verdicts.weight") {
		t.Errorf("a weight over its count: %v", err)
	}
}
