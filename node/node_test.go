package node

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/errs"
)

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	n, err := Open(dir, Options{API: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if !n.Created() {
		t.Errorf("Open of a missing home did not create it")
	}
	fi, err := os.Stat(filepath.Join(dir, TokenFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v; want mode 0600", err, fi.Mode())
	}
	tok, _ := ReadToken(dir)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx, func(url string) { ready <- url }) }()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	if got, err := ReadAPI(dir); err != nil || got != url {
		t.Fatalf("ReadAPI = %q, %v; want %q", got, err, url)
	}
	if fi, _ := os.Stat(filepath.Join(dir, APIFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("api file mode %v, want 0600", fi.Mode())
	}
	if code, body := get(t, url+"/v1/info", tok); code != 200 || !strings.Contains(body, n.Home().NodeKey().Key()) {
		t.Errorf("GET /v1/info with the token: %d %s", code, body)
	}
	if code, _ := get(t, url+"/v1/info", ""); code != 401 {
		t.Errorf("GET /v1/info without a token: %d, want 401", code)
	}
	if code, _ := get(t, url+"/v1/info", "nope"); code != 401 {
		t.Errorf("GET /v1/info with a bad token: %d, want 401", code)
	}
	if code, body := get(t, url+"/metrics", tok); code != 200 || !strings.Contains(body, "coal_store_bytes") {
		t.Errorf("GET /metrics: %d %s", code, body)
	}

	_, err = Open(dir, Options{})
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "is in use by another coal process (a running coal serve?)") {
		t.Errorf("second Open: %v, want unavailable: in use by another coal process", err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, APIFile)); !os.IsNotExist(err) {
		t.Errorf("HOME/api after shutdown: %v, want it removed", err)
	}
	n2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after shutdown: %v", err)
	}
	defer n2.Close()
	if n2.Created() {
		t.Errorf("second Open created the home again")
	}
	if tok2, _ := ReadToken(dir); tok2 != tok {
		t.Errorf("token changed on reopen")
	}
}

func TestIdentityToken(t *testing.T) {
	n, err := Open(filepath.Join(t.TempDir(), "home"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := NewIdentityToken(n.Home().Dir(), "nobody"); err == nil {
		t.Fatal("token for a missing key: no error")
	}
	tok, err := NewIdentityToken(n.Home().Dir(), "node")
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(n.Home().Dir(), TokensDir))
	for _, e := range ents {
		if strings.Contains(e.Name(), tok) {
			t.Errorf("tokens/ lists the token itself")
		}
	}
	id, err := n.Tokens().Verify(tok)
	if err != nil || id.Key() != n.Home().NodeKey().Key() {
		t.Errorf("Verify(identity token) = %v, %v", id.Key(), err)
	}
	if _, err := n.Tokens().Verify(""); err == nil {
		t.Errorf("Verify(\"\"): no error")
	}
}
