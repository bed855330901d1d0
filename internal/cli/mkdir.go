package cli

import (
	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api/client"
)

func init() { register(newMkdirCmd) }

func newMkdirCmd(e *env) *cobra.Command {
	var schema, msg string
	cmd := &cobra.Command{
		Use:   "mkdir PATH --schema NAME",
		Short: "Make a directory whose children must have a schema",
		Long: `Make the directory PATH, in one commit, whose children must be values of
the schema NAME (a schema in /sys/schemas, added with coal schema add).
The schema is kept in the directory's metadata leaf; coal put into the
directory then needs no --schema. Print the commit's id.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if msg == "" {
				msg = "mkdir " + args[0]
			}
			return e.apply([]client.Op{{Op: "mkdir", Path: args[0], Schema: schema}}, msg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&schema, "schema", "", "the schema the directory's children must have")
	f.StringVarP(&msg, "message", "m", "", "the commit message")
	cmd.MarkFlagRequired("schema")
	return cmd
}
