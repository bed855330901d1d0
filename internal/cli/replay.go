package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/coda"
)

func init() { register(newReplayCmd) }

// replayJSON is what coal replay --json prints.
type replayJSON struct {
	Commits int     `json:"commits"`
	Root    coda.ID `json:"root"`
}

func newReplayCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "replay",
		Short: "Rebuild every commit from genesis and check it",
		Long: `Rebuild the world's history from genesis: every commit reachable from a
branch, parents first, has its signature checked and its ops applied to
its first parent's tree, which must give the commit's tree; merge commits
are recomputed. Print the number of commits and the root of the current
branch's head:

	replayed N commits, root ROOT

On any mismatch, print the commit and what differs, and exit 1.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			r, err := c.Replay(e.ctx, e.remoteWorld())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(replayJSON(r))
			}
			_, err = fmt.Fprintf(e.stdout, "replayed %d commits, root %s\n", r.Commits, r.Root)
			return err
		},
	}
}
