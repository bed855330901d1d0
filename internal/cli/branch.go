package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/coda"
)

func init() { register(newBranchCmd) }

// branchJSON is one branch in coal branch --json.
type branchJSON struct {
	Name    string  `json:"name"`
	Head    coda.ID `json:"head"`
	Current bool    `json:"current"`
}

// branchDeletedJSON is what coal branch -d --json prints.
type branchDeletedJSON struct {
	Name    string  `json:"name"`
	Head    coda.ID `json:"head"` // the head the branch had
	Deleted bool    `json:"deleted"`
}

func newBranchCmd(e *env) *cobra.Command {
	var (
		at  string
		del bool
	)
	cmd := &cobra.Command{
		Use:   "branch [-d] [NAME]",
		Short: "List branches, make one, or delete one",
		Long: `Without NAME, list the world's branches, one a line, the current one
starred: "* NAME HEAD". With NAME, make a branch at the head of the current
branch (or at --at) without switching to it; nothing is printed (with
--json, {"name", "head", "current"}).

With -d (--delete) NAME, delete the branch, as git branch -d does, and
print "deleted NAME HEAD", HEAD the head it had (with --json, {"name",
"head", "deleted": true}). main and the current branch cannot be deleted.
No commit is removed: "coal branch NAME --at HEAD" makes it again. The
node records the deletion (a tombstone), so that sync does not bring the
branch back from a peer that still has it, until someone writes to it
there (docs/sync.md, "Deletion").`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRevFlag(cmd, "at", at); err != nil {
				return err
			}
			if del && len(args) != 1 {
				return usageError{fmt.Errorf("--delete needs the NAME of the branch to delete")}
			}
			if del && at != "" {
				return usageError{fmt.Errorf("--at makes a branch; it does not go with --delete")}
			}
			if len(args) == 0 && at != "" {
				return usageError{fmt.Errorf("--at needs a branch NAME to create")}
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			if del {
				return e.deleteBranch(c, args[0])
			}
			if len(args) == 1 {
				b, err := c.NewBranch(e.ctx, e.remoteWorld(), args[0], at)
				if err != nil || !e.json {
					return flagError(err, "at")
				}
				return e.printJSON(branchJSON(b))
			}
			bs, err := c.Branches(e.ctx, e.remoteWorld())
			if err != nil {
				return err
			}
			out := make([]branchJSON, 0, len(bs))
			for _, b := range bs {
				out = append(out, branchJSON(b))
			}
			if e.json {
				return e.printJSON(out)
			}
			rows := make([]markedRow, len(out))
			for i, b := range out {
				rows[i] = markedRow{b.Current, b.Name, b.Head.String()}
			}
			return e.printMarked(rows)
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "make the branch at this commit (default: the head)")
	cmd.Flags().BoolVarP(&del, "delete", "d", false, "delete the branch NAME (not main, not the current one)")
	return cmd
}

// deleteBranch deletes name and prints the head it had, read just before
// (the node says what is wrong with a branch it refuses to delete).
func (e *env) deleteBranch(c *client.Client, name string) error {
	bs, err := c.Branches(e.ctx, e.remoteWorld())
	if err != nil {
		return err
	}
	var was coda.ID
	for _, b := range bs {
		if b.Name == name {
			was = b.Head
		}
	}
	if err := c.DeleteBranch(e.ctx, e.remoteWorld(), name); err != nil {
		return err
	}
	if e.json {
		return e.printJSON(branchDeletedJSON{Name: name, Head: was, Deleted: true})
	}
	_, err = fmt.Fprintf(e.stdout, "deleted %s %s\n", name, was)
	return err
}
