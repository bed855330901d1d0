// Package trust keeps a node's opinion of its peers (docs/trust.md): per
// peer (named by its node key) and per kind of claim — the objects it
// serves, the verdicts (verify Results) and the scores (evaluate Results)
// it signs — the evidence we gathered ourselves (claims we re-checked and
// found right or wrong), the opinions other peers shared with us (counted
// as pseudo-evidence weighted by our own score of the sharer), a score
// derived from both, the probability with which the next claim is
// re-checked, and a policy the human sets: allow, deny or auto.
//
// A Store is safe for concurrent use. Opened on a file (HOME/trust) it
// writes every change back atomically (temp file, fsync, rename), so the
// evidence survives a restart.
package trust

import (
	"crypto/ed25519"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
)

// FileName is the trust file's name in a home.
const FileName = "trust"

// Kind is what a peer is trusted for.
type Kind uint8

// The kinds. The numbers are part of the collect protocol (docs/protocols.md).
const (
	Objects  Kind = iota // the objects it serves are valid
	Verdicts             // its verify Results (pass/fail) are right
	Scores               // its evaluate Results (step counts) are right
	numKinds
)

// Kinds lists every kind in order.
var Kinds = [numKinds]Kind{Objects, Verdicts, Scores}

var kindNames = [numKinds]string{"objects", "verdicts", "scores"}

// String returns the kind's name: objects, verdicts or scores.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind parses a kind's name.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return 0, errs.E(errs.Invalid, errs.Op("trust"), fmt.Sprintf("unknown kind %q: want objects, verdicts or scores", s))
}

// Policy is the human's decision about a peer.
type Policy uint8

// The policies. The numbers are part of the collect protocol.
const (
	Auto  Policy = iota // follow the evidence
	Allow               // never re-check, full weight
	Deny                // ignore its claims, accept nothing from it
	numPolicies
)

var policyNames = [numPolicies]string{"auto", "allow", "deny"}

// String returns the policy's name: auto, allow or deny.
func (p Policy) String() string {
	if p < numPolicies {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", uint8(p))
}

// ParsePolicy parses a policy's name.
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if n == s {
			return Policy(i), nil
		}
	}
	return 0, errs.E(errs.Invalid, errs.Op("trust"), fmt.Sprintf("unknown policy %q: want allow, deny or auto", s))
}

// Tuning constants (docs/trust.md).
const (
	// DefaultPMin is the smallest recheck probability of a peer under
	// auto: even a well-trusted peer is re-checked now and then.
	DefaultPMin = 0.05
	// DefaultThreshold is the score from which a peer's verdicts count
	// without a re-check of our own (Counts).
	DefaultThreshold = 0.75
	// MaxShared caps the evidence one shared opinion carries: a sharer
	// cannot outvote our own evidence by claiming huge counts.
	MaxShared = 32
	// MaxPeers bounds the rows opinions alone may create, and MaxSharers
	// the sharers kept per row: a crowd of new identities cannot grow the
	// table (and HOME/trust) without end. Our own evidence and policies
	// always get a row.
	MaxPeers   = 1 << 16
	MaxSharers = 64
	// DefaultHalfLife is how long a piece of evidence takes to weigh
	// half as much: evidence decays exponentially (docs/trust.md §2), so
	// a peer that was right a year ago and is silent since is nearly a
	// stranger again, and an old lie is forgiven slowly.
	DefaultHalfLife = 30 * 24 * time.Hour
)

// Evidence counts claims of one kind found right (Agree) and wrong
// (Disagree).
type Evidence struct {
	Agree    uint64 `json:"agree"`
	Disagree uint64 `json:"disagree"`
}

// Total is Agree + Disagree.
func (e Evidence) Total() uint64 { return e.Agree + e.Disagree }

// Opinion is what a peer tells another about a third: its own evidence
// about About for Kind. It rides along in collect answers.
type Opinion struct {
	About ed25519.PublicKey
	Kind  Kind
	Evidence
}

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// Seed seeds the recheck RNG (a PCG); 0 picks one from the clock.
	// Tests set it so rechecks are deterministic.
	Seed uint64
	// PMin is the smallest recheck probability under auto; 0 is
	// DefaultPMin.
	PMin float64
	// Threshold is the score from which verdicts count unchecked
	// (Counts); 0 is DefaultThreshold.
	Threshold float64
	// HalfLife is the half-life of evidence; 0 is DefaultHalfLife,
	// negative means evidence never decays.
	HalfLife time.Duration
	// Now is the clock that dates evidence and decays it (nil:
	// time.Now). Tests inject one, so scores are deterministic.
	Now func() time.Time
}

// peerRow is everything we hold about one peer.
type peerRow struct {
	policy Policy
	own    [numKinds]Evidence // every claim we checked, ever
	// weight[kind] is own evidence decayed: what scores use.
	weight [numKinds]weight
	// shared[sender][kind] is the opinion sender last told us about this
	// peer (replaced, not added to, by the next one), and when.
	shared map[[32]byte]*[numKinds]opinionAt
}

// weight is evidence decayed to the time At (Unix nanoseconds): each
// piece weighs 2^(−age/half-life), so the sum decays as a whole and one
// number per side holds it exactly.
type weight struct {
	Agree, Disagree float64
	At              int64
}

// opinionAt is a shared opinion and when it arrived (Unix nanoseconds).
type opinionAt struct {
	Evidence
	At int64
}

// Store is a node's trust table. Create it with New (in memory) or Open
// (on a file).
type Store struct {
	mu   sync.Mutex
	path string // "" in memory
	opts Options
	rng  *rand.Rand
	rows map[[32]byte]*peerRow
}

// New returns an empty in-memory Store.
func New(opts Options) *Store {
	if opts.PMin <= 0 || opts.PMin > 1 || math.IsNaN(opts.PMin) {
		opts.PMin = DefaultPMin
	}
	if opts.Threshold <= 0 || opts.Threshold > 1 || math.IsNaN(opts.Threshold) {
		opts.Threshold = DefaultThreshold
	}
	seed := opts.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	if opts.HalfLife == 0 {
		opts.HalfLife = DefaultHalfLife
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{opts: opts, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rows: map[[32]byte]*peerRow{}}
}

// now is the Store's clock in Unix nanoseconds.
func (s *Store) now() int64 { return s.opts.Now().UnixNano() }

// factor is how much evidence dated at weighs at now: 2^(−(now − at)/H),
// 1 when it is not older (a clock set back) or nothing decays.
func (s *Store) factor(at, now int64) float64 {
	if s.opts.HalfLife < 0 || now <= at {
		return 1
	}
	return math.Exp2(-float64(now-at) / float64(s.opts.HalfLife))
}

// ownAt is r's own evidence for k decayed to now.
func (s *Store) ownAt(r *peerRow, k Kind, now int64) (agree, disagree float64) {
	w := r.weight[k]
	f := s.factor(w.At, now)
	return w.Agree * f, w.Disagree * f
}

// Open returns the Store kept in the file path (HOME/trust), empty if
// there is no file yet. A file that does not decode is errs.Corrupt.
func Open(path string, opts Options) (*Store, error) {
	s := New(opts)
	s.path = path
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, errs.E(errs.Op("trust.Open"), errs.Path(path), err)
	}
	rows, err := decode(data, s.now())
	if err != nil {
		return nil, errs.E(errs.Corrupt, errs.Op("trust.Open"), errs.Path(path), err)
	}
	s.rows = rows
	return s, nil
}

// Path returns the file the Store writes to, "" in memory.
func (s *Store) Path() string { return s.path }

func key32(k ed25519.PublicKey) ([32]byte, error) {
	if len(k) != ed25519.PublicKeySize {
		return [32]byte{}, errs.E(errs.Invalid, errs.Op("trust"), fmt.Sprintf("a node key of %d bytes, want 32", len(k)))
	}
	return [32]byte(k), nil
}

func (s *Store) row(k [32]byte) *peerRow {
	r := s.rows[k]
	if r == nil {
		r = &peerRow{}
		s.rows[k] = r
	}
	return r
}

// ParsePeer parses a peer named by its node key ("ed25519:…") or by its
// libp2p peer id ("12D3Koo…", which embeds the key).
func ParsePeer(s string) (ed25519.PublicKey, error) {
	if strings.HasPrefix(s, cdb.KeyPrefix) {
		return cdb.ParseKey(s)
	}
	id, err := peer.Decode(s)
	if err != nil {
		return nil, errs.E(errs.Invalid, errs.Op("trust"), fmt.Sprintf("bad peer %q: neither a node key (%s…) nor a peer id", s, cdb.KeyPrefix))
	}
	return relay.PeerKey(id)
}

// Record adds one piece of our own evidence about p for kind k: a claim
// we re-checked and found right (agree) or wrong.
func (s *Store) Record(p ed25519.PublicKey, k Kind, agree bool) error {
	pk, err := key32(p)
	if err != nil {
		return err
	}
	if k >= numKinds {
		return errs.E(errs.Invalid, errs.Op("trust.Record"), "unknown kind "+k.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.row(pk)
	now := s.now()
	a, d := s.ownAt(r, k, now)
	if agree {
		r.own[k].Agree++
		a++
	} else {
		r.own[k].Disagree++
		d++
	}
	r.weight[k] = weight{Agree: a, Disagree: d, At: max(now, r.weight[k].At)}
	return s.saveLocked()
}

// SetPolicy sets the human's policy for p.
func (s *Store) SetPolicy(p ed25519.PublicKey, pol Policy) error {
	pk, err := key32(p)
	if err != nil {
		return err
	}
	if pol >= numPolicies {
		return errs.E(errs.Invalid, errs.Op("trust.SetPolicy"), "unknown "+pol.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.row(pk).policy = pol
	return s.saveLocked()
}

// Policy returns the policy of p (Auto for a peer we never heard of).
func (s *Store) Policy(p ed25519.PublicKey) Policy {
	pk, err := key32(p)
	if err != nil {
		return Deny
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rows[pk]; r != nil {
		return r.policy
	}
	return Auto
}

// Accepts reports whether anything from p is taken at all: false for a
// denied peer.
func (s *Store) Accepts(p ed25519.PublicKey) bool { return s.Policy(p) != Deny }

// ownScore is the score from p's own (decayed) evidence alone; known
// reports whether there is any.
func (s *Store) ownScore(r *peerRow, k Kind, now int64) (score float64, known bool) {
	if r == nil {
		return 0.5, false
	}
	switch r.policy {
	case Allow:
		return 1, true
	case Deny:
		return 0, true
	}
	a, d := s.ownAt(r, k, now)
	return (a + 1) / (a + 2*d + 2), r.own[k].Total() > 0
}

// weighted returns p's evidence for k at now: our own, decayed, plus
// every sharer's opinion, decayed from when it arrived, weighted by our
// own score of the sharer for k (a sharer we have no evidence about
// weighs nothing, a denied one nothing, an allowed one fully).
func (s *Store) weighted(pk [32]byte, k Kind, now int64) (agree, disagree float64) {
	r := s.rows[pk]
	if r == nil {
		return 0, 0
	}
	agree, disagree = s.ownAt(r, k, now)
	for from, ops := range r.shared {
		if from == pk {
			continue // a peer's word about itself counts for nothing
		}
		w, known := s.ownScore(s.rows[from], k, now)
		if !known || w <= 0 {
			continue
		}
		f := w * s.factor(ops[k].At, now)
		agree += f * float64(min(ops[k].Agree, MaxShared))
		disagree += f * float64(min(ops[k].Disagree, MaxShared))
	}
	return agree, disagree
}

// Score returns our score of p for k, in (0, 1]: (a + 1) / (a + 2d + 2)
// over the weighted evidence (so a disagreement weighs twice an
// agreement, and a new peer scores 1/2); 1 under allow, 0 under deny.
func (s *Store) Score(p ed25519.PublicKey, k Kind) float64 {
	pk, err := key32(p)
	if err != nil || k >= numKinds {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scoreLocked(pk, k, s.now())
}

func (s *Store) scoreLocked(pk [32]byte, k Kind, now int64) float64 {
	if r := s.rows[pk]; r != nil {
		switch r.policy {
		case Allow:
			return 1
		case Deny:
			return 0
		}
	}
	a, d := s.weighted(pk, k, now)
	return (a + 1) / (a + 2*d + 2)
}

// RecheckP returns the probability with which p's next claim of kind k
// is re-checked: 1 for a peer with no evidence at all, 0 under allow, 1
// under deny (its claims are ignored anyway), else max(PMin, 1 − score).
func (s *Store) RecheckP(p ed25519.PublicKey, k Kind) float64 {
	pk, err := key32(p)
	if err != nil || k >= numKinds {
		return 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recheckPLocked(pk, k, s.now())
}

func (s *Store) recheckPLocked(pk [32]byte, k Kind, now int64) float64 {
	if r := s.rows[pk]; r != nil {
		switch r.policy {
		case Allow:
			return 0
		case Deny:
			return 1
		}
	}
	a, d := s.weighted(pk, k, now)
	if a+d == 0 {
		return 1
	}
	return max(s.opts.PMin, 1-(a+1)/(a+2*d+2))
}

// ShouldRecheck draws from the Store's RNG: true with probability
// RecheckP(p, k).
func (s *Store) ShouldRecheck(p ed25519.PublicKey, k Kind) bool {
	pk, err := key32(p)
	if err != nil || k >= numKinds {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.recheckPLocked(pk, k, s.now())
	if pr >= 1 {
		return true
	}
	if pr <= 0 {
		return false
	}
	return s.rng.Float64() < pr
}

// Counts reports whether p's claims of kind k count without a re-check
// of our own: always under allow, never under deny, else when p's score
// reaches the threshold. It fits module's Trust option.
func (s *Store) Counts(p ed25519.PublicKey, k Kind) bool {
	pk, err := key32(p)
	if err != nil || k >= numKinds {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rows[pk]; r != nil {
		switch r.policy {
		case Allow:
			return true
		case Deny:
			return false
		}
	}
	now := s.now()
	a, d := s.weighted(pk, k, now)
	return a+d > 0 && s.scoreLocked(pk, k, now) >= s.opts.Threshold
}

// Share returns our own evidence, to tell a peer (collect): one Opinion
// per peer and kind with any evidence, decayed to now and rounded to
// whole counts (what it weighs today), sorted, never about to itself.
// Shared opinions we received are not passed on (no gossip loops).
func (s *Store) Share(to ed25519.PublicKey) []Opinion {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var out []Opinion
	for _, pk := range s.sortedKeys() {
		if len(to) == 32 && pk == [32]byte(to) {
			continue
		}
		r := s.rows[pk]
		for _, k := range Kinds {
			a, d := s.ownAt(r, k, now)
			e := Evidence{Agree: uint64(math.Round(a)), Disagree: uint64(math.Round(d))}
			if e.Total() > 0 {
				out = append(out, Opinion{About: ed25519.PublicKey(append([]byte(nil), pk[:]...)), Kind: k, Evidence: e})
			}
		}
	}
	return out
}

// Merge takes the opinions from shared by a peer: each replaces what from
// said before about the same peer and kind, dated now (a repeated opinion
// is fresh again). Opinions of a denied sharer, about the sharer itself or
// about self (our own key) are dropped.
func (s *Store) Merge(from, self ed25519.PublicKey, ops []Opinion) error {
	fk, err := key32(from)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rows[fk]; r != nil && r.policy == Deny {
		return nil
	}
	changed := false
	now := s.now()
	for _, op := range ops {
		if len(op.About) != 32 || op.Kind >= numKinds {
			continue
		}
		ak := [32]byte(op.About)
		if ak == fk || (len(self) == 32 && ak == [32]byte(self)) {
			continue
		}
		if s.rows[ak] == nil && len(s.rows) >= MaxPeers {
			continue
		}
		r := s.row(ak)
		if r.shared == nil {
			r.shared = map[[32]byte]*[numKinds]opinionAt{}
		}
		sh := r.shared[fk]
		if sh == nil {
			if len(r.shared) >= MaxSharers {
				continue
			}
			sh = &[numKinds]opinionAt{}
			r.shared[fk] = sh
		}
		e := opinionAt{Evidence{Agree: min(op.Agree, MaxShared), Disagree: min(op.Disagree, MaxShared)}, now}
		if sh[op.Kind] != e {
			sh[op.Kind] = e
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return s.saveLocked()
}

// Row is one peer's line of the table (coal trust ls).
type Row struct {
	Key    string    `json:"key"`  // node key, ed25519:…
	Peer   string    `json:"peer"` // libp2p peer id
	Policy string    `json:"policy"`
	Kinds  []KindRow `json:"kinds"`
}

// KindRow is a peer's standing for one kind.
type KindRow struct {
	Kind     string  `json:"kind"`
	Agree    uint64  `json:"agree"`
	Disagree uint64  `json:"disagree"`
	Shared   float64 `json:"shared"` // weighted pseudo-evidence from others' opinions, decayed
	Score    float64 `json:"score"`
	RecheckP float64 `json:"recheck_p"`
	Counts   bool    `json:"counts"`
}

// List returns every peer's row, sorted by key.
func (s *Store) List() []Row {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]Row, 0, len(s.rows))
	for _, pk := range s.sortedKeys() {
		r := s.rows[pk]
		row := Row{Key: cdb.KeyString(pk[:]), Policy: r.policy.String()}
		if id, err := relay.PeerID(ed25519.PublicKey(pk[:])); err == nil {
			row.Peer = id.String()
		}
		for _, k := range Kinds {
			a, d := s.weighted(pk, k, now)
			oa, od := s.ownAt(r, k, now)
			score := s.scoreLocked(pk, k, now)
			kr := KindRow{Kind: k.String(), Agree: r.own[k].Agree, Disagree: r.own[k].Disagree,
				Shared: round3(a + d - oa - od), Score: round3(score), RecheckP: round3(s.recheckPLocked(pk, k, now))}
			switch r.policy {
			case Allow:
				kr.Counts = true
			case Auto:
				kr.Counts = a+d > 0 && score >= s.opts.Threshold
			}
			row.Kinds = append(row.Kinds, kr)
		}
		out = append(out, row)
	}
	return out
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func (s *Store) sortedKeys() [][32]byte {
	keys := make([][32]byte, 0, len(s.rows))
	for k := range s.rows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return string(keys[i][:]) < string(keys[j][:]) })
	return keys
}

// saveLocked writes the table to its file (temp file, fsync, rename,
// directory fsync); a no-op in memory.
func (s *Store) saveLocked() error {
	if s.path == "" {
		return nil
	}
	data := s.encodeLocked()
	dir := filepath.Dir(s.path)
	f, err := os.CreateTemp(dir, ".trust-*")
	if err != nil {
		return errs.E(errs.Op("trust: save"), errs.Path(s.path), err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		os.Remove(tmp)
		return errs.E(errs.Op("trust: save"), errs.Path(s.path), err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Trusts is Counts with the kind by name (objects, verdicts, scores), in
// the shape of module.Options.Trust: pass s.Trusts to module.Evaluate,
// Show and Build so a peer's verdicts count as this table says.
func (s *Store) Trusts(node ed25519.PublicKey, kind string) bool {
	k, err := ParseKind(kind)
	if err != nil {
		return false
	}
	return s.Counts(node, k)
}
