package cli

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/coalescent/coal/api/client"
)

func init() { scriptCmds["waitmodule"] = cmdWaitModule }

// cmdWaitModule waits, for at most 30 s, until the node serving HOME lists
// module NAME in its catalog with N impls, and prints how long it took:
//
//	waitmodule HOME NAME N
func cmdWaitModule(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitmodule HOME NAME IMPLS")
	}
	home := ts.MkAbs(args[0])
	url := strings.TrimSpace(ts.ReadFile(home + "/api"))
	token := strings.TrimSpace(ts.ReadFile(home + "/token"))
	c := client.New(url, token, client.Options{})
	start := time.Now()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ms, err := c.Modules(ctx, "")
		cancel()
		ts.Check(err)
		for _, m := range ms {
			if m.Name == args[1] && args[2] == strconv.Itoa(m.Impls) {
				ts.Logf("waitmodule: %s on %s after %v", args[1], args[0], time.Since(start).Round(time.Millisecond))
				return
			}
		}
		if time.Since(start) > 30*time.Second {
			ts.Fatalf("waitmodule %s %s: not there after 30 s (modules %+v)", args[0], args[1], ms)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
