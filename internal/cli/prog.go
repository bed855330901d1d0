package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/errs"
)

func init() { register(newProgCmd) }

func newProgCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prog",
		Short: "Store Co programs in the world",
		Long: `Programs are Co sources assembled and stored as tree values (Program objects,
docs/programs.md), which coal call runs against the world.`,
	}
	cmd.AddCommand(newProgAddCmd(e))
	return cmd
}

func newProgAddCmd(e *env) *cobra.Command {
	var msg string
	cmd := &cobra.Command{
		Use:   "add PATH FILE.co",
		Short: "Assemble a Co source and store the program at a path",
		Long: `Assemble FILE.co and store the Program at PATH: its COINS code, its entry
points (main, the top-level code, and one per exported routine), its
exported routines with their library ids, the library routines it links by
id, its tokenised source (coal get PATH --source gives it back) and the id
of the COINS version it targets (docs/programs.md).

Imports resolve from the world's code library (+ .lib :NAME ; imports the
routine at /lib/NAME) and from the standard library. Exported routines
that have a library id, and the routines the program links by id (<name,
@name), are stored under /lib/NAME in the same commit. The first program
added to a world also adds the program schemas to /sys/schemas, in a
commit of its own.

Prints the program's path, id and size, its entry points, each routine
stored under /lib with its id, each exported routine that has no library id
(it refers to top-level data, pads, or calls one without) with the reason,
and the commit; --json prints the whole result.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := os.ReadFile(args[1])
			if err != nil {
				return errs.E(errs.NotExist, errs.Path(args[1]), err)
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			res, err := c.AddProgram(e.ctx, e.remoteWorld(), args[0], filepath.Base(args[1]), src, msg)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(res)
			}
			names := make([]string, len(res.Entries))
			for i, en := range res.Entries {
				names[i] = en.Name
			}
			fmt.Fprintf(e.stdout, "program %s %s (%d bytes)\n", res.Path, res.Program, res.Code)
			fmt.Fprintf(e.stdout, "entries %s\n", strings.Join(names, " "))
			for _, l := range res.Lib {
				fmt.Fprintf(e.stdout, "lib %s %s\n", l.Name, l.ID)
			}
			for _, u := range res.Unlinked {
				fmt.Fprintf(e.stdout, "unlinked %s: %s\n", u.Name, u.Why)
			}
			_, err = fmt.Fprintf(e.stdout, "commit %s\n", res.Commit)
			return err
		},
	}
	cmd.Flags().StringVarP(&msg, "message", "m", "", "the commit message (default: prog add PATH)")
	return cmd
}

// getSource prints the readable Co source of the program at path (coal
// get PATH --source).
func (e *env) getSource(path, at string) error {
	c, err := e.api()
	if err != nil {
		return err
	}
	res, err := c.ProgramSource(e.ctx, e.remoteWorld(), path, at)
	if err != nil {
		return flagError(err, "at")
	}
	if e.json {
		return e.printJSON(res)
	}
	_, err = fmt.Fprint(e.stdout, res.Source)
	return err
}
