package replica

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// gitServer is what the benchmarks that compare a clone with git's
// share: a git binary run with a private configuration (HOME in root, no
// system or global config), and git daemon serving root/git on a free
// port of 127.0.0.1. The repository to clone is root/git/src.
type gitServer struct {
	bin    string
	root   string
	env    []string
	daemon *exec.Cmd
	url    string // git://127.0.0.1:PORT/src, once serving
}

// newGitServer finds git; an error says why the comparison cannot run.
func newGitServer(root string) (*gitServer, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("git is not on PATH (%v): install git to compare with git clone", err)
	}
	env := append(os.Environ(), "HOME="+root, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@example.org",
		"GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@example.org")
	if err := os.MkdirAll(filepath.Join(root, "git"), 0o755); err != nil {
		return nil, err
	}
	return &gitServer{bin: bin, root: root, env: env}, nil
}

// src is the directory of the repository served.
func (g *gitServer) src() string { return filepath.Join(g.root, "git", "src") }

// run runs git in dir with stdin (nil: none).
func (g *gitServer) run(dir string, stdin io.Reader, args ...string) error {
	cmd := exec.Command(g.bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdin = dir, g.env, stdin
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// serve starts git daemon and waits until it answers for src.
func (g *gitServer) serve() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	base := filepath.Join(g.root, "git")
	// git-daemon itself, not `git daemon` (which runs it as a child): a
	// benchmark killed by -timeout or a signal then takes it along
	// (dieWithParent), instead of leaving it serving.
	bin, args := g.bin, []string{"daemon"}
	if out, err := exec.Command(g.bin, "--exec-path").Output(); err == nil {
		if d := filepath.Join(strings.TrimSpace(string(out)), "git-daemon"); fileExists(d) {
			bin, args = d, nil
		}
	}
	args = append(args, "--reuseaddr", "--export-all", "--listen=127.0.0.1",
		"--port="+strconv.Itoa(port), "--base-path="+base, base)
	g.daemon = exec.Command(bin, args...)
	g.daemon.Env = g.env
	g.daemon.SysProcAttr = dieWithParent()
	if err := g.daemon.Start(); err != nil {
		return fmt.Errorf("git daemon: %v", err)
	}
	g.url = fmt.Sprintf("git://127.0.0.1:%d/src", port)
	deadline := time.Now().Add(30 * time.Second)
	for g.run(g.root, nil, "ls-remote", g.url) != nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("git daemon on port %d does not answer", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// clone runs git clone -q --bare of src into dst.
func (g *gitServer) clone(dst string) error {
	return g.run(g.root, nil, "clone", "-q", "--bare", g.url, dst)
}

// close stops the daemon.
func (g *gitServer) close() {
	if g.daemon != nil && g.daemon.Process != nil {
		g.daemon.Process.Kill()
		g.daemon.Wait()
	}
}
