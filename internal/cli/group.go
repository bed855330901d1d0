package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/api/client"
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
			c, err := e.api()
			if err != nil {
				return err
			}
			id, err := c.GroupAdd(e.ctx, e.remoteWorld(), args[0], args[1:])
			if err != nil {
				return err
			}
			return e.printCommit(id)
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
			c, err := e.api()
			if err != nil {
				return err
			}
			id, err := c.GroupRemove(e.ctx, e.remoteWorld(), args[0], args[1:])
			if err != nil {
				return err
			}
			return e.printCommit(id)
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
			return e.listGroups(args)
		},
	})
	return cmd
}

// listGroups prints the groups (args empty) or the group args[0].
func (e *env) listGroups(args []string) error {
	c, err := e.api()
	if err != nil {
		return err
	}
	var gs []client.Group
	if len(args) == 1 {
		g, err := c.Group(e.ctx, e.remoteWorld(), args[0])
		if err != nil {
			return err
		}
		gs = []client.Group{g}
	} else if gs, err = c.Groups(e.ctx, e.remoteWorld()); err != nil {
		return err
	}
	out := make([]groupJSON, 0, len(gs))
	for _, g := range gs {
		if g.Members == nil {
			g.Members = []acl.Who{}
		}
		out = append(out, groupJSON{Name: g.Name, Members: g.Members})
	}
	if e.json {
		return e.printJSON(out)
	}
	var b strings.Builder
	if len(args) == 1 {
		for _, m := range gs[0].Members {
			fmt.Fprintln(&b, whoText(m, gs[0].Names))
		}
	} else {
		for _, g := range out {
			fmt.Fprintln(&b, g.Name)
		}
	}
	_, err = fmt.Fprint(e.stdout, b.String())
	return err
}
