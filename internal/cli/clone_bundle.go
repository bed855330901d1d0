package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/bundle"
)

func init() { register(newCloneBundleCmd) }

// cloneJSON is what coal clone-bundle --json prints.
type cloneJSON struct {
	Key       string `json:"key"`
	World     string `json:"world"`
	WorldName string `json:"world_name"`
	Head      string `json:"head"`
	Commits   int    `json:"commits"`
}

func newCloneBundleCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "clone-bundle FILE",
		Short: "Create a home whose world comes from a bundle",
		Long: `Create a new coal home in the directory --home names (or COAL_HOME, or
~/.coal), as coal init does but with no world of its own: its default world
is the bundle's, every commit validated before anything is stored. Print the
new node key, the world and its head:

	node ed25519:KEY
	world NAME ID
	head COMMIT

The new node key has no rights in the world until someone grants it some
(or import a key that has them: coal key import). Fails, creating nothing,
if the home exists or the bundle is invalid. With --json: {"key", "world",
"world_name", "head", "commits"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			h, res, err := bundle.CloneBundle(e.ctx, e.home, f, e.options())
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			defer h.Close()
			w, err := h.World("")
			if err != nil {
				return err
			}
			out := cloneJSON{Key: h.NodeKey().Key(), World: w.ID().String(), WorldName: w.Name(), Head: res.Head.String(), Commits: res.Commits}
			if e.json {
				return e.printJSON(out)
			}
			_, err = fmt.Fprintf(e.stdout, "node %s\nworld %s %s\nhead %s\n", out.Key, out.WorldName, out.World, out.Head)
			return err
		},
	}
}
