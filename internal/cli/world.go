package cli

import (
	"github.com/spf13/cobra"

	"github.com/coalescent/coal/coda"
)

func init() { register(newWorldCmd) }

// worldJSON is one world in coal world ls --json.
type worldJSON struct {
	Name    string  `json:"name"`
	ID      coda.ID `json:"id"`
	Branch  string  `json:"branch"`
	Head    coda.ID `json:"head"`
	Default bool    `json:"default"`
}

// newWorldJSON is what coal world new --json prints: the genesis commit,
// whose id is the world's.
type newWorldJSON struct {
	Commit coda.ID `json:"commit"`
	World  coda.ID `json:"world"`
	Name   string  `json:"name"`
}

func newWorldCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "world",
		Short: "Create and list worlds",
		Long: `A home holds worlds: separate trees, each with its own history and
branches. A world's id is the id of its genesis commit.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "new NAME",
		Short: "Create a world and print its id",
		Long: `Create a world named NAME with a genesis commit signed by the node key, or
the key --as names: its creator, admin of / in the world. Print the world's
id (the genesis commit's id).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			w, err := c.CreateWorld(e.ctx, args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(newWorldJSON(w))
			}
			return e.printCommit(w.World)
		},
	}, &cobra.Command{
		Use:   "ls",
		Short: "List the worlds",
		Long: `List the worlds of the home, one a line: the default world starred, then
name and id.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			ws, err := c.Worlds(e.ctx)
			if err != nil {
				return err
			}
			out := make([]worldJSON, 0, len(ws))
			for _, w := range ws {
				out = append(out, worldJSON(w))
			}
			if e.json {
				return e.printJSON(out)
			}
			rows := make([]markedRow, len(out))
			for i, w := range out {
				rows[i] = markedRow{w.Default, w.Name, w.ID.String()}
			}
			return e.printMarked(rows)
		},
	})
	return cmd
}
