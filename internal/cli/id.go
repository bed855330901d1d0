package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newIDCmd) }

// idJSON is what coal id --json prints.
type idJSON struct {
	Key string `json:"key"`
}

func newIDCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "id",
		Short: "Print the node's key (or the key --as names)",
		Long: `Print the node's public key in its text form, ed25519:KEY: the name that
ACLs, commit authors and /home/KEY/ use for this node. With --as NAME, the
public key of the home's key NAME.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			info, err := c.Info(e.ctx)
			if err != nil {
				return err
			}
			key := info.Key
			if e.as != "" {
				key = info.As
			}
			if e.json {
				return e.printJSON(idJSON{key})
			}
			_, err = fmt.Fprintln(e.stdout, key)
			return err
		},
	}
}
