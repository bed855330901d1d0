package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/node"
)

func init() { register(newTokenCmd) }

func newTokenCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print the node's API token",
		Long: `Print the node's API bearer token (HOME/token, made by coal init or coal
serve). It acts as the node key. coal token new --as NAME makes a token
acting as the key NAME instead (docs/node.md).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := node.ReadToken(e.home)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, tok)
			return err
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "new",
		Short: "Make an API token acting as the key --as names",
		Long: `Make a new API bearer token acting as the home's key named by --as (default
the node key) and print it. Only its hash is stored (HOME/tokens/HASH), so
it cannot be printed again: keep it.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := e.as
			if name == "" {
				name = cdb.NodeKeyName
			}
			tok, err := node.NewIdentityToken(e.home, name)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, tok)
			return err
		},
	})
	return cmd
}
