package cli

import (
	"github.com/spf13/cobra"
)

func init() { register(newResetCmd) }

func newResetCmd(e *env) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "reset --to COMMIT",
		Short: "Make a new commit whose content equals an older commit's",
		Long: `Make a new commit on the current branch whose visible content equals that
of COMMIT, and print its id. Nothing is rewritten: the commits after
COMMIT stay in history, and the reset itself can be reverted.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRevFlag(cmd, "to", to); err != nil {
				return err
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			r, err := c.Reset(e.ctx, e.remoteWorld(), to)
			if err != nil {
				return flagError(err, "to")
			}
			return e.printCommit(r.Commit)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the commit whose tree to restore")
	cmd.MarkFlagRequired("to")
	return cmd
}
