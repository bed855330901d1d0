package cli

import (
	"context"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/coalescent/coal/api/client"
)

func init() { scriptCmds["waitpeer"] = cmdWaitPeer }

// cmdWaitPeer waits, for at most 30 s, until the node serving HOME lists
// PEER-ID as connected (or, with !, no longer does):
//
//	[!] waitpeer HOME PEER-ID
func cmdWaitPeer(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: [!] waitpeer HOME PEER-ID")
	}
	home := ts.MkAbs(args[0])
	url := strings.TrimSpace(ts.ReadFile(home + "/api"))
	token := strings.TrimSpace(ts.ReadFile(home + "/token"))
	c := client.New(url, token, client.Options{})
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ps, err := c.Peers(ctx)
		cancel()
		ts.Check(err)
		connected := false
		for _, p := range ps {
			connected = connected || (p.ID == args[1] && p.Connected)
		}
		if connected != neg {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitpeer %s %s: connected is still %v after 30 s", args[0], args[1], connected)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
