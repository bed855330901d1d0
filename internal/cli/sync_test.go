package cli

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/coalescent/coal/api/client"
)

func init() {
	scriptCmds["eventually"] = cmdEventually
	scriptCmds["converged"] = cmdConverged
}

// cmdEventually runs a command of the script's programs again and again
// until it succeeds with stdout matching REGEXP (30 s at most):
//
//	eventually REGEXP PROGRAM ARGS...
func cmdEventually(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: eventually REGEXP PROGRAM ARGS...")
	}
	re := regexp.MustCompile("(?m)" + args[0])
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ts.Exec(args[1], args[2:]...)
		out := ts.ReadFile("stdout")
		if err == nil && re.MatchString(out) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("eventually: %s still fails or does not match %q after 30 s: %v\nstdout: %s\nstderr: %s", strings.Join(args[1:], " "), args[0], err, out, ts.ReadFile("stderr"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cmdConverged waits (30 s at most) until the nodes serving the homes
// given hold the world at one head, through their APIs:
//
//	converged WORLD HOME...
func cmdConverged(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: converged WORLD HOME...")
	}
	var cs []*client.Client
	for _, h := range args[1:] {
		home := ts.MkAbs(h)
		url := strings.TrimSpace(ts.ReadFile(home + "/api"))
		token := strings.TrimSpace(ts.ReadFile(home + "/token"))
		cs = append(cs, client.New(url, token, client.Options{}))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var heads []string
		same := true
		for _, c := range cs {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			st, err := c.Status(ctx, args[0])
			cancel()
			h := "?"
			if err == nil {
				h = st.Head.String()
			}
			heads = append(heads, h)
			same = same && h != "?" && h == heads[0]
		}
		if same {
			ts.Setenv("HEAD", heads[0])
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("converged: heads still differ after 30 s: %v", heads)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
