package cli

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/node"
)

func init() { register(newServeCmd) }

func newServeCmd(e *env) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the node: create the home if there is none and serve the API",
		Long: `Run the coal node on the home named by --home (or COAL_HOME, or ~/.coal),
creating it first if there is none (as coal init would). Serve the API on
--api (default 127.0.0.1:7070; port 0 picks a free one) until interrupted
(SIGINT or SIGTERM), then shut down cleanly: every acknowledged commit is
durable. Once ready, print the API's URL and the node key:

	api http://ADDR
	node ed25519:KEY

The URL is also in HOME/api while the node runs; requests need the bearer
token in HOME/token (coal token). Logs go to stderr (docs/node.md).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(e.ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewTextHandler(e.stderr, nil))
			n, err := node.Open(e.home, node.Options{API: addr, Logger: log, Handler: apiHandler})
			if err != nil {
				return err
			}
			return n.Serve(ctx, func(url string) {
				fmt.Fprintf(e.stdout, "api %s\nnode %s\n", url, n.Home().NodeKey().Key())
			})
		},
	}
	cmd.Flags().StringVar(&addr, "api", node.DefaultAPI, "address the API listens on")
	return cmd
}

// apiHandler is the node's API: package api over the node's home, tokens
// and metrics (node sits below api in the layers, so the CLI wires them).
func apiHandler(n *node.Node) http.Handler {
	return api.New(n.Home(), api.Options{
		Tokens:  n.Tokens(),
		Logger:  n.Logger(),
		Metrics: n.Metrics(),
		Version: Version,
	})
}
