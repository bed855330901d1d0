package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newRmCmd) }

func newRmCmd(e *env) *cobra.Command {
	var recursive bool
	var msg string
	cmd := &cobra.Command{
		Use:   "rm PATH [-r]",
		Short: "Delete a value, or with -r a directory, in one commit",
		Long: `Delete the value at PATH, in one commit, and print the commit's id. A
directory needs -r, which deletes everything under it. Deletes leave
tombstones, so a merge cannot bring the value back.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if msg == "" {
				msg = "rm " + args[0]
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			id, err := c.Delete(e.ctx, e.remoteWorld(), args[0], recursive, msg)
			if err != nil {
				if !recursive {
					if it, gerr := c.Get(e.ctx, e.remoteWorld(), args[0], ""); gerr == nil && it.Kind == "dir" {
						return fmt.Errorf("%w (coal rm -r deletes a directory)", err)
					}
				}
				return err
			}
			return e.printCommit(id)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&recursive, "recursive", "r", false, "delete a directory and everything under it")
	f.StringVarP(&msg, "message", "m", "", "the commit message")
	return cmd
}
