package cli

import (
	"encoding/json"
	"io"

	"github.com/spf13/cobra"

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
			c, err := e.api()
			if err != nil {
				return err
			}
			world := e.remoteWorld()
			if raw {
				if e.json {
					// --json describes a blob; a value's bytes are
					// printed all the same.
					v, err := c.Get(e.ctx, world, args[0], at)
					if err == nil && v.Kind == "blob" {
						return e.printJSON(blobJSON{Path: v.Path, ID: v.ID, Kind: v.Kind, Size: v.Size})
					}
				}
				// A value's canonical bytes or a blob's bytes, as the
				// node answers them.
				r, err := c.OpenRaw(e.ctx, world, args[0], at)
				if err != nil {
					return flagError(err, "at")
				}
				defer r.Close()
				_, err = io.Copy(e.stdout, r)
				return err
			}
			if e.json {
				v, err := c.Get(e.ctx, world, args[0], at)
				if err != nil {
					return flagError(err, "at")
				}
				switch v.Kind {
				case "dir":
					return isDirError(v.Path)
				case "blob":
					return e.printJSON(blobJSON{Path: v.Path, ID: v.ID, Kind: v.Kind, Size: v.Size})
				}
				return e.printJSON(getJSON{Path: v.Path, ID: v.ID, Schema: v.Schema, Value: v.Value})
			}
			// One request: a value's JSON line or a blob's bytes,
			// copied as they come.
			kind, body, err := c.Open(e.ctx, world, args[0], at)
			if err != nil {
				return flagError(err, "at")
			}
			defer body.Close()
			if kind == "dir" {
				return isDirError(canonPath(args[0]))
			}
			_, err = io.Copy(e.stdout, body)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&at, "at", "", "read the tree of this commit (default: the head)")
	f.BoolVar(&raw, "raw", false, "print the value's canonical bytes instead of JSON")
	f.BoolVar(&source, "source", false, "print a program's readable Co source")
	return cmd
}

func isDirError(path string) error {
	return errs.E(errs.Invalid, errs.Path(path), "is a directory (list it with coal ls)")
}
