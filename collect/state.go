package collect

// The asker's state, HOME/collect (docs/protocols.md §7.3): per peer, the
// answerer's catalog commit of its last full-catalog session, so that the
// next session after a restart is still incremental.
//
//	{"version":1,"since":{"12D3KooW…":"<52-character commit id>", …}}
//
// Written like HOME/trust: temp file, fsync, rename, directory fsync.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// StateFile is the state's file name in a home.
const StateFile = "collect"

// maxStatePeers bounds the peers the state remembers (the oldest are not
// tracked: any beyond are dropped on save, their next session is full).
const maxStatePeers = 4096

type stateJSON struct {
	Version int                `json:"version"`
	Since   map[string]coda.ID `json:"since"`
}

// decodeState parses the state file. Errors are errs.Invalid.
func decodeState(data []byte) (map[peer.ID]coda.ID, error) {
	op := errs.Op("collect: state")
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var st stateJSON
	if err := dec.Decode(&st); err != nil {
		return nil, errs.E(errs.Invalid, op, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errs.E(errs.Invalid, op, "data after the object")
	}
	if st.Version != 1 {
		return nil, errs.E(errs.Invalid, op, fmt.Sprintf("version %d, want 1", st.Version))
	}
	if len(st.Since) > maxStatePeers {
		return nil, errs.E(errs.Invalid, op, fmt.Sprintf("%d peers, at most %d", len(st.Since), maxStatePeers))
	}
	out := make(map[peer.ID]coda.ID, len(st.Since))
	for k, v := range st.Since {
		p, err := peer.Decode(k)
		if err != nil {
			return nil, errs.E(errs.Invalid, op, errs.Path("since."+k), fmt.Sprintf("not a peer id: %v", err))
		}
		if p.String() != k {
			return nil, errs.E(errs.Invalid, op, errs.Path("since."+k), "not the canonical form of the peer id")
		}
		out[p] = v
	}
	return out, nil
}

func encodeState(since map[peer.ID]coda.ID) []byte {
	st := stateJSON{Version: 1, Since: map[string]coda.ID{}}
	for p, id := range since {
		if len(st.Since) >= maxStatePeers {
			break
		}
		st.Since[p.String()] = id
	}
	b, _ := json.MarshalIndent(st, "", " ") // a map of strings: cannot fail
	return append(b, '\n')
}

// loadState reads the state file; a missing file is an empty state, a
// broken one is logged and ignored (it only costs full sessions).
func (s *Service) loadState() {
	if s.opts.State == "" {
		return
	}
	data, err := os.ReadFile(s.opts.State)
	if err != nil {
		if !os.IsNotExist(err) {
			s.log.Warn("collect: reading the state", "file", s.opts.State, "err", err)
		}
		return
	}
	since, err := decodeState(data)
	if err != nil {
		s.log.Warn("collect: ignoring a broken state file", "file", s.opts.State, "err", err)
		return
	}
	s.since = since
}

// saveStateLocked writes the state file (under s.mu).
func (s *Service) saveStateLocked() {
	if s.opts.State == "" {
		return
	}
	if err := writeAtomic(s.opts.State, encodeState(s.since)); err != nil {
		s.log.Warn("collect: writing the state", "file", s.opts.State, "err", err)
	}
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".collect-*")
	if err != nil {
		return err
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
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
