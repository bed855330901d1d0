package cli

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/coalescent/coal/errs"
)

var e2eFull = flag.Bool("e2e.full", false, "TestServeEndToEnd with issue 6's counts (50 writers × 200 puts, 50 on one path)")

// startServe starts `coal serve --api 127.0.0.1:0` on home and waits (with
// a deadline) for HOME/api, which the node writes while it serves. It
// skips the test if this coal has no serve command yet.
func startServe(t *testing.T, bin, home string) (*exec.Cmd, *client.Client) {
	t.Helper()
	if out, err := exec.Command(bin, "serve", "--help").CombinedOutput(); err != nil {
		t.Skipf("coal serve is not there yet: %v: %s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--api", "127.0.0.1:0", "--home", home)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		addr, err := os.ReadFile(filepath.Join(home, "api"))
		if err == nil && len(addr) > 0 {
			token, _ := os.ReadFile(filepath.Join(home, "token"))
			c := client.New(strings.TrimSpace(string(addr)), strings.TrimSpace(string(token)), client.Options{})
			if _, err := c.Status(context.Background(), ""); errors.Is(err, errs.NotExist) {
				t.Skipf("coal serve does not serve the API's routes yet: GET status: %v", err)
			}
			return cmd, c
		}
		select {
		case err := <-exited:
			t.Fatalf("coal serve exited before serving: %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
			// Polling for the file, with a deadline: the node announces
			// its address only by writing it.
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 20s\n%s", filepath.Join(home, "api"), stderr.String())
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
