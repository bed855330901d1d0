package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/node"
)

func init() {
	register(newCollectCmd)
	register(newDiscoverCmd)
}

// collector is the node's module collect as the API's Collector, nil
// without a network.
func collector(n *node.Node) api.Collector {
	if n.Collector() != nil {
		return n
	}
	return nil
}

// collectNode returns the client of the node serving the home: collect
// and discover talk to the node's peers, so without a node they fail
// saying so.
func (e *env) collectNode(what string) (*client.Client, error) {
	if e.as != "" {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("coal %s: --as does not apply: the node key collects", what))
	}
	c := e.node()
	if c == nil {
		return nil, errs.E(errs.Unavailable, fmt.Sprintf("coal %s needs a running node (coal serve): it collects from the node's peers", what))
	}
	return c, nil
}

// printCollect prints a CollectReport, one line per peer:
//
//	PEER listed N, got M objects (B), imported I; results R: rechecked X, agreed A, false F, stored S [error: …]
func (e *env) printCollect(rep client.CollectReport) error {
	if e.json {
		return e.printJSON(rep)
	}
	for _, p := range rep.Peers {
		line := fmt.Sprintf("%s listed %d, got %d objects (%s), imported %d", p.Peer, p.Listed, p.Objects, byteCount(p.Bytes), p.Imported)
		if r := p.Results; r.Received > 0 {
			line += fmt.Sprintf("; results %d: rechecked %d, agreed %d, false %d, stored %d", r.Received, r.Rechecked, r.Agreed, r.Disagreed, r.Stored)
			if r.Denied > 0 {
				line += fmt.Sprintf(", denied %d", r.Denied)
			}
			if r.Failed > 0 {
				line += fmt.Sprintf(", unchecked %d", r.Failed)
			}
		}
		if p.Error != "" {
			line += " error: " + p.Error
		}
		if _, err := fmt.Fprintln(e.stdout, line); err != nil {
			return err
		}
	}
	if len(rep.Peers) == 0 {
		fmt.Fprintln(e.stderr, "no connected peer to collect from")
	}
	return nil
}

func newCollectCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "collect [PEER]",
		Short: "Collect modules from the node's peers now",
		Long: `Collect modules (docs/modules.md) now, through the node serving the home
(coal serve): ask PEER — a peer id, a node key or a full multiaddr — or
every connected peer for the catalog entries it added since the last
collect, fetch the objects this node lacks, check them, and import them
into the catalog of the home's default world. Results signed by other
nodes are re-checked as the trust table says (docs/trust.md): a false one
is not stored and its signer loses trust. One line per peer:

	PEER listed N, got M objects (B), imported I; results R: rechecked X, agreed A, false F, stored S

With --json, POST /v1/collect's answer: {"peers": [{"peer", "key", "head",
"full", "listed", "wanted", "objects", "bytes", "imported", "results":
{"received", "denied", "rechecked", "agreed", "disagreed", "failed",
"stored"}, "opinions", "peers", "ms", "error"}]}. Needs a running node.

The node also collects by itself: from each peer when it connects and
every 5 minutes (coal serve --collect-every; docs/protocols.md §7.4).`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.collectNode("collect")
			if err != nil {
				return err
			}
			peer := ""
			if len(args) == 1 {
				peer = args[0]
			}
			rep, err := c.Collect(e.ctx, peer, "", e.remoteWorld())
			if err != nil {
				return err
			}
			return e.printCollect(rep)
		},
	}
}

func newDiscoverCmd(e *env) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "discover NAME",
		Short: "Find a module on the node's peers and bring it into the catalog",
		Long: `Discover the module NAME (e.g. geometry::circle): ask every connected peer
(or --from PEER) for every entry of that module it holds — interface,
specs, implementations and their programs, benches, signed Results — and
import what this node lacks, as coal collect does. Output as coal
collect's. Needs a running node.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.collectNode("discover")
			if err != nil {
				return err
			}
			rep, err := c.Collect(e.ctx, from, args[0], e.remoteWorld())
			if err != nil {
				return err
			}
			if err := e.printCollect(rep); err != nil {
				return err
			}
			if !e.json {
				n := 0
				for _, p := range rep.Peers {
					n += p.Listed
				}
				if n == 0 {
					return errs.E(errs.NotExist, fmt.Sprintf("no connected peer shows module %s", args[0]))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "ask only this peer (peer id, node key or full multiaddr)")
	return cmd
}

// autoCollect is coal serve's --collect-every as node.Options.AutoCollect:
// 0 (or less) turns automatic collect off.
func autoCollect(every time.Duration) time.Duration {
	if every <= 0 {
		return -1
	}
	return every
}
