package ctp

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
	"github.com/coalescent/coal/relay/relaytest"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// world is a home whose default world holds /pub (readable by the
// client's key) and /p (the node's alone), with large values in both.
type world struct {
	h      *cdb.Home
	w      *cdb.World
	head   coda.ID
	big    []byte // the bytes of /pub/big
	bigID  coda.ID
	secret coda.ID // the value at /p/secret
	small  coda.ID // the value at /pub/small
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func newWorld(t testing.TB, reader ed25519.PublicKey, bigSize int) *world {
	t.Helper()
	h, err := cdb.Init(t.TempDir()+"/home", acl.With(cdb.Options{Store: memstore.New()}))
	must(t, err)
	t.Cleanup(func() { h.Close() })
	w, err := h.World("")
	must(t, err)
	var a acl.ACL
	a.Grant(acl.Key([32]byte(reader)), acl.Read)
	aclBytes, err := a.Encode()
	must(t, err)
	big := randBytes(1, bigSize)
	secret := randBytes(2, 1<<20)
	put := func(p string, b []byte) cdb.Op {
		return cdb.Op{Kind: cdb.PutBlob, Path: p, Blob: bytes.NewReader(b), Size: int64(len(b))}
	}
	_, err = w.Commit(context.Background(), h.NodeKey(), []cdb.Op{
		{Kind: cdb.Put, Path: "/pub/.acl", Raw: aclBytes},
		put("/pub/big", big), put("/pub/small", []byte("small value")), put("/p/secret", secret),
	}, "test")
	must(t, err)
	wd := &world{h: h, w: w, big: big}
	wd.head, err = w.Head()
	must(t, err)
	id := func(p string) coda.ID {
		it, err := w.Get(wd.head, p)
		must(t, err)
		return it.ID
	}
	wd.bigID, wd.secret, wd.small = id("/pub/big"), id("/p/secret"), id("/pub/small")
	return wd
}

func (wd *world) want(path string, ids ...coda.ID) Want {
	return Want{World: wd.w.ID(), Commit: wd.head, Path: path, IDs: ids}
}

func (wd *world) chunks(t testing.TB, id coda.ID) []coda.ID {
	m, err := wd.h.Store().(store.Chunked).Chunks(id)
	must(t, err)
	var ids []coda.ID
	for _, c := range m.Chunks {
		ids = append(ids, c.ID)
	}
	return ids
}

// swarm is a client host and servers over one mocknet.
type swarm struct {
	mn      mocknet.Mocknet
	client  host.Host
	servers []host.Host
	srv     []*Server
	wd      *world
}

func (s *swarm) peers() []peer.ID {
	var ps []peer.ID
	for _, h := range s.servers {
		ps = append(ps, h.ID())
	}
	return ps
}

// newSwarm starts n servers of one world; wrap, if not nil, changes the
// source of server i.
func newSwarm(t testing.TB, n, bigSize int, wrap func(i int, src Source) Source) *swarm {
	t.Helper()
	mn, hs, keys := relaytest.Net(t, n+1)
	s := &swarm{mn: mn, client: hs[0], servers: hs[1:]}
	s.wd = newWorld(t, keys[0].Public().(ed25519.PublicKey), bigSize)
	for i, h := range s.servers {
		src := WorldSource(s.wd.h)
		if wrap != nil {
			src = wrap(i, src)
		}
		srv := NewServer(src, ServerOptions{})
		srv.Register(h)
		t.Cleanup(func() { srv.Close() })
		s.srv = append(s.srv, srv)
	}
	return s
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// checkValue checks that st holds the value id with the bytes want.
func checkValue(t *testing.T, st store.Store, id coda.ID, want []byte) {
	t.Helper()
	b, err := st.Get(id)
	must(t, err)
	if coda.Sum(b) != id {
		t.Fatalf("stored value does not hash to %s", id)
	}
	if !bytes.HasSuffix(b, want) {
		t.Fatalf("stored value (%d bytes) does not end with the %d bytes put", len(b), len(want))
	}
}

// TestFetchValueStriped: a chunked value fetched from 3 peers comes from
// all three, is stored whole, and matches.
func TestFetchValueStriped(t *testing.T) {
	s := newSwarm(t, 3, 8<<20, nil)
	c := NewClient(s.client, Options{MaxInFlight: 512 << 10})
	st := memstore.New()
	chunks := s.wd.chunks(t, s.wd.bigID)
	must(t, c.FetchValue(ctxT(t), s.peers(), s.wd.want("/pub/big"), s.wd.bigID, st))
	checkValue(t, st, s.wd.bigID, s.wd.big)
	var total int64
	for i, h := range s.servers {
		got := s.srv[i].Stats(s.client.ID())
		rec := c.Received(h.ID())
		t.Logf("peer %d: served %+v, received %+v", i, got, rec)
		if got.Objects == 0 {
			t.Errorf("peer %d served nothing: striping did not use it", i)
		}
		if rec.Objects != got.Objects || rec.Bytes != got.Bytes {
			t.Errorf("peer %d: client received %d objects, %d bytes; server sent %d, %d", i, rec.Objects, rec.Bytes, got.Objects, got.Bytes)
		}
		total += got.Objects
	}
	if want := int64(len(chunks)) + 1; total != want { // the chunks and the manifest
		t.Errorf("%d objects served in all, want %d (each chunk once, and the manifest)", total, want)
	}
	// A second fetch finds the value stored and asks nothing.
	must(t, c.FetchValue(ctxT(t), s.peers(), s.wd.want("/pub/big"), s.wd.bigID, st))
	if got := s.srv[0].Stats(s.client.ID()).Wants + s.srv[1].Stats(s.client.ID()).Wants + s.srv[2].Stats(s.client.ID()).Wants; got == 0 {
		t.Errorf("no wants counted")
	}
}

// killer is a source that takes its peer off the net after a few objects.
type killer struct {
	Source
	n    atomic.Int32
	once sync.Once
	kill func()
}

func (k *killer) Object(ctx context.Context, asker ed25519.PublicKey, w Want, id coda.ID) (Object, error) {
	if k.n.Add(1) > 3 {
		k.once.Do(k.kill)
		return Object{}, errs.E(errs.Unavailable, "killed")
	}
	return k.Source.Object(ctx, asker, w, id)
}

// TestPeerKilled: a peer dies mid-fetch; its chunks come from the others.
func TestPeerKilled(t *testing.T) {
	var s *swarm
	s = newSwarm(t, 3, 4<<20, func(i int, src Source) Source {
		if i != 0 {
			return src
		}
		return &killer{Source: src, kill: func() {
			if err := s.mn.UnlinkPeers(s.client.ID(), s.servers[0].ID()); err != nil {
				t.Error(err)
			}
			_ = s.mn.DisconnectPeers(s.client.ID(), s.servers[0].ID())
		}}
	})
	c := NewClient(s.client, Options{MaxInFlight: 256 << 10})
	st := memstore.New()
	must(t, c.FetchValue(ctxT(t), s.peers(), s.wd.want("/pub/big"), s.wd.bigID, st))
	checkValue(t, st, s.wd.bigID, s.wd.big)
	dead := s.srv[0].Stats(s.client.ID())
	if dead.Objects == 0 || dead.Objects > 3 {
		t.Errorf("the killed peer served %d objects, want 1 to 3", dead.Objects)
	}
}

// liar serves wrong bytes for every chunk.
type liar struct{ Source }

func (l liar) Object(ctx context.Context, asker ed25519.PublicKey, w Want, id coda.ID) (Object, error) {
	o, err := l.Source.Object(ctx, asker, w, id)
	if err == nil && o.Data != nil {
		o.Data = bytes.Clone(o.Data)
		o.Data[len(o.Data)/2] ^= 0x40
	}
	return o, err
}

// TestWrongBytes: a peer serving wrong bytes is reported with OnInvalid,
// and its chunks are fetched again from the others.
func TestWrongBytes(t *testing.T) {
	s := newSwarm(t, 3, 4<<20, func(i int, src Source) Source {
		if i == 1 {
			return liar{src}
		}
		return src
	})
	var mu sync.Mutex
	bad := map[peer.ID]int{}
	c := NewClient(s.client, Options{MaxInFlight: 256 << 10, OnInvalid: func(p peer.ID, err error) {
		mu.Lock()
		bad[p]++
		mu.Unlock()
		if !errs.Is(err, errs.Corrupt) || !strings.Contains(err.Error(), "hash to") {
			t.Errorf("OnInvalid error %v, want a corrupt error naming the hash", err)
		}
	}})
	st := memstore.New()
	must(t, c.FetchValue(ctxT(t), s.peers(), s.wd.want("/pub/big"), s.wd.bigID, st))
	checkValue(t, st, s.wd.bigID, s.wd.big)
	liarID := s.servers[1].ID()
	if bad[liarID] == 0 {
		t.Errorf("OnInvalid never called for the lying peer")
	}
	for p, n := range bad {
		if p != liarID {
			t.Errorf("OnInvalid called %d times for an honest peer %s", n, p)
		}
	}
	if got := c.Received(liarID); got.Invalid == 0 {
		t.Errorf("received from the liar %+v, want Invalid > 0", got)
	}
}

// TestUnreadable: ids under /p, which the client may not read, are
// Missing from every peer, and not one byte of them is sent.
func TestUnreadable(t *testing.T) {
	s := newSwarm(t, 3, 1<<20, nil)
	c := NewClient(s.client, Options{})
	st := memstore.New()
	err := c.FetchValue(ctxT(t), s.peers(), s.wd.want("/p/secret"), s.wd.secret, st)
	if !errs.Is(err, errs.NotExist) {
		t.Errorf("FetchValue of /p/secret: %v, want errs.NotExist", err)
	}
	ids := append([]coda.ID{s.wd.secret}, s.wd.chunks(t, s.wd.secret)...)
	err = c.Fetch(ctxT(t), s.peers(), s.wd.want("/p/secret", ids...), func(id coda.ID, obj []byte) error {
		t.Errorf("got %s", id)
		return nil
	})
	if !errs.Is(err, errs.NotExist) {
		t.Errorf("Fetch of /p/secret's chunks: %v, want errs.NotExist", err)
	}
	var missing int64
	for i := range s.servers {
		got := s.srv[i].Stats(s.client.ID())
		if got.Objects != 0 || got.Bytes != 0 {
			t.Errorf("peer %d sent %d objects, %d bytes under /p", i, got.Objects, got.Bytes)
		}
		missing += got.Missing
	}
	if want := int64(3 * (1 + len(ids))); missing != want {
		t.Errorf("%d Missing replies, want %d (every id from every peer)", missing, want)
	}
	if all := s.srv[0].Peers(); len(all) != 1 || all[s.client.ID()].Missing == 0 {
		t.Errorf("Peers() = %v, want the client alone, with Missing replies", all)
	}
	if ok, _ := st.Has(s.wd.secret); ok {
		t.Errorf("the secret was stored")
	}
}

// TestForgedWant: ids not under the path wanted are Missing, though the
// path is readable.
func TestForgedWant(t *testing.T) {
	s := newSwarm(t, 1, 1<<20, nil)
	c := NewClient(s.client, Options{})
	forged := append([]coda.ID{s.wd.secret}, s.wd.chunks(t, s.wd.secret)[:3]...)
	err := c.Fetch(ctxT(t), s.peers(), s.wd.want("/pub/small", forged...), func(id coda.ID, obj []byte) error {
		t.Errorf("got %s", id)
		return nil
	})
	if !errs.Is(err, errs.NotExist) {
		t.Errorf("forged want: %v, want errs.NotExist", err)
	}
	// A chunk of /pub/big under /pub/small: readable, but not reachable.
	err = c.Fetch(ctxT(t), s.peers(), s.wd.want("/pub/small", s.wd.chunks(t, s.wd.bigID)[0]), func(coda.ID, []byte) error { return nil })
	if !errs.Is(err, errs.NotExist) {
		t.Errorf("a chunk of another value: %v, want errs.NotExist", err)
	}
	got := s.srv[0].Stats(s.client.ID())
	if got.Objects != 0 || got.Bytes != 0 || got.Missing != int64(len(forged)+1) {
		t.Errorf("served %+v, want no objects and %d Missing", got, len(forged)+1)
	}
	// The honest want of /pub/small succeeds.
	var obj []byte
	must(t, c.Fetch(ctxT(t), s.peers(), s.wd.want("/pub/small", s.wd.small), func(id coda.ID, b []byte) error {
		obj = b
		return nil
	}))
	if coda.Sum(obj) != s.wd.small || !bytes.HasSuffix(obj, []byte("small value")) {
		t.Errorf("/pub/small: got %q", obj)
	}
	// Commit zero: the head.
	head := s.wd.want("/pub/small", s.wd.small)
	head.Commit = coda.ID{}
	must(t, c.Fetch(ctxT(t), s.peers(), head, func(id coda.ID, b []byte) error { return nil }))
	// The manifest of /pub/big through Fetch.
	var man []byte
	must(t, c.Fetch(ctxT(t), s.peers(), s.wd.want("/pub/big", s.wd.bigID), func(id coda.ID, b []byte) error {
		man = b
		return nil
	}))
	m, err := store.DecodeManifest(man)
	if err != nil || m.ID != s.wd.bigID {
		t.Errorf("Fetch of a chunked value: manifest %v, %v; want one of %s", m.ID, err, s.wd.bigID)
	}
}

// TestMalformedWant: a Want that does not decode resets the stream and is
// reported with OnInvalid at the server.
func TestMalformedWant(t *testing.T) {
	mn, hs, keys := relaytest.Net(t, 2)
	_ = mn
	wd := newWorld(t, keys[0].Public().(ed25519.PublicKey), 1<<10)
	reported := make(chan error, 1)
	srv := NewServer(WorldSource(wd.h), ServerOptions{OnInvalid: func(p peer.ID, err error) {
		if p != hs[0].ID() {
			t.Errorf("OnInvalid for %s, want %s", p, hs[0].ID())
		}
		reported <- err
	}})
	srv.Register(hs[1])
	defer srv.Close()
	must(t, loadSchemas())
	s, err := hs[0].NewStream(ctxT(t), hs[1].ID(), Protocol)
	must(t, err)
	defer s.Close()
	c := newTestConn(s)
	must(t, c.SendObject(append(append([]byte{}, wantSchema.ID[:]...), 1, 2, 3)))
	select {
	case err := <-reported:
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("reported %v, want errs.Invalid", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no OnInvalid within 10s")
	}
	if _, err := c.RecvObject(); err == nil || err == io.EOF {
		t.Errorf("after a malformed want the stream should be reset, got %v", err)
	}
}

// TestHostileServer: a peer that answers with malformed or oversized
// frames is reported with OnInvalid; the fetch completes from the others.
func TestHostileServer(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply []byte
	}{
		{"garbage", []byte("not a wire stream at all")},
		{"oversized", append(append([]byte("CODW\x01\x01"), blockID()...), 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f)},
		{"wrong schema", append(append(append([]byte("CODW\x01\x01"), wantSchemaID()...), 0x01, 0x01), 0x00)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSwarm(t, 3, 2<<20, nil)
			s.servers[2].SetStreamHandler(Protocol, func(st network.Stream) {
				defer st.Close()
				_, _ = st.Write(tt.reply)
				_, _ = io.Copy(io.Discard, st)
			})
			var mu sync.Mutex
			var bad []peer.ID
			c := NewClient(s.client, Options{MaxInFlight: 256 << 10, Relay: relay.Options{MaxMessage: 1 << 20}, OnInvalid: func(p peer.ID, err error) {
				mu.Lock()
				bad = append(bad, p)
				mu.Unlock()
				if k := errs.KindOf(err); k != errs.Invalid && k != errs.Limit {
					t.Errorf("OnInvalid error %v of kind %v, want invalid or limit", err, k)
				}
			}})
			st := memstore.New()
			must(t, c.FetchValue(ctxT(t), s.peers(), s.wd.want("/pub/big"), s.wd.bigID, st))
			checkValue(t, st, s.wd.bigID, s.wd.big)
			mu.Lock()
			defer mu.Unlock()
			if len(bad) == 0 {
				t.Fatal("OnInvalid not called for the hostile peer")
			}
			for _, p := range bad {
				if p != s.servers[2].ID() {
					t.Errorf("OnInvalid called for honest peer %s", p)
				}
			}
		})
	}
}

func blockID() []byte {
	_ = loadSchemas()
	return blockSchema.ID[:]
}

func wantSchemaID() []byte {
	_ = loadSchemas()
	return wantSchema.ID[:]
}

// TestRevoked: once a commit revokes the client's read right, what it
// could fetch a moment before is Missing, at the old commit too.
func TestRevoked(t *testing.T) {
	s := newSwarm(t, 1, 1<<10, nil)
	c := NewClient(s.client, Options{})
	w := s.wd.want("/pub/small", s.wd.small)
	must(t, c.Fetch(ctxT(t), s.peers(), w, func(coda.ID, []byte) error { return nil }))
	var none acl.ACL
	b, err := none.Encode()
	must(t, err)
	_, err = s.wd.w.Commit(context.Background(), s.wd.h.NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: "/pub/.acl", Raw: b}}, "revoke")
	must(t, err)
	err = c.Fetch(ctxT(t), s.peers(), w, func(coda.ID, []byte) error { return nil })
	if !errs.Is(err, errs.NotExist) {
		t.Errorf("after the revocation: %v, want errs.NotExist", err)
	}
	if got := s.srv[0].Stats(s.client.ID()); got.Objects != 1 || got.Missing != 1 {
		t.Errorf("served %+v, want 1 object before and 1 Missing after", got)
	}
}

// TestResume: a fetch cut short leaves the chunks it stored; the next
// fetch asks only for the others.
func TestResume(t *testing.T) {
	var s *swarm
	s = newSwarm(t, 2, 2<<20, func(i int, src Source) Source {
		if i != 0 {
			return src
		}
		return &killer{Source: src, kill: func() {
			if err := s.mn.UnlinkPeers(s.client.ID(), s.servers[0].ID()); err != nil {
				t.Error(err)
			}
			_ = s.mn.DisconnectPeers(s.client.ID(), s.servers[0].ID())
		}}
	})
	c := NewClient(s.client, Options{MaxInFlight: 128 << 10})
	st := memstore.New()
	err := c.FetchValue(ctxT(t), s.peers()[:1], s.wd.want("/pub/big"), s.wd.bigID, st)
	if err == nil {
		t.Fatal("the fetch from a peer that dies succeeded")
	}
	var have int
	chunks := s.wd.chunks(t, s.wd.bigID)
	for _, id := range chunks {
		if ok, _ := st.HasChunk(id); ok {
			have++
		}
	}
	if have == 0 || have == len(chunks) {
		t.Fatalf("%d of %d chunks stored by the cut fetch, want some", have, len(chunks))
	}
	must(t, c.FetchValue(ctxT(t), s.peers()[1:], s.wd.want("/pub/big"), s.wd.bigID, st))
	checkValue(t, st, s.wd.bigID, s.wd.big)
	if got, want := s.srv[1].Stats(s.client.ID()).Objects, int64(len(chunks)-have+1); got != want {
		t.Errorf("the second fetch took %d objects, want %d (the manifest and the %d chunks missing)", got, want, len(chunks)-have)
	}
}

// sizer records the largest sum of chunk lengths one Want asks for.
type sizer struct {
	Source
	lens map[coda.ID]int64
	mu   sync.Mutex
	max  int64
	ids  int
}

func (z *sizer) Object(ctx context.Context, asker ed25519.PublicKey, w Want, id coda.ID) (Object, error) {
	var sum int64
	for _, x := range w.IDs {
		sum += z.lens[x]
	}
	z.mu.Lock()
	if sum > z.max {
		z.max, z.ids = sum, len(w.IDs)
	}
	z.mu.Unlock()
	return z.Source.Object(ctx, asker, w, id)
}

// TestInFlightBound: no Want asks for more than half the in-flight bound
// (two are outstanding at most), unless it holds a single id.
func TestInFlightBound(t *testing.T) {
	var z *sizer
	s := newSwarm(t, 1, 4<<20, func(i int, src Source) Source {
		z = &sizer{Source: src}
		return z
	})
	m, err := s.wd.h.Store().(store.Chunked).Chunks(s.wd.bigID)
	must(t, err)
	z.lens = map[coda.ID]int64{}
	for _, ch := range m.Chunks {
		z.lens[ch.ID] = int64(ch.Len)
	}
	const bound = 512 << 10
	c := NewClient(s.client, Options{MaxInFlight: bound})
	must(t, c.FetchValue(ctxT(t), s.peers(), s.wd.want("/pub/big"), s.wd.bigID, memstore.New()))
	if z.max > bound/2 && z.ids > 1 {
		t.Errorf("a Want of %d ids asked for %d bytes, more than half the bound %d", z.ids, z.max, bound)
	}
	if z.max == 0 {
		t.Errorf("no chunk wanted")
	}
	if wants := s.srv[0].Stats(s.client.ID()).Wants; wants < m.Size/(bound/2) {
		t.Errorf("%d Wants for %d chunks under a bound of %d bytes: too few", wants, len(m.Chunks), bound)
	}
}

// TestServerBound: with a server in-flight bound smaller than one chunk,
// concurrent fetches by one peer over several streams still complete
// (one object in flight at a time).
func TestServerBound(t *testing.T) {
	mn, hs, keys := relaytest.Net(t, 2)
	_ = mn
	wd := newWorld(t, keys[0].Public().(ed25519.PublicKey), 2<<20)
	srv := NewServer(WorldSource(wd.h), ServerOptions{MaxInFlight: 1})
	srv.Register(hs[1])
	defer srv.Close()
	chunks := wd.chunks(t, wd.bigID)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := NewClient(hs[0], Options{MaxInFlight: 128 << 10})
			var n atomic.Int64
			err := c.Fetch(ctxT(t), []peer.ID{hs[1].ID()}, wd.want("/pub/big", chunks...), func(coda.ID, []byte) error {
				n.Add(1)
				return nil
			})
			if err != nil || n.Load() != int64(len(chunks)) {
				t.Errorf("fetch %d: %v, %d of %d chunks", i, err, n.Load(), len(chunks))
			}
		}()
	}
	wg.Wait()
	if got := srv.Stats(hs[0].ID()).Objects; got != int64(4*len(chunks)) {
		t.Errorf("served %d objects, want %d", got, 4*len(chunks))
	}
}

// TestCanceled: a fetch whose context ends returns errs.Canceled.
func TestCanceled(t *testing.T) {
	s := newSwarm(t, 2, 1<<20, nil)
	c := NewClient(s.client, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.FetchValue(ctx, s.peers(), s.wd.want("/pub/big"), s.wd.bigID, memstore.New())
	if !errs.Is(err, errs.Canceled) {
		t.Errorf("canceled fetch: %v, want errs.Canceled", err)
	}
	// A got that fails ends the fetch with its error.
	boom := errs.E(errs.Internal, "boom")
	err = c.Fetch(ctxT(t), s.peers(), s.wd.want("/pub/big", s.wd.chunks(t, s.wd.bigID)...), func(coda.ID, []byte) error { return boom })
	if !errs.Is(err, errs.Internal) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("fetch with a failing got: %v, want boom", err)
	}
}

// slowJoin is a source that is slow, and on its second object lets
// another peer join the fetch.
type slowJoin struct {
	Source
	n    atomic.Int32
	join func()
}

func (s *slowJoin) Object(ctx context.Context, asker ed25519.PublicKey, w Want, id coda.ID) (Object, error) {
	if s.n.Add(1) == 2 {
		s.join()
	}
	time.Sleep(5 * time.Millisecond)
	return s.Source.Object(ctx, asker, w, id)
}

// TestFetchValueJoin: a peer sent on more while a fetch runs is asked for
// chunks too, and the value arrives whole.
func TestFetchValueJoin(t *testing.T) {
	more := make(chan peer.ID, 1)
	var s *swarm
	s = newSwarm(t, 2, 8<<20, func(i int, src Source) Source {
		if i != 0 {
			return src
		}
		return &slowJoin{Source: src, join: func() { more <- s.servers[1].ID() }}
	})
	c := NewClient(s.client, Options{MaxInFlight: 512 << 10})
	st := memstore.New()
	must(t, c.FetchValueJoin(ctxT(t), s.peers()[:1], more, s.wd.want("/pub/big"), s.wd.bigID, st))
	checkValue(t, st, s.wd.bigID, s.wd.big)
	got0, got1 := s.srv[0].Stats(s.client.ID()), s.srv[1].Stats(s.client.ID())
	if got1.Objects == 0 {
		t.Fatalf("the peer that joined served nothing (the first served %d objects)", got0.Objects)
	}
	if got0.Objects == 0 {
		t.Fatalf("the first peer served nothing")
	}
	t.Logf("first peer: %d objects, joined peer: %d", got0.Objects, got1.Objects)
}
