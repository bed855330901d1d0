package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/coda"
)

func init() { register(newPutCmd) }

func newPutCmd(e *env) *cobra.Command {
	var value, schema, file, msg string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "put PATH (--json VALUE [--schema NAME] | --file F | -)",
		Short: "Write a value or a file at a path, in one commit",
		Long: `Write at PATH, in one signed commit on the current branch, and print the
commit's id:

	coal put PATH --json VALUE [--schema NAME]   a value given as JSON
	coal put PATH --file F                       the bytes of file F, as a blob
	coal put PATH -                              the bytes of standard input, as a blob

A JSON value takes the schema named by --schema, or the schema of PATH's
directory (coal mkdir --schema); it must fit that schema, and errors name
the field (docs/coda.md, "JSON mapping"). Values are limited to 16 MiB of
JSON; store larger data as a blob. Parent directories are created as
needed. -m sets the commit message.

Here --json takes the value, so the global --json switch is spelled
--json-output: it prints {"commit": ID}.`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			stdin := len(args) == 2
			if stdin && args[1] != "-" {
				return usageError{fmt.Errorf("unexpected argument %q (want - for standard input)", args[1])}
			}
			given := 0
			for _, b := range []bool{cmd.Flags().Changed("json"), file != "", stdin} {
				if b {
					given++
				}
			}
			switch {
			case given == 0:
				return usageError{fmt.Errorf("put %s: give one of --json, --file or - (standard input)", args[0])}
			case given > 1:
				return usageError{fmt.Errorf("put %s: give only one of --json, --file or -", args[0])}
			case schema != "" && !cmd.Flags().Changed("json"):
				return usageError{fmt.Errorf("put %s: --schema applies to --json values only (files are blobs)", args[0])}
			}
			path := args[0]
			if msg == "" {
				msg = "put " + path
			}
			e.json = e.json || jsonOut
			var blob io.Reader
			size := int64(-1)
			switch {
			case file != "":
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				fi, err := f.Stat()
				if err != nil {
					return err
				}
				if !fi.Mode().IsRegular() {
					return fmt.Errorf("--file %s: not a regular file", file)
				}
				blob, size = f, fi.Size()
			case stdin:
				blob = e.stdin
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			var id coda.ID
			if blob != nil {
				// Streamed to the node, which stores it as it arrives
				// (docs/api.md, "Uploads").
				id, err = c.PutBlob(e.ctx, e.remoteWorld(), path, blob, size, msg)
			} else {
				id, err = c.Put(e.ctx, e.remoteWorld(), path, []byte(value), schema, msg)
			}
			if err != nil {
				return err
			}
			return e.printCommit(id)
		},
	}
	f := cmd.Flags()
	f.StringVar(&value, "json", "", "the value, as JSON")
	f.StringVar(&schema, "schema", "", "the value's schema (default: its directory's)")
	f.StringVar(&file, "file", "", "store this file's bytes as a blob")
	f.StringVarP(&msg, "message", "m", "", "the commit message")
	// put's --json takes the value (as the command is specified), which
	// hides the global --json switch; this is its stand-in here.
	f.BoolVar(&jsonOut, "json-output", false, "print the result as JSON (the global --json, which put's --json VALUE hides)")
	return cmd
}
