package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb/audit"
	"github.com/coalescent/coal/errs"
)

func init() { register(newAuditCmd) }

// auditVerifyJSON is what coal audit --verify --json prints.
type auditVerifyJSON struct {
	Records int `json:"records"`
}

func newAuditCmd(e *env) *cobra.Command {
	var n int
	var verify bool
	cmd := &cobra.Command{
		Use:   "audit [-n N] [--verify]",
		Short: "List or verify the node's audit log",
		Long: `The home keeps an audit log (HOME/audit) of every read and write it serves:
who acted, what, where and with what result. It is node-local (never
replicated) and hash-chained: each record holds the hash of the one before,
and the head is signed by the node key.

coal audit lists the records, oldest first (-n N: the last N), one a line:

	SEQ TIME ACTOR ACTION PATH COMMIT RESULT

ACTOR is the acting key (ed25519:…), ACTION get, list, log, diff, show,
commit, merge or receive, COMMIT a short id, RESULT ok or an error kind
(not-exist, permission, …); "-" stands for an empty field. With --json, the
records as stored: a list of {"seq", "time", "actor", "action", "world",
"path", "commit", "result", "prev"}.

coal audit --verify checks the whole chain and prints "ok: N records"; if
the log was altered it exits 1 naming the first bad record.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("max-count") && n <= 0 {
				return usageError{fmt.Errorf("-n %d: the count must be positive", n)}
			}
			if verify && cmd.Flags().Changed("max-count") {
				return usageError{fmt.Errorf("--verify checks the whole log: it takes no -n")}
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			if verify {
				v, err := c.AuditVerify(e.ctx)
				if err != nil {
					return err
				}
				if e.json {
					return e.printJSON(auditVerifyJSON(v))
				}
				_, err = fmt.Fprintf(e.stdout, "ok: %d records\n", v.Records)
				return err
			}
			raw, err := c.Audit(e.ctx, n)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(raw)
			}
			recs := make([]audit.Record, 0, len(raw))
			for i, m := range raw {
				var r audit.Record
				if err := json.Unmarshal(m, &r); err != nil {
					return errs.E(errs.Corrupt, fmt.Errorf("audit record %d: %w", i, err))
				}
				recs = append(recs, r)
			}
			var b strings.Builder
			for _, r := range recs {
				commit := "-"
				if !r.Commit.IsZero() {
					commit = r.Commit.Short()
				}
				fmt.Fprintf(&b, "%d %s %s %s %s %s %s\n", r.Seq, r.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
					orDash(r.Actor), r.Action, orDash(r.Path), commit, r.Result)
			}
			_, err = fmt.Fprint(e.stdout, b.String())
			return err
		},
	}
	f := cmd.Flags()
	f.IntVarP(&n, "max-count", "n", 0, "list only the last N records (default: all)")
	f.BoolVar(&verify, "verify", false, "check the hash chain; exit 1 naming the first bad record")
	return cmd
}

// orDash is s, or "-" for the empty string.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
