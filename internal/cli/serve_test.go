package cli

import (
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["waitfile"] = cmdWaitFile
	scriptCmds["httpget"] = cmdHTTPGet
}

// cmdWaitFile waits until a file exists and is not empty, for at most 30 s:
//
//	waitfile FILE
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	name := ts.MkAbs(args[0])
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(name); err == nil && fi.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfile %s: not there after 30 s", args[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cmdHTTPGet GETs a path of the API whose URL is in URLFILE, with the bearer
// token in TOKENFILE ("-" for none), and writes the status and body to
// stdout:
//
//	httpget URLFILE TOKENFILE PATH
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: httpget URLFILE TOKENFILE PATH")
	}
	url := strings.TrimSpace(ts.ReadFile(args[0]))
	req, err := http.NewRequest("GET", url+args[2], nil)
	ts.Check(err)
	if args[1] != "-" {
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(ts.ReadFile(args[1])))
	}
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ts.Check(err)
	ts.Stdout().Write([]byte(resp.Status + "\n" + string(b)))
}
