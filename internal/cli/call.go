package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/coda"
)

func init() { register(newCallCmd) }

func newCallCmd(e *env) *cobra.Command {
	var entry, input, schema, msg string
	var steps uint64
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "call PATH [--entry NAME] [--json INPUT --schema NAME] [--steps N]",
		Short: "Run the program at a path against the world; its writes become one commit",
		Long: `Run the program stored at PATH (coal prog add) against the head of the
current branch, as the acting identity: it reads the world through the tree
device with that identity's rights (a path it may not read is missing), and
everything it writes becomes one signed commit whose call record holds the
program id, the entry, the input and output ids and the steps used
(docs/calls.md). Prints the program's output (as JSON if its schema is in
/sys/schemas, else its id) and then the commit's id.

--entry runs a named entry point instead of the top-level code. --json
gives the input as JSON, of the schema --schema names. --steps bounds the
instructions run (default 100,000,000). A call that faults, runs out of
steps, exits with a nonzero code or writes where the identity may not
commits nothing and says why; one that writes nothing commits nothing.

Here --json takes the input, so the global --json switch is spelled
--json-output: it prints the whole result.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("json") != (schema != "") {
				return usageError{fmt.Errorf("call %s: give --json INPUT and --schema NAME together", args[0])}
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			req := client.CallRequest{Entry: entry, Schema: schema, Steps: steps, Message: msg}
			if cmd.Flags().Changed("json") {
				req.Input = []byte(input)
			}
			res, err := c.Call(e.ctx, e.remoteWorld(), args[0], req)
			if err != nil {
				return err
			}
			if jsonOut || e.json {
				return e.printJSON(res)
			}
			switch {
			case res.OutputValue != nil:
				fmt.Fprintln(e.stdout, string(res.OutputValue))
			case res.Output != nil:
				fmt.Fprintf(e.stdout, "output %s\n", res.Output)
			}
			if res.Commit == nil {
				fmt.Fprintf(e.stderr, "nothing committed: the program wrote nothing (%d steps)\n", res.Steps)
				return nil
			}
			_, err = fmt.Fprintln(e.stdout, res.Commit)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&entry, "entry", "", "the entry point (default: the top-level code)")
	f.StringVar(&input, "json", "", "the input, as JSON")
	f.StringVar(&schema, "schema", "", "the input's schema")
	f.Uint64Var(&steps, "steps", 0, "the step limit (default 100000000)")
	f.StringVarP(&msg, "message", "m", "", "the commit message (default: call PATH)")
	f.BoolVar(&jsonOut, "json-output", false, "print the result as JSON (the global --json, which call's --json INPUT hides)")
	return cmd
}

// idOrDash is an optional id as coal show prints it.
func idOrDash(id *coda.ID) string {
	if id == nil {
		return "-"
	}
	return id.String()
}

// callJSON is a commit's call record in coal show --json.
type callJSON = client.CallRecord
