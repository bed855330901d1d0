package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb"
)

func init() { register(newLogCmd) }

func newLogCmd(e *env) *cobra.Command {
	var n int
	var from string
	cmd := &cobra.Command{
		Use:   "log [PATH]",
		Short: "List commits, newest first",
		Long: `List the commits of the current branch (or of --from, a commit or branch),
newest first, one a line:

	ID TIME ed25519:AUTHOR8 MESSAGE

TIME is the commit's wall-clock time in UTC; AUTHOR8 the first 8 characters
of the author's key ("merge" for unsigned merge commits, whose message is
"(merge PARENT1 PARENT2)", short ids). With PATH, only
the commits that changed PATH or anything under it. -n limits the count.
With --json, a list of {"id", "parents", "tree", "author", "time", "hlc",
"message"}.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("max-count") && n <= 0 {
				return usageError{fmt.Errorf("-n %d: the count must be positive", n)}
			}
			path := ""
			if len(args) == 1 {
				path = args[0]
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			cs, err := c.Log(e.ctx, e.remoteWorld(), from, path, n)
			if err != nil {
				return flagError(err, "from")
			}
			if e.json {
				out := make([]commitSummaryJSON, 0, len(cs))
				for _, c := range cs {
					out = append(out, commitSummaryJSON(c))
				}
				return e.printJSON(out)
			}
			var b strings.Builder
			for _, c := range cs {
				author := "merge"
				if c.Author != "" {
					author = c.Author[:min(len(c.Author), len(cdb.KeyPrefix)+8)]
				}
				msg := firstLine(c.Message)
				if msg == "" && c.Author == "" && len(c.Parents) > 1 {
					// Merge commits carry no message: any node computes them.
					msg = "(merge"
					for _, p := range c.Parents {
						msg += " " + p.Short()
					}
					msg += ")"
				}
				fmt.Fprintf(&b, "%s %s %s %s\n", c.ID, c.Time, author, msg)
			}
			_, err = fmt.Fprint(e.stdout, b.String())
			return err
		},
	}
	f := cmd.Flags()
	f.IntVarP(&n, "max-count", "n", 0, "show at most N commits (default: all)")
	f.StringVar(&from, "from", "", "start from this commit or branch (default: the head)")
	return cmd
}

// firstLine is the first line of a commit message, for one-line listings.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
