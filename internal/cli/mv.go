package cli

import (
	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api/client"
)

func init() { register(newMvCmd) }

func newMvCmd(e *env) *cobra.Command {
	var msg string
	cmd := &cobra.Command{
		Use:   "mv FROM TO",
		Short: "Move a value or a directory, in one commit",
		Long: `Move the value or directory at FROM to TO, in one commit, and print the commit's id.
A directory moves with everything under it.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if msg == "" {
				msg = "mv " + args[0] + " " + args[1]
			}
			return e.apply([]client.Op{{Op: "move", Path: args[1], From: args[0]}}, msg)
		},
	}
	cmd.Flags().StringVarP(&msg, "message", "m", "", "the commit message")
	return cmd
}
