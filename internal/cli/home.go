package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/query"
)

// This file holds what the commands share: opening the home (for the
// in-process API, apiconn.go, and the commands that need it to
// themselves), finding the node that serves it, choosing the identity that
// acts (--as), checking revision flags and printing commit ids.

// options are the options every command opens or creates a home with:
// the ACL policy (rights of every commit, /.acl at genesis, read filters).
// The home keeps its own audit log (HOME/audit), which receives every read
// made through a view and every write. query.With maintains the indexes
// (docs/query.md).
func (e *env) options() cdb.Options {
	return query.With(call.With(acl.With(cdb.Options{})))
}

// openHome opens the coal home named by --home (or COAL_HOME, or ~/.coal)
// with options. The caller closes it. A home a node serves (coal serve) is
// in use: the error then says so, and what to do.
func (e *env) openHome() (*cdb.Home, error) {
	h, err := cdb.Open(e.home, e.options())
	if err != nil && errs.Is(err, errs.Unavailable) {
		if addr, rerr := os.ReadFile(filepath.Join(e.home, "api")); rerr == nil {
			if e.as != "" {
				return nil, servedError(e.home, strings.TrimSpace(string(addr)))
			}
			return nil, fmt.Errorf("%w: a node serves it at %s, and this command needs the home to itself; stop the node (coal serve) to run it", err, strings.TrimSpace(string(addr)))
		}
	}
	return h, err
}

// node returns a client of the node serving the home (coal serve), or
// nil if none does: HOME/api names its address while it serves, and it
// must answer. Commands that go through the node ask this first; the same
// output comes from either path.
func (e *env) node() *client.Client {
	if e.nodeChecked {
		return e.nodeClient
	}
	e.nodeChecked = true
	if e.as != "" {
		// The node acts as its token's identity; --as another key of the
		// home is for the direct path.
		return nil
	}
	addr, err := os.ReadFile(filepath.Join(e.home, "api"))
	if err != nil {
		return nil
	}
	c := client.New(strings.TrimSpace(string(addr)), e.nodeToken(), client.Options{})
	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
	defer cancel()
	if _, err := c.Info(ctx); err != nil {
		e.nodeErr = fmt.Errorf("the node at %s (HOME/api) did not answer: %w", c.BaseURL(), err)
		return nil
	}
	e.nodeClient = c
	return c
}

// remoteWorld is --world as the API names it.
func (e *env) remoteWorld() string { return e.world }

// identity returns the identity this call acts as in h: the node key,
// unless --as names another key of the home (apiconn.go: the in-process
// API acts as it). It signs the call's commits, and its rights judge them
// and filter what the call reads.
func (e *env) identity(h *cdb.Home) (cdb.Identity, error) {
	if e.as == "" {
		return h.NodeKey(), nil
	}
	id, err := h.Key(e.as)
	if err != nil {
		return cdb.Identity{}, fmt.Errorf("--as: %w", err)
	}
	return id, nil
}

// checkRevFlag refuses a flag naming a commit that was given empty: unset,
// it means the head; set to "", it is a mistake.
func checkRevFlag(cmd *cobra.Command, name, value string) error {
	if cmd.Flags().Changed(name) && value == "" {
		return usageError{fmt.Errorf("--%s: empty commit name", name)}
	}
	return nil
}

// commitJSON is what every write prints with --json.
type commitJSON struct {
	Commit coda.ID `json:"commit"`
}

// printCommit reports the commit a write made: its id on a line of its
// own, or {"commit": ID} with --json.
func (e *env) printCommit(id coda.ID) error {
	if e.json {
		return e.printJSON(commitJSON{id})
	}
	_, err := fmt.Fprintln(e.stdout, id)
	return err
}
