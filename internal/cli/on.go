package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newOnCmd) }

func newOnCmd(e *env) *cobra.Command {
	var entry string
	cmd := &cobra.Command{
		Use:   "on PATH run PROGPATH [--entry NAME]",
		Short: "Run a program after each commit that changes a directory",
		Long: `Make the directory PATH run the program at PROGPATH after each commit that
changes something under it: the program runs as a follow-up call (a commit
with a call record, message "trigger: on PATH run PROGPATH after COMMIT"),
as the identity that set the trigger, against the head then. Commits made
by triggers fire no triggers. The trigger is the value PATH/.on (schema
Trigger, added to /sys/schemas if missing); delete it to stop. Triggers run
in the process that holds the home: the running node, or the command that
made the commit. Prints the commit that set the trigger.`,
		Args: exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[1] != "run" {
				return usageError{fmt.Errorf("on %s: want \"run\" before the program's path, not %q", args[0], args[1])}
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			res, err := c.SetTrigger(e.ctx, e.remoteWorld(), args[0], args[2], entry)
			if err != nil {
				return err
			}
			return e.printCommit(res.Commit)
		},
	}
	cmd.Flags().StringVar(&entry, "entry", "", "the program's entry point (default: the top-level code)")
	return cmd
}
