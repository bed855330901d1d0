package trust

// The trust file, HOME/trust, is JSON (docs/trust.md):
//
//	{"version":1,"peers":[
//	  {"key":"ed25519:…","policy":"auto",
//	   "own":{"objects":{"agree":3,"disagree":0},"verdicts":{…},"scores":{…}},
//	   "shared":[{"from":"ed25519:…","kind":"verdicts","agree":2,"disagree":0}]}]}
//
// Peers are sorted by key, shared opinions by sharer then kind; kinds with
// no evidence are left out of "own". Decode is strict: unknown fields, a
// second value, duplicate peers or opinions, bad keys, names or counts are
// errors.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/errs"
)

// fileVersion is the version the trust file is written in.
const fileVersion = 1

type fileJSON struct {
	Version int        `json:"version"`
	Peers   []peerJSON `json:"peers"`
}

type peerJSON struct {
	Key    string              `json:"key"`
	Policy string              `json:"policy"`
	Own    map[string]Evidence `json:"own,omitempty"`
	Shared []sharedJSON        `json:"shared,omitempty"`
}

type sharedJSON struct {
	From     string `json:"from"`
	Kind     string `json:"kind"`
	Agree    uint64 `json:"agree"`
	Disagree uint64 `json:"disagree"`
}

func (s *Store) encodeLocked() []byte {
	f := fileJSON{Version: fileVersion, Peers: []peerJSON{}}
	for _, pk := range s.sortedKeys() {
		r := s.rows[pk]
		p := peerJSON{Key: cdb.KeyString(pk[:]), Policy: r.policy.String()}
		for _, k := range Kinds {
			if r.own[k].Total() > 0 {
				if p.Own == nil {
					p.Own = map[string]Evidence{}
				}
				p.Own[k.String()] = r.own[k]
			}
		}
		froms := make([][32]byte, 0, len(r.shared))
		for from := range r.shared {
			froms = append(froms, from)
		}
		sort.Slice(froms, func(i, j int) bool { return string(froms[i][:]) < string(froms[j][:]) })
		for _, from := range froms {
			for _, k := range Kinds {
				e := r.shared[from][k]
				if e.Total() > 0 {
					p.Shared = append(p.Shared, sharedJSON{From: cdb.KeyString(from[:]), Kind: k.String(), Agree: e.Agree, Disagree: e.Disagree})
				}
			}
		}
		f.Peers = append(f.Peers, p)
	}
	b, _ := json.MarshalIndent(f, "", " ") // plain structs: cannot fail
	return append(b, '\n')
}

// Decode parses a trust file. Errors are errs.Invalid and name the peer
// (by index) and field that is wrong.
func Decode(data []byte) (map[[32]byte]*peerRow, error) {
	op := errs.Op("trust: decode")
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileJSON
	if err := dec.Decode(&f); err != nil {
		return nil, errs.E(errs.Invalid, op, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errs.E(errs.Invalid, op, fmt.Sprintf("data after the object at byte %d", dec.InputOffset()))
	}
	if f.Version != fileVersion {
		return nil, errs.E(errs.Invalid, op, fmt.Sprintf("version %d, want %d", f.Version, fileVersion))
	}
	if len(f.Peers) > 2*MaxPeers {
		return nil, errs.E(errs.Invalid, op, fmt.Sprintf("%d peers, at most %d", len(f.Peers), 2*MaxPeers))
	}
	rows := make(map[[32]byte]*peerRow, len(f.Peers))
	for i, p := range f.Peers {
		at := func(field string) errs.Path { return errs.Path(fmt.Sprintf("peers[%d].%s", i, field)) }
		key, err := cdb.ParseKey(p.Key)
		if err != nil {
			return nil, errs.E(errs.Invalid, op, at("key"), err)
		}
		pk := [32]byte(key)
		if rows[pk] != nil {
			return nil, errs.E(errs.Invalid, op, at("key"), "peer "+p.Key+" twice")
		}
		pol, err := ParsePolicy(p.Policy)
		if err != nil {
			return nil, errs.E(errs.Invalid, op, at("policy"), err)
		}
		r := &peerRow{policy: pol}
		for name, e := range p.Own {
			k, err := ParseKind(name)
			if err != nil {
				return nil, errs.E(errs.Invalid, op, at("own"), err)
			}
			r.own[k] = e
		}
		for j, sh := range p.Shared {
			sat := at(fmt.Sprintf("shared[%d]", j))
			from, err := cdb.ParseKey(sh.From)
			if err != nil {
				return nil, errs.E(errs.Invalid, op, sat, err)
			}
			fk := [32]byte(from)
			if fk == pk {
				return nil, errs.E(errs.Invalid, op, sat, "an opinion of a peer about itself")
			}
			k, err := ParseKind(sh.Kind)
			if err != nil {
				return nil, errs.E(errs.Invalid, op, sat, err)
			}
			if sh.Agree > MaxShared || sh.Disagree > MaxShared {
				return nil, errs.E(errs.Invalid, op, sat, fmt.Sprintf("counts %d/%d over the cap %d", sh.Agree, sh.Disagree, MaxShared))
			}
			if r.shared == nil {
				r.shared = map[[32]byte]*[numKinds]Evidence{}
			}
			ev := r.shared[fk]
			if ev == nil {
				ev = &[numKinds]Evidence{}
				r.shared[fk] = ev
			}
			if ev[k].Total() > 0 {
				return nil, errs.E(errs.Invalid, op, sat, "a second opinion from "+sh.From+" on "+sh.Kind)
			}
			ev[k] = Evidence{Agree: sh.Agree, Disagree: sh.Disagree}
			if len(r.shared) > MaxSharers {
				return nil, errs.E(errs.Invalid, op, sat, fmt.Sprintf("more than %d sharers", MaxSharers))
			}
		}
		rows[pk] = r
	}
	return rows, nil
}

// keyOf returns a copy of a row key as a public key.
func keyOf(pk [32]byte) ed25519.PublicKey { return append(ed25519.PublicKey(nil), pk[:]...) }
