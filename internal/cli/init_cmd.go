package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/node"
)

func init() { register(newInitCmd) }

// initJSON is what coal init --json prints.
type initJSON struct {
	Key       string  `json:"key"`
	World     coda.ID `json:"world"`
	WorldName string  `json:"world_name"`
	Home      string  `json:"home"`
}

func newInitCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create a coal home: a node key, a store and a world named default",
		Long: `Create a coal home in the directory named by --home (or COAL_HOME, or
~/.coal): a new ed25519 node key (keys/node.key, mode 0600), config.json,
the store, and a world named default. Print the node's key and the world's id:

	node ed25519:KEY
	world default ID

Init on an existing home fails and changes nothing (docs/cdb.md, "Home").`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := cdb.Init(e.home, e.options())
			if err != nil {
				return err
			}
			defer h.Close()
			if _, err := node.EnsureToken(h.Dir()); err != nil {
				return err
			}
			w, err := h.World(cdb.DefaultWorld)
			if err != nil {
				return err
			}
			key := h.NodeKey().Key()
			if e.json {
				home, err := filepath.Abs(h.Dir())
				if err != nil {
					home = h.Dir()
				}
				return e.printJSON(initJSON{Key: key, World: w.ID(), WorldName: w.Name(), Home: home})
			}
			_, err = fmt.Fprintf(e.stdout, "node %s\nworld %s %s\n", key, w.Name(), w.ID())
			return err
		},
	}
}
