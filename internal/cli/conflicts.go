package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/coda"
)

func init() { register(newConflictsCmd) }

// sideJSON is one side of a conflict: the value (absent for a deletion),
// with the stamp that wrote it.
type sideJSON struct {
	ID     coda.ID         `json:"id,omitzero"` // absent: a deletion
	Time   string          `json:"time"`
	Author string          `json:"author"`
	Value  json.RawMessage `json:"value,omitempty"` // absent for blobs and deletions
}

// conflictJSON is one conflict in coal conflicts --json.
type conflictJSON struct {
	Path   string   `json:"path"`
	Meta   bool     `json:"meta,omitempty"`
	Winner sideJSON `json:"winner"`
	Loser  sideJSON `json:"loser"`
}

func newConflictsCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "conflicts [COMMIT]",
		Short: "List the concurrent losers of a merge",
		Long: `List the conflicts recorded by the merge commit COMMIT (default: the head):
every path where the two sides wrote different values concurrently, with
the value kept (winner: the greater stamp) and the value overruled (loser),
each with its id, time, author and value as JSON:

	PATH
	  winner ID TIME AUTHOR VALUE
	  loser  ID TIME AUTHOR VALUE

A deletion shows as "deleted". A commit that is not a merge has none.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			rev := ""
			if len(args) == 1 {
				rev = args[0]
			}
			ks, err := c.Conflicts(e.ctx, e.remoteWorld(), rev)
			if err != nil {
				return argError(err, "commit")
			}
			out := make([]conflictJSON, 0, len(ks))
			for _, k := range ks {
				out = append(out, conflictJSON{Path: k.Path, Meta: k.Meta, Winner: sideJSON(k.Winner), Loser: sideJSON(k.Loser)})
			}
			if e.json {
				return e.printJSON(out)
			}
			var b strings.Builder
			for _, k := range out {
				p := k.Path
				if k.Meta {
					p = strings.TrimSuffix(p, "/") + "/"
				}
				fmt.Fprintf(&b, "%s\n  winner %s\n  loser  %s\n", p, sideText(k.Winner), sideText(k.Loser))
			}
			_, err = fmt.Fprint(e.stdout, b.String())
			return err
		},
	}
}

func sideText(j sideJSON) string {
	if j.ID.IsZero() {
		return fmt.Sprintf("deleted %s %s", j.Time, j.Author)
	}
	v := string(j.Value)
	if v == "" {
		v = "(blob)"
	}
	return fmt.Sprintf("%s %s %s %s", j.ID, j.Time, j.Author, v)
}
