package cli

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run `coal` in process: scripts in
// testdata/script call the real command line through Main.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"coal": func() {
			os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("COAL_HOME", env.WorkDir+"/.coal")
			return nil
		},
		RequireExplicitExec: true,
		Cmds:                scriptCmds,
	})
}

// scriptCmds are extra testscript commands; test files add theirs in init.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){}
