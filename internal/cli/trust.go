package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func init() { register(newTrustCmd) }

func newTrustCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Show or set how far this node trusts its peers",
		Long: `The trust table (docs/trust.md): per peer and per kind of claim (objects,
verdicts, scores), the evidence this node gathered by re-checking the
peer's claims, the opinions others shared, the score and the probability
with which the peer's next claim is re-checked; and the policy you set.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "ls",
		Short: "List the trust table",
		Long: `List the trust table: one line per peer and kind,

	KEY  POLICY  KIND  AGREE  DISAGREE  SHARED  SCORE  RECHECK  COUNTS

KEY the peer's node key; SHARED the weighted pseudo-evidence of opinions
other peers shared; RECHECK the probability its next claim is re-checked;
COUNTS whether its claims count without a re-check. With --json, GET
/v1/trust: [{"key", "peer", "policy", "kinds": [{"kind", "agree",
"disagree", "shared", "score", "recheck_p", "counts"}]}].`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			rows, err := c.Trust(e.ctx)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(rows)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			for _, r := range rows {
				for _, k := range r.Kinds {
					counts := "no"
					if k.Counts {
						counts = "yes"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.3g\t%.3f\t%.3f\t%s\n", r.Key, r.Policy, k.Kind, k.Agree, k.Disagree, k.Shared, k.Score, k.RecheckP, counts)
				}
			}
			return tw.Flush()
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "set PEER allow|deny|auto",
		Short: "Set a peer's trust policy",
		Long: `Set the policy of PEER (a node key ed25519:… or a libp2p peer id): allow
(never re-check its claims, count them fully), deny (ignore its claims and
accept nothing from it, refuse to serve it) or auto (follow the evidence).
Prints the peer's line as coal trust ls does.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			r, err := c.SetTrust(e.ctx, args[0], args[1])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(r)
			}
			_, err = fmt.Fprintf(e.stdout, "%s %s\n", r.Key, r.Policy)
			return err
		},
	})
	return cmd
}
