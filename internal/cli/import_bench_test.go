package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkImportVsGit times `coal import` of 10,000 small files against
// `git init && git add -A && git commit` of the same files, each into a
// fresh home or repository, and reports both and their ratio
// (coal/git: below 1 means coal is faster). Both run as real processes.
//
//	go test ./internal/cli -run '^$' -bench ImportVsGit -count 3
func BenchmarkImportVsGit(b *testing.B) {
	git, err := exec.LookPath("git")
	if err != nil {
		b.Skip("git is not on PATH: nothing to compare coal import with")
	}
	bin := coalBinary(b)
	const files = 10000
	src := filepath.Join(b.TempDir(), "src")
	for i := range files {
		dir := filepath.Join(src, fmt.Sprintf("d%02d", i%100))
		if i < 100 {
			if err := os.MkdirAll(dir, 0o777); err != nil {
				b.Fatal(err)
			}
		}
		body := fmt.Sprintf("file %d\n%s\n", i, time.Duration(i)*time.Millisecond)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d.txt", i)), []byte(body), 0o666); err != nil {
			b.Fatal(err)
		}
	}
	run := func(dir string, env []string, name string, args ...string) time.Duration {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			b.Fatalf("%s %q: %v\n%s", name, args, err, out)
		}
		return d
	}
	gitEnv := []string{
		"GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@example.com",
		"GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@example.com",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	}
	var coalTime, gitTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		tmp := b.TempDir()
		home := filepath.Join(tmp, "home")
		run(tmp, nil, bin, "init", "--home", home)
		gitDir := filepath.Join(tmp, "git")
		b.StartTimer()

		coalTime += run(tmp, nil, bin, "--home", home, "import", src, "--to", "/src")
		// The repository lives outside src, so that src stays the same
		// tree for every run of both.
		g := []string{"--git-dir=" + gitDir, "--work-tree=" + src}
		gitTime += run(tmp, gitEnv, git, append(g, "init", "-q")...)
		gitTime += run(tmp, gitEnv, git, append(g, "add", "-A")...)
		gitTime += run(tmp, gitEnv, git, append(g, "commit", "-q", "-m", fmt.Sprintf("import %d", i))...)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(coalTime.Seconds()/n, "coal-s/op")
	b.ReportMetric(gitTime.Seconds()/n, "git-s/op")
	b.ReportMetric(coalTime.Seconds()/gitTime.Seconds(), "coal/git")
}
