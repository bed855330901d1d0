package swarm

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/coalescent/coal/errs"
)

// PeersFile is the peer book in the home: the peers this node has been
// connected to (reconnected at start) and the bad peers it refuses.
const PeersFile = "peers.json"

// Bounds of the peer book.
const (
	maxBook      = 1000 // known peers kept (the least recently seen go first)
	maxBad       = 4096 // bad peers kept (the oldest go first)
	maxBookAddrs = 16   // addresses kept per peer
)

// bookFile is HOME/peers.json. Unknown fields are rejected.
type bookFile struct {
	Version int         `json:"version"`
	Peers   []bookEntry `json:"peers"`
	Bad     []badEntry  `json:"bad"`
}

type bookEntry struct {
	ID       string    `json:"id"`
	Addrs    []string  `json:"addrs"`
	Source   string    `json:"source"`
	LastSeen time.Time `json:"last_seen"`
}

type badEntry struct {
	ID     string    `json:"id"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
}

// known is a peer in the book.
type known struct {
	id       peer.ID
	addrs    []ma.Multiaddr
	source   string
	lastSeen time.Time
}

// bad is a punished peer.
type bad struct {
	reason string
	since  time.Time
}

// book holds the known and bad peers, and writes them to file (if not "")
// whenever they change. It is safe for concurrent use.
type book struct {
	file string

	mu    sync.Mutex
	peers map[peer.ID]*known
	bad   map[peer.ID]bad
	werr  error // the last write's error, reported once by save
}

func newBook() *book {
	return &book{peers: map[peer.ID]*known{}, bad: map[peer.ID]bad{}}
}

// openBook reads dir's peers.json (an empty book if there is none).
func openBook(dir string) (*book, error) {
	b := newBook()
	if dir == "" {
		return b, nil
	}
	b.file = filepath.Join(dir, PeersFile)
	data, err := os.ReadFile(b.file)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, errs.E(errs.Op("swarm: read peer book"), errs.Path(b.file), err)
	}
	return parseBook(b, data)
}

// parseBook reads the peers.json text data into b.
func parseBook(b *book, data []byte) (*book, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f bookFile
	if err := dec.Decode(&f); err != nil {
		return nil, errs.E(errs.Invalid, errs.Path(b.file), err)
	}
	if dec.More() {
		return nil, errs.E(errs.Invalid, errs.Path(b.file), "data after the JSON object")
	}
	if f.Version != 1 {
		return nil, errs.E(errs.Invalid, errs.Path(b.file), fmt.Sprintf("unknown peer book version %d (this coal reads 1)", f.Version))
	}
	for i, e := range f.Peers {
		id, err := peer.Decode(e.ID)
		if err != nil {
			return nil, errs.E(errs.Invalid, errs.Path(fmt.Sprintf("%s: peers[%d].id", b.file, i)), err)
		}
		k := &known{id: id, source: e.Source, lastSeen: e.LastSeen}
		for j, s := range e.Addrs {
			a, err := ma.NewMultiaddr(s)
			if err != nil {
				return nil, errs.E(errs.Invalid, errs.Path(fmt.Sprintf("%s: peers[%d].addrs[%d]", b.file, i, j)), err)
			}
			k.addrs = append(k.addrs, a)
		}
		b.peers[id] = k
	}
	for i, e := range f.Bad {
		id, err := peer.Decode(e.ID)
		if err != nil {
			return nil, errs.E(errs.Invalid, errs.Path(fmt.Sprintf("%s: bad[%d].id", b.file, i)), err)
		}
		b.bad[id] = bad{reason: e.Reason, since: e.Since}
	}
	return b, nil
}

// seen records that we are connected to id, with its addresses if any
// (they replace the old ones), and saves the book if that changed it.
func (b *book) seen(id peer.ID, addrs []ma.Multiaddr, source string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, isBad := b.bad[id]; isBad {
		return
	}
	k := b.peers[id]
	changed := false
	if k == nil {
		k = &known{id: id, source: source}
		b.peers[id] = k
		changed = true
	}
	if len(addrs) > maxBookAddrs {
		addrs = addrs[:maxBookAddrs]
	}
	if len(addrs) > 0 && !slices.EqualFunc(k.addrs, addrs, func(a, b ma.Multiaddr) bool { return a.Equal(b) }) {
		k.addrs = slices.Clone(addrs)
		changed = true
	}
	// last_seen is written with the next change, or at close: a
	// reconnect alone does not rewrite the file.
	k.lastSeen = now
	if changed {
		b.evict()
		b.saveLocked()
	}
}

// evict drops the least recently seen peers beyond maxBook and the oldest
// bad peers beyond maxBad.
func (b *book) evict() {
	for len(b.peers) > maxBook {
		var old *known
		for _, k := range b.peers {
			if old == nil || k.lastSeen.Before(old.lastSeen) {
				old = k
			}
		}
		delete(b.peers, old.id)
	}
	for len(b.bad) > maxBad {
		var oid peer.ID
		var ot time.Time
		first := true
		for id, x := range b.bad {
			if first || x.since.Before(ot) {
				oid, ot, first = id, x.since, false
			}
		}
		delete(b.bad, oid)
	}
}

// forget removes id from the known peers.
func (b *book) forget(id peer.ID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.peers[id]; !ok {
		return false
	}
	delete(b.peers, id)
	b.saveLocked()
	return true
}

// punish moves id to the bad peers.
func (b *book) punish(id peer.ID, reason string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.peers, id)
	if _, ok := b.bad[id]; !ok {
		b.bad[id] = bad{reason: reason, since: now}
		b.evict()
	}
	b.saveLocked()
}

// forgive removes id from the bad peers.
func (b *book) forgive(id peer.ID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.bad[id]; !ok {
		return false
	}
	delete(b.bad, id)
	b.saveLocked()
	return true
}

func (b *book) isBad(id peer.ID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.bad[id]
	return ok
}

// badReason returns why id is bad.
func (b *book) badReason(id peer.ID) (bad, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	x, ok := b.bad[id]
	return x, ok
}

// recent returns copies of the known peers, the most recently seen first.
func (b *book) recent() []known {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]known, 0, len(b.peers))
	for _, k := range b.peers {
		out = append(out, known{id: k.id, addrs: slices.Clone(k.addrs), source: k.source, lastSeen: k.lastSeen})
	}
	slices.SortFunc(out, func(x, y known) int {
		if c := y.lastSeen.Compare(x.lastSeen); c != 0 {
			return c
		}
		return bytes.Compare([]byte(x.id), []byte(y.id))
	})
	return out
}

// badPeers returns the bad peers, the most recent first.
func (b *book) badPeers() map[peer.ID]bad {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[peer.ID]bad, len(b.bad))
	for id, x := range b.bad {
		out[id] = x
	}
	return out
}

// save writes the book (at close) and returns the error of the last
// write, if any failed.
func (b *book) save() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.saveLocked()
	err := b.werr
	b.werr = nil
	return err
}

func (b *book) saveLocked() {
	if b.file == "" {
		return
	}
	f := bookFile{Version: 1, Peers: []bookEntry{}, Bad: []badEntry{}}
	for _, k := range b.peers {
		e := bookEntry{ID: k.id.String(), Addrs: []string{}, Source: k.source, LastSeen: k.lastSeen.UTC()}
		for _, a := range k.addrs {
			e.Addrs = append(e.Addrs, a.String())
		}
		f.Peers = append(f.Peers, e)
	}
	for id, x := range b.bad {
		f.Bad = append(f.Bad, badEntry{ID: id.String(), Reason: x.reason, Since: x.since.UTC()})
	}
	slices.SortFunc(f.Peers, func(x, y bookEntry) int { return cmp.Compare(x.ID, y.ID) })
	slices.SortFunc(f.Bad, func(x, y badEntry) int { return cmp.Compare(x.ID, y.ID) })
	if err := writeJSON(b.file, f); err != nil {
		b.werr = err
	}
}
