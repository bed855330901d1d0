package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api/client"
)

func init() {
	register(newModCmd)
	register(newVerifyCmd)
	register(newEvaluateCmd)
	register(newBuildCmd)
}

// The module commands (docs/modules.md): coal mod publish|ls|show, coal
// verify, coal evaluate, coal build. They go through the API like every
// command (apiconn.go); publish reads the DIR here and sends its files.

func newModCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mod",
		Short: "Publish, list and show the modules of a world's catalog",
		Long: `A module is an interface (CODA schemas and functions), specs, implementations
in Co and benches, stored in the catalog of a world: /mod/NAME/... of the
default world, or of --world (docs/modules.md). coal verify checks the
impls against the specs, coal evaluate scores the verified ones on the
benches, coal build makes the best one /mod/NAME/main, which
coal call /mod/NAME/main --entry FUNCTION runs.`,
	}
	cmd.AddCommand(newModPublishCmd(e), newModLsCmd(e), newModShowCmd(e))
	return cmd
}

func newModPublishCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "publish DIR",
		Short: "Store a module DIR's objects in the catalog, in one commit",
		Long: `Read the module DIR (docs/modules.md, "The DIR format": interface.json, the
.coda file it names, impls/NAME.co, specs/NAME.json, benches/NAME.json and
predicate programs), check it whole, and store its objects under /mod/NAME
in one commit (the interface's schemas also go to /sys/schemas). Co files
may import the world's /lib (+ .lib :NAME ;): routines linked by id are
linked into the stored program, so it runs the same on every node. Objects
already in the catalog are skipped; an interface different from the one
published under the same name is refused (conflict). Any error in DIR is
reported as DIR/FILE:LINE:COL: message and changes nothing. Prints:

	published NAME: N new of M objects
	commit COMMIT

(or "NAME: nothing new (M objects already in the catalog)"). With --json:
{"module", "interface", "commit", "entries": [{"kind", "module", "id",
"path"}], "new"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := client.ReadModuleDir(args[0])
			if err != nil {
				return err
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			res, err := c.PublishModule(e.ctx, e.remoteWorld(), req)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(res)
			}
			if res.Commit == nil {
				_, err = fmt.Fprintf(e.stdout, "%s: nothing new (%d objects already in the catalog)\n", res.Module, len(res.Entries))
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "published %s: %d new of %d objects\ncommit %s\n", res.Module, res.New, len(res.Entries), res.Commit)
			return err
		},
	}
}

func newModLsCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the catalog's modules",
		Long: `List the modules of the catalog the acting identity may read, one per line:

	NAME  FUNCTIONS  N impls  N specs  N benches  N results  [built IMPL]

With --json: [{"name", "interface", "functions", "specs", "impls",
"benches", "results", "built"}].`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			ms, err := c.Modules(e.ctx, e.remoteWorld())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(ms)
			}
			for _, m := range ms {
				line := fmt.Sprintf("%s  %s  %s  %s  %s  %s", m.Name, strings.Join(m.Functions, ","),
					count(m.Impls, "impl"), count(m.Specs, "spec"), count(m.Benches, "bench"), count(m.Results, "result"))
				if m.Built != nil {
					line += "  built " + m.Built.String()
				}
				if _, err := fmt.Fprintln(e.stdout, line); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// count is "N things", singular for one.
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	switch {
	case strings.HasSuffix(what, "ch"):
		return fmt.Sprintf("%d %ses", n, what)
	case strings.HasSuffix(what, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(what, "y"))
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func newModShowCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a module: its specs and impls, verified by whom, scores, rank",
		Long: `Show module NAME: its interface, its specs, and a table of its impls in the
order build ranks them (ranked first, by steps; then the others):

	module NAME INTERFACE
	function FN INPUT -> OUTPUT
	spec ID NAME (N cases, N properties)
	RANK  IMPL  ID  VERIFIED  STEPS  [built]

VERIFIED is "yes by KEY,..." (the signers of the passing verify Results
that count: the node key's, the acting identity's, or a peer's trusted
for verdicts;
"KEY (NAME)" for a key this home holds) or "no: WHY"; STEPS is the score of the counted evaluate Result ("-" if
none); RANK is "-" for an impl not ranked. Then the build record, if any:

	build IMPL NAME: REASON

With --json: the module table {"module", "interface", "doc", "functions",
"specs", "benches", "results", "rows": [{"impl", "name", "program",
"verified", "why", "by", "steps", "wall_ns", "rank", "built"}], "build"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			t, err := c.Module(e.ctx, e.remoteWorld(), args[0])
			if err != nil {
				return err
			}
			if e.json {
				t.Names = nil // (the CLI's --json leaves local names out, as acl show's)
				return e.printJSON(t)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "module %s %s\n", t.Module, t.Interface)
			for _, f := range t.Functions {
				fmt.Fprintf(&b, "function %s %s -> %s\n", f.Name, f.Input, f.Output)
			}
			for _, s := range t.Specs {
				fmt.Fprintf(&b, "spec %s %s (%s, %s)\n", s.ID, s.Name, count(s.Cases, "case"), count(s.Properties, "property"))
			}
			fmt.Fprintf(&b, "%s, %s\n", count(t.Benches, "bench"), count(t.Results, "result"))
			for _, r := range t.Rows {
				rank, steps := "-", "-"
				if r.Rank > 0 {
					rank = fmt.Sprint(r.Rank)
				}
				if r.Steps != nil {
					steps = fmt.Sprintf("%d steps", *r.Steps)
				}
				ver := "no: " + r.Why
				if r.Verified {
					by := make([]string, len(r.By))
					for i, k := range r.By {
						by[i] = k
						if n := t.Names[k]; n != "" {
							by[i] = k + " (" + n + ")"
						}
					}
					ver = "yes by " + strings.Join(by, ",")
				}
				line := fmt.Sprintf("%s  %s  %s  %s  %s", rank, r.Name, r.Impl, steps, ver)
				if r.Built {
					line += "  built"
				}
				fmt.Fprintln(&b, line)
			}
			if t.Build != nil {
				fmt.Fprintf(&b, "build %s %s: %s\n", t.Build.Impl, t.Build.Name, t.Build.Reason)
			}
			_, err = fmt.Fprint(e.stdout, b.String())
			return err
		},
	}
}

// printReport prints a verify or evaluate report: one line per impl, a
// failure's counterexample, the found specs and the commit.
func (e *env) printReport(rep client.ModuleReport) error {
	var b strings.Builder
	for _, x := range rep.Impls {
		switch {
		case x.Skipped != "":
			fmt.Fprintf(&b, "skip %s %s: %s\n", x.Name, x.Impl, x.Skipped)
		case rep.Kind == "evaluate":
			fmt.Fprintf(&b, "rank %d %s %s: %d steps in %s\n", x.Rank, x.Name, x.Impl, x.Steps, count(x.Runs, "run"))
		case x.Pass:
			fmt.Fprintf(&b, "pass %s %s: %s, %d steps\n", x.Name, x.Impl, count(x.Runs, "run"), x.Steps)
		default:
			fmt.Fprintf(&b, "FAIL %s %s: %s, %d steps\n", x.Name, x.Impl, count(x.Runs, "run"), x.Steps)
			if f := x.Failure; f != nil {
				fmt.Fprintf(&b, "  %s: %s (spec %s)\n", f.Function, f.Reason, f.Spec)
				for _, v := range []struct {
					name string
					json []byte
					obj  []byte
				}{{"input", f.InputValue, f.Input}, {"expected", f.ExpectedValue, f.Expected}, {"got", f.GotValue, f.Got}} {
					switch {
					case v.json != nil:
						fmt.Fprintf(&b, "  %s %s\n", v.name, v.json)
					case len(v.obj) > 0:
						fmt.Fprintf(&b, "  %s %x\n", v.name, v.obj)
					}
				}
			}
		}
	}
	for _, s := range rep.NewSpecs {
		fmt.Fprintf(&b, "new spec %s\n", s)
	}
	if rep.Commit != nil {
		fmt.Fprintf(&b, "commit %s\n", rep.Commit)
	}
	_, err := fmt.Fprint(e.stdout, b.String())
	return err
}

func newVerifyCmd(e *env) *cobra.Command {
	var impls []string
	var cross int
	var steps uint64
	var dry bool
	cmd := &cobra.Command{
		Use:   "verify NAME [--impl IMPL]... [--cross N] [--steps N] [--dry-run]",
		Short: "Check a module's impls against its specs; sign and store the results",
		Long: `Run every case and property of every spec of module NAME on every impl (or
the --impl ones, by name or id), then run the impls against each other on
--cross random inputs per function (default 100, 0 the default, negative
none). A failing input is shrunk to a small one and stored as a new spec
("found by verify on KEY"), so every later verify and every node that
collects the catalog runs it too. One Result per impl, signed by the
node key (the home's; through coal serve, the serving node's: the claim
is the machine's that ran the checks, whoever asked), is stored with the
new specs in one commit made as the acting identity (none with
--dry-run). Prints one line per impl:

	pass IMPL ID: N runs, STEPS steps
	FAIL IMPL ID: N runs, STEPS steps
	  FUNCTION: REASON (spec SPEC)
	  input JSON
	  expected JSON
	  got JSON

then "new spec ID" per spec found and "commit COMMIT". A failing impl is a
finding, not an error: the exit status is 0. With --json: {"module",
"kind", "impls": [{"impl", "name", "pass", "failure": {"spec",
"function", "input", "expected", "got", "reason", "input_value",
"expected_value", "got_value"}, "runs", "steps", "wall_ns", "result"}],
"new_specs", "commit"} (input, expected and got are CODA objects in
base64; the *_value fields the same as JSON).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			rep, err := c.VerifyModule(e.ctx, e.remoteWorld(), args[0], client.VerifyRequest{Impls: impls, Cross: cross, Steps: steps, DryRun: dry})
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(rep)
			}
			return e.printReport(rep)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&impls, "impl", nil, "verify only this impl (name or id; repeatable)")
	f.IntVar(&cross, "cross", 0, "random inputs per function for cross-checking (0: 100, negative: none)")
	f.Uint64Var(&steps, "steps", 0, "the step limit of one run (default 10000000)")
	f.BoolVar(&dry, "dry-run", false, "store nothing")
	return cmd
}

func newEvaluateCmd(e *env) *cobra.Command {
	var steps uint64
	var dry bool
	cmd := &cobra.Command{
		Use:   "evaluate NAME [--steps N] [--dry-run]",
		Short: "Score a module's verified impls on its benches and rank them",
		Long: `Run every bench of module NAME on every verified impl (a passing verify
Result covering every spec, signed by the node key, the acting identity
or a peer trusted for verdicts). The score is the total of the
deterministic steps of every call, the same on every node; the rank is by
ascending steps, ties by impl id. One Result per impl, signed by the node
key as verify's, is stored in one commit (none with --dry-run). Prints the ranked impls, then the skipped ones and why, then
the commit:

	rank N IMPL ID: STEPS steps in N runs
	skip IMPL ID: WHY
	commit COMMIT

With --json: the report, as coal verify's.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			rep, err := c.EvaluateModule(e.ctx, e.remoteWorld(), args[0], client.EvaluateRequest{Steps: steps, DryRun: dry})
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(rep)
			}
			return e.printReport(rep)
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&steps, "steps", 0, "the step limit of one run (default 10000000)")
	f.BoolVar(&dry, "dry-run", false, "store nothing")
	return cmd
}

func newBuildCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "build NAME",
		Short: "Make a module's best verified impl its /mod/NAME/main",
		Long: `Choose the best-ranked verified impl of module NAME (coal mod show's order:
verified, scored over every bench, fewest steps, ties by id; with no bench,
the first verified impl by id) and write /mod/NAME/build (the record: impl,
program, steps, the Results it rests on, why) and /mod/NAME/main (the
impl's program) in one commit. It never chooses an impl that is not
verified: with none, it fails and changes nothing. Prints:

	built NAME: IMPL ID
	REASON

Then coal call /mod/NAME/main --entry FUNCTION runs it. With --json:
{"interface", "impl", "name", "program", "steps", "results", "reason",
"time"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.api()
			if err != nil {
				return err
			}
			b, err := c.BuildModule(e.ctx, e.remoteWorld(), args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(b)
			}
			_, err = fmt.Fprintf(e.stdout, "built %s: %s %s\n%s\n", args[0], b.Name, b.Impl, b.Reason)
			return err
		},
	}
}
