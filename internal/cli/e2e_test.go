package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/coda"
)

var e2eFull = flag.Bool("e2e.full", false, "TestServeEndToEnd with issue 6's counts (50 writers × 200 puts, 50 on one path)")

// serveProc is a `coal serve` process that startServeProc started.
type serveProc struct {
	cmd    *exec.Cmd
	c      *client.Client // of the API, with the token in HOME/token
	url    string
	done   chan struct{} // closed once the process has exited
	err    error         // its Wait error, once done is closed
	stderr *strings.Builder
}

// startServe starts `coal serve --api 127.0.0.1:0` on home and waits (with
// a deadline) for HOME/api, which the node writes while it serves. It
// skips the test if this coal has no serve command yet.
func startServe(t *testing.T, bin, home string) (*exec.Cmd, *client.Client) {
	t.Helper()
	p := startServeProc(t, bin, home)
	return p.cmd, p.c
}

// startServeProc is startServe returning the process. A HOME/api left by a
// killed node is not taken for the new one's: the address must answer.
// The process is killed, if still running, when the test ends.
func startServeProc(t *testing.T, bin, home string) *serveProc {
	t.Helper()
	// A port of its own for the network, and no mDNS: nodes of
	// concurrent tests must not find each other.
	p := &serveProc{cmd: exec.Command(bin, "serve", "--api", "127.0.0.1:0", "--home", home,
		"--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns"),
		done: make(chan struct{}), stderr: new(strings.Builder)}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		addr, err := os.ReadFile(filepath.Join(home, "api"))
		if err == nil && len(addr) > 0 {
			token, _ := os.ReadFile(filepath.Join(home, "token"))
			p.url = strings.TrimSpace(string(addr))
			p.c = client.New(p.url, strings.TrimSpace(string(token)), client.Options{})
			if _, err := p.c.Status(context.Background(), ""); err == nil {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("coal serve exited before serving: %v\n%s", p.err, p.stderr.String())
		case <-time.After(10 * time.Millisecond):
			// Polling for the file, with a deadline: the node announces
			// its address only by writing it.
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer at the address in %s after 20s\n%s", filepath.Join(home, "api"), p.stderr.String())
		}
	}
}

// TestServeEndToEnd drives the real `coal serve` over HTTP: writers to
// distinct paths and writers to one shared path at once; then every
// acknowledged commit is in the log, the shared path holds the value of
// the last acknowledged commit in the log's order, and after SIGINT
// `coal replay` and `coal fsck` pass.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the coal binary; skipped with -short")
	}
	writers, puts, shared := 8, 25, 8
	if *e2eFull {
		writers, puts, shared = 50, 200, 50
	}
	bin := coalBinary(t)
	home := filepath.Join(t.TempDir(), "home")
	schema := filepath.Join(t.TempDir(), "v.coda")
	if err := os.WriteFile(schema, []byte("schema V { n: u64  s: string }\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	coalRun(t, bin, "init", "--home", home)
	coalRun(t, bin, "--home", home, "schema", "add", schema)
	coalRun(t, bin, "--home", home, "mkdir", "/d", "--schema", "V")
	cmd, c := startServe(t, bin, home)
	ctx := context.Background()

	var mu sync.Mutex
	acked := map[coda.ID]string{} // commit → value put at /shared ("" for the distinct paths)
	var wg sync.WaitGroup
	errc := make(chan error, writers+shared)
	for w := range writers {
		wg.Go(func() {
			for i := range puts {
				id, err := c.Put(ctx, "", fmt.Sprintf("/d/w%d-p%d", w, i), []byte(fmt.Sprintf(`{"n": %d, "s": "w"}`, i)), "", "")
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				acked[id] = ""
				mu.Unlock()
			}
		})
	}
	for s := range shared {
		wg.Go(func() {
			v := fmt.Sprintf(`{"n":"%d","s":"writer"}`, s) // as the node prints it back
			id, err := c.Put(ctx, "", "/d/shared", []byte(fmt.Sprintf(`{"n": %d, "s": "writer"}`, s)), "", "")
			if err != nil {
				errc <- err
				return
			}
			mu.Lock()
			acked[id] = v
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	log, err := c.Log(ctx, "", "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	inLog := map[coda.ID]bool{}
	lastShared := ""
	for _, cm := range log { // newest first: the first shared commit met is the last
		inLog[cm.ID] = true
		if v := acked[cm.ID]; v != "" && lastShared == "" {
			lastShared = v
		}
	}
	for id := range acked {
		if !inLog[id] {
			t.Errorf("acknowledged commit %s is not in the log", id)
		}
	}
	got, err := c.Get(ctx, "", "/d/shared", "")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Value) != lastShared {
		t.Errorf("/d/shared: got %s, want %s (the last acknowledged commit's)", got.Value, lastShared)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(home, "api")); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the node did not stop within 20s of SIGINT")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The node removes HOME/api before it releases the home; replay
	// retries on a home still in use.
	var out []byte
	for {
		o, err := exec.Command(bin, "--home", home, "replay").CombinedOutput()
		if err == nil {
			out = o
			break
		}
		if !strings.Contains(string(o), "in use") || time.Now().After(deadline) {
			t.Fatalf("coal replay: %v\n%s", err, o)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("replay: %s", out)
	coalRun(t, bin, "--home", home, "fsck")
	var st statusJSON
	if err := json.Unmarshal(coalRun(t, bin, "--home", home, "--json", "status"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Head != log[0].ID {
		t.Errorf("head after stopping: got %s, want %s", st.Head, log[0].ID)
	}
}
