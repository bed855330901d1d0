package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"syscall"
	"testing"
	"time"
)

var durabilityRounds = flag.Int("durability.rounds", 8, "rounds of TestDurability (each kills one coal put)")

var commitLine = regexp.MustCompile(`^[a-z2-7]{52}\n$`)

// acked is a put that coal acknowledged: it exited 0 and printed a commit.
type acked struct {
	path, value, commit string
}

// TestDurability kills `coal put` processes with SIGKILL at random moments
// while a stream of puts runs, and checks after every round that the store
// passes fsck and that every acknowledged put (exit 0 and a commit id
// printed) is there: its commit in the log, its value at its path. The
// number of rounds is -durability.rounds; each round runs a few puts and
// kills one of them.
func TestDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the coal binary; skipped with -short")
	}
	bin := coalBinary(t)
	home := filepath.Join(t.TempDir(), "home")
	coalRun(t, bin, "init", "--home", home)
	schema := filepath.Join(t.TempDir(), "v.coda")
	if err := os.WriteFile(schema, []byte("schema V { n: u64  pad: string }\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	coalRun(t, bin, "--home", home, "schema", "add", schema)
	coalRun(t, bin, "--home", home, "mkdir", "/d", "--schema", "V")

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (rounds: -durability.rounds=%d)", seed, *durabilityRounds)
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	const putsPerRound = 4
	var (
		all        []acked
		kills      int
		killedLate int             // kills after which the killed put's commit was found anyway
		durations  []time.Duration // of acknowledged puts: where to aim the kills
	)
	next := 0
	put := func(kill time.Duration) (a acked, ok bool, killed bool) {
		next++
		a.path = fmt.Sprintf("/d/k%04d", next)
		a.value = fmt.Sprintf(`{"n":"%d","pad":"%s"}`, next, bytes.Repeat([]byte{'p'}, rng.IntN(2000)))
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, "--home", home, "put", a.path, "--json", a.value, "-m", "put "+a.path)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var timer *time.Timer
		if kill >= 0 {
			// The random moment of the kill; the test itself waits on the
			// process, not on time.
			timer = time.AfterFunc(kill, func() { cmd.Process.Signal(syscall.SIGKILL) })
		}
		err := cmd.Wait()
		if timer != nil {
			timer.Stop()
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				return a, false, true
			}
		}
		if err != nil {
			t.Fatalf("coal put %s: %v\nstderr:\n%s", a.path, err, stderr.Bytes())
		}
		if !commitLine.Match(stdout.Bytes()) {
			t.Fatalf("coal put %s: exit 0 but stdout %q is not a commit id", a.path, stdout.Bytes())
		}
		durations = append(durations, time.Since(start))
		a.commit = string(bytes.TrimSpace(stdout.Bytes()))
		return a, true, false
	}

	// A few puts first, to learn how long one takes.
	for range putsPerRound {
		if a, ok, _ := put(-1); ok {
			all = append(all, a)
		}
	}
	missed := 0 // kills aimed after the process had exited
	for round := range *durabilityRounds {
		victim := rng.IntN(putsPerRound)
		var killedPath string
		for i := 0; i < putsPerRound || killedPath == "" && missed < 10*(*durabilityRounds); i++ {
			kill := time.Duration(-1)
			if i >= victim && killedPath == "" {
				// Aim anywhere in a typical put's life: process start,
				// opening the store, building and syncing the commit.
				d := slices.Sorted(slices.Values(durations))[len(durations)/2]
				kill = time.Duration(rng.Int64N(int64(d)))
			}
			a, ok, killed := put(kill)
			if killed {
				kills++
				killedPath = a.path
			} else if kill >= 0 {
				missed++
			}
			if ok {
				all = append(all, a)
			}
		}
		checkStore(t, bin, home, round, all, false)
		if killedPath != "" {
			if _, err := exec.Command(bin, "--home", home, "get", killedPath).Output(); err == nil {
				killedLate++
			}
		}
	}
	checkStore(t, bin, home, *durabilityRounds, all, true)
	t.Logf("%d rounds, %d kills (%d after the commit was durable; %d aimed too late), %d acknowledged puts checked (commits after every round, values sampled, all at the end)",
		*durabilityRounds, kills, killedLate, missed, len(all))
	if kills < *durabilityRounds {
		t.Errorf("only %d kills landed in %d rounds", kills, *durabilityRounds)
	}
}

// checkStore runs fsck and checks that every acknowledged put is present:
// every commit in the log, and the values of this round's puts and a
// sample of older ones, or with every, of all.
func checkStore(t *testing.T, bin, home string, round int, all []acked, every bool) {
	t.Helper()
	out, err := exec.Command(bin, "--home", home, "fsck").CombinedOutput()
	if err != nil {
		t.Fatalf("round %d: coal fsck: %v\n%s", round, err, out)
	}
	var log []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(coalRun(t, bin, "--home", home, "log", "--json"), &log); err != nil {
		t.Fatalf("round %d: coal log --json: %v", round, err)
	}
	inLog := make(map[string]bool, len(log))
	for _, c := range log {
		inLog[c.ID] = true
	}
	for _, a := range all {
		if !inLog[a.commit] {
			t.Fatalf("round %d: acknowledged commit %s (put %s) is not in coal log", round, a.commit, a.path)
		}
	}
	for i, a := range all {
		if !every && i < len(all)-putsInCheck && i%7 != round%7 {
			continue
		}
		got := bytes.TrimSpace(coalRun(t, bin, "--home", home, "get", a.path))
		if !jsonEqual(got, []byte(a.value)) {
			t.Fatalf("round %d: coal get %s = %s, want %s (acknowledged in commit %s)", round, a.path, got, a.value, a.commit)
		}
	}
}

// putsInCheck is how many of the latest puts checkStore always reads back
// (at least a round's).
const putsInCheck = 8

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
