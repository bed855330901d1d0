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
			return e.withWorld(func(s *session) error {
				if len(args) == 1 {
					var id coda.ID
					if at != "" {
						var err error
						if id, err = s.resolve("--at", at); err != nil {
							return err
						}
					}
					if err := s.world.CreateBranch(args[0], id); err != nil || !e.json {
						return err
					}
					head, err := s.world.Resolve(args[0])
					if err != nil {
						return err
					}
					return e.printJSON(branchJSON{Name: args[0], Head: head, Current: args[0] == s.world.Branch()})
				}
				bs, err := s.world.Branches()
				if err != nil {
					return err
				}
				out := make([]branchJSON, 0, len(bs))
				for _, b := range bs {
					out = append(out, branchJSON{b.Name, b.Head, b.Current})
				}
				if e.json {
					return e.printJSON(out)
				}
				for _, b := range out {
					mark := " "
					if b.Current {
						mark = "*"
					}
					if _, err := fmt.Fprintf(e.stdout, "%s %s %s\n", mark, b.Name, b.Head); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "make the branch at this commit (default: the head)")
	return cmd
}
