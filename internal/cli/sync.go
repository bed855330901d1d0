package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/errs"
)

func init() { register(newSyncCmd) }

func newSyncCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "sync",
		Short: "Sync the world with every connected peer now, and report",
		Long: `Run one round of world sync (docs/sync.md) now, through the node serving
the home (coal serve): exchange heads of every branch with every connected
peer, pull what they have that this node lacks (each commit validated
before anything is stored; diverged heads merged, branch by branch), and
print one line per peer and branch (main first, then by name; "-" for a
peer that failed before any branch):

	PEER BRANCH in-sync HEAD [pulled N commits, M objects, B bytes] [merged]
	PEER BRANCH behind HEAD [waiting for the peer to merge] [error: …]

then the world's head of main, and this node's head of every branch:

	head HEAD
	branch NAME HEAD

Only the node key syncs (the node's token). Needs a running node: sync
talks to the node's peers. Sync never deletes a branch. With --json:
{"world", "head", "peers": [{"peer", "branch", "head", "in_sync",
"commits", "objects", "bytes", "merged", "waiting", "error"}], "branches":
[{"branch", "head"}]}.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := e.node()
			if c == nil {
				return errs.E(errs.Unavailable, "coal sync needs a running node (coal serve): it syncs with the node's peers")
			}
			rep, err := c.Sync(e.ctx, e.remoteWorld())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(rep)
			}
			for _, p := range rep.Peers {
				state := "behind"
				switch {
				case p.InSync:
					state = "in-sync"
				case p.Deleted:
					state = "deleted"
				}
				branch := p.Branch
				if branch == "" {
					branch = "-"
				}
				line := fmt.Sprintf("%s %s %s %s", p.Peer, branch, state, p.Head)
				if p.Commits > 0 {
					line += fmt.Sprintf(" pulled %d commits, %d objects, %s", p.Commits, p.Objects, byteCount(p.Bytes))
				}
				if p.Merged {
					line += " merged"
				}
				if p.Waiting {
					line += " waiting for the peer to merge"
				}
				if p.Error != "" {
					line += " error: " + p.Error
				}
				if _, err := fmt.Fprintln(e.stdout, line); err != nil {
					return err
				}
			}
			if len(rep.Peers) == 0 {
				fmt.Fprintln(e.stderr, "no connected peer shows this world")
			}
			if _, err := fmt.Fprintf(e.stdout, "head %s\n", rep.Head); err != nil {
				return err
			}
			for _, b := range rep.Branches {
				if _, err := fmt.Fprintf(e.stdout, "branch %s %s\n", b.Branch, b.Head); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
