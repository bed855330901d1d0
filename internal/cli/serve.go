package cli

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/api/webui"
	"github.com/coalescent/coal/collect"
	"github.com/coalescent/coal/node"
)

func init() { register(newServeCmd) }

func newServeCmd(e *env) *cobra.Command {
	var (
		addr      string
		listen    []string
		bootstrap []string
		noMDNS    bool
		relays    []string
		relaySvc  bool
		reach     string
		every     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the node: create the home if there is none and serve the API",
		Long: `Run the coal node on the home named by --home (or COAL_HOME, or ~/.coal),
creating it first if there is none (as coal init would). Serve the API on
--api (default 127.0.0.1:7070; port 0 picks a free one) until interrupted
(SIGINT or SIGTERM), then shut down cleanly: every acknowledged commit is
durable. Once ready, print the API's URL, the node key, its peer id and
the full multiaddrs it listens on for other nodes (coal peer add takes
one):

	api http://ADDR
	node ed25519:KEY
	peer 12D3KooW…
	listen /ip4/192.0.2.1/tcp/7071/p2p/12D3KooW…

The URL is also in HOME/api while the node runs; requests need the bearer
token in HOME/token (coal token). Logs go to stderr (docs/node.md).

The node joins the peer-to-peer network (docs/swarm.md): it listens on
every --listen multiaddr (repeatable; default: HOME/swarm.json's, all
interfaces on one port, TCP and QUIC), finds peers on the LAN by mDNS
(--no-mdns turns that off), dials its bootstrap peers (--bootstrap,
repeatable, and HOME/swarm.json's) and the peers it knew before, and
exchanges peer lists with the peers it meets. A node that is not
reachable directly reserves a slot on its relays (--relay, repeatable, and
HOME/swarm.json's) and is reached through them at the
RELAY/p2p-circuit/p2p/PEER-ID addresses coal id lists; --relay-service
makes this node a relay for others; --reachability private (or public)
overrides what AutoNAT finds. It collects modules
(docs/protocols.md §7) from each peer that speaks collect when it
connects, and every --collect-every after (default 5m; 0 turns automatic
collect off; coal collect still works).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(e.ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewTextHandler(e.stderr, nil))
			// More Ps than CPUs: fsyncs hold theirs (docs/node.md, "Runtime").
			node.Tune()
			n, err := node.Open(e.home, node.Options{API: addr, Logger: log, Handler: apiHandler,
				Listen: listen, NoMDNS: noMDNS, Bootstrap: bootstrap,
				Relays: relays, RelayService: relaySvc, Reachability: reach,
				AutoCollect: autoCollect(every)})
			if err != nil {
				return err
			}
			return n.Serve(ctx, func(url string) {
				fmt.Fprintf(e.stdout, "api %s\nnode %s\n", url, n.Home().NodeKey().Key())
				if s := n.Swarm(); s != nil {
					fmt.Fprintf(e.stdout, "peer %s\n", s.ID())
					for _, a := range s.Addrs() {
						fmt.Fprintf(e.stdout, "listen %s\n", a)
					}
				}
			})
		},
	}
	cmd.Flags().StringVar(&addr, "api", node.DefaultAPI, "address the API listens on")
	cmd.Flags().StringArrayVar(&listen, "listen", nil, "a multiaddr the node listens on for peers (repeatable; default: HOME/swarm.json's)")
	cmd.Flags().StringArrayVar(&bootstrap, "bootstrap", nil, "a full multiaddr (ending in /p2p/PEER-ID) of a peer to dial at start (repeatable)")
	cmd.Flags().BoolVar(&noMDNS, "no-mdns", false, "do not look for peers on the LAN with mDNS")
	cmd.Flags().StringArrayVar(&relays, "relay", nil, "a full multiaddr of a circuit relay to reserve a slot on when not publicly reachable (repeatable)")
	cmd.Flags().BoolVar(&relaySvc, "relay-service", false, "relay connections for other nodes (circuit relay v2, limits in docs/swarm.md)")
	cmd.Flags().StringVar(&reach, "reachability", "", "auto, private or public: override what AutoNAT finds (default: HOME/swarm.json's, else auto)")
	cmd.Flags().DurationVar(&every, "collect-every", collect.DefaultEvery, "collect modules from each peer this often, and when it connects (0: never automatically)")
	return cmd
}

// apiHandler is the node's API, package api under /v1 over the node's
// home, tokens and metrics, and the web UI at / (package api/webui);
// node sits below api in the layers, so the CLI wires them.
func apiHandler(n *node.Node) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", apiOnly(n))
	mux.Handle("/", webui.Handler()) // the web UI (docs/webui.md)
	return mux
}

// apiOnly is package api's handler, everything under /v1.
func apiOnly(n *node.Node) http.Handler {
	return api.New(n.Home(), api.Options{
		Tokens:    n.Tokens(),
		Logger:    n.Logger(),
		Metrics:   n.Metrics(),
		Version:   Version,
		Network:   network(n),
		Sync:      syncer(n),
		Trust:     n.Trust(),    // internal/cli/collect.go
		Collector: collector(n), // internal/cli/collect.go
	})
}

// syncer is the node's world sync as the API's Syncer, nil without one.
func syncer(n *node.Node) api.Syncer {
	if r := n.Replica(); r != nil {
		return r
	}
	return nil
}

// network is the node's swarm as the API's Network, nil without one (a
// nil *swarm.Swarm in the interface would not be).
func network(n *node.Node) api.Network {
	if s := n.Swarm(); s != nil {
		return s
	}
	return nil
}
