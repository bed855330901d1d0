package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func init() { register(newShowCmd) }

// opJSON is one op of a commit in --json output: change is put or delete;
// meta marks a directory's metadata leaf (e.g. the schema coal mkdir sets).
type opJSON struct {
	Path   string  `json:"path"`
	Meta   bool    `json:"meta,omitempty"`
	Change string  `json:"change"`
	ID     coda.ID `json:"id,omitzero"`
}

// conflictJSON summarises one conflict of a merge commit in coal show.
type conflictRefJSON struct {
	Path   string  `json:"path"`
	Meta   bool    `json:"meta,omitempty"`
	Winner coda.ID `json:"winner"`
	Loser  coda.ID `json:"loser"`
}

// showJSON is what coal show --json prints. Signature is good, bad or
// none (merge commits are unsigned: any node recomputes them).
type showJSON struct {
	ID        coda.ID           `json:"id"`
	World     coda.ID           `json:"world"`
	Parents   []coda.ID         `json:"parents"`
	Tree      coda.ID           `json:"tree"`
	Author    string            `json:"author,omitempty"` // absent in merge commits
	Time      string            `json:"time"`
	HLC       uint64            `json:"hlc,string"`
	Message   string            `json:"message"`
	Signature string            `json:"signature"`
	Ops       []opJSON          `json:"ops"`
	Conflicts []conflictRefJSON `json:"conflicts"`
	Call      *callJSON         `json:"call,omitempty"` // a call's commit (docs/calls.md)
}

// commitSummaryJSON is a commit in coal log --json.
type commitSummaryJSON struct {
	ID      coda.ID   `json:"id"`
	Parents []coda.ID `json:"parents"`
	Tree    coda.ID   `json:"tree"`
	Author  string    `json:"author,omitempty"` // absent in merge commits
	Time    string    `json:"time"`             // RFC 3339, UTC, milliseconds
	HLC     uint64    `json:"hlc,string"`       // the full hybrid logical clock time
	Message string    `json:"message"`
}

func newShowCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "show COMMIT",
		Short: "Print a commit: its fields, ops and signature status",
		Long: `Print the commit named by COMMIT (an id, a unique prefix of at least 4
characters, or a branch name):

	commit ID
	world ID
	parents ID...          (sorted; none in a genesis commit)
	tree ROOT
	author ed25519:KEY     (empty in merge commits)
	time 2006-01-02T15:04:05.000Z (hlc N)
	signature good|bad|none (merge)
	message TEXT
	call program ID entry NAME input ID|- output ID|- steps N   (a call's commit)
	ops N
	  put PATH ID | delete PATH    (PATH/ for a directory's metadata)
	conflicts N            (merge commits)
	  PATH winner ID loser ID

The signature is checked against the author's key. Exit 1 if it is bad.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			return e.show(c, args[0])
		},
	}
}

// opText is one op as coal show prints it.
func opText(o cdb.Change) string {
	p := o.Path
	if o.Meta {
		p = strings.TrimSuffix(p, "/") + "/"
	}
	if o.Delete {
		return "delete " + p
	}
	return "put " + p + " " + o.ID.String()
}

// show prints the commit rev names as the acting identity sees it: the
// ops it may read (a commit none of whose ops it may read does not exist
// for it); the signature is checked on the whole commit.
func (e *env) show(c *client.Client, rev string) error {
	d, err := c.Commit(e.ctx, e.remoteWorld(), rev)
	if err != nil {
		return err
	}
	if e.json {
		j := showJSON{ID: d.ID, World: d.World, Parents: d.Parents, Tree: d.Tree, Author: d.Author,
			Time: d.Time, HLC: d.HLC, Message: d.Message, Signature: d.Signature,
			Ops: []opJSON{}, Conflicts: []conflictRefJSON{}, Call: d.Call}
		if j.Parents == nil {
			j.Parents = []coda.ID{}
		}
		for _, o := range d.Ops {
			j.Ops = append(j.Ops, opJSON(o))
		}
		for _, k := range d.Conflicts {
			j.Conflicts = append(j.Conflicts, conflictRefJSON(k))
		}
		if err := e.printJSON(j); err != nil {
			return err
		}
	} else {
		sig := d.Signature
		if sig == "none" {
			sig = "none (merge)"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "commit %s\nworld %s\nparents", d.ID, d.World)
		for _, p := range d.Parents {
			fmt.Fprintf(&b, " %s", p)
		}
		fmt.Fprintf(&b, "\ntree %s\nauthor", d.Tree)
		if d.Author != "" {
			fmt.Fprintf(&b, " %s", d.Author)
		}
		fmt.Fprintf(&b, "\ntime %s (hlc %d)\nsignature %s\nmessage %s\n", d.Time, d.HLC, sig, d.Message)
		if k := d.Call; k != nil {
			fmt.Fprintf(&b, "call program %s entry %s input %s output %s steps %d\n", k.Program, k.Entry, idOrDash(k.Input), idOrDash(k.Output), k.Steps)
		}
		fmt.Fprintf(&b, "ops %d\n", len(d.Ops))
		for _, o := range d.Ops {
			fmt.Fprintf(&b, "  %s\n", opText(cdb.Change{Path: o.Path, Meta: o.Meta, Delete: o.Change == "delete", ID: o.ID}))
		}
		if len(d.Conflicts) > 0 {
			fmt.Fprintf(&b, "conflicts %d\n", len(d.Conflicts))
			for _, k := range d.Conflicts {
				fmt.Fprintf(&b, "  %s winner %s loser %s\n", k.Path, k.Winner, k.Loser)
			}
		}
		if _, err := io.WriteString(e.stdout, b.String()); err != nil {
			return err
		}
	}
	if d.Signature == "bad" {
		return errs.E(errs.Invalid, fmt.Sprintf("commit %s: bad signature", d.ID))
	}
	return nil
}
