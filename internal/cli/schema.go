package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/coda"
)

func init() { register(newSchemaCmd) }

// schemaJSON is one schema in coal schema ls --json.
type schemaJSON struct {
	Name string  `json:"name"`
	ID   coda.ID `json:"id"`
}

// schemaAddJSON is what coal schema add --json prints.
type schemaAddJSON struct {
	Commit  coda.ID      `json:"commit"`
	Schemas []schemaJSON `json:"schemas"`
}

func newSchemaCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Add, list and show the schemas of a world",
		Long: `A world's schemas live in its tree, at /sys/schemas/NAME (docs/coda.md for
the language). Values are checked against them when written.`,
	}
	add := &cobra.Command{
		Use:   "add FILE.coda",
		Short: "Store the schemas of a CODA file, in one commit",
		Long: `Compile FILE.coda against the world's schemas and store each schema it
declares at /sys/schemas/NAME, in one commit; print the commit's id. A name
that holds a different schema is replaced (the old one stays in history).
Compile errors are printed as FILE:LINE:COL: message.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			res, err := c.AddSchemas(e.ctx, e.remoteWorld(), args[0], src)
			if err != nil {
				return err
			}
			if e.json {
				j := schemaAddJSON{Commit: res.Commit, Schemas: []schemaJSON{}}
				for _, sc := range res.Schemas {
					j.Schemas = append(j.Schemas, schemaJSON{sc.Name, sc.ID})
				}
				return e.printJSON(j)
			}
			return e.printCommit(res.Commit)
		},
	}
	var at string
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the schemas in /sys/schemas",
		Long: `List the schemas stored in /sys/schemas at the head (or at --at), one a
line: NAME ID. Acting --as an identity that may not read /sys/schemas, the
list is empty.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRevFlag(cmd, "at", at); err != nil {
				return err
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			list, err := c.Schemas(e.ctx, e.remoteWorld(), at)
			if err != nil {
				return flagError(err, "at")
			}
			out := make([]schemaJSON, 0, len(list))
			for _, sc := range list {
				out = append(out, schemaJSON{sc.Name, sc.ID})
			}
			if e.json {
				return e.printJSON(out)
			}
			for _, sc := range out {
				if _, err := fmt.Fprintf(e.stdout, "%s %s\n", sc.Name, sc.ID); err != nil {
					return err
				}
			}
			return nil
		},
	}
	ls.Flags().StringVar(&at, "at", "", "list the schemas of this commit (default: the head)")
	var showAt string
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Print a schema of /sys/schemas in the schema language",
		Long: `Print the schema NAME of /sys/schemas at the head (or at --at) in the schema
language (docs/coda.md), one field or variant a line, every variant with its
tag: with the schemas it names, the text compiles to the same id. With
--json: {"name", "id", "text"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRevFlag(cmd, "at", showAt); err != nil {
				return err
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			sc, err := c.Schema(e.ctx, e.remoteWorld(), args[0], showAt)
			if err != nil {
				return flagError(err, "at")
			}
			if e.json {
				return e.printJSON(sc)
			}
			_, err = fmt.Fprint(e.stdout, sc.Text)
			return err
		},
	}
	show.Flags().StringVar(&showAt, "at", "", "read the schema of this commit (default: the head)")
	cmd.AddCommand(add, ls, show)
	return cmd
}
