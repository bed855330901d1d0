package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/coda"
)

func init() { register(newDiffCmd) }

// diffJSON is one changed path in coal diff --json: change is added,
// removed or changed; a and b are the value ids on each side.
type diffJSON struct {
	Path   string  `json:"path"`
	Meta   bool    `json:"meta,omitempty"`
	Change string  `json:"change"`
	A      coda.ID `json:"a,omitzero"`
	B      coda.ID `json:"b,omitzero"`
}

func newDiffCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "diff A [B]",
		Short: "List the paths that differ between two commits",
		Long: `List, in path order, the paths whose values differ between the trees of
commits A and B (default: the head of the current branch), one a line:

	added PATH      not in A, in B
	removed PATH    in A, not in B
	changed PATH    in both, different values

A directory's metadata (its schema) shows as PATH/. A value written again
unchanged (only its stamp differs) is not a difference. With --json, a list of
{"path", "change", "a", "b"} (a and b: the value ids on each side).`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			b := ""
			if len(args) == 2 {
				b = args[1]
			}
			ds, err := c.Diff(e.ctx, e.remoteWorld(), args[0], b)
			if err != nil {
				return argError(argError(err, "a"), "b")
			}
			out := make([]diffJSON, 0, len(ds))
			for _, d := range ds {
				out = append(out, diffJSON(d))
			}
			if e.json {
				return e.printJSON(out)
			}
			var sb strings.Builder
			for _, d := range out {
				p := d.Path
				if d.Meta {
					p = strings.TrimSuffix(p, "/") + "/"
				}
				fmt.Fprintf(&sb, "%s %s\n", d.Change, p)
			}
			_, err = fmt.Fprint(e.stdout, sb.String())
			return err
		},
	}
}
