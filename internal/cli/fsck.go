package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb"
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
			h, err := e.openHome()
			if err != nil {
				return err
			}
			defer h.Close()
			var worlds []*cdb.World
			if e.world != "" {
				w, err := h.World(e.world)
				if err != nil {
					return err
				}
				worlds = append(worlds, w)
			} else {
				infos, err := h.Worlds()
				if err != nil {
					return err
				}
				for _, wi := range infos {
					w, err := h.World(wi.ID.String())
					if err != nil {
						return err
					}
					worlds = append(worlds, w)
				}
			}
			out := fsckJSON{Worlds: []string{}, Problems: []string{}, Withheld: []string{}}
			for _, w := range worlds {
				out.Worlds = append(out.Worlds, w.Name())
				_, err := w.FsckReport(func(p string) {
					p = fmt.Sprintf("world %s: %s", w.Name(), p)
					out.Problems = append(out.Problems, p)
					if !e.json {
						fmt.Fprintln(e.stdout, p)
					}
				}, func(l string) {
					l = fmt.Sprintf("world %s: %s", w.Name(), l)
					out.Withheld = append(out.Withheld, l)
					if !e.json {
						fmt.Fprintln(e.stdout, "withheld: "+l)
					}
				})
				if err != nil && !errs.Is(err, errs.Corrupt) {
					return err
				}
			}
			if e.json {
				if err := e.printJSON(out); err != nil {
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
				if len(worlds) == 1 {
					plural = ""
				}
				_, err = fmt.Fprintf(e.stdout, "ok: %d world%s checked\n", len(worlds), plural)
			}
			return err
		},
	}
}
