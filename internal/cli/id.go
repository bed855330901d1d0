package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/relay"
)

func init() { register(newIDCmd) }

// idJSON is what coal id --json prints.
type idJSON struct {
	Key    string   `json:"key"`
	PeerID string   `json:"peer_id,omitempty"` // the node key's libp2p peer id (not with --as)
	Addrs  []string `json:"addrs,omitempty"`   // full listen multiaddrs, while a node serves the home
}

func newIDCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "id",
		Short: "Print the node's key and peer id (or the key --as names)",
		Long: `Print the node's public key in its text form, ed25519:KEY: the name that
ACLs, commit authors and /home/KEY/ use for this node. Then its peer id on
the network (libp2p's, made from the same key), and, while a node serves
the home (coal serve), the full multiaddrs it listens on, which another
node passes to coal peer add:

	ed25519:KEY
	peer 12D3KooW…
	listen /ip4/192.0.2.1/tcp/7071/p2p/12D3KooW…

With --as NAME, only the public key of the home's key NAME. With --json:
{"key", "peer_id", "addrs"}.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			info, err := c.Info(e.ctx)
			if err != nil {
				return err
			}
			out := idJSON{Key: info.Key, PeerID: info.PeerID, Addrs: info.Addrs}
			if e.as != "" {
				// Another key of the home: only its public key.
				out = idJSON{Key: info.As}
			} else if out.PeerID == "" {
				// No node serving: the peer id follows from the key.
				pub, err := cdb.ParseKey(info.Key)
				if err != nil {
					return err
				}
				id, err := relay.PeerID(pub)
				if err != nil {
					return err
				}
				out.PeerID = id.String()
			}
			if e.json {
				return e.printJSON(out)
			}
			if _, err := fmt.Fprintln(e.stdout, out.Key); err != nil {
				return err
			}
			if out.PeerID != "" {
				if _, err := fmt.Fprintf(e.stdout, "peer %s\n", out.PeerID); err != nil {
					return err
				}
			}
			for _, a := range out.Addrs {
				if _, err := fmt.Fprintf(e.stdout, "listen %s\n", a); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
