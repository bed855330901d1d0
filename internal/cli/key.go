package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/errs"
)

func init() { register(newKeyCmd) }

func newKeyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Make, list, export and import identities",
		Long: `The home keeps identities: ed25519 key pairs with a local name, in
HOME/keys/NAME.key (mode 0600). "node" is the node key, made by coal init.
The global --as NAME makes any command act as the key NAME: its writes are
signed by it and judged by its rights, its reads filtered by them.

A public key's text form is ed25519: followed by 52 base32 characters; the
same string names the key in ACLs, groups, commit authors and /home/KEY/.
Private keys leave the home only through coal key export.

Like every command, these go through the node serving the home if one
does (docs/cli.md): keys are files the node reads when it needs them, so
keys made or imported while it runs are usable at once. Making, importing
and exporting keys needs the node key's authority (no --as, and through a
node the home's own token); listing them does not.`,
	}
	var out string
	export := &cobra.Command{
		Use:   "export NAME [-o FILE]",
		Short: "Write a key, private part included, for coal key import",
		Long: `Write the key NAME in its export form (four lines: coal-key-v1, name,
public and the base64 seed) to standard output, or to FILE with -o (made
with mode 0600; an existing file is not overwritten). The export holds the
private key: whoever reads it can act as NAME.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			b, err := c.ExportKey(e.ctx, args[0])
			if err != nil {
				return err
			}
			if out == "" {
				_, err = e.stdout.Write(b)
				return err
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return errs.E(errs.Exist, errs.Path(out), "file exists (key export does not overwrite)")
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(b); err != nil {
				f.Close()
				return err
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
	}
	export.Flags().StringVarP(&out, "output", "o", "", "write to this file (mode 0600) instead of standard output")

	cmd.AddCommand(&cobra.Command{
		Use:   "new NAME",
		Short: "Make a new key and print its public key",
		Long: `Make a new ed25519 key named NAME in the home and print its public key
(ed25519:KEY). NAME is 1–64 of a-z, 0-9, -, _ and ., starting with a letter
or digit; a taken name is refused. With --json: {"name", "public"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			k, err := c.NewKey(e.ctx, args[0])
			if err != nil {
				return err
			}
			return e.printKey(k)
		},
	}, &cobra.Command{
		Use:   "ls",
		Short: "List the keys of the home",
		Long: `List the home's keys by name, one a line: NAME ed25519:KEY. With --json, a
list of {"name", "public"}.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			keys, err := c.Keys(e.ctx)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(keys)
			}
			for _, k := range keys {
				if _, err := fmt.Fprintf(e.stdout, "%s %s\n", k.Name, k.Public); err != nil {
					return err
				}
			}
			return nil
		},
	}, export, &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Store an exported key under NAME",
		Long: `Read a key in the form coal key export writes from FILE (- for standard
input), check that its seed gives its public key, store it as NAME and print
its public key. A taken NAME is refused; the node key cannot be replaced.
With --json: {"name", "public"}.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var b []byte
			var err error
			if args[1] == "-" {
				b, err = io.ReadAll(e.stdin)
			} else {
				b, err = os.ReadFile(args[1])
			}
			if err != nil {
				return err
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			k, err := c.ImportKey(e.ctx, args[0], b)
			if err != nil {
				if args[1] != "-" {
					return fmt.Errorf("%s: %w", args[1], err)
				}
				return err
			}
			return e.printKey(k)
		},
	})
	return cmd
}

// printKey prints a key as key new and key import do: its public key, or
// {"name", "public"} with --json.
func (e *env) printKey(k cdb.KeyInfo) error {
	if e.json {
		return e.printJSON(k)
	}
	_, err := fmt.Fprintln(e.stdout, k.Public)
	return err
}
