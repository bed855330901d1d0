package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/coda"
)

func init() { register(newStatusCmd) }

// statusJSON is what coal status --json prints; its fields are fixed.
type statusJSON struct {
	World  coda.ID `json:"world"`
	Branch string  `json:"branch"`
	Head   coda.ID `json:"head"`
	Root   coda.ID `json:"root"`
	// Peers are the connected peers' heads (through a serving node, as
	// its node key; docs/sync.md).
	Peers []client.PeerSync `json:"peers,omitempty"`
}

func newStatusCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Print the world, branch, head commit and root",
		Long: `Print the world (name and id), the current branch, its head commit and the
root id of the head's tree:

	world NAME ID
	branch NAME
	head COMMIT
	root ROOT

and, through a serving node that syncs (docs/sync.md), one line per
connected peer with its head of main and whether it is ours, then one per
other branch the peer or this node has, with the peer's head ("-": none):

	peer PEERID in-sync|behind|none HEAD
	peer PEERID branch NAME in-sync|behind|none|new HEAD

(behind: the two heads differ; none: the peer shows no such branch; new:
this node has no such branch yet.) With --json: {"world": ID, "branch":
NAME, "head": COMMIT, "root": ROOT, "peers": [{"peer", "key", "head",
"in_sync", "seen", "branches": [{"branch", "head", "ours",
"in_sync"}]}]}.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			st, err := c.Status(e.ctx, e.remoteWorld())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(statusJSON{World: st.World, Branch: st.Branch, Head: st.Head, Root: st.Root, Peers: st.Peers})
			}
			ws, err := c.Worlds(e.ctx)
			if err != nil {
				return err
			}
			name := ""
			for _, w := range ws {
				if w.ID == st.World {
					name = w.Name
				}
			}
			if _, err = fmt.Fprintf(e.stdout, "world %s %s\nbranch %s\nhead %s\nroot %s\n",
				name, st.World, st.Branch, st.Head, st.Root); err != nil {
				return err
			}
			for _, p := range st.Peers {
				state := "behind"
				switch {
				case p.Head.IsZero():
					state = "none"
				case p.InSync:
					state = "in-sync"
				}
				if _, err := fmt.Fprintf(e.stdout, "peer %s %s %s\n", p.Peer, state, p.Head); err != nil {
					return err
				}
				for _, b := range p.Branches {
					if b.Branch == "main" {
						continue
					}
					state, head := "behind", b.Head.String()
					switch {
					case b.Head.IsZero():
						state, head = "none", "-"
					case b.Ours.IsZero():
						state = "new"
					case b.InSync:
						state = "in-sync"
					}
					if _, err := fmt.Fprintf(e.stdout, "peer %s branch %s %s %s\n", p.Peer, b.Branch, state, head); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}
