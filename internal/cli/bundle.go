package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/bundle"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func init() { register(newBundleCmd) }

// bundleApplyJSON is what coal bundle apply --json prints.
type bundleApplyJSON struct {
	World       coda.ID `json:"world"`
	Name        string  `json:"name"`
	Head        coda.ID `json:"head"`
	Commits     int     `json:"commits"`
	Objects     int     `json:"objects"`
	Withheld    int     `json:"withheld"`
	FastForward bool    `json:"fast_forward"`
	Merge       coda.ID `json:"merge,omitzero"`
}

func newBundleCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Carry a world on a disk: create and apply bundles",
		Long: `A bundle is a file holding the commits of a branch and the objects they
need (docs/bundle.md): a world carried on a disk, no network needed. coal
clone-bundle starts a new home from one.`,
	}
	var since, head string
	create := &cobra.Command{
		Use:   "create FILE [--since COMMIT]",
		Short: "Write the current branch's history to a bundle",
		Long: `Write the commits of the current branch, and the objects the acting identity
(--as) may read, to FILE (replaced whole if it exists: the bundle is
written beside it and renamed). With --since, leave out the commits
reachable from COMMIT (the receiver has them); with --head, bundle the
history of that commit or branch instead of the current branch's. Print
what it holds:

	head ID
	commits N
	objects N
	withheld N
	bytes N

withheld counts the values the commits hold that the acting identity may
not read: they do not travel, and the header lists their ids, so that the
receiver knows they are missing by design. With --json: {"header": {...},
"commits", "objects", "withheld", "bytes"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRevFlag(cmd, "since", since); err != nil {
				return err
			}
			if err := checkRevFlag(cmd, "head", head); err != nil {
				return err
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			var st bundle.Stats
			err = writeFileAtomic(args[0], func(f *os.File) error {
				var err error
				st, err = c.CreateBundle(e.ctx, e.remoteWorld(), since, head, f)
				return flagError(flagError(err, "since"), "head")
			})
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(st)
			}
			_, err = fmt.Fprintf(e.stdout, "head %s\ncommits %d\nobjects %d\nwithheld %d\nbytes %d\n",
				st.Header.Head, st.Commits, st.Objects, st.Withheld, st.Bytes)
			return err
		},
	}
	create.Flags().StringVar(&since, "since", "", "leave out the commits reachable from this one")
	create.Flags().StringVar(&head, "head", "", "bundle the history of this commit or branch (default: the current branch)")

	cmd.AddCommand(create, &cobra.Command{
		Use:   "apply FILE",
		Short: "Validate and store a bundle's commits",
		Long: `Read the bundle FILE and validate every commit in it the home does not hold
— signature, rights judged on its parents, stamps and ops against its tree —
before storing anything. The first invalid commit rejects the whole bundle,
naming it; nothing is stored (exit 1). So is a bundle holding an object none
of its commits refers to, or missing a value its commits hold that it does
not list as withheld. Otherwise store it all atomically (recording the
values withheld by the bundle's maker that this home lacks: coal get of
one says so, and fsck lists them apart from problems) and
move the branch: to the bundle's head if it follows ours, or to the merge of
the two. The bundle's world is found by id (a world the home does not hold
is created under the bundle's name); --world names it explicitly. Print the
branch's new head; with --json {"world", "name", "head", "commits",
"objects", "withheld", "fast_forward", "merge"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			c, err := e.api()
			if err != nil {
				return err
			}
			res, err := c.ApplyBundle(e.ctx, e.world, f)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if e.json {
				return e.printJSON(bundleApplyJSON(res))
			}
			_, err = fmt.Fprintln(e.stdout, res.Head)
			return err
		},
	})
	return cmd
}

// writeFileAtomic writes a file with write, in a temporary file beside
// name that is synced and renamed over name: name is whole or untouched.
func writeFileAtomic(name string, write func(f *os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return errs.E(errs.Path(name), err)
	}
	ok = true
	return nil
}
