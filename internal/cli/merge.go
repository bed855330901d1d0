package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/coda"
)

func init() { register(newMergeCmd) }

// mergeJSON is what coal merge --json prints: the new head, how it was
// reached, and the number of conflicts (listed by coal conflicts).
type mergeJSON struct {
	Commit      coda.ID `json:"commit"`
	Merge       bool    `json:"merge"`        // a merge commit was made
	FastForward bool    `json:"fast_forward"` // the branch moved to the other's head
	Conflicts   int     `json:"conflicts"`
}

func newMergeCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "merge NAME",
		Short: "Merge a branch into the current one",
		Long: `Merge the branch NAME (or any commit) into the current branch, and print
the new head. If NAME's head is already in the current history nothing
changes; if the current head is in NAME's history the current branch moves
to NAME's head; otherwise a merge commit is made: unsigned and
deterministic, path by path the greatest stamp wins (docs/cdb.md), and the
concurrent losers are kept in the commit (see coal conflicts). The number
of conflicts is reported on standard error.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			m, err := c.Merge(e.ctx, e.remoteWorld(), args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(mergeJSON(m))
			}
			switch n := m.Conflicts; n {
			case 0:
			case 1:
				fmt.Fprintf(e.stderr, "coal: merge %s: 1 conflict (coal conflicts shows it)\n", args[0])
			default:
				fmt.Fprintf(e.stderr, "coal: merge %s: %d conflicts (coal conflicts lists them)\n", args[0], n)
			}
			return e.printCommit(m.Commit)
		},
	}
}
