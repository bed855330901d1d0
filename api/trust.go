package api

import (
	"crypto/ed25519"
	"net/http"
	"path/filepath"
	"reflect"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/trust"
)

// The trust routes' messages.
type (
	TrustPeer       = message.TrustPeer
	TrustKind       = message.TrustKind
	TrustSetRequest = message.TrustSetRequest
)

func init() {
	jsonTypes["TrustPeer"] = reflect.TypeFor[TrustPeer]()
	jsonTypes["TrustSetRequest"] = reflect.TypeFor[TrustSetRequest]()
}

// collectHandlers are the trust and collect routes.
func (s *server) collectHandlers() map[string]handler {
	return map[string]handler{
		"GET /v1/trust":        s.trustList,
		"PUT /v1/trust/{peer}": s.trustSet,
		"POST /v1/collect":     s.collect, // api/collect.go
	}
}

// trustStore returns the node's trust table: Options.Trust, or, for an
// API over a home no node serves, HOME/trust opened for this request.
// Only the node key reads or sets it (it names other machines).
func (s *server) trustStore(c *call, what string) (*trust.Store, error) {
	if err := s.nodeOnly(c, what+": only the node key manages trust"); err != nil {
		return nil, err
	}
	if s.opts.Trust != nil {
		return s.opts.Trust, nil
	}
	return trust.Open(filepath.Join(s.h.Dir(), trust.FileName), trust.Options{})
}

func trustPeer(r trust.Row) TrustPeer {
	out := TrustPeer{Key: r.Key, Peer: r.Peer, Policy: r.Policy, Kinds: []TrustKind{}}
	for _, k := range r.Kinds {
		out.Kinds = append(out.Kinds, TrustKind{Kind: k.Kind, Agree: k.Agree, Disagree: k.Disagree, Shared: k.Shared,
			Score: k.Score, RecheckP: k.RecheckP, Counts: k.Counts})
	}
	return out
}

func (s *server) trustList(w http.ResponseWriter, r *http.Request, c *call) error {
	tr, err := s.trustStore(c, "trust ls")
	if err != nil {
		return err
	}
	out := []TrustPeer{}
	for _, row := range tr.List() {
		out = append(out, trustPeer(row))
	}
	return writeJSON(w, 0, out)
}

func (s *server) trustSet(w http.ResponseWriter, r *http.Request, c *call) error {
	tr, err := s.trustStore(c, "trust set")
	if err != nil {
		return err
	}
	key, err := trust.ParsePeer(r.PathValue("peer"))
	if err != nil {
		return errs.E(errs.Path("peer"), err)
	}
	var req TrustSetRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	pol, err := trust.ParsePolicy(req.Policy)
	if err != nil {
		return errs.E(errs.Path("body.policy"), err)
	}
	if err := tr.SetPolicy(key, pol); err != nil {
		return err
	}
	for _, row := range tr.List() {
		if k, err := trust.ParsePeer(row.Key); err == nil && k.Equal(key) {
			return writeJSON(w, 0, trustPeer(row))
		}
	}
	return errs.E(errs.Internal, "trust set: the row vanished")
}

// trustFunc is the node's trust table as module.Options.Trust: whether a
// peer's verify (evaluate) Results count as verdicts (scores) without a
// re-check of ours (docs/trust.md). Without Options.Trust it reads
// HOME/trust; a table that cannot be read trusts nobody.
func (s *server) trustFunc() func(node ed25519.PublicKey, kind string) bool {
	tr := s.opts.Trust
	if tr == nil {
		var err error
		if tr, err = trust.Open(filepath.Join(s.h.Dir(), trust.FileName), trust.Options{}); err != nil {
			s.log.Warn("api: the trust table", "err", err)
			return nil
		}
	}
	return tr.Trusts
}
