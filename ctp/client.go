package ctp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Options configure a Client. The zero value uses the defaults.
type Options struct {
	// MaxInFlight bounds the bytes asked of one peer and not yet received
	// (by the sizes known from manifests; ids of unknown size count
	// DefaultObjectSize); 0: 8 MiB. A peer has at most two Wants
	// outstanding, each of at most half of it.
	MaxInFlight int64
	// MaxBatch is the most ids in one Want; 0: 1024.
	MaxBatch int
	// OnInvalid is told of a peer that sent an object whose bytes do not
	// hash to its id, or a malformed message. Its ids go to other peers.
	OnInvalid func(peer.ID, error)
	// Relay configures the streams; MaxMessage defaults to 40 MiB (the
	// largest manifest, of a 16 GiB value of 16 KiB chunks, fits).
	Relay  relay.Options
	Logger *slog.Logger
}

// DefaultObjectSize is what an object of unknown size counts against
// Options.MaxInFlight.
const DefaultObjectSize = 4 << 10

// Received counts what a client received from one peer.
type Received struct {
	Objects int64 // Blocks and Manifests accepted
	Bytes   int64
	Missing int64
	Invalid int64 // objects that failed their id, malformed messages
}

// Client fetches objects from peers over CTP. It is safe for concurrent
// use.
type Client struct {
	h    host.Host
	opts Options
	log  *slog.Logger

	mu   sync.Mutex
	recv map[peer.ID]*Received
}

// NewClient returns a client that opens its streams from h.
func NewClient(h host.Host, opts Options) *Client {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 8 << 20
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.MaxBatch > MaxWantIDs {
		opts.MaxBatch = MaxWantIDs
	}
	if opts.Relay.MaxMessage <= 0 {
		opts.Relay.MaxMessage = 40 << 20
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{h: h, opts: opts, log: log, recv: map[peer.ID]*Received{}}
}

// Received returns what the client received from p so far.
func (c *Client) Received(p peer.ID) Received {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.recv[p]; r != nil {
		return *r
	}
	return Received{}
}

func (c *Client) count(p peer.ID, f func(*Received)) {
	c.mu.Lock()
	r := c.recv[p]
	if r == nil {
		r = &Received{}
		c.recv[p] = r
	}
	f(r)
	c.mu.Unlock()
}

// Fetch fetches w.IDs from peers, striped: each peer takes batches from
// one queue, so faster peers take more. Every object is checked against
// its id before got is called with it; for the id of a value stored as
// chunks, obj is its manifest's encoding (store.DecodeManifest(obj).ID ==
// id; fetch the chunks, or use FetchValue). got may be called concurrently
// from several goroutines; an error from it ends the fetch. An id a peer
// answers Missing, or had outstanding when it dropped or lied, is asked of
// another peer. Fetch fails with errs.NotExist when some ids are on no
// peer.
func (c *Client) Fetch(ctx context.Context, peers []peer.ID, w Want, got func(id coda.ID, obj []byte) error) error {
	items := make([]*item, 0, len(w.IDs))
	seen := make(map[coda.ID]bool, len(w.IDs))
	for _, id := range w.IDs {
		if !seen[id] {
			seen[id] = true
			items = append(items, &item{id: id, size: DefaultObjectSize, manifestOK: true})
		}
	}
	return c.fetch(ctx, peers, w, items, func(it *item, r reply) error {
		if r.kind == replyManifest {
			b, err := r.manifest.MarshalBinary()
			if err != nil {
				return err
			}
			return got(it.id, b)
		}
		return got(it.id, r.data)
	})
}

// FetchValue fetches the value id (the value at w.Path) into st: a small
// value whole; a value stored as chunks, its manifest from one peer, then
// the chunks st lacks striped over peers, each stored as it arrives (so a
// fetch cut short resumes where it stopped), then the manifest, which the
// store checks against the chunks. A value already in st is not fetched.
func (c *Client) FetchValue(ctx context.Context, peers []peer.ID, w Want, id coda.ID, st store.Store) error {
	return c.FetchValueJoin(ctx, peers, nil, w, id, st)
}

// FetchValueJoin is FetchValue with peers that join while it runs: each
// peer received from more (nil: none) is asked for the chunks still
// pending alongside the others, from when it arrives to the end of the
// fetch. (Only the chunks are striped; the manifest comes from peers.)
// The caller must send only peers that may be told w, as for peers: they
// are sent w's world and path.
func (c *Client) FetchValueJoin(ctx context.Context, peers []peer.ID, more <-chan peer.ID, w Want, id coda.ID, st store.Store) error {
	op := errs.Op("ctp.FetchValue")
	if ok, err := st.Has(id); err != nil || ok {
		return err
	}
	var m *store.Manifest
	first := []*item{{id: id, size: DefaultObjectSize, manifestOK: true}}
	err := c.fetch(ctx, peers, w, first, func(it *item, r reply) error {
		if r.kind == replyManifest {
			m = r.manifest
			return nil
		}
		got, err := st.Put(r.data)
		if err == nil && got != id {
			err = errs.E(errs.Internal, fmt.Sprintf("store gave id %s to the value %s", got, id))
		}
		return err
	})
	if err != nil || m == nil {
		return errs.E(op, errs.Path(w.Path), err)
	}
	cs, ok := st.(store.Chunked)
	if !ok {
		return errs.E(op, errs.Invalid, "the store does not keep chunks")
	}
	var items []*item
	seen := map[coda.ID]bool{}
	for _, ch := range m.Chunks {
		if seen[ch.ID] {
			continue
		}
		seen[ch.ID] = true
		if ok, err := cs.HasChunk(ch.ID); err != nil {
			return errs.E(op, err)
		} else if !ok {
			items = append(items, &item{id: ch.ID, size: int64(ch.Len), storeChecks: true})
		}
	}
	// PutChunk checks each chunk against its id (store.Chunked), so the
	// replies are not hashed twice: a chunk it refuses as corrupt counts
	// against the peer that sent it, as a failed check in reply would.
	// A store that can batches the chunks (store.ChunkBatcher): fewer,
	// larger writes. The batch is flushed whether or not the fetch
	// succeeded, so that a fetch cut short keeps what it fetched.
	put := cs.PutChunk
	var cb store.ChunkBatch
	if b, ok := cs.(store.ChunkBatcher); ok {
		cb = b.NewChunkBatch()
		put = cb.PutChunk
	}
	err = c.fetchJoin(ctx, peers, more, w, items, func(it *item, r reply) error {
		return put(it.id, r.data)
	})
	if cb != nil {
		if ferr := cb.Flush(); err == nil {
			err = ferr
		}
	}
	if err != nil {
		return errs.E(op, errs.Path(w.Path), err)
	}
	if err := cs.PutManifest(*m); err != nil {
		return errs.E(op, errs.Path(w.Path), err)
	}
	return nil
}

// item is one id to fetch.
type item struct {
	id         coda.ID
	size       int64
	manifestOK bool // a Manifest may answer it
	// storeChecks: deliver checks a Block against the id (store.Chunked's
	// PutChunk), answering errs.Corrupt or errs.Limit for the sender's
	// fault; reply does not hash it again.
	storeChecks bool
	tried       []peer.ID
}

func (it *item) triedBy(p peer.ID) bool {
	for _, q := range it.tried {
		if q == p {
			return true
		}
	}
	return false
}

// fetch is the state of one striped fetch.
type fetch struct {
	c       *Client
	w       Want
	deliver func(*item, reply) error
	cancel  context.CancelFunc

	mu       sync.Mutex
	cond     *sync.Cond
	pending  []*item
	left     int           // items not delivered
	inflight int           // batches outstanding
	alive    int           // workers running
	done     chan struct{} // closed when alive drops to 0
	err      error
}

func (c *Client) fetch(ctx context.Context, peers []peer.ID, w Want, items []*item, deliver func(*item, reply) error) error {
	return c.fetchJoin(ctx, peers, nil, w, items, deliver)
}

// fetchJoin stripes items over peers, and over each peer from more that
// arrives before the fetch ends.
func (c *Client) fetchJoin(ctx context.Context, peers []peer.ID, more <-chan peer.ID, w Want, items []*item, deliver func(*item, reply) error) error {
	if len(items) == 0 {
		return nil
	}
	if len(peers) == 0 {
		return errs.E(errs.Unavailable, "ctp: no peers to fetch from")
	}
	if err := loadSchemas(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &fetch{c: c, w: w, deliver: deliver, cancel: cancel, pending: items, left: len(items)}
	f.cond = sync.NewCond(&f.mu)
	stop := context.AfterFunc(ctx, func() { f.fail(ctx.Err()) })
	defer stop()
	var wg sync.WaitGroup
	uniq := map[peer.ID]bool{}
	var list []peer.ID
	for _, p := range peers {
		if !uniq[p] {
			uniq[p] = true
			list = append(list, p)
		}
	}
	f.alive = len(list)
	f.done = make(chan struct{})
	for _, p := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.work(ctx, p)
		}()
	}
	if more != nil {
		// The joiner holds a place in wg, so that adding workers never
		// races with wg.Wait; it leaves when the last worker has.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var p peer.ID
				select {
				case <-f.done:
					return
				case p = <-more:
				}
				f.mu.Lock()
				join := f.alive > 0 && f.err == nil && f.left > 0 && !uniq[p]
				if join {
					uniq[p] = true
					f.alive++
					wg.Add(1)
				}
				f.mu.Unlock()
				if join {
					c.log.Debug("ctp: peer joins a fetch", "peer", p)
					go func() {
						defer wg.Done()
						f.work(ctx, p)
					}()
				}
			}
		}()
	}
	wg.Wait()
	if f.err != nil {
		if errs.KindOf(f.err) == errs.Other {
			return errs.E(errs.Canceled, f.err)
		}
		return f.err
	}
	if f.left > 0 && ctx.Err() != nil {
		// The peers failed because the fetch was canceled, not because they
		// lack the objects.
		return errs.E(errs.Canceled, fmt.Errorf("ctp: %d of %d objects not fetched: %w", f.left, len(items), ctx.Err()))
	}
	if f.left > 0 {
		return errs.E(errs.NotExist, fmt.Sprintf("ctp: %d of %d objects on none of %d peers (first: %s)", f.left, len(items), len(uniq), f.pending[0].id))
	}
	return nil
}

// fail ends the fetch with err (the first error wins).
func (f *fetch) fail(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
	f.cond.Broadcast()
	f.cancel()
}

// take returns the next batch for p: items p has not tried, at most a
// fair share of what is pending. With wait, it waits while other peers'
// batches may still come back; it returns nil when there is nothing for p.
func (f *fetch) take(p peer.ID, wait bool) []*item {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if f.err != nil || f.left == 0 {
			return nil
		}
		share := (len(f.pending) + f.alive - 1) / max(f.alive, 1)
		limit := min(f.c.opts.MaxBatch, max(share, 1))
		budget := f.c.opts.MaxInFlight / 2
		var batch []*item
		var bytes int64
		kept := f.pending[:0]
		for _, it := range f.pending {
			if len(batch) < limit && (len(batch) == 0 || bytes+it.size <= budget) && !it.triedBy(p) {
				it.tried = append(it.tried, p)
				batch = append(batch, it)
				bytes += it.size
			} else {
				kept = append(kept, it)
			}
		}
		clear(f.pending[len(kept):])
		f.pending = kept
		if len(batch) > 0 {
			f.inflight++
			return batch
		}
		if !wait || f.inflight == 0 {
			return nil
		}
		f.cond.Wait()
	}
}

// settle ends a batch: the items in back return to the queue.
func (f *fetch) settle(back []*item, delivered int) {
	f.mu.Lock()
	f.inflight--
	f.left -= delivered
	f.pending = append(f.pending, back...)
	f.mu.Unlock()
	f.cond.Broadcast()
}

// work fetches batches from p until there is nothing left for it or p
// fails.
func (f *fetch) work(ctx context.Context, p peer.ID) {
	defer func() {
		f.mu.Lock()
		f.alive--
		if f.alive == 0 {
			close(f.done)
		}
		f.mu.Unlock()
		f.cond.Broadcast()
	}()
	var conn *relay.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close()
		}
	}()
	var out [][]*item // batches sent, oldest first
	giveBack := func() {
		for _, b := range out {
			f.settle(b, 0)
		}
		out = nil
	}
	for {
		for len(out) < 2 {
			b := f.take(p, len(out) == 0)
			if b == nil {
				break
			}
			if conn == nil {
				var err error
				conn, _, err = relay.Dial(ctx, f.c.h, p, []protocol.ID{Protocol}, []coda.ID{wantSchema.ID}, nil, f.c.opts.Relay)
				if err != nil {
					f.c.log.Debug("ctp: dial", "peer", p, "err", err)
					f.settle(b, 0)
					giveBack()
					return
				}
			}
			w := f.w
			w.IDs = make([]coda.ID, len(b))
			for i, it := range b {
				w.IDs[i] = it.id
			}
			msg, err := EncodeWant(w)
			if err == nil {
				err = conn.SendObject(msg)
			}
			if err != nil {
				f.c.log.Debug("ctp: send want", "peer", p, "err", err)
				f.settle(b, 0)
				giveBack()
				return
			}
			out = append(out, b)
		}
		if len(out) == 0 {
			if conn != nil {
				_ = conn.CloseWrite()
			}
			return
		}
		b := out[0]
		out = out[1:]
		if !f.receive(conn, p, b) {
			giveBack()
			_ = conn.Reset()
			return
		}
	}
}

// receive reads the replies to batch b from p, delivering what checks
// out. It settles b and reports whether p may be asked again.
func (f *fetch) receive(conn *relay.Conn, p peer.ID, b []*item) bool {
	var back []*item
	delivered := 0
	ok := true
	for i, it := range b {
		r, err := f.reply(conn, it)
		if err != nil {
			if k := errs.KindOf(err); k == errs.Invalid || k == errs.Corrupt || k == errs.Limit {
				f.c.count(p, func(r *Received) { r.Invalid++ })
				f.c.log.Info("ctp: invalid reply", "peer", p, "err", err)
				if f.c.opts.OnInvalid != nil {
					f.c.opts.OnInvalid(p, err)
				}
			} else {
				f.c.log.Debug("ctp: peer", "peer", p, "err", err)
			}
			back = append(back, b[i:]...)
			ok = false
			break
		}
		if r.kind == replyMissing {
			f.c.count(p, func(r *Received) { r.Missing++ })
			back = append(back, it)
			continue
		}
		n := int64(len(r.data))
		if r.kind == replyManifest {
			b, _ := r.manifest.MarshalBinary()
			n = int64(len(b))
		}
		if err := f.deliver(it, r); err != nil {
			if k := errs.KindOf(err); it.storeChecks && (k == errs.Corrupt || k == errs.Limit) {
				f.c.count(p, func(r *Received) { r.Invalid++ })
				f.c.log.Info("ctp: invalid reply", "peer", p, "err", err)
				if f.c.opts.OnInvalid != nil {
					f.c.opts.OnInvalid(p, err)
				}
				back = append(back, b[i:]...)
				ok = false
				break
			}
			f.fail(err)
			back = append(back, b[i:]...)
			ok = false
			break
		}
		f.c.count(p, func(r *Received) { r.Objects++; r.Bytes += n })
		delivered++
	}
	f.settle(back, delivered)
	return ok
}

// reply reads and checks the reply to it.
func (f *fetch) reply(conn *relay.Conn, it *item) (reply, error) {
	obj, err := conn.RecvObject()
	if err == io.EOF {
		return reply{}, errs.E(errs.Invalid, fmt.Sprintf("ctp: stream ended before the reply for %s", it.id))
	}
	if err != nil {
		return reply{}, err
	}
	r, err := decodeReply(obj)
	if err != nil {
		return reply{}, err
	}
	switch r.kind {
	case replyMissing:
		if r.id != it.id {
			return reply{}, errs.E(errs.Invalid, fmt.Sprintf("ctp: Missing %s in the place of %s", r.id, it.id))
		}
	case replyManifest:
		if !it.manifestOK || r.manifest.ID != it.id {
			return reply{}, errs.E(errs.Invalid, fmt.Sprintf("ctp: a manifest of %s in the place of %s", r.manifest.ID, it.id))
		}
	case replyBlock:
		if it.storeChecks {
			if int64(len(r.data)) != it.size { // the manifest's length
				return reply{}, errs.E(errs.Corrupt, fmt.Sprintf("ctp: chunk %s: %d bytes, its manifest says %d", it.id, len(r.data), it.size))
			}
			break // deliver checks the id
		}
		if got := coda.Sum(r.data); got != it.id {
			return reply{}, errs.E(errs.Corrupt, fmt.Sprintf("ctp: object %s: its %d bytes hash to %s", it.id, len(r.data), got))
		}
	}
	return r, nil
}
