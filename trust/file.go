package trust

// The trust file, HOME/trust, is JSON (docs/trust.md):
//
//	{"version":1,"peers":[
//	  {"key":"ed25519:…","policy":"auto",
//	   "own":{"objects":{"agree":3,"disagree":0,"weight":{"agree":2.5,"disagree":0,"at":UNIXNANO}},…},
//	   "shared":[{"from":"ed25519:…","kind":"verdicts","agree":2,"disagree":0,"at":UNIXNANO}]}]}
//
// Peers are sorted by key, shared opinions by sharer then kind; kinds with
// no evidence are left out of "own". "weight" is the own evidence decayed
// to "at"; a file without it (or "at" 0) dates its evidence to when it is
// read. Decode is strict: unknown fields, a second value, duplicate peers
// or opinions, bad keys, names, counts or weights are errors.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

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
	Key    string             `json:"key"`
	Policy string             `json:"policy"`
	Own    map[string]ownJSON `json:"own,omitempty"`
	Shared []sharedJSON       `json:"shared,omitempty"`
}

type ownJSON struct {
	Agree    uint64      `json:"agree"`
	Disagree uint64      `json:"disagree"`
	Weight   *weightJSON `json:"weight,omitempty"`
}

type weightJSON struct {
	Agree    float64 `json:"agree"`
	Disagree float64 `json:"disagree"`
	At       int64   `json:"at"`
}

type sharedJSON struct {
	From     string `json:"from"`
	Kind     string `json:"kind"`
	Agree    uint64 `json:"agree"`
	Disagree uint64 `json:"disagree"`
	At       int64  `json:"at,omitempty"`
}

func (s *Store) encodeLocked() []byte {
	f := fileJSON{Version: fileVersion, Peers: []peerJSON{}}
	for _, pk := range s.sortedKeys() {
		r := s.rows[pk]
		p := peerJSON{Key: cdb.KeyString(pk[:]), Policy: r.policy.String()}
		for _, k := range Kinds {
			if r.own[k].Total() > 0 {
				if p.Own == nil {
					p.Own = map[string]ownJSON{}
				}
				w := r.weight[k]
				p.Own[k.String()] = ownJSON{Agree: r.own[k].Agree, Disagree: r.own[k].Disagree,
					Weight: &weightJSON{Agree: w.Agree, Disagree: w.Disagree, At: w.At}}
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
					p.Shared = append(p.Shared, sharedJSON{From: cdb.KeyString(from[:]), Kind: k.String(), Agree: e.Agree, Disagree: e.Disagree, At: e.At})
				}
			}
		}
		f.Peers = append(f.Peers, p)
	}
	b, _ := json.MarshalIndent(f, "", " ") // plain structs: cannot fail
	return append(b, '\n')
}

// Decode parses a trust file read now. Errors are errs.Invalid and name
// the peer (by index) and field that is wrong.
func Decode(data []byte) (map[[32]byte]*peerRow, error) {
	return decode(data, time.Now().UnixNano())
}

// decode is Decode with the time the file is read (Unix nanoseconds),
// which dates evidence the file does not date.
func decode(data []byte, now int64) (map[[32]byte]*peerRow, error) {
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
			r.own[k] = Evidence{Agree: e.Agree, Disagree: e.Disagree}
			w := weight{Agree: float64(e.Agree), Disagree: float64(e.Disagree), At: now}
			if e.Weight != nil {
				// Each piece weighs at most 1: 0 ≤ weight ≤ count.
				wj := *e.Weight
				if !(wj.Agree >= 0 && wj.Agree <= float64(e.Agree) && wj.Disagree >= 0 && wj.Disagree <= float64(e.Disagree)) || wj.At < 0 {
					return nil, errs.E(errs.Invalid, op, at("own."+name+".weight"),
						fmt.Sprintf("weight %v/%v at %d: want 0 ≤ weight ≤ count (%d/%d) and at ≥ 0", wj.Agree, wj.Disagree, wj.At, e.Agree, e.Disagree))
				}
				w = weight{Agree: wj.Agree, Disagree: wj.Disagree, At: wj.At}
				if w.At == 0 {
					w.At = now
				}
			}
			r.weight[k] = w
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
			if sh.At < 0 {
				return nil, errs.E(errs.Invalid, op, sat, fmt.Sprintf("at %d: want ≥ 0", sh.At))
			}
			if r.shared == nil {
				r.shared = map[[32]byte]*[numKinds]opinionAt{}
			}
			ev := r.shared[fk]
			if ev == nil {
				ev = &[numKinds]opinionAt{}
				r.shared[fk] = ev
			}
			if ev[k].Total() > 0 {
				return nil, errs.E(errs.Invalid, op, sat, "a second opinion from "+sh.From+" on "+sh.Kind)
			}
			when := sh.At
			if when == 0 {
				when = now
			}
			ev[k] = opinionAt{Evidence{Agree: sh.Agree, Disagree: sh.Disagree}, when}
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
