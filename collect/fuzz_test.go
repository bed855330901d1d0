package collect

import (
	"bytes"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
	"github.com/coalescent/coal/relay"
	"github.com/coalescent/coal/trust"
)

type pipeRW struct {
	io.Reader
	io.Writer
}

func (pipeRW) Close() error { return nil }

// asker encodes an asker's stream: Ask, Want, end.
func askerStream(t testing.TB, ask Ask, want Want) []byte {
	var buf bytes.Buffer
	w := coda.NewWireWriter(&buf, []coda.ID{askSchema.ID, wantSchema.ID})
	if err := w.Write(askSchema, ask.value()); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(wantSchema, want.value()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzServe: whatever an asker sends, the answerer (over a catalog
// holding the circle module, readable by anyone) neither panics nor sends
// an object the Inventory did not list.
func FuzzServe(f *testing.F) {
	if err := loadSchemas(); err != nil {
		f.Fatal(err)
	}
	h, err := cdb.Init(filepath.Join(f.TempDir(), "a"), acl.With(cdb.Options{Store: memstore.New(), NoAudit: true}))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { h.Close() })
	w, err := h.World("")
	if err != nil {
		f.Fatal(err)
	}
	pub, err := module.Publish(bg, w, h.NodeKey(), filepath.Join("..", "examples", "modules", "circle"))
	if err != nil {
		f.Fatal(err)
	}
	var a acl.ACL
	a.Grant(acl.Key(h.NodeKey().Public32()), acl.All)
	a.Grant(acl.Anyone, acl.Read)
	raw, _ := a.Encode()
	if _, err := w.Commit(bg, h.NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: module.Dir + "/.acl", Raw: raw}}, "grant"); err != nil {
		f.Fatal(err)
	}
	ids := []coda.ID{pub.Entries[0].ID, pub.Entries[1].ID}
	if bytes.Compare(ids[0][:], ids[1][:]) > 0 {
		ids[0], ids[1] = ids[1], ids[0]
	}
	seed := askerStream(f, Ask{}, Want{IDs: ids})
	f.Add(seed)
	f.Add(askerStream(f, Ask{Module: "geometry::circle"}, Want{}))
	f.Add(askerStream(f, Ask{Since: coda.Sum([]byte("x"))}, Want{IDs: []coda.ID{coda.Sum([]byte("y"))}}))
	asker := ed25519Pub(f, 3)
	s := &Service{home: h, trust: trust.New(trust.Options{Seed: 1}), opts: Options{Catalog: Modules(), Timeout: DefaultTimeout},
		log: slog.New(slog.DiscardHandler), self: h.NodeKey().Public, ctx: bg, since: map[peer.ID]coda.ID{}}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		c := relayConn(pipeRW{bytes.NewReader(data), &out})
		_ = s.serve(bg, c, "", asker, false)
		// What was sent must read back as Inventory/Refuse then Objects.
		r := coda.NewWireReader(&out, coda.DecodeOptions{Resolver: schemaReg})
		listed := map[coda.ID]bool{}
		objects := 0
		defer func() {
			if bytes.Equal(data, seed) && objects != 2 {
				t.Fatalf("the seed stream got %d objects, want 2", objects)
			}
		}()
		for i := 0; ; i++ {
			sch, v, err := r.Next()
			if err != nil {
				break
			}
			m, err := fromValue(sch, v)
			if err != nil {
				t.Fatalf("the answerer sent an invalid %s: %v", sch.Name, err)
			}
			switch m := m.(type) {
			case Inventory:
				for _, it := range m.Entries {
					listed[it.ID] = true
				}
			case Object:
				objects++
				if !listed[coda.Sum(m.Data)] {
					t.Fatal("the answerer sent an object it did not list")
				}
			}
		}
	})
}

// relayConn is a Conn of the answerer's side over rw.
func relayConn(rw io.ReadWriteCloser) *relay.Conn {
	return relay.NewConn(rw, []coda.ID{invSchema.ID, objSchema.ID, refuseSchema.ID}, schemaReg, relay.Options{MaxMessage: maxMessage, IdleTimeout: -1})
}

// answerStream encodes an answerer's stream: Inventory, Objects, end.
func answerStream(t testing.TB, inv Inventory, objs ...[]byte) []byte {
	var buf bytes.Buffer
	w := coda.NewWireWriter(&buf, []coda.ID{invSchema.ID, objSchema.ID, refuseSchema.ID})
	if err := w.Write(invSchema, inv.value()); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := w.Write(objSchema, Object{Data: o}.value()); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzAsk: whatever an answerer sends, the asker neither panics nor
// stores anything but valid module objects (its catalog is empty or holds
// entries that decode).
func FuzzAsk(f *testing.F) {
	if err := loadSchemas(); err != nil {
		f.Fatal(err)
	}
	src, err := cdb.Init(filepath.Join(f.TempDir(), "src"), acl.With(cdb.Options{Store: memstore.New(), NoAudit: true}))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { src.Close() })
	sw, _ := src.World("")
	pub, err := module.Publish(bg, sw, src.NodeKey(), filepath.Join("..", "examples", "modules", "circle"))
	if err != nil {
		f.Fatal(err)
	}
	var items []Item
	var objs [][]byte
	for _, e := range pub.Entries {
		it, err := sw.Get(coda.ID{}, e.Path)
		if err != nil {
			f.Fatal(err)
		}
		items = append(items, Item{Kind: uint8(e.Kind), Module: e.Module, ID: e.ID})
		_ = it.Raw
	}
	sortItems(items)
	ids := map[coda.ID]bool{}
	var want []coda.ID
	for _, it := range items {
		if !ids[it.ID] {
			ids[it.ID] = true
			want = append(want, it.ID)
		}
	}
	sortIDs(want)
	byID := map[coda.ID][]byte{}
	for _, e := range pub.Entries {
		it, _ := sw.Get(coda.ID{}, e.Path)
		byID[e.ID] = it.Raw
	}
	for _, id := range want {
		objs = append(objs, byID[id])
	}
	full := answerStream(f, Inventory{Full: true, Entries: items}, objs...)
	f.Add(full)
	f.Add(answerStream(f, Inventory{Full: true, Entries: items[:1]}, objs[:1]...))
	answerer := ed25519Pub(f, 4)
	// One asker home for every input (a fresh one per input is too slow
	// for the fuzzer): what a previous input stored stays, and must stay
	// valid.
	h, err := cdb.Init(filepath.Join(f.TempDir(), "dst"), acl.With(cdb.Options{Store: memstore.New(), NoAudit: true}))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { h.Close() })
	w, _ := h.World("")
	var first atomic.Bool
	first.Store(true)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &Service{home: h, trust: trust.New(trust.Options{Seed: 1}), opts: Options{Catalog: Modules(), Timeout: DefaultTimeout},
			log: slog.New(slog.DiscardHandler), self: h.NodeKey().Public, ctx: bg, since: map[peer.ID]coda.ID{}}
		c := relay.NewConn(pipeRW{bytes.NewReader(data), io.Discard}, []coda.ID{askSchema.ID, wantSchema.ID}, schemaReg, relay.Options{MaxMessage: maxMessage, IdleTimeout: -1})
		var r Report
		err = s.ask(bg, c, "", answerer, w, "", true, &r)
		// The first time the whole seed answer arrives (the home holds
		// nothing yet) everything is imported; later, nothing is wanted.
		if bytes.Equal(data, full) && first.CompareAndSwap(true, false) && (err != nil || r.Imported != len(pub.Entries)) {
			t.Fatalf("the seed answer: imported %d (%v), want %d", r.Imported, err, len(pub.Entries))
		}
		ents, err := module.Catalog(w.As(h.NodeKey().Public), coda.ID{}, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			it, err := w.Get(coda.ID{}, e.Path)
			if err != nil || coda.Sum(it.Raw) != e.ID {
				t.Fatalf("stored %s does not hash to its id (%v)", e.Path, err)
			}
		}
	})
}

func sortItems(items []Item) {
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			if cmpItem(items[j], items[i]) < 0 {
				items[i], items[j] = items[j], items[i]
			}
		}
	}
}

func sortIDs(ids []coda.ID) {
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			if bytes.Compare(ids[j][:], ids[i][:]) < 0 {
				ids[i], ids[j] = ids[j], ids[i]
			}
		}
	}
}

// FuzzState: the state file either decodes into peers that encode back
// to a file decoding to the same, or fails as invalid.
func FuzzState(f *testing.F) {
	f.Add([]byte(`{"version":1,"since":{}}`))
	f.Add([]byte(`{"version":1,"since":{"12D3KooWDQuLUKvbBg9rKGwyWaTWneAXP99y3CgnkmhkLrigvk5R":"aqzituwmr3xyl56t6cjpj7p53act3sleqnzy5pha72lqdr2z2mia"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		since, err := decodeState(data)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error %v is not invalid", err)
			}
			return
		}
		again, err := decodeState(encodeState(since))
		if err != nil || len(again) != len(since) {
			t.Fatalf("re-encoded state: %d peers, %v; want %d", len(again), err, len(since))
		}
		for p, id := range since {
			if again[p] != id {
				t.Fatalf("peer %s: %s, want %s", p, again[p], id)
			}
		}
	})
}
