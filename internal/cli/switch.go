package cli

import (
	"github.com/spf13/cobra"
)

func init() { register(newSwitchCmd) }

func newSwitchCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "switch NAME",
		Short: "Make another branch the current one",
		Long: `Make the branch NAME the world's current branch: reads and writes go to it
from now on. The current branch of each world is kept in the home's
config.json. Nothing is printed; with --json, {"name", "head", "current"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			b, err := c.Switch(e.ctx, e.remoteWorld(), args[0])
			if err != nil || !e.json {
				return err
			}
			return e.printJSON(branchJSON(b))
		},
	}
}
