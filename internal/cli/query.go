package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api/client"
)

func init() {
	register(newQueryCmd)
	register(newIndexCmd)
}

func newQueryCmd(e *env) *cobra.Command {
	var req client.QueryRequest
	var follow, sel []string
	var stats bool
	cmd := &cobra.Command{
		Use:   "query PREFIX",
		Short: "Select the values under a directory: filter, follow links, order, limit",
		Long: `Select the values directly in the directory PREFIX (-r: anywhere under it)
that the expression --where (CEL, over the value's fields; docs/query.md)
is true of, with link fields named by --follow inlined (a.b follows a, then
b in what a links to; --depth bounds the links followed), only the fields
--select names, ordered by --order FIELD (-FIELD: descending; default: path
order), at most --limit of them. When more remain, the cursor to resume
with (--cursor) is printed to stderr. --at queries a past commit;
--history makes PREFIX a value's path and returns each version of it with
the commit that wrote it, newest first.

An indexed field (coal index add) pinned by the filter (==, <, <=, >, >=
against a literal) is looked up in its index instead of scanning.

Output: a table (PATH, then the fields); with --json, one JSON line per
value ({"path","id","schema","value"}, "commit" with --history) and a last
line {"end":true,"at","next","stats"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRevFlag(cmd, "at", req.At); err != nil {
				return err
			}
			if req.Limit < 0 || req.Depth < 0 {
				return usageError{fmt.Errorf("--limit and --depth must not be negative")}
			}
			req.Prefix = args[0]
			req.Follow = splitList(follow)
			req.Select = splitList(sel)
			c, err := e.api()
			if err != nil {
				return err
			}
			var rows []client.QueryRow
			enc := json.NewEncoder(e.stdout)
			end, err := c.Query(e.ctx, e.remoteWorld(), req, func(r client.QueryRow) error {
				if e.json {
					return enc.Encode(r)
				}
				rows = append(rows, r)
				return nil
			})
			if err != nil {
				return flagError(err, "at")
			}
			if e.json {
				return enc.Encode(end)
			}
			if err := printRows(e, rows, req.History); err != nil {
				return err
			}
			if end.Next != "" {
				fmt.Fprintf(e.stderr, "more: --cursor %s\n", end.Next)
			}
			if stats && end.Stats != nil {
				fmt.Fprintf(e.stderr, "plan: %s; read %d, matched %d\n", end.Stats.Plan, end.Stats.Read, end.Stats.Matched)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Where, "where", "", "a CEL expression over the value's fields")
	f.StringSliceVar(&follow, "follow", nil, "link fields to inline (FIELD or FIELD.FIELD…; repeat or comma-separate)")
	f.IntVar(&req.Depth, "depth", 0, "the most links followed from a value (default: the longest --follow chain)")
	f.StringSliceVar(&sel, "select", nil, "the fields to return (default: all)")
	f.StringVar(&req.Order, "order", "", "order by this field (-FIELD: descending)")
	f.IntVar(&req.Limit, "limit", 0, "return at most N values")
	f.StringVar(&req.Cursor, "cursor", "", "resume where a --limit query stopped")
	f.StringVar(&req.At, "at", "", "query this commit (default: the head)")
	f.BoolVar(&req.History, "history", false, "PREFIX is a value: every version of it, with the commit that wrote it")
	f.BoolVarP(&req.Recursive, "recursive", "r", false, "every value under PREFIX, not only its children")
	f.BoolVar(&req.NoIndex, "no-index", false, "scan even when an index could answer")
	f.BoolVar(&stats, "stats", false, "print the plan and the values read to stderr")
	return cmd
}

func splitList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// printRows prints rows as a table: PATH (COMMIT with history), then one
// column per top-level field of the values, in the first value's order.
func printRows(e *env, rows []client.QueryRow, history bool) error {
	var cols []string
	seen := map[string]bool{}
	cells := make([]map[string]string, len(rows))
	for i, r := range rows {
		cells[i] = map[string]string{}
		d := json.NewDecoder(bytes.NewReader(r.Value))
		d.UseNumber()
		if t, err := d.Token(); err != nil || t != json.Delim('{') {
			cells[i][""] = string(r.Value)
			if !seen[""] {
				seen[""] = true
				cols = append(cols, "")
			}
			continue
		}
		for d.More() {
			t, err := d.Token()
			if err != nil {
				break
			}
			k, _ := t.(string)
			var raw json.RawMessage
			if err := d.Decode(&raw); err != nil {
				break
			}
			var s string
			if string(raw) == "null" || json.Unmarshal(raw, &s) != nil {
				s = string(raw)
			}
			cells[i][k] = s
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	head := []string{"PATH"}
	if history {
		head = []string{"COMMIT", "PATH"}
	}
	for _, c := range cols {
		if c == "" {
			c = "VALUE"
		}
		head = append(head, strings.ToUpper(c))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for i, r := range rows {
		line := []string{r.Path}
		if history {
			line = []string{r.Commit.Short(), r.Path}
		}
		for _, c := range cols {
			line = append(line, strings.NewReplacer("\t", " ", "\n", " ").Replace(cells[i][c]))
		}
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	return tw.Flush()
}

func newIndexCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Declare, list and drop the indexes of directories",
		Long: `An index on a field of a directory's schema is kept in the tree, at
DIR/.index/FIELD, by every commit that changes the directory's values (so it
is versioned, replicates, merges and answers --at queries). coal query uses
it when its filter pins the field (docs/query.md).`,
	}
	var msg string
	add := &cobra.Command{
		Use:   "add DIR FIELD",
		Short: "Index FIELD of DIR's values (built in the same commit)",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			res, err := c.AddIndex(e.ctx, e.remoteWorld(), client.IndexRequest{Dir: args[0], Field: args[1], Message: msg})
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(res)
			}
			return e.printCommit(res.Commit)
		},
	}
	add.Flags().StringVarP(&msg, "message", "m", "", "the commit message")
	var at string
	ls := &cobra.Command{
		Use:   "ls [DIR]",
		Short: "List the indexes on DIR (default: on every directory)",
		Long:  `List the indexes, one a line: DIR FIELD. With --json: [{"dir","field","path"}].`,
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRevFlag(cmd, "at", at); err != nil {
				return err
			}
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			list, err := c.Indexes(e.ctx, e.remoteWorld(), dir, at)
			if err != nil {
				return flagError(err, "at")
			}
			if e.json {
				return e.printJSON(list)
			}
			for _, x := range list {
				if _, err := fmt.Fprintf(e.stdout, "%s %s\n", x.Dir, x.Field); err != nil {
					return err
				}
			}
			return nil
		},
	}
	ls.Flags().StringVar(&at, "at", "", "list the indexes of this commit (default: the head)")
	var rmMsg string
	rm := &cobra.Command{
		Use:   "rm DIR FIELD",
		Short: "Drop the index on FIELD of DIR",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			res, err := c.RemoveIndex(e.ctx, e.remoteWorld(), args[0], args[1], rmMsg)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(res)
			}
			return e.printCommit(res.Commit)
		},
	}
	rm.Flags().StringVarP(&rmMsg, "message", "m", "", "the commit message")
	cmd.AddCommand(add, ls, rm)
	return cmd
}
