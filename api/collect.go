package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/collect"
	"github.com/coalescent/coal/errs"
)

// The collect route's messages.
type (
	CollectRequest = message.CollectRequest
	CollectReport  = message.CollectReport
	CollectPeer    = message.CollectPeer
	CollectResults = message.CollectResults
)

func init() {
	jsonTypes["CollectRequest"] = reflect.TypeFor[CollectRequest]()
	jsonTypes["CollectReport"] = reflect.TypeFor[CollectReport]()
}

// Collector is the node's module collect, as POST /v1/collect uses it;
// *node.Node implements it.
type Collector interface {
	CollectNow(ctx context.Context, peer, module, world string) ([]collect.Report, error)
}

func (s *server) collect(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.nodeOnly(c, "collect: only the node key collects from peers"); err != nil {
		return err
	}
	if s.opts.Collector == nil {
		return errs.E(errs.Unavailable, "collect: the node runs without a network")
	}
	var req CollectRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	reps, err := s.opts.Collector.CollectNow(r.Context(), req.Peer, req.Module, req.World)
	if err != nil {
		return err
	}
	out := CollectReport{Module: req.Module, Peers: []CollectPeer{}}
	for _, p := range reps {
		out.Peers = append(out.Peers, CollectPeer{Peer: p.Peer, Key: p.Key, Head: p.Head, Full: p.Full, Listed: p.Listed,
			Wanted: p.Wanted, Objects: p.Objects, Bytes: p.Bytes, Imported: p.Imported, Opinions: p.Opinions, Peers: p.Peers,
			Millis: p.Millis, Error: p.Error, Results: CollectResults(p.Results)})
	}
	if req.Peer != "" && len(out.Peers) == 0 {
		return errs.E(errs.Internal, fmt.Sprintf("collect: no report for %s", req.Peer))
	}
	return writeJSON(w, 0, out)
}
