package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb/tree"
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
			return e.withWorld(func(s *session) error {
				v, err := e.view(s)
				if err != nil {
					return err
				}
				a, err := s.resolveIn(v, "", args[0])
				if err != nil {
					return err
				}
				var b coda.ID
				if len(args) == 2 {
					if b, err = s.resolveIn(v, "", args[1]); err != nil {
						return err
					}
				}
				out := []diffJSON{}
				err = v.Diff(a, b, func(c tree.Change) error {
					k := c.Kind()
					if k == tree.Hidden || k == tree.Changed && c.A.ID == c.B.ID {
						return nil // invisible, or the same value re-stamped
					}
					d := diffJSON{Path: c.Path, Meta: c.Meta, Change: k.String()}
					if c.A.Kind == tree.KindValue {
						d.A = c.A.ID
					}
					if c.B.Kind == tree.KindValue {
						d.B = c.B.ID
					}
					out = append(out, d)
					return nil
				})
				if err != nil {
					return err
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
			})
		},
	}
}
