package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api"
	"github.com/coalescent/coal/errs"
)

func init() { register(newApplyCmd) }

// maxOpsFile bounds the size of an OPS.json file.
const maxOpsFile = 1 << 30

func newApplyCmd(e *env) *cobra.Command {
	var msg string
	cmd := &cobra.Command{
		Use:   "apply OPS.json",
		Short: "Apply a list of changes in one atomic commit",
		Long: `Apply the changes listed in OPS.json (- for standard input) in one atomic
commit, and print its id. Either every change applies or none does.

OPS.json is a JSON list of objects (docs/cli.md, "coal apply"):

	{"op": "put",    "path": P, "value": V, "schema": S}   schema optional: P's directory's
	{"op": "delete", "path": P, "recursive": true}         recursive optional
	{"op": "move",   "path": P, "from": F}
	{"op": "copy",   "path": P, "from": F}
	{"op": "mkdir",  "path": P, "schema": S}

Unknown ops and fields are errors; errors name the op as ops[I].`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			data, n, err := readOps(name, e.stdin)
			if err != nil {
				return err
			}
			if msg == "" {
				msg = fmt.Sprintf("apply %s (%d ops)", name, n)
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			id, err := c.ApplyJSON(e.ctx, e.remoteWorld(), data, msg)
			if err != nil {
				if name != "-" {
					return fmt.Errorf("%s: %w", name, err)
				}
				return err
			}
			return e.printCommit(id)
		},
	}
	cmd.Flags().StringVarP(&msg, "message", "m", "", "the commit message")
	return cmd
}

// readOps reads and checks an OPS.json file (- for stdin): its bytes,
// sent to the node as they are, and its number of ops. Errors in the file
// are found here, naming it.
func readOps(name string, stdin io.Reader) ([]byte, int, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, 0, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxOpsFile+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxOpsFile {
		return nil, 0, errs.E(errs.Limit, errs.Path(name), fmt.Sprintf("more than %d bytes", maxOpsFile))
	}
	// One parser of OPS.json serves the CLI and the API's transactions.
	ops, err := api.ParseOps(name, data)
	return data, len(ops), err
}
