package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/errs"
)

func init() { register(newGroupCmd) }

// groupJSON is one group in coal group ls --json.
type groupJSON struct {
	Name    string    `json:"name"`
	Members []acl.Who `json:"members"`
}

func newGroupCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Manage groups of keys",
		Long: `A group is the entry /sys/groups/NAME of a world: a list of keys and other
groups, usable in ACLs as group:NAME. Changing a group is an ordinary commit
and needs admin on /sys/groups (docs/security.md).

A member (KEY) is the name of a key of this home, a public key (ed25519:…) or
another group (group:NAME).`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "add NAME KEY...",
		Short: "Add members to a group, creating it if needed",
		Long: `Add each KEY to the group NAME in one commit, creating the group if it does
not exist, and print the commit's id. A member that would make the group
contain itself, directly or through other groups, is refused, naming the
cycle.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageError{fmt.Errorf("group add: want NAME and at least one KEY")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withWorld(func(s *session) error {
				return e.changeGroup(s, args[0], args[1:], true)
			})
		},
	}, &cobra.Command{
		Use:   "rm NAME [KEY...]",
		Short: "Remove members from a group, or the group",
		Long: `Remove each KEY from the group NAME in one commit; with no KEY, delete the
group. Print the commit's id. Removing a key that is not a member is an
error, and nothing changes.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usageError{fmt.Errorf("group rm: want NAME [KEY...]")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withWorld(func(s *session) error {
				return e.changeGroup(s, args[0], args[1:], false)
			})
		},
	}, &cobra.Command{
		Use:   "ls [NAME]",
		Short: "List the groups, or a group's members",
		Long: `Without NAME, list the groups of the world, one name a line. With NAME, list
its members one a line: ed25519:KEY (followed by the key's local name in
parentheses when this home holds it) or group:NAME. With --json, a list of
{"name", "members"}.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withWorld(func(s *session) error {
				return e.listGroups(s, args)
			})
		},
	})
	return cmd
}

// groupPath returns the path of the group name, refusing a bad name.
func groupPath(name string) (string, error) {
	if !tree.ValidName(name) {
		return "", errs.E(errs.Invalid, fmt.Sprintf("bad group name %q: a group name is a path segment", name))
	}
	return acl.GroupsDir + "/" + name, nil
}

// readGroup returns the group at path as v shows it, and whether it
// exists (for v: a group v may not read does not).
func readGroup(v *aclView, path string) (acl.Group, bool, error) {
	it, ok, err := v.item(path)
	if !ok {
		return acl.Group{}, false, err
	}
	if it.Kind != cdb.ItemValue {
		return acl.Group{}, false, errs.E(errs.Invalid, errs.Path(path), "not a group")
	}
	g, err := acl.DecodeGroup(it.Raw)
	if err != nil {
		return acl.Group{}, false, errs.E(errs.Invalid, errs.Path(path), err)
	}
	return g, true, nil
}

// changeGroup adds members to (add) or removes members from the group
// name, at the head, in one commit; removing no members deletes the group.
func (e *env) changeGroup(s *session, name string, members []string, add bool) error {
	p, err := groupPath(name)
	if err != nil {
		return err
	}
	head, err := s.world.Head()
	if err != nil {
		return err
	}
	v, err := e.aclView(s, head)
	if err != nil {
		return err
	}
	g, exists, err := readGroup(v, p)
	if err != nil {
		return err
	}
	var whos []acl.Who
	for _, m := range members {
		w, err := s.parseWho(m)
		if err != nil {
			return err
		}
		if w.Kind == acl.AnyoneWho {
			return errs.E(errs.Invalid, "anyone cannot be a group member (grant to anyone instead)")
		}
		whos = append(whos, w)
	}
	var op cdb.Op
	var msg string
	switch {
	case add:
		g.Add(whos...)
		if err := acl.CheckGroup(v.Reader, name, g); err != nil {
			return err
		}
		raw, err := g.Encode()
		if err != nil {
			return err
		}
		op = cdb.Op{Kind: cdb.Put, Path: p, Raw: raw}
		msg = "group add " + name + " " + strings.Join(members, " ")
	case !exists:
		return errs.E(errs.NotExist, errs.Path(p), fmt.Sprintf("no group %s", name))
	case len(whos) == 0:
		op = cdb.Op{Kind: cdb.Delete, Path: p}
		msg = "group rm " + name
	default:
		for i, w := range whos {
			if !g.Remove(w) {
				return errs.E(errs.NotExist, errs.Path(p), fmt.Sprintf("%s is not a member of group %s", members[i], name))
			}
		}
		raw, err := g.Encode()
		if err != nil {
			return err
		}
		op = cdb.Op{Kind: cdb.Put, Path: p, Raw: raw}
		msg = "group rm " + name + " " + strings.Join(members, " ")
	}
	return e.commit(s, []cdb.Op{op}, msg)
}

// listGroups prints the groups (args empty) or the group args[0].
func (e *env) listGroups(s *session, args []string) error {
	head, err := s.world.Head()
	if err != nil {
		return err
	}
	r, err := e.aclView(s, head)
	if err != nil {
		return err
	}
	var names []string
	if len(args) == 1 {
		p, err := groupPath(args[0])
		if err != nil {
			return err
		}
		if _, ok, err := readGroup(r, p); err != nil {
			return err
		} else if !ok {
			return errs.E(errs.NotExist, errs.Path(p), fmt.Sprintf("no group %s", args[0]))
		}
		names = args
	} else {
		ents, err := r.view.List(head, acl.GroupsDir)
		if err != nil && !errs.Is(err, errs.NotExist) {
			return err
		}
		for _, d := range ents {
			if d.Kind == cdb.ItemValue {
				names = append(names, d.Name)
			}
		}
	}
	out := make([]groupJSON, 0, len(names))
	for _, n := range names {
		g, _, err := readGroup(r, acl.GroupsDir+"/"+n)
		if err != nil {
			return err
		}
		if g.Members == nil {
			g.Members = []acl.Who{}
		}
		out = append(out, groupJSON{Name: n, Members: g.Members})
	}
	if e.json {
		return e.printJSON(out)
	}
	var b strings.Builder
	if len(args) == 1 {
		for _, m := range out[0].Members {
			fmt.Fprintln(&b, s.whoText(m))
		}
	} else {
		for _, g := range out {
			fmt.Fprintln(&b, g.Name)
		}
	}
	_, err = fmt.Fprint(e.stdout, b.String())
	return err
}
