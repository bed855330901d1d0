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
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// This file holds what the database commands share: opening the home and
// the world that --home and --world name, choosing the identity that signs
// (--as), resolving commits, and printing commit ids and times.

// options are the options every command opens or creates a home with:
// the ACL policy (rights of every commit, /.acl at genesis, read filters).
// The home keeps its own audit log (HOME/audit), which receives every read
// made through a view (env.view) and every write.
func (e *env) options() cdb.Options {
	return acl.With(cdb.Options{})
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

// session is an open home and the world --world chose in it.
type session struct {
	home  *cdb.Home
	world *cdb.World
	names map[string]string // public key text → local key name; see keyName
}

// Close closes the home.
func (s *session) Close() error { return s.home.Close() }

// openWorld opens the home and the world named by --world (by name, id or
// unique id prefix; the default world without it). The caller closes it.
func (e *env) openWorld() (*session, error) {
	h, err := e.openHome()
	if err != nil {
		return nil, err
	}
	w, err := h.World(e.world)
	if err != nil {
		h.Close()
		return nil, err
	}
	return &session{home: h, world: w}, nil
}

// withWorld runs f with the home and world open, closing the home after,
// and reports the first error of f and Close.
func (e *env) withWorld(f func(s *session) error) error {
	s, err := e.openWorld()
	if err != nil {
		return err
	}
	err = f(s)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// author returns the identity this call acts as: the node key, unless
// --as names another key of the home. It signs the call's commits, and its
// rights judge them and filter what the call reads.
func (e *env) author(s *session) (cdb.Identity, error) {
	return e.identity(s.home)
}

// identity is author for commands that open no world.
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

// resolve finds the commit rev names in the session's world: a full id or
// a unique prefix of one, or a branch name. For a flag (what is "--at",
// say), the empty rev is the head of the current branch. Errors say which
// argument or flag was wrong.
func (s *session) resolve(what, rev string) (coda.ID, error) {
	if rev == "" && what != "" {
		return s.world.Head()
	}
	if rev == "" {
		return coda.ID{}, errs.E(errs.Invalid, "empty commit name")
	}
	id, err := s.world.Resolve(rev)
	if err != nil {
		if what != "" {
			return coda.ID{}, fmt.Errorf("%s: %w", what, err)
		}
		return coda.ID{}, err
	}
	return id, nil
}

// resolveIn is resolve as the view v sees the world (cdb.View.Resolve): a
// commit the acting identity may not see is named as an unknown one.
func (s *session) resolveIn(v *cdb.View, what, rev string) (coda.ID, error) {
	if rev == "" && what != "" {
		return s.world.Head()
	}
	if rev == "" {
		return coda.ID{}, errs.E(errs.Invalid, "empty commit name")
	}
	id, err := v.Resolve(rev)
	if err != nil {
		if what != "" {
			return coda.ID{}, fmt.Errorf("%s: %w", what, err)
		}
		return coda.ID{}, err
	}
	return id, nil
}

// valueJSON returns the JSON text of a value read from commit rev, whose
// schemas (in /sys/schemas) resolve the schemas of any values inside it.
func (s *session) valueJSON(rev coda.ID, it cdb.Item) ([]byte, error) {
	if it.Schema == nil {
		return nil, errs.E(errs.NotExist, errs.Path(it.Path), fmt.Sprintf("the schema of object %s is not in /sys/schemas (print its bytes with --raw)", it.ID))
	}
	reg, err := s.world.Schemas(rev)
	if err != nil {
		return nil, err
	}
	j, err := it.JSON(reg)
	if err != nil {
		return nil, errs.E(errs.Path(it.Path), err)
	}
	return j, nil
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

// formatTime is how commands show an HLC time: the wall-clock instant, in
// UTC with milliseconds (the logical counter is shown only by coal show).
func formatTime(t hlc.Time) string {
	return t.Wall().Format("2006-01-02T15:04:05.000Z")
}

// keyText is the text form of a commit's author, "" for none.
func keyText(pub []byte) string {
	if pub == nil {
		return ""
	}
	return cdb.KeyString(pub)
}

// view returns the world as the identity --as chooses may read it: what
// it may not read answers exactly like a missing path, and every read is
// audited.
func (e *env) view(s *session) (*cdb.View, error) {
	who, err := e.author(s)
	if err != nil {
		return nil, err
	}
	return s.world.As(who.Public), nil
}

// loadVisible loads the commit rev names as the view v shows it: its
// readable ops only; a commit with none is answered as unknown
// (cdb.View.Resolve).
func (s *session) loadVisible(v *cdb.View, rev string) (*cdb.Commit, error) {
	id, err := s.resolveIn(v, "", rev)
	if err != nil {
		return nil, err
	}
	c, _, err := v.LoadCommit(id)
	return c, err
}
