package cli

import (
	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api/client"
)

func init() { register(newCpCmd) }

func newCpCmd(e *env) *cobra.Command {
	var msg string
	cmd := &cobra.Command{
		Use:   "cp FROM TO",
		Short: "Copy a value or a directory, in one commit",
		Long: `Copy the value or directory at FROM to TO, in one commit, and print the commit's id.
A directory is copied with everything under it; copies share storage.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if msg == "" {
				msg = "cp " + args[0] + " " + args[1]
			}
			return e.apply([]client.Op{{Op: "copy", Path: args[1], From: args[0]}}, msg)
		},
	}
	cmd.Flags().StringVarP(&msg, "message", "m", "", "the commit message")
	return cmd
}
