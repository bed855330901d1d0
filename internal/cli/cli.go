// Package cli implements the coal command line: one cobra command per file,
// all built fresh for each call of Main (no flag globals), reading and
// writing only the streams they are given.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/errs"
)

// Version is coal's version, reported by `coal version`.
const Version = "0.1.0-dev"

// env is what every command sees: its streams and the global flags.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	home  string // --home, COAL_HOME, or ~/.coal
	world string // --world NAME|ID
	json  bool   // --json
	as    string // --as NAME

	nodeChecked bool           // node was called
	nodeClient  *client.Client // the node serving the home, if any
	nodeErr     error          // why the node HOME/api names did not answer, if it did not

	apiClient *client.Client // what api returned (apiconn.go)
	closers   []func() error // run by close after the command, last first
}

// usageError marks errors in how a command was called (exit status 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// Main runs coal with args (without the program name) and returns the exit
// status. It is the only entry point: main calls it, tests call it in process.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if cerr := e.close(); err == nil {
		err = cerr
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, ee.msg)
		}
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "coal: %v\n", err)
		return 2
	}
	if e.json {
		kind := errs.KindOf(err)
		b, _ := json.Marshal(map[string]string{"error": err.Error(), "kind": kind.String()})
		fmt.Fprintln(stderr, string(b))
		return kind.ExitCode()
	}
	fmt.Fprintf(stderr, "coal: %v\n", err)
	return errs.KindOf(err).ExitCode()
}

// exitError ends a command with a chosen status and an optional message,
// printed as is (e.g. a program's own exit code, or a list of errors).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.msg) }

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "coal",
		Short:         "coal turns a set of machines into one computer",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if e.home == "" {
				e.home = os.Getenv("COAL_HOME")
			}
			if e.home == "" {
				dir, err := os.UserHomeDir()
				if err != nil {
					return fmt.Errorf("find home directory: %w (set --home or COAL_HOME)", err)
				}
				e.home = filepath.Join(dir, ".coal")
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{err}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&e.home, "home", "", "coal home directory (default $COAL_HOME or ~/.coal)")
	pf.StringVar(&e.world, "world", "", "world to act on, by name or id (default: the default world)")
	pf.BoolVar(&e.json, "json", false, "print data as JSON")
	pf.StringVar(&e.as, "as", "", "act as this identity (default: the node key)")

	root.AddCommand(
		newVersionCmd(e),
	)
	for _, add := range commands {
		root.AddCommand(add(e))
	}
	return root
}

// commands lists constructors registered by the command files' init
// functions, so adding a command touches only its own file.
var commands []func(*env) *cobra.Command

func register(f func(*env) *cobra.Command) { commands = append(commands, f) }

// exactArgs is cobra.ExactArgs reported as a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs reported as a usage error.
func rangeArgs(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(min, max)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// printJSON writes v as one line of JSON to the command's stdout.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	return enc.Encode(v)
}

// markedRow is a line of a list in which one entry is the current one
// (coal branch, coal world ls).
type markedRow struct {
	marked   bool
	name, id string
}

// printMarked prints rows as "* NAME ID" for the marked one and
// "  NAME ID" for the others.
func (e *env) printMarked(rows []markedRow) error {
	for _, r := range rows {
		mark := " "
		if r.marked {
			mark = "*"
		}
		if _, err := fmt.Fprintf(e.stdout, "%s %s %s\n", mark, r.name, r.id); err != nil {
			return err
		}
	}
	return nil
}
