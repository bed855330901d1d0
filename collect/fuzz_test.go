package collect

import (
	"bytes"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
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
		_ = s.serve(bg, c, "", asker)
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
