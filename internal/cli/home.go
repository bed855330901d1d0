package cli

import (
	"context"
	"errors"
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

// key returns the home's key named name ("node" is the node key).
func (s *session) key(name string) (cdb.Identity, error) {
	return s.home.Key(name)
}

// keyName returns the local name of the home's key pub, or "".
func (s *session) keyName(pub [32]byte) string {
	if s.names == nil {
		s.names = make(map[string]string)
		keys, _ := s.home.Keys()
		for _, k := range keys {
			s.names[k.Public] = k.Name
		}
	}
	return s.names[cdb.KeyString(pub[:])]
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

// commit makes one commit of ops on the current branch, signed by the
// author --as chooses, and prints its id.
func (e *env) commit(s *session, ops []cdb.Op, msg string) error {
	who, err := e.author(s)
	if err != nil {
		return err
	}
	c, err := s.world.Commit(e.ctx, who, ops, msg)
	if err != nil {
		return opError(ops, err)
	}
	return e.printCommit(c.ID)
}

// opError names the op an error is about, as ops[I], when the error names
// a path that exactly one of several ops has.
func opError(ops []cdb.Op, err error) error {
	if len(ops) < 2 {
		return err
	}
	p := errPath(err)
	if p == "" {
		return err
	}
	found := -1
	for i, o := range ops {
		if canonPath(o.Path) == p || o.From != "" && canonPath(o.From) == p {
			if found >= 0 {
				return err
			}
			found = i
		}
	}
	if found < 0 {
		return err
	}
	return fmt.Errorf("ops[%d]: %w", found, err)
}

// errPath returns the first path an *errs.Error in err's chain names.
func errPath(err error) string {
	for err != nil {
		var e *errs.Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Path != "" {
			return e.Path
		}
		err = e.Err
	}
	return ""
}

// canonPath is p with a leading slash, as errors name paths.
func canonPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/" + p
	}
	return p
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

// snapshot returns a reader of the tree of commit rev, for evaluating
// rights and reading .acl entries and groups (package acl).
func (s *session) snapshot(rev coda.ID) (acl.Reader, error) {
	c, err := s.world.LoadCommit(rev)
	if err != nil {
		return nil, err
	}
	return acl.TreeReader(s.home.Store(), c.Tree), nil
}

// parseWho reads a principal as the CLI takes it: anyone, group:NAME, a
// public key (ed25519:…) or the name of a key of this home.
func (s *session) parseWho(text string) (acl.Who, error) {
	if text == "anyone" || strings.HasPrefix(text, "group:") || strings.HasPrefix(text, cdb.KeyPrefix) {
		return acl.ParseWho(text)
	}
	id, err := s.key(text)
	if err != nil {
		return acl.Who{}, err
	}
	return acl.Key(id.Public32()), nil
}

// whoText is the text form of who, followed by the local name of its key
// in parentheses when this home holds it.
func (s *session) whoText(who acl.Who) string {
	if who.Kind != acl.KeyWho {
		return who.String()
	}
	if name := s.keyName(who.Key); name != "" {
		return who.String() + " (" + name + ")"
	}
	return who.String()
}

// aclView is a commit of a world as the acting identity sees it, for the
// acl and group commands. Reads of entries go through the world's view
// (cdb.View: filtered, answering what it may not read as missing, and
// audited); Reader reads everything, for evaluating rights, which reads
// .acl entries and groups whatever the asker may read.
type aclView struct {
	acl.Reader
	view    *cdb.View
	rev     coda.ID
	checker *acl.Checker
	who     cdb.Identity
}

// aclView returns the view of commit rev for the identity --as chooses.
func (e *env) aclView(s *session, rev coda.ID) (*aclView, error) {
	who, err := e.author(s)
	if err != nil {
		return nil, err
	}
	r, err := s.snapshot(rev)
	if err != nil {
		return nil, err
	}
	return &aclView{Reader: r, view: s.world.As(who.Public), rev: rev, checker: acl.NewChecker(r), who: who}, nil
}

// item returns the item at path as the identity sees it, and whether it
// exists for it.
func (v *aclView) item(path string) (cdb.Item, bool, error) {
	it, err := v.view.Get(v.rev, path)
	if errs.Is(err, errs.NotExist) {
		return cdb.Item{}, false, nil
	}
	return it, err == nil, err
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
