package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newLibCmd) }

func newLibCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lib",
		Short: "The world's content-addressed code library (/lib)",
		Long: `A world's code library is /lib: each /lib/NAME holds an exported routine with
every routine it needs, and the routine's library id, the BLAKE3 of its
canonical form with the names it calls replaced by their ids: one id means
exactly one piece of code (docs/programs.md). coal prog add fills it; Co
sources import from it with + .lib :NAME ; and link by id with <NAME.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "ls",
		Short: "List the library: NAME ID per line",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			ls, err := c.Lib(e.ctx, e.remoteWorld())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(ls)
			}
			for _, l := range ls {
				fmt.Fprintf(e.stdout, "%s %s\n", l.Name, l.ID)
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show ID",
		Short: "Show a library routine by id (or unique prefix)",
		Long: `Show the library routine with the id ID (or a unique prefix of it): its id,
its names under /lib, its size, the routines it needs, and its code as Co
(the names of the routines it calls are /lib names, or _ID for routines
stored only as another's dependency).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			r, err := c.LibRoutine(e.ctx, e.remoteWorld(), args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(r)
			}
			fmt.Fprintf(e.stdout, "id %s\nnames %s\ncode %d bytes\n", r.ID, strings.Join(r.Names, " "), r.Code)
			for _, d := range r.Deps {
				name := d.Name
				if name == "" {
					name = "-"
				}
				fmt.Fprintf(e.stdout, "dep %s %s\n", name, d.ID)
			}
			_, err = fmt.Fprintf(e.stdout, "\n%s\n", r.Source)
			return err
		},
	})
	return cmd
}
