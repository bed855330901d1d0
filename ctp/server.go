// Package ctp is coal's content transfer protocol, /coal/ctp/1.0.0: an
// asker sends want-lists (many object ids per Want, all under one path of
// one commit of one world) and the server streams one reply per id —
// the object, the manifest of a chunked value, or Missing. The server
// serves an id only if the asker (the ed25519 key of its peer id) may read
// the path at that commit and the id is the value there or one of its
// chunks; anything else is Missing, exactly like an id it lacks. The
// client stripes ids over several peers, bounds the bytes in flight to
// each, checks every object against its id before handing it on, and
// moves the ids of a peer that drops, lacks them or lies to another. The
// messages are specified byte by byte in docs/protocols.md.
package ctp

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Protocol is CTP's protocol id.
const Protocol = protocol.ID(relay.CTP)

// Object is what a Source serves for one id: the object's bytes, or the
// manifest of a value stored as chunks.
type Object struct {
	Data     []byte
	Manifest *store.Manifest
}

// Source finds the objects a server may send. Object returns the object id
// as asker may have it under w (w.IDs is not consulted), or an error:
// errs.NotExist for an id it lacks and for one the asker may not have
// (the server answers both with Missing, and so should any other error).
// It is called concurrently.
type Source interface {
	Object(ctx context.Context, asker ed25519.PublicKey, w Want, id coda.ID) (Object, error)
}

// blockAppender is implemented by Sources (WorldSource) that can encode
// some Blocks straight into the server's buffer: appendBlock appends the
// Block for id to dst and reports ok, or reports !ok for an id it leaves to
// Object (then dst is unchanged). An error with ok is the object's: the
// server answers Missing after asking Object.
type blockAppender interface {
	appendBlock(dst []byte, asker ed25519.PublicKey, w Want, id coda.ID) ([]byte, bool, error)
}

// ServerOptions configure a Server. The zero value uses the defaults.
type ServerOptions struct {
	// MaxInFlight bounds the bytes of objects loaded for one peer and not
	// yet written to its streams, over all its streams; 0: 16 MiB. (One
	// object larger than the bound is still sent, alone.)
	MaxInFlight int64
	// MaxStreams is the most CTP streams one peer may have open at once;
	// more are reset. 0: 8.
	MaxStreams int
	// OnInvalid is told of a peer that sent a malformed message (its
	// stream is reset).
	OnInvalid func(peer.ID, error)
	// Relay configures the streams; MaxMessage defaults to 1 MiB (a Want
	// of MaxWantIDs ids and a long path fits).
	Relay  relay.Options
	Logger *slog.Logger
}

// Stats counts what a server sent one peer.
type Stats struct {
	Wants   int64 // Wants received
	Objects int64 // Blocks and Manifests sent
	Bytes   int64 // their data bytes (a Block's data, a Manifest's encoding)
	Missing int64 // Missing replies
}

// Server answers CTP streams. It is safe for concurrent use.
type Server struct {
	src  Source
	opts ServerOptions
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	peers map[peer.ID]*peerState
}

type peerState struct {
	stats   Stats
	streams int
	inUse   int64
	cond    *sync.Cond // on Server.mu: inUse went down
}

// NewServer returns a server of the objects src finds.
func NewServer(src Source, opts ServerOptions) *Server {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 16 << 20
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 8
	}
	if opts.Relay.MaxMessage <= 0 {
		opts.Relay.MaxMessage = 1 << 20
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{src: src, opts: opts, log: log, ctx: ctx, cancel: cancel, peers: map[peer.ID]*peerState{}}
}

// Register makes h answer CTP streams with s.
func (s *Server) Register(h host.Host) { h.SetStreamHandler(Protocol, s.Handle) }

// Close resets the streams being served; later streams are reset at once.
func (s *Server) Close() error { s.cancel(); return nil }

// Stats returns what the server sent p so far.
func (s *Server) Stats(p peer.ID) Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ps := s.peers[p]; ps != nil {
		return ps.stats
	}
	return Stats{}
}

// Peers returns what the server sent each peer it has served.
func (s *Server) Peers() map[peer.ID]Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[peer.ID]Stats, len(s.peers))
	for p, ps := range s.peers {
		out[p] = ps.stats
	}
	return out
}

func (s *Server) peer(p peer.ID) *peerState {
	ps := s.peers[p]
	if ps == nil {
		ps = &peerState{}
		ps.cond = sync.NewCond(&s.mu)
		s.peers[p] = ps
	}
	return ps
}

// acquire waits until n more bytes fit p's in-flight bound (or nothing is
// in flight).
func (s *Server) acquire(ps *peerState, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ps.inUse > 0 && ps.inUse+n > s.opts.MaxInFlight && s.ctx.Err() == nil {
		ps.cond.Wait()
	}
	ps.inUse += n
}

func (s *Server) release(ps *peerState, n int64) {
	s.mu.Lock()
	ps.inUse -= n
	s.mu.Unlock()
	ps.cond.Broadcast()
}

func (s *Server) count(ps *peerState, f func(*Stats)) {
	s.mu.Lock()
	f(&ps.stats)
	s.mu.Unlock()
}

// Handle serves one CTP stream (the stream handler Register installs).
func (s *Server) Handle(st network.Stream) {
	p := st.Conn().RemotePeer()
	asker, err := relay.PeerKey(p)
	if err != nil || s.ctx.Err() != nil {
		_ = st.Reset()
		return
	}
	s.mu.Lock()
	ps := s.peer(p)
	if ps.streams >= s.opts.MaxStreams {
		s.mu.Unlock()
		s.log.Debug("ctp: too many streams", "peer", p)
		_ = st.Reset()
		return
	}
	ps.streams++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		ps.streams--
		s.mu.Unlock()
	}()
	if err := loadSchemas(); err != nil {
		_ = st.Reset()
		return
	}
	c := relay.Accept(s.ctx, st, []coda.ID{blockSchema.ID, manifestSchema.ID, missingSchema.ID}, nil, s.opts.Relay)
	defer c.Close()
	if err := s.serve(c, p, ps, asker); err != nil {
		s.log.Debug("ctp: stream ends", "peer", p, "err", err)
		_ = c.Reset()
		if k := errs.KindOf(err); (k == errs.Invalid || k == errs.Limit) && s.opts.OnInvalid != nil {
			s.opts.OnInvalid(p, err)
		}
	}
}

func (s *Server) serve(c *relay.Conn, p peer.ID, ps *peerState, asker ed25519.PublicKey) error {
	var scratch []byte // Blocks are encoded here: SendObject copies them out
	ba, _ := s.src.(blockAppender)
	for {
		obj, err := c.RecvObject()
		if err == io.EOF {
			return c.CloseWrite()
		}
		if err != nil {
			return err
		}
		w, err := DecodeWant(obj)
		if err != nil {
			return err
		}
		s.count(ps, func(st *Stats) { st.Wants++ })
		for _, id := range w.IDs {
			// A chunk goes from the store into scratch and from there
			// into the wire frame: two copies (appendBlock).
			if ba != nil {
				msg, ok, err := ba.appendBlock(scratch[:0], asker, w, id)
				if ok && err == nil {
					scratch = msg
					size := int64(len(msg)) - blockHeaderLen(msg)
					n := int64(len(msg))
					s.acquire(ps, n)
					err = c.SendObject(msg)
					s.release(ps, n)
					if err != nil {
						return err
					}
					s.count(ps, func(st *Stats) { st.Objects++; st.Bytes += size })
					continue
				}
				if ok && !errs.Is(err, errs.NotExist) {
					s.log.Warn("ctp: source", "peer", p, "id", id, "err", err)
				}
			}
			o, err := s.src.Object(s.ctx, asker, w, id)
			if err != nil {
				if !errs.Is(err, errs.NotExist) {
					s.log.Warn("ctp: source", "peer", p, "id", id, "err", err)
				}
				s.count(ps, func(st *Stats) { st.Missing++ })
				if err := c.SendObject(encodeMissing(id)); err != nil {
					return err
				}
				continue
			}
			var msg []byte
			size := int64(len(o.Data)) // Stats count data bytes
			if o.Manifest != nil {
				if o.Manifest.ID != id {
					return errs.E(errs.Internal, "ctp: source gave the manifest of another value")
				}
				msg, err = encodeManifest(o.Manifest)
				if err != nil {
					return err
				}
				size = int64(len(msg) - coda.IDSize)
			} else {
				scratch = appendBlock(scratch[:0], o.Data)
				msg = scratch
			}
			n := int64(len(msg))
			s.acquire(ps, n)
			err = c.SendObject(msg)
			s.release(ps, n)
			if err != nil {
				return err
			}
			s.count(ps, func(st *Stats) { st.Objects++; st.Bytes += size })
		}
	}
}

// WorldSource returns the Source of a home's worlds, with the structural
// read check: the asker must be allowed to read w.Path at w.Commit (zero:
// the head) in w.World (cdb.View.CanRead, docs/security.md), the path must
// hold a value, and the id must be that value or, for a value stored as
// chunks, one of its chunks (the value's id itself is answered with the
// manifest).
func WorldSource(h *cdb.Home) Source {
	return &worldSource{h: h, cache: map[resolveKey]*resolved{}, worlds: map[coda.ID]*cdb.World{}}
}

type worldSource struct {
	h      *cdb.Home
	mu     sync.Mutex
	cache  map[resolveKey]*resolved
	worlds map[coda.ID]*cdb.World
}

type resolveKey struct {
	asker  [32]byte
	world  coda.ID
	commit coda.ID
	head   coda.ID
	path   string
}

// resolved is what an asker may have under one (world, commit, path).
type resolved struct {
	err      error
	value    coda.ID
	manifest *store.Manifest
	chunks   map[coda.ID]uint32 // the manifest's chunks and their lengths
}

const maxResolved = 256

// world returns the world with id, cached.
func (ws *worldSource) world(id coda.ID) (*cdb.World, error) {
	ws.mu.Lock()
	w := ws.worlds[id]
	ws.mu.Unlock()
	if w != nil {
		return w, nil
	}
	w, err := ws.h.World(id.String())
	if err != nil {
		return nil, err
	}
	if w.ID() != id {
		return nil, errs.E(errs.NotExist, "ctp: no world "+id.String())
	}
	ws.mu.Lock()
	if len(ws.worlds) >= maxResolved {
		clear(ws.worlds)
	}
	ws.worlds[id] = w
	ws.mu.Unlock()
	return w, nil
}

// resolve returns what asker may have under w. Resolutions are cached by
// the world's current head too, since reads are checked against it: a
// commit that revokes a right takes effect at once.
func (ws *worldSource) resolve(asker ed25519.PublicKey, w Want) *resolved {
	missing := &resolved{err: errs.E(errs.NotExist, errs.Op("ctp"), errs.Path(w.Path), "no such object")}
	world, err := ws.world(w.World)
	if err != nil {
		return missing
	}
	head, err := world.Head()
	if err != nil {
		return missing
	}
	if w.Commit.IsZero() {
		w.Commit = head
	}
	k := resolveKey{world: w.World, commit: w.Commit, head: head, path: w.Path}
	copy(k.asker[:], asker)
	ws.mu.Lock()
	r := ws.cache[k]
	ws.mu.Unlock()
	if r != nil {
		return r
	}
	r = ws.lookup(world, asker, w)
	ws.mu.Lock()
	if len(ws.cache) >= maxResolved {
		clear(ws.cache)
	}
	ws.cache[k] = r
	ws.mu.Unlock()
	return r
}

func (ws *worldSource) lookup(world *cdb.World, asker ed25519.PublicKey, w Want) *resolved {
	missing := &resolved{err: errs.E(errs.NotExist, errs.Op("ctp"), errs.Path(w.Path), "no such object")}
	rev := w.Commit
	ok, err := world.As(asker).CanRead(rev, w.Path)
	if err != nil || !ok {
		return missing
	}
	c, err := world.LoadCommit(rev)
	if err != nil {
		return missing
	}
	st := ws.h.Store()
	e, err := tree.New(st).Get(c.Tree, w.Path)
	if err != nil || e.Kind != tree.KindValue {
		return missing
	}
	r := &resolved{value: e.ID}
	if cs, ok := st.(store.Chunked); ok {
		m, err := cs.Chunks(e.ID)
		switch {
		case err == nil:
			r.manifest = &m
			r.chunks = make(map[coda.ID]uint32, len(m.Chunks))
			for _, ch := range m.Chunks {
				r.chunks[ch.ID] = ch.Len
			}
		case errs.Is(err, errs.NotExist):
			return missing
		}
	}
	return r
}

func (ws *worldSource) Object(ctx context.Context, asker ed25519.PublicKey, w Want, id coda.ID) (Object, error) {
	r := ws.resolve(asker, w)
	if r.err != nil {
		return Object{}, r.err
	}
	st := ws.h.Store()
	switch {
	case id == r.value && r.manifest != nil:
		return Object{Manifest: r.manifest}, nil
	case id == r.value:
		b, err := st.Get(id)
		return Object{Data: b}, err
	}
	if _, ok := r.chunks[id]; ok {
		b, err := st.(store.Chunked).GetChunk(id)
		return Object{Data: b}, err
	}
	return Object{}, errs.E(errs.NotExist, errs.Op("ctp"), errs.Path(w.Path), "no such object")
}

// chunkAppender is implemented by stores that can append a chunk's bytes
// to a buffer straight from their own (pebblestore), without a copy of
// their own.
type chunkAppender interface {
	AppendChunk(dst []byte, id coda.ID) ([]byte, error)
}

// appendBlock implements blockAppender: for a chunk of the value the
// asker may read, and a store that can append chunks, it appends the
// Block's encoding to dst, the chunk's bytes read from the store straight
// after the header. It handles nothing else (ok false), which Object
// answers.
func (ws *worldSource) appendBlock(dst []byte, asker ed25519.PublicKey, w Want, id coda.ID) (out []byte, ok bool, err error) {
	r := ws.resolve(asker, w)
	if r.err != nil {
		return dst, false, nil
	}
	n, ok := r.chunks[id]
	if !ok {
		return dst, false, nil
	}
	ca, ok := ws.h.Store().(chunkAppender)
	if !ok {
		return dst, false, nil
	}
	start := len(dst)
	dst = appendBlockHeader(dst, int(n))
	body := len(dst)
	dst, err = ca.AppendChunk(dst, id)
	if err == nil && len(dst)-body != int(n) {
		err = errs.E(errs.Corrupt, fmt.Sprintf("ctp: chunk %s: %d bytes stored, its manifest says %d", id, len(dst)-body, n))
	}
	if err != nil {
		return dst[:start], true, err
	}
	return dst, true, nil
}
