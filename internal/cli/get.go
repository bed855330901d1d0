package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func init() { register(newGetCmd) }

// getJSON is what coal get --json prints for a value.
type getJSON struct {
	Path   string          `json:"path"`
	ID     coda.ID         `json:"id"`
	Schema coda.ID         `json:"schema"`
	Value  json.RawMessage `json:"value"`
}

// blobJSON is what coal get --json prints for a blob (its bytes are not
// JSON; coal get without --json streams them).
type blobJSON struct {
	Path string  `json:"path"`
	ID   coda.ID `json:"id"`
	Kind string  `json:"kind"`
	Size int64   `json:"size"`
}

func newGetCmd(e *env) *cobra.Command {
	var at string
	var raw, source bool
	cmd := &cobra.Command{
		Use:   "get PATH",
		Short: "Print the value at a path",
		Long: `Print the value at PATH in the head of the current branch, or in the commit
named by --at (a commit id, a unique prefix of at least 4 characters, or a
branch name).

A value prints as one line of JSON (docs/coda.md, "JSON mapping"); --raw
prints its canonical bytes instead (the schema id, then the body). A blob
(a file stored with coal put --file or coal import) streams its bytes, with
or without --raw. With --json, a value prints as
{"path", "id", "schema", "value"} and a blob as {"path", "id", "kind", "size"}.
--source prints the readable Co source of a program (coal prog add).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRevFlag(cmd, "at", at); err != nil {
				return err
			}
			if source {
				return e.getSource(args[0], at)
			}
			if c := e.node(); c != nil && !raw {
				v, err := c.Get(e.ctx, e.remoteWorld(), args[0], at)
				if err != nil {
					return err
				}
				if e.json {
					return e.printJSON(getJSON(v))
				}
				_, err = fmt.Fprintf(e.stdout, "%s\n", v.Value)
				return err
			}
			return e.withWorld(func(s *session) error {
				v, err := e.view(s)
				if err != nil {
					return err
				}
				rev, err := s.resolveIn(v, "--at", at)
				if err != nil {
					return err
				}
				it, err := v.Get(rev, args[0])
				if err != nil {
					return err
				}
				switch it.Kind {
				case cdb.ItemDir:
					return errs.E(errs.Invalid, errs.Path(it.Path), "is a directory (list it with coal ls)")
				case cdb.ItemBlob:
					if e.json {
						return e.printJSON(blobJSON{Path: it.Path, ID: it.ID, Kind: string(it.Kind), Size: it.Size})
					}
					b, err := v.OpenBlob(rev, args[0])
					if err != nil {
						return err
					}
					defer b.Close()
					_, err = io.Copy(e.stdout, b)
					return err
				}
				if raw {
					_, err := e.stdout.Write(it.Raw)
					return err
				}
				j, err := s.valueJSON(rev, it)
				if err != nil {
					return err
				}
				if e.json {
					return e.printJSON(getJSON{Path: it.Path, ID: it.ID, Schema: it.Schema.ID, Value: j})
				}
				_, err = fmt.Fprintf(e.stdout, "%s\n", j)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&at, "at", "", "read the tree of this commit (default: the head)")
	f.BoolVar(&raw, "raw", false, "print the value's canonical bytes instead of JSON")
	f.BoolVar(&source, "source", false, "print a program's readable Co source")
	return cmd
}
