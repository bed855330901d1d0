package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func init() { register(newACLCmd) }

// aclShowJSON is what coal acl show --json prints: the acting identity's
// rights on path, where they come from, and the rules that decide who may
// do what there (those of the .acl entries the identity may read).
type aclShowJSON struct {
	Path   string        `json:"path"`
	As     string        `json:"as"`
	Rights acl.Rights    `json:"rights"`
	Source acl.Source    `json:"source"`
	Rules  []aclRuleJSON `json:"rules"`
}

// aclRuleJSON is one rule in coal acl show --json: acl is the .acl entry
// that holds it.
type aclRuleJSON struct {
	ACL    string     `json:"acl"`
	Who    acl.Who    `json:"who"`
	Rights acl.Rights `json:"rights"`
}

func newACLCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "acl",
		Short: "Show and change who may read, write and administer paths",
		Long: `A directory's .acl entry lists rules {who, rights}; the nearest .acl above a
path gives read and write, and admin flows down from every .acl above it
(docs/security.md). Changing an .acl is an ordinary commit that needs admin
there, so coal log, revert and --at work on permissions too.

WHO is the name of a key of this home, a public key (ed25519:…), group:NAME
or anyone. RIGHTS is a comma list of read, write and admin (admin implies
read and write).`,
	}
	var at string
	show := &cobra.Command{
		Use:   "show PATH [--at COMMIT]",
		Short: "Print the acting identity's rights on a path, and the rules behind them",
		Long: `Print the rights the acting identity (--as; default the node key) has on
PATH — for a directory, on its entries — in the head or in the commit --at
names, where they come from, and the rules that decide them: every rule of
the nearest .acl (which alone gives read and write) and the admin rules of
the .acl entries above it. Rules of an .acl the identity may not read are
not shown. So "coal acl show PATH --at COMMIT" answers who could read PATH
then.

	path PATH
	as ed25519:KEY (NAME)
	rights read,write | none | ...
	source /a/.acl | admin from /.acl | owner of /home/KEY | no .acl
	rule ACL RIGHTS WHO        one a line

With --json: {"path", "as", "rights", "source": {"acl", "admin", "home"},
"rules": [{"acl", "who", "rights"}]}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRevFlag(cmd, "at", at); err != nil {
				return err
			}
			return e.withWorld(func(s *session) error {
				// Not through the view (cdb.View.Resolve): acl show --at
				// answers what the identity itself could do then, also at
				// a commit it may no longer see (a revocation hides the
				// grant); the rules it shows are filtered all the same.
				rev, err := s.resolve("--at", at)
				if err != nil {
					return err
				}
				return e.showACL(s, rev, args[0])
			})
		},
	}
	show.Flags().StringVar(&at, "at", "", "evaluate in the tree of this commit (default: the head)")

	var force bool
	revoke := &cobra.Command{
		Use:   "revoke PATH WHO",
		Short: "Remove WHO's rule from the .acl of a directory",
		Long: `Remove the rule naming exactly WHO from the .acl of the directory PATH, in
one commit, and print its id. Rights WHO holds through a group or anyone
are not affected. An .acl left with no rules stays, and gives nobody read
or write there (removing it would let the rules above apply). Removing the
last admin rule of /.acl is refused without --force.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withWorld(func(s *session) error {
				return e.changeACL(s, args[0], args[1], "", force)
			})
		},
	}
	revoke.Flags().BoolVar(&force, "force", false, "remove even the last admin rule of /.acl")

	cmd.AddCommand(show, &cobra.Command{
		Use:   "grant PATH WHO RIGHTS",
		Short: "Give WHO rights in the .acl of a directory",
		Long: `Add RIGHTS to WHO's rule in the .acl of the directory PATH (creating the
rule, the .acl and the directory as needed), in one commit, and print its
id. It needs admin in PATH: nobody can grant themselves what they do not
have.`,
		Args: exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withWorld(func(s *session) error {
				return e.changeACL(s, args[0], args[1], args[2], false)
			})
		},
	}, revoke)
	return cmd
}

// aclPathOf returns the canonical path of directory dir and of its .acl.
func aclPathOf(dir string) (string, string, error) {
	segs, err := tree.SplitPath(dir)
	if err != nil {
		return "", "", err
	}
	p := tree.JoinPath(segs)
	if len(segs) == 0 {
		return p, "/" + acl.ACLName, nil
	}
	return p, p + "/" + acl.ACLName, nil
}

// readACL returns the ACL at path as v shows it, and whether it exists
// (for v: an .acl v may not read does not).
func readACL(v *aclView, path string) (acl.ACL, bool, error) {
	it, ok, err := v.item(path)
	if !ok {
		return acl.ACL{}, false, err
	}
	if it.Kind != cdb.ItemValue {
		return acl.ACL{}, false, errs.E(errs.Invalid, errs.Path(path), "not an ACL")
	}
	a, err := acl.DecodeACL(it.Raw)
	if err != nil {
		// An .acl that does not decode grants nothing (docs/security.md).
		return acl.ACL{}, true, nil
	}
	return a, true, nil
}

// changeACL grants rights (non-empty) to who in the .acl of dir, or
// revokes who's rule there, in one commit at the head.
func (e *env) changeACL(s *session, dir, whoText, rights string, force bool) error {
	p, aclPath, err := aclPathOf(dir)
	if err != nil {
		return err
	}
	who, err := s.parseWho(whoText)
	if err != nil {
		return err
	}
	var r acl.Rights
	if rights != "" {
		if r, err = acl.ParseRights(rights); err != nil {
			return usageError{err}
		}
		if r == acl.None {
			return usageError{fmt.Errorf("grant: no rights given (want a comma list of read, write, admin)")}
		}
	}
	head, err := s.world.Head()
	if err != nil {
		return err
	}
	v, err := e.aclView(s, head)
	if err != nil {
		return err
	}
	if p != "/" {
		it, ok, err := v.item(p)
		if err != nil {
			return err
		}
		if ok && it.Kind != cdb.ItemDir {
			return errs.E(errs.Invalid, errs.Path(p), "not a directory (an .acl belongs to a directory)")
		}
	}
	a, exists, err := readACL(v, aclPath)
	if err != nil {
		return err
	}
	var msg string
	if rights != "" {
		a.Grant(who, r)
		msg = fmt.Sprintf("acl grant %s %s %s", p, who, r)
	} else {
		if !exists || !a.Revoke(who) {
			return errs.E(errs.NotExist, errs.Path(aclPath), fmt.Sprintf("%s has no rule here", who))
		}
		if p == "/" && !force && !hasAdmin(a) {
			return errs.E(errs.Invalid, errs.Path(aclPath), fmt.Sprintf("revoking %s would leave / with no admin (give --force to do it anyway)", who))
		}
		msg = fmt.Sprintf("acl revoke %s %s", p, who)
	}
	raw, err := a.Encode()
	if err != nil {
		return err
	}
	return e.commit(s, []cdb.Op{{Kind: cdb.Put, Path: aclPath, Raw: raw}}, msg)
}

// hasAdmin reports whether a rule of a gives admin.
func hasAdmin(a acl.ACL) bool {
	for _, r := range a.Rules {
		if r.Rights.Has(acl.Admin) {
			return true
		}
	}
	return false
}

// showACL prints what coal acl show prints for path in commit rev.
func (e *env) showACL(s *session, rev coda.ID, path string) error {
	segs, err := tree.SplitPath(strings.TrimSuffix(path, "/"))
	if err != nil {
		return err
	}
	p := tree.JoinPath(segs)
	judged, dirSegs := p, segs
	isDir := strings.HasSuffix(path, "/") || len(segs) == 0
	v, err := e.aclView(s, rev)
	if err != nil {
		return err
	}
	if !isDir {
		// A directory counts as one if the identity may see it.
		it, ok, err := v.item(p)
		if err != nil {
			return err
		}
		isDir = ok && it.Kind == cdb.ItemDir
	}
	if isDir {
		judged = strings.TrimSuffix(p, "/") + "/"
	} else {
		dirSegs = segs[:len(segs)-1]
	}
	rights, src, err := v.checker.Effective(v.who.Public32(), judged)
	if err != nil {
		return err
	}
	out := aclShowJSON{Path: p, As: v.who.Key(), Rights: rights, Source: src, Rules: []aclRuleJSON{}}
	// The nearest .acl's rules, then the admin rules of those above it,
	// nearest first.
	for i := len(dirSegs); i >= 0; i-- {
		_, ap, err := aclPathOf(tree.JoinPath(dirSegs[:i]))
		if err != nil {
			return err
		}
		a, ok, err := readACL(v, ap)
		if err != nil {
			return err
		}
		nearest := src.ACL == ap
		for _, r := range a.Rules {
			if ok && (nearest || r.Rights.Has(acl.Admin)) {
				out.Rules = append(out.Rules, aclRuleJSON{ACL: ap, Who: r.Who, Rights: r.Rights})
			}
		}
	}
	if e.json {
		return e.printJSON(out)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "path %s\nas %s\nrights %s\nsource %s\n", out.Path, s.whoText(acl.Key(v.who.Public32())), out.Rights, out.Source)
	for _, r := range out.Rules {
		fmt.Fprintf(&b, "rule %s %s %s\n", r.ACL, r.Rights, s.whoText(r.Who))
	}
	_, err = fmt.Fprint(e.stdout, b.String())
	return err
}
