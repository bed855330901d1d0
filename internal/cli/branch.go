package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/coda"
)

func init() { register(newBranchCmd) }

// branchJSON is one branch in coal branch --json.
type branchJSON struct {
	Name    string  `json:"name"`
	Head    coda.ID `json:"head"`
	Current bool    `json:"current"`
}

func newBranchCmd(e *env) *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:   "branch [NAME]",
		Short: "List branches, or make one",
		Long: `Without NAME, list the world's branches, one a line, the current one
starred: "* NAME HEAD". With NAME, make a branch at the head of the current
branch (or at --at) without switching to it; nothing is printed (with
--json, {"name", "head", "current"}).`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRevFlag(cmd, "at", at); err != nil {
				return err
			}
			if len(args) == 0 && at != "" {
				return usageError{fmt.Errorf("--at needs a branch NAME to create")}
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				b, err := c.NewBranch(e.ctx, e.remoteWorld(), args[0], at)
				if err != nil || !e.json {
					return flagError(err, "at")
				}
				return e.printJSON(branchJSON(b))
			}
			bs, err := c.Branches(e.ctx, e.remoteWorld())
			if err != nil {
				return err
			}
			out := make([]branchJSON, 0, len(bs))
			for _, b := range bs {
				out = append(out, branchJSON(b))
			}
			if e.json {
				return e.printJSON(out)
			}
			rows := make([]markedRow, len(out))
			for i, b := range out {
				rows[i] = markedRow{b.Current, b.Name, b.Head.String()}
			}
			return e.printMarked(rows)
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "make the branch at this commit (default: the head)")
	return cmd
}
