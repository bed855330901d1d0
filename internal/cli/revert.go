package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newRevertCmd) }

func newRevertCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "revert COMMIT",
		Short: "Undo one commit's ops in a new commit",
		Long: `Make a new commit that undoes exactly the ops of COMMIT (for a merge commit:
what it changed relative to its first parent), and print its id. A path
that was changed again after COMMIT is left alone, not clobbered, and
reported on standard error; if every path was, nothing is committed and
the error names them.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			r, err := c.Revert(e.ctx, e.remoteWorld(), args[0])
			if err != nil {
				return argError(err, "commit")
			}
			for _, p := range r.Skipped {
				fmt.Fprintf(e.stderr, "coal: revert %s: %s was changed again later; left as it is\n", r.Reverted.Short(), p)
			}
			return e.printCommit(r.Commit)
		},
	}
}
