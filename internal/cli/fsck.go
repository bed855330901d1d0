package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/errs"
)

func init() { register(newFsckCmd) }

// fsckJSON is what coal fsck --json prints: the worlds checked and one
// line per problem, naming the object and its path.
type fsckJSON struct {
	Worlds   []string `json:"worlds"`
	Problems []string `json:"problems"`
	// Withheld lists the values missing by design: withheld by the maker
	// of a bundle that could not read them. They are not problems.
	Withheld []string `json:"withheld"`
}

func newFsckCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "fsck",
		Short: "Check every reachable object's hash and decoding",
		Long: `Check every object reachable from the branches of every world (or of the
world named by --world): each commit's hash and decoding, each tree node
and the tree's canonical structure, each value's hash and decoding. Print
one line per problem, naming the object, its path and its commit, and exit
1 if there is any; print "ok: N worlds checked" if there is none. A value
missing by design — withheld by the maker of a bundle, who could not read
it — is not a problem: it is listed on a line starting "withheld: ".`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			f, err := c.Fsck(e.ctx, e.world)
			if err != nil {
				return err
			}
			out := fsckJSON(f)
			if e.json {
				if err := e.printJSON(out); err != nil {
					return err
				}
			} else {
				var b strings.Builder
				for _, p := range out.Problems {
					fmt.Fprintln(&b, p)
				}
				for _, l := range out.Withheld {
					fmt.Fprintln(&b, "withheld: "+l)
				}
				if _, err := io.WriteString(e.stdout, b.String()); err != nil {
					return err
				}
			}
			if n := len(out.Problems); n > 0 {
				plural := "s"
				if n == 1 {
					plural = ""
				}
				return errs.E(errs.Corrupt, fmt.Sprintf("fsck: the store is corrupt: %d problem%s found", n, plural))
			}
			if !e.json {
				plural := "s"
				if len(out.Worlds) == 1 {
					plural = ""
				}
				_, err = fmt.Fprintf(e.stdout, "ok: %d world%s checked\n", len(out.Worlds), plural)
			}
			return err
		},
	}
}
