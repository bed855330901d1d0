package trust

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
)

func key(b byte) ed25519.PublicKey {
	pub, _, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{b}, 64)))
	return pub
}

func TestNewPeer(t *testing.T) {
	s := New(Options{Seed: 1, Now: fixedNow})
	p := key(1)
	if got := s.RecheckP(p, Verdicts); got != 1 {
		t.Fatalf("RecheckP of a new peer = %v, want 1", got)
	}
	if got := s.Score(p, Verdicts); got != 0.5 {
		t.Fatalf("Score of a new peer = %v, want 0.5", got)
	}
	if s.Counts(p, Verdicts) {
		t.Fatal("a new peer's verdicts count unchecked")
	}
	for range 100 {
		if !s.ShouldRecheck(p, Verdicts) {
			t.Fatal("a new peer's claim was not re-checked")
		}
	}
}

// TestModel: a sequence of agreements raises a peer's score and lowers its
// recheck probability monotonically; each disagreement lowers the score
// by more than an agreement raises it; the other kinds stay untouched.
func TestModel(t *testing.T) {
	s := New(Options{Seed: 1, Now: fixedNow})
	p := key(1)
	prev := s.Score(p, Scores)
	prevP := s.RecheckP(p, Scores)
	for i := range 20 {
		if err := s.Record(p, Scores, true); err != nil {
			t.Fatal(err)
		}
		sc, rp := s.Score(p, Scores), s.RecheckP(p, Scores)
		if sc <= prev {
			t.Fatalf("after %d agreements score %v, before %v: not raised", i+1, sc, prev)
		}
		if rp > prevP {
			t.Fatalf("after %d agreements recheck p %v, before %v: raised", i+1, rp, prevP)
		}
		prev, prevP = sc, rp
	}
	if got := s.RecheckP(p, Scores); got != DefaultPMin {
		t.Fatalf("after 20 agreements recheck p = %v, want the floor %v", got, DefaultPMin)
	}
	if !s.Counts(p, Scores) {
		t.Fatal("after 20 agreements scores do not count")
	}
	if s.Counts(p, Verdicts) || s.RecheckP(p, Verdicts) != 1 {
		t.Fatal("evidence about scores moved verdicts")
	}
	before := s.Score(p, Scores)
	s.Record(p, Scores, false)
	drop := before - s.Score(p, Scores)
	s.Record(p, Scores, true)
	rise := s.Score(p, Scores) - (before - drop)
	if drop <= rise {
		t.Fatalf("a disagreement lowered the score by %v, an agreement raised it by %v", drop, rise)
	}
	// A liar: one agreement, then lies.
	l := key(2)
	s.Record(l, Scores, true)
	for range 3 {
		s.Record(l, Scores, false)
	}
	if sc := s.Score(l, Scores); sc >= 0.5 {
		t.Fatalf("liar score %v, want below a new peer's 0.5", sc)
	}
	if s.Counts(l, Scores) {
		t.Fatal("a liar's scores count")
	}
}

func TestPolicy(t *testing.T) {
	s := New(Options{Seed: 1, Now: fixedNow})
	p := key(1)
	if err := s.SetPolicy(p, Allow); err != nil {
		t.Fatal(err)
	}
	if s.RecheckP(p, Verdicts) != 0 || !s.Counts(p, Verdicts) || s.ShouldRecheck(p, Verdicts) {
		t.Fatal("allow: still re-checked or not counted")
	}
	s.Record(p, Verdicts, false)
	if !s.Counts(p, Verdicts) {
		t.Fatal("allow: a disagreement overrode the human's policy")
	}
	s.SetPolicy(p, Deny)
	if s.Accepts(p) || s.Counts(p, Verdicts) || s.Score(p, Verdicts) != 0 {
		t.Fatal("deny: still accepted")
	}
	// A denied sharer's opinions are ignored.
	q := key(2)
	s.Merge(p, nil, []Opinion{{About: q, Kind: Verdicts, Evidence: Evidence{Agree: 30}}})
	if s.RecheckP(q, Verdicts) != 1 {
		t.Fatal("deny: a denied peer's opinion counted")
	}
	s.SetPolicy(p, Auto)
	if s.Policy(p) != Auto || !s.Accepts(p) {
		t.Fatal("auto not restored")
	}
	if err := s.SetPolicy(p, Policy(9)); !errs.Is(err, errs.Invalid) {
		t.Fatalf("policy 9: %v", err)
	}
}

// TestShared: an opinion counts as pseudo-evidence weighted by our score
// of the sharer; a sharer we know nothing about weighs nothing; a new
// opinion from the same sharer replaces the old one; opinions about the
// sharer itself or about us are dropped.
func TestShared(t *testing.T) {
	self := key(9)
	s := New(Options{Seed: 1, Now: fixedNow})
	good, bad, x := key(1), key(2), key(3)
	for range 8 {
		s.Record(good, Verdicts, true)
	}
	s.Record(bad, Verdicts, true)
	for range 4 {
		s.Record(bad, Verdicts, false)
	}
	stranger := key(4)
	s.Merge(stranger, self, []Opinion{{About: x, Kind: Verdicts, Evidence: Evidence{Agree: 10}}})
	if s.RecheckP(x, Verdicts) != 1 {
		t.Fatal("a stranger's opinion counted")
	}
	s.Merge(bad, self, []Opinion{{About: x, Kind: Verdicts, Evidence: Evidence{Agree: 10}}})
	afterBad := s.Score(x, Verdicts)
	s2 := New(Options{Seed: 1, Now: fixedNow})
	for range 8 {
		s2.Record(good, Verdicts, true)
	}
	s2.Merge(good, self, []Opinion{{About: x, Kind: Verdicts, Evidence: Evidence{Agree: 10}}})
	afterGood := s2.Score(x, Verdicts)
	if !(afterGood > afterBad && afterBad > 0.5) {
		t.Fatalf("x's score: vouched by a good sharer %v, by a bad one %v; want good > bad > 0.5", afterGood, afterBad)
	}
	if s2.RecheckP(x, Verdicts) >= 1 {
		t.Fatal("a good sharer's opinion did not lower the recheck probability")
	}
	// Replacing, not adding.
	s2.Merge(good, self, []Opinion{{About: x, Kind: Verdicts, Evidence: Evidence{Agree: 10}}})
	if got := s2.Score(x, Verdicts); got != afterGood {
		t.Fatalf("the same opinion twice moved the score %v → %v", afterGood, got)
	}
	// Capped.
	s3 := New(Options{Seed: 1, Now: fixedNow})
	for range 8 {
		s3.Record(good, Verdicts, true)
	}
	s3.Merge(good, self, []Opinion{{About: x, Kind: Verdicts, Evidence: Evidence{Agree: 1 << 40}}})
	s3.Record(x, Verdicts, false)
	if s3.Score(x, Verdicts) > 0.95 {
		t.Fatal("a huge shared count outweighed our own evidence")
	}
	// About the sharer or about us: dropped.
	s2.Merge(good, self, []Opinion{{About: good, Kind: Scores, Evidence: Evidence{Agree: 10}}, {About: self, Kind: Scores, Evidence: Evidence{Agree: 10}}})
	if s2.RecheckP(good, Scores) != 1 || s2.RecheckP(self, Scores) != 1 {
		t.Fatal("an opinion about the sharer itself or about us counted")
	}
	// Share passes on only our own evidence.
	for _, op := range s2.Share(nil) {
		if bytes.Equal(op.About, x) {
			t.Fatal("Share passed on a received opinion")
		}
	}
	if len(s2.Share(good)) != 0 {
		t.Fatal("Share told a peer about itself")
	}
}

func TestRecheckSeeded(t *testing.T) {
	draw := func() []bool {
		s := New(Options{Seed: 42, Now: fixedNow})
		p := key(1)
		s.Record(p, Scores, true)
		s.Record(p, Scores, true)
		var out []bool
		for range 50 {
			out = append(out, s.ShouldRecheck(p, Scores))
		}
		return out
	}
	a, b := draw(), draw()
	yes := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("draw %d differs between two stores of one seed", i)
		}
		if a[i] {
			yes++
		}
	}
	// p = 1 − 3/4 = 0.25: between 3 and 25 of 50.
	if yes < 3 || yes > 25 {
		t.Fatalf("%d of 50 re-checked at p = 0.25", yes)
	}
}

func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(path, Options{Seed: 1, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := key(1), key(2), key(3)
	s.Record(a, Objects, true)
	s.Record(a, Scores, false)
	s.SetPolicy(b, Deny)
	for range 4 {
		s.Record(c, Verdicts, true)
	}
	s.Merge(c, nil, []Opinion{{About: a, Kind: Verdicts, Evidence: Evidence{Agree: 5, Disagree: 1}}})
	want := s.List()
	s2, err := Open(path, Options{Seed: 1, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	got := s2.List()
	if len(got) != len(want) {
		t.Fatalf("after restart %d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Key != want[i].Key || got[i].Policy != want[i].Policy {
			t.Fatalf("row %d: %+v, want %+v", i, got[i], want[i])
		}
		for k := range got[i].Kinds {
			if got[i].Kinds[k] != want[i].Kinds[k] {
				t.Fatalf("row %d kind %d: %+v, want %+v", i, k, got[i].Kinds[k], want[i].Kinds[k])
			}
		}
	}
	data, _ := os.ReadFile(path)
	if !bytes.Equal(data, s2.encodeLocked()) {
		t.Fatal("re-encoding the file does not give its bytes")
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errs.Is(err, errs.Corrupt) {
		t.Fatalf("a broken file: %v, want corrupt", err)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("%d files beside the trust file (a temp file left?)", len(ents))
	}
}

func TestParsePeer(t *testing.T) {
	p := key(1)
	id, err := relay.PeerID(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{id.String(), "ed25519:" + keyText(p)} {
		got, err := ParsePeer(s)
		if err != nil || !got.Equal(p) {
			t.Fatalf("ParsePeer(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "nope", "ed25519:zz"} {
		if _, err := ParsePeer(s); !errs.Is(err, errs.Invalid) {
			t.Fatalf("ParsePeer(%q): %v, want invalid", s, err)
		}
	}
}

func keyText(p ed25519.PublicKey) string {
	r := New(Options{})
	r.SetPolicy(p, Auto)
	return r.List()[0].Key[len("ed25519:"):]
}

func TestTrusts(t *testing.T) {
	s := New(Options{Seed: 1, Now: fixedNow})
	p := key(1)
	s.SetPolicy(p, Allow)
	if !s.Trusts(p, "verdicts") || !s.Trusts(p, "scores") || s.Trusts(p, "nonsense") {
		t.Fatal("Trusts does not follow Counts by kind name")
	}
	s.SetPolicy(p, Auto)
	if s.Trusts(p, "verdicts") {
		t.Fatal("a peer without evidence is trusted")
	}
}

// TestMergeBounds: opinions alone do not grow the table past MaxSharers
// sharers per peer.
func TestMergeBounds(t *testing.T) {
	s := New(Options{Seed: 1, Now: fixedNow})
	x := key(200)
	for i := range MaxSharers + 10 {
		sharer := make(ed25519.PublicKey, 32)
		sharer[0], sharer[1] = byte(i), byte(i>>8)
		sharer[2] = 1
		s.Merge(sharer, nil, []Opinion{{About: x, Kind: Verdicts, Evidence: Evidence{Agree: 1}}})
	}
	pk := [32]byte(x)
	if got := len(s.rows[pk].shared); got != MaxSharers {
		t.Fatalf("%d sharers kept, want %d", got, MaxSharers)
	}
}
