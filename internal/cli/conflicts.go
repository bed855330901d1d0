package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/cdb/tree"
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
			return e.withWorld(func(s *session) error {
				v, err := e.view(s)
				if err != nil {
					return err
				}
				var id coda.ID
				if len(args) == 1 {
					c, err := s.loadVisible(v, args[0])
					if err != nil {
						return err
					}
					id = c.ID
				}
				ks, err := v.Conflicts(id)
				if err != nil {
					return err
				}
				out := make([]conflictJSON, 0, len(ks))
				for _, k := range ks {
					w, err := s.side(id, k.Winner, k.WinnerStamp, k.WinnerItem)
					if err != nil {
						return err
					}
					l, err := s.side(id, k.Loser, k.LoserStamp, k.LoserItem)
					if err != nil {
						return err
					}
					out = append(out, conflictJSON{Path: k.Path, Meta: k.Meta, Winner: w, Loser: l})
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
			})
		},
	}
}

// side describes one side of a conflict recorded in commit rev.
func (s *session) side(rev, id coda.ID, st tree.Stamp, it *cdb.Item) (sideJSON, error) {
	j := sideJSON{ID: id, Time: formatTime(hlc.Time(st.Time)), Author: cdb.KeyString(st.Author[:])}
	if it != nil && it.Kind == cdb.ItemValue && it.Schema != nil {
		v, err := s.valueJSON(rev, *it)
		if err != nil {
			return sideJSON{}, err
		}
		j.Value = v
	}
	return j, nil
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
