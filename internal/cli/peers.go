package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/errs"
)

func init() {
	register(newPeersCmd)
	register(newPeerCmd)
}

// peerNode returns the client of the node serving the home: the peer
// commands manage a running node's connections, so without one they fail
// saying so.
func (e *env) peerNode(what string) (*client.Client, error) {
	if e.as != "" {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("%s: --as does not apply: peers are the node's", what))
	}
	c := e.node()
	if c == nil {
		return nil, errs.E(errs.Unavailable, fmt.Sprintf("%s: no node is serving the home %s; peers are a running node's: start one with coal serve", what, e.home))
	}
	return c, nil
}

func newPeersCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "peers",
		Short: "List the serving node's peers",
		Long: `List the peers of the node serving the home (coal serve): connected ones
first, then the others in its peer book, then the bad peers it refuses.
One line each:

	PEER-ID  STATE  SOURCE  ADDRESS

STATE is connected, known or bad; SOURCE how the node learned of the peer
(dial, inbound, mdns, pex, bootstrap); ADDRESS the connection's remote
address while connected, else the first known (and, for a bad peer, why it
is bad). With --json, the list of GET /v1/peers: {"id", "key", "addrs",
"connected", "source", "last_seen", "latency_ms", "bad", "bad_since"}.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.peerNode("peers")
			if err != nil {
				return err
			}
			ps, err := c.Peers(e.ctx)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(ps)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			for _, p := range ps {
				state, addr := "known", ""
				if len(p.Addrs) > 0 {
					addr = p.Addrs[0]
					if len(p.Addrs) > 1 {
						addr += fmt.Sprintf(" (+%d)", len(p.Addrs)-1)
					}
				}
				switch {
				case p.Connected:
					state = "connected"
				case p.Bad != "":
					state, addr = "bad", p.Bad
				}
				src := p.Source
				if src == "" {
					src = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.ID, state, src, strings.ReplaceAll(addr, "\n", " "))
			}
			return tw.Flush()
		},
	}
}

func newPeerCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "peer",
		Short: "Connect the serving node to a peer, or drop one",
		Args:  exactArgs(0),
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "add MULTIADDR",
		Short: "Connect the serving node to a peer",
		Long: `Have the node serving the home connect to the peer at MULTIADDR, a full
multiaddr ending in /p2p/PEER-ID (coal id on the other node prints its
own), and print "connected PEER-ID". The node keeps the peer in its book
and reconnects to it when it restarts. With --json, the peer as coal peers
--json shows it.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.peerNode("peer add")
			if err != nil {
				return err
			}
			p, err := c.Connect(e.ctx, args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(p)
			}
			_, err = fmt.Fprintf(e.stdout, "connected %s\n", p.ID)
			return err
		},
	}, &cobra.Command{
		Use:   "rm PEER-ID",
		Short: "Disconnect the serving node from a peer and forget it",
		Long: `Have the node serving the home close its connections to PEER-ID, drop it
from its peer book (it is not redialed), and take it off the bad-peer list
if it is there; print "removed PEER-ID". Discovery (mDNS, peer exchange)
may find it again. A peer the node neither is connected to nor knows is an
error. With --json: {"id", "disconnected", "forgotten", "forgiven"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.peerNode("peer rm")
			if err != nil {
				return err
			}
			r, err := c.RemovePeer(e.ctx, args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(r)
			}
			_, err = fmt.Fprintf(e.stdout, "removed %s\n", r.ID)
			return err
		},
	})
	return cmd
}
