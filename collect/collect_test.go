package collect

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"github.com/coalescent/coal/module/moduletest"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
	"github.com/coalescent/coal/relay"
	"github.com/coalescent/coal/relay/relaytest"
	"github.com/coalescent/coal/trust"
)

var bg = context.Background()

type side struct {
	home  *cdb.Home
	host  host.Host
	trust *trust.Store
	svc   *Service

	mu      sync.Mutex
	invalid []peer.ID
}

func (s *side) punished() []peer.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]peer.ID(nil), s.invalid...)
}

// newSides makes n homes on a mocknet, connected, each with a Service
// (trust seeded 1).
func newSides(t *testing.T, n int) []*side {
	t.Helper()
	var homes []*cdb.Home
	var keys []ed25519Priv
	for i := range n {
		h, err := cdb.Init(filepath.Join(t.TempDir(), string(rune('a'+i))), acl.With(cdb.Options{Store: memstore.New(), NoAudit: true}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		priv, err := relay.NodeKey(h)
		if err != nil {
			t.Fatal(err)
		}
		homes = append(homes, h)
		keys = append(keys, priv)
	}
	_, hosts := relaytest.NetOf(t, keys...)
	var out []*side
	for i, h := range homes {
		s := &side{home: h, host: hosts[i], trust: trust.New(trust.Options{Seed: 1})}
		svc, err := New(h, hosts[i], s.trust, Options{Catalog: Modules(), OnInvalid: func(p peer.ID, err error) {
			s.mu.Lock()
			s.invalid = append(s.invalid, p)
			s.mu.Unlock()
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		s.svc = svc
		out = append(out, s)
	}
	return out
}

func defaultWorld(t *testing.T, h *cdb.Home) *cdb.World {
	t.Helper()
	w, err := h.World("")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func publish(t *testing.T, s *side) module.Published {
	t.Helper()
	p, err := module.Publish(bg, defaultWorld(t, s.home), s.home.NodeKey(), filepath.Join("..", "examples", "modules", "circle"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// grant lets who read dir of s's default world.
func grant(t *testing.T, s *side, dir string, who acl.Who) {
	t.Helper()
	var a acl.ACL
	a.Grant(acl.Key(s.home.NodeKey().Public32()), acl.All)
	a.Grant(who, acl.Read)
	raw, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := defaultWorld(t, s.home).Commit(bg, s.home.NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: dir + "/.acl", Raw: raw}}, "grant"); err != nil {
		t.Fatal(err)
	}
}

// TestReadView: the answerer lists and sends only what the asker may
// read; a second collect is incremental.
func TestReadView(t *testing.T) {
	ss := newSides(t, 2)
	a, b := ss[0], ss[1]
	pub := publish(t, a)
	r, err := b.svc.Collect(bg, a.host.ID(), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Listed != 0 || r.Imported != 0 {
		t.Fatalf("without a grant: listed %d, imported %d; want nothing", r.Listed, r.Imported)
	}
	grant(t, a, module.Dir, acl.Key(b.home.NodeKey().Public32()))
	r, err = b.svc.Collect(bg, a.host.ID(), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Full || r.Listed != len(pub.Entries) || r.Imported != len(pub.Entries) {
		t.Fatalf("after the grant: full %v, listed %d, imported %d; want incremental, %d", r.Full, r.Listed, r.Imported, len(pub.Entries))
	}
	// Nothing new: an empty inventory.
	r, err = b.svc.Collect(bg, a.host.ID(), "")
	if err != nil || r.Listed != 0 || r.Full {
		t.Fatalf("third collect: %+v, %v; want an empty incremental inventory", r, err)
	}
	// A discover is full.
	r, err = b.svc.Collect(bg, a.host.ID(), "geometry::circle")
	if err != nil || !r.Full || r.Listed != len(pub.Entries) || r.Wanted != 0 {
		t.Fatalf("discover: %+v, %v; want full, %d listed, none wanted", r, err, len(pub.Entries))
	}
	if got := a.trust.Score(b.home.NodeKey().Public, trust.Objects); got != 0.5 {
		t.Fatalf("the answerer's trust in the asker moved: %v", got)
	}
	if b.trust.Score(a.home.NodeKey().Public, trust.Objects) <= 0.5 {
		t.Fatal("clean sessions did not raise the asker's objects trust in the answerer")
	}
}

// TestDeny: a denied peer is not asked, and is refused when it asks.
func TestDeny(t *testing.T) {
	ss := newSides(t, 2)
	a, b := ss[0], ss[1]
	b.trust.SetPolicy(a.home.NodeKey().Public, trust.Deny)
	if _, err := b.svc.Collect(bg, a.host.ID(), ""); !errs.Is(err, errs.Permission) {
		t.Fatalf("collect from a denied peer: %v, want permission", err)
	}
	a.trust.SetPolicy(b.home.NodeKey().Public, trust.Deny)
	b.trust.SetPolicy(a.home.NodeKey().Public, trust.Auto)
	if _, err := b.svc.Collect(bg, a.host.ID(), ""); !errs.Is(err, errs.Permission) {
		t.Fatalf("collect from a peer that denies us: %v, want permission", err)
	}
	if len(b.punished()) != 0 || len(a.punished()) != 0 {
		t.Fatal("a refusal punished someone")
	}
	if reps := b.svc.CollectAll(bg, []peer.ID{a.host.ID()}, "", ""); len(reps) != 1 || reps[0].Error == "" {
		t.Fatalf("CollectAll: %+v; want one failed report", reps)
	}
}

// hostile serves collect on h with one entry and the object bytes obj
// (whose id is claimed to be id).
func hostile(h host.Host, id coda.ID, obj []byte) {
	h.SetStreamHandler(protocol.ID(Protocol), func(st network.Stream) {
		c := relay.Accept(bg, st, []coda.ID{invSchema.ID, objSchema.ID, refuseSchema.ID}, schemaReg, relay.Options{})
		defer c.Close()
		if _, _, err := c.Recv(); err != nil {
			return
		}
		c.Send(invSchema, Inventory{Head: id, Full: true, Entries: []Item{{Kind: KindSpec, Module: "x", ID: id}}}.value())
		for {
			if _, _, err := c.Recv(); err != nil {
				break
			}
		}
		c.Send(objSchema, Object{Data: obj}.value())
		c.CloseWrite()
		io.Copy(io.Discard, st)
	})
}

// TestHostile: an object that does not hash to its id, or that hashes
// right but is no valid module object, makes the sender invalid: the
// asker punishes it, lowers its objects trust and stores nothing.
func TestHostile(t *testing.T) {
	for _, c := range []struct {
		name string
		id   func(obj []byte) coda.ID
		kind errs.Kind
	}{
		{"wrong hash", func([]byte) coda.ID { return coda.Sum([]byte("another")) }, errs.Corrupt},
		{"not a module object", coda.Sum, errs.Invalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			ss := newSides(t, 2)
			a, b := ss[0], ss[1]
			obj := append(make([]byte, 32), 1, 2, 3)
			hostile(a.host, c.id(obj), obj)
			_, err := b.svc.Collect(bg, a.host.ID(), "")
			if !errs.Is(err, c.kind) {
				t.Fatalf("collect: %v, want %v", err, c.kind)
			}
			if p := b.punished(); len(p) != 1 || p[0] != a.host.ID() {
				t.Fatalf("punished %v, want the hostile peer", p)
			}
			if got := b.trust.Score(a.home.NodeKey().Public, trust.Objects); got >= 0.5 {
				t.Fatalf("objects score of the hostile peer %v, want below 0.5", got)
			}
			ents, err := module.Catalog(defaultWorld(t, b.home).As(b.home.NodeKey().Public), coda.ID{}, "")
			if err != nil || len(ents) != 0 {
				t.Fatalf("the asker's catalog: %v, %v; want empty", ents, err)
			}
		})
	}
}

// TestOpinions: the answerer's own evidence rides along and is merged,
// weighted by the asker's score of the answerer.
func TestOpinions(t *testing.T) {
	ss := newSides(t, 2)
	a, b := ss[0], ss[1]
	x := ed25519Pub(t, 7)
	for range 5 {
		a.trust.Record(x, trust.Verdicts, true)
	}
	// b has no evidence about a yet: the opinion weighs nothing.
	if _, err := b.svc.Collect(bg, a.host.ID(), ""); err != nil {
		t.Fatal(err)
	}
	if b.trust.RecheckP(x, trust.Verdicts) != 1 {
		t.Fatal("a stranger's opinion counted")
	}
	for range 3 {
		b.trust.Record(a.home.NodeKey().Public, trust.Verdicts, true)
	}
	r, err := b.svc.Collect(bg, a.host.ID(), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Opinions != 1 {
		t.Fatalf("%d opinions received, want 1", r.Opinions)
	}
	if p := b.trust.RecheckP(x, trust.Verdicts); p >= 1 {
		t.Fatalf("x's recheck p %v after a trusted peer vouched", p)
	}

}

type ed25519Priv = ed25519.PrivateKey

func ed25519Pub(t testing.TB, b byte) ed25519.PublicKey {
	t.Helper()
	seed := make([]byte, 32)
	seed[0] = b
	return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
}

// BenchmarkCollect: one node collects N modules (the circle example
// under N names: 15 objects each) from another over the mocknet, from
// an empty catalog. Reports objects and bytes per collect.
func BenchmarkCollect(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("modules=%d", n), func(b *testing.B) {
			src := newBenchSide(b, "src")
			for i := range n {
				dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
				moduletest.CopyCircle(b, dir, fmt.Sprintf("bench::circle_%d", i))
				if _, err := module.Publish(bg, defaultWorldB(b, src), src.NodeKey(), dir); err != nil {
					b.Fatal(err)
				}
			}
			grantB(b, src)
			var objs int
			var nbytes int64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				dst := newBenchSide(b, "dst")
				ss := servicesB(b, src, dst)
				b.StartTimer()
				r, err := ss[1].Collect(bg, ss[0].h.ID(), "")
				if err != nil {
					b.Fatal(err)
				}
				if r.Imported == 0 {
					b.Fatal("nothing imported")
				}
				objs, nbytes = r.Objects, r.Bytes
				b.StopTimer()
				ss[0].Close()
				ss[1].Close()
				dst.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(objs), "objects/op")
			b.ReportMetric(float64(nbytes), "wire-B/op")
		})
	}
}

func newBenchSide(b *testing.B, name string) *cdb.Home {
	h, err := cdb.Init(filepath.Join(b.TempDir(), name), acl.With(cdb.Options{NoAudit: true}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

func defaultWorldB(b *testing.B, h *cdb.Home) *cdb.World {
	w, err := h.World("")
	if err != nil {
		b.Fatal(err)
	}
	return w
}

func grantB(b *testing.B, h *cdb.Home) {
	var a acl.ACL
	a.Grant(acl.Key(h.NodeKey().Public32()), acl.All)
	a.Grant(acl.Anyone, acl.Read)
	raw, err := a.Encode()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := defaultWorldB(b, h).Commit(bg, h.NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: module.Dir + "/.acl", Raw: raw}}, "grant"); err != nil {
		b.Fatal(err)
	}
}

func servicesB(b *testing.B, homes ...*cdb.Home) []*Service {
	var keys []ed25519.PrivateKey
	for _, h := range homes {
		k, err := relay.NodeKey(h)
		if err != nil {
			b.Fatal(err)
		}
		keys = append(keys, k)
	}
	_, hosts := relaytest.NetOf(b, keys...)
	var out []*Service
	for i, h := range homes {
		s, err := New(h, hosts[i], trust.New(trust.Options{Seed: 1}), Options{Catalog: Modules()})
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// BenchmarkImportLocal is BenchmarkCollect's baseline: the same objects
// given to module.Import on the same machine, without the protocol.
func BenchmarkImportLocal(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("modules=%d", n), func(b *testing.B) {
			src := newBenchSide(b, "src")
			for i := range n {
				dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
				moduletest.CopyCircle(b, dir, fmt.Sprintf("bench::circle_%d", i))
				if _, err := module.Publish(bg, defaultWorldB(b, src), src.NodeKey(), dir); err != nil {
					b.Fatal(err)
				}
			}
			w := defaultWorldB(b, src)
			ents, err := module.Catalog(w.As(src.NodeKey().Public), coda.ID{}, "")
			if err != nil {
				b.Fatal(err)
			}
			seen := map[coda.ID]bool{}
			var objs [][]byte
			for _, e := range ents {
				if seen[e.ID] || e.Kind > module.KindResult {
					continue
				}
				seen[e.ID] = true
				it, err := w.Get(coda.ID{}, e.Path)
				if err != nil {
					b.Fatal(err)
				}
				objs = append(objs, it.Raw)
			}
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				dst := newBenchSide(b, "dst")
				b.StartTimer()
				if _, err := module.Import(bg, defaultWorldB(b, dst), dst.NodeKey(), objs); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				dst.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(len(objs)), "objects/op")
		})
	}
}

// TestUnknownSince: an Ask whose since the answerer does not know gets
// the full catalog, marked full.
func TestUnknownSince(t *testing.T) {
	ss := newSides(t, 2)
	a, b := ss[0], ss[1]
	pub := publish(t, a)
	grant(t, a, module.Dir, acl.Anyone)
	b.svc.mu.Lock()
	b.svc.since[a.host.ID()] = coda.Sum([]byte("no such commit"))
	b.svc.mu.Unlock()
	r, err := b.svc.Collect(bg, a.host.ID(), "")
	if err != nil || !r.Full || r.Listed != len(pub.Entries) {
		t.Fatalf("collect with an unknown since: %+v, %v; want full, %d listed", r, err, len(pub.Entries))
	}
}

// TestStateSurvivesRestart: with Options.State, the since of each peer
// is kept across a new Service: the first session after it is
// incremental.
func TestStateSurvivesRestart(t *testing.T) {
	ss := newSides(t, 2)
	a, b := ss[0], ss[1]
	publish(t, a)
	grant(t, a, module.Dir, acl.Anyone)
	state := filepath.Join(b.home.Dir(), StateFile)
	b.svc.Close()
	open := func() *Service {
		svc, err := New(b.home, b.host, b.trust, Options{Catalog: Modules(), State: state})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	svc := open()
	if r, err := svc.Collect(bg, a.host.ID(), ""); err != nil || !r.Full || r.Imported == 0 {
		t.Fatalf("first collect: %+v, %v", r, err)
	}
	svc.Close()
	svc = open()
	defer svc.Close()
	if r, err := svc.Collect(bg, a.host.ID(), ""); err != nil || r.Full || r.Listed != 0 {
		t.Fatalf("collect after a restart: %+v, %v; want incremental and empty", r, err)
	}
	// A broken state file costs a full session, nothing more.
	if err := os.WriteFile(state, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	svc2 := open()
	defer svc2.Close()
	if r, err := svc2.Collect(bg, a.host.ID(), ""); err != nil || !r.Full {
		t.Fatalf("collect with a broken state: %+v, %v; want full", r, err)
	}
}

// TestUnfit: a valid program no impl names is refused by our catalog,
// but its sender is not punished (an honest catalog can hold one).
func TestUnfit(t *testing.T) {
	ss := newSides(t, 3)
	a, b, src := ss[0], ss[1], ss[2]
	pub := publish(t, src)
	var code []byte
	for _, e := range pub.Entries {
		if e.Kind == module.KindCode {
			it, err := defaultWorld(t, src.home).Get(coda.ID{}, e.Path)
			if err != nil {
				t.Fatal(err)
			}
			code = it.Raw
			break
		}
	}
	hostile(a.host, coda.Sum(code), code)
	_, err := b.svc.Collect(bg, a.host.ID(), "")
	if err == nil || !errors.Is(err, errUnfit) {
		t.Fatalf("collect of an orphan program: %v, want refused as unfit", err)
	}
	if p := b.punished(); len(p) != 0 {
		t.Fatalf("punished %v for an honest if odd catalog", p)
	}
}

// TestCollectInto: a session into another world's catalog imports there,
// is never incremental, and leaves the default world's since alone.
func TestCollectInto(t *testing.T) {
	ss := newSides(t, 2)
	a, b := ss[0], ss[1]
	pub := publish(t, a)
	grant(t, a, module.Dir, acl.Anyone)
	if _, err := b.home.NewWorld("other"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r, err := b.svc.CollectInto(bg, a.host.ID(), "", "other")
		if err != nil || !r.Full || r.Listed != len(pub.Entries) {
			t.Fatalf("collect into other: %+v, %v; want full, %d listed", r, err, len(pub.Entries))
		}
	}
	w, err := b.home.World("other")
	if err != nil {
		t.Fatal(err)
	}
	if ents, err := module.Catalog(w.As(b.home.NodeKey().Public), coda.ID{}, ""); err != nil || len(ents) != len(pub.Entries) {
		t.Fatalf("other's catalog: %d entries, %v; want %d", len(ents), err, len(pub.Entries))
	}
	if ents, _ := module.Catalog(defaultWorld(t, b.home).As(b.home.NodeKey().Public), coda.ID{}, ""); len(ents) != 0 {
		t.Fatalf("the default world's catalog got %d entries", len(ents))
	}
	if r, err := b.svc.Collect(bg, a.host.ID(), ""); err != nil || !r.Full || r.Imported != len(pub.Entries) {
		t.Fatalf("collect into the default world after: %+v, %v; want full", r, err)
	}
}
