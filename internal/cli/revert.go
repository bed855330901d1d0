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
reported on standard error.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withWorld(func(s *session) error {
				id, err := s.resolve("", args[0])
				if err != nil {
					return err
				}
				who, err := e.author(s)
				if err != nil {
					return err
				}
				c, skipped, err := s.world.Revert(e.ctx, who, id)
				for _, p := range skipped {
					fmt.Fprintf(e.stderr, "coal: revert %s: %s was changed again later; left as it is\n", id.Short(), p)
				}
				if err != nil {
					return err
				}
				return e.printCommit(c.ID)
			})
		},
	}
}
