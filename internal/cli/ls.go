package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/coda"
)

func init() { register(newLsCmd) }

// lsJSON is one entry of coal ls --json. Values and blobs have an id and
// a size; directories have neither.
type lsJSON struct {
	Name string  `json:"name"`
	Dir  bool    `json:"dir"`
	Kind string  `json:"kind"`
	ID   coda.ID `json:"id,omitzero"`
	Size int64   `json:"size,omitempty"`
	// Withheld: a value missing here by design (withheld by a bundle's
	// maker; coal get says so).
	Withheld bool `json:"withheld,omitempty"`
}

func newLsCmd(e *env) *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:   "ls [PATH]",
		Short: "List a directory",
		Long: `List the directory at PATH (default: the root) in the head of the current
branch, or in the commit named by --at: one name a line, in path order,
directories with a trailing slash. With --json, a list of
{"name", "dir", "kind", "id", "size"} (kind is value, blob or dir).`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/"
			if len(args) == 1 {
				path = args[0]
			}
			if err := checkRevFlag(cmd, "at", at); err != nil {
				return err
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			ents, err := c.List(e.ctx, e.remoteWorld(), path, at)
			if err != nil {
				return flagError(err, "at")
			}
			if e.json {
				out := make([]lsJSON, 0, len(ents))
				for _, d := range ents {
					j := lsJSON{Name: d.Name, Dir: d.Dir, Kind: d.Kind}
					if !j.Dir {
						j.ID, j.Size, j.Withheld = d.ID, d.Size, d.Withheld
					}
					out = append(out, j)
				}
				return e.printJSON(out)
			}
			for _, d := range ents {
				name := d.Name
				if d.Dir {
					name += "/"
				}
				if _, err := fmt.Fprintln(e.stdout, name); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "list the tree of this commit (default: the head)")
	return cmd
}
