package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/api/client"
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
			c, err := e.api()
			if err != nil {
				return err
			}
			// The node resolves --at in the world, not through the
			// identity's view: acl show --at answers what the identity
			// could do then, also at a commit it may no longer see (a
			// revocation hides the grant); the rules it shows are
			// filtered all the same.
			sh, err := c.ACL(e.ctx, e.remoteWorld(), args[0], at)
			if err != nil {
				return flagError(err, "at")
			}
			return e.showACL(sh)
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
			c, err := e.api()
			if err != nil {
				return err
			}
			id, err := c.Revoke(e.ctx, e.remoteWorld(), args[0], args[1], force)
			if err != nil {
				return err
			}
			return e.printCommit(id)
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
			// Rights are checked here too: a bad list is a usage error.
			r, err := acl.ParseRights(args[2])
			if err != nil {
				return usageError{err}
			}
			if r == acl.None {
				return usageError{fmt.Errorf("grant: no rights given (want a comma list of read, write, admin)")}
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			id, err := c.Grant(e.ctx, e.remoteWorld(), args[0], args[1], args[2])
			if err != nil {
				return err
			}
			return e.printCommit(id)
		},
	}, revoke)
	return cmd
}

// showACL prints what coal acl show prints.
func (e *env) showACL(sh client.ACLShow) error {
	out := aclShowJSON{Path: sh.Path, As: sh.As, Rights: sh.Rights, Source: sh.Source, Rules: []aclRuleJSON{}}
	for _, r := range sh.Rules {
		out.Rules = append(out.Rules, aclRuleJSON{ACL: r.ACL, Who: r.Who, Rights: r.Rights})
	}
	if e.json {
		return e.printJSON(out)
	}
	var b strings.Builder
	as := out.As
	if name := sh.Names[as]; name != "" {
		as += " (" + name + ")"
	}
	fmt.Fprintf(&b, "path %s\nas %s\nrights %s\nsource %s\n", out.Path, as, out.Rights, out.Source)
	for _, r := range out.Rules {
		fmt.Fprintf(&b, "rule %s %s %s\n", r.ACL, r.Rights, whoText(r.Who, sh.Names))
	}
	_, err := fmt.Fprint(e.stdout, b.String())
	return err
}

// whoText is the text form of who, followed by the local name of its key
// in parentheses when names (from the node: the home's keys) has one.
func whoText(who acl.Who, names map[string]string) string {
	s := who.String()
	if who.Kind == acl.KeyWho && names[s] != "" {
		return s + " (" + names[s] + ")"
	}
	return s
}
