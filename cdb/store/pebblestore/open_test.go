package pebblestore_test

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/pebblestore"
	"github.com/coalescent/coal/cdb/store/storetest"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// TestMain lets the test binary act as a second process holding a store
// open: with COAL_TEST_HOLD=DIR it opens DIR, says "open", and waits for
// its stdin to close.
func TestMain(m *testing.M) {
	if dir := os.Getenv("COAL_TEST_HOLD"); dir != "" {
		s, err := pebblestore.Open(dir, pebblestore.Options{})
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("open\n")
		os.Stdin.Read(make([]byte, 1))
		s.Close()
		os.Exit(0)
	}
	if dir := os.Getenv("COAL_TEST_WRITER"); dir != "" {
		os.Exit(writer(dir))
	}
	if dir := os.Getenv("COAL_TEST_INGESTER"); dir != "" {
		os.Exit(ingester(dir))
	}
	os.Exit(m.Run())
}

// writer is the process TestKillDuringWrites kills: it commits batches (a
// few small objects, sometimes a chunked one, and the head ref) with sync,
// and prints each head id once Commit has returned.
func writer(dir string) int {
	s, err := pebblestore.Open(dir, pebblestore.Options{})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	for i := 0; ; i++ {
		b := s.NewBatch()
		for j := range 5 {
			b.Put(fmt.Appendf(nil, "pid %d commit %d object %d", os.Getpid(), i, j))
		}
		if i%10 == 0 {
			b.Put(storetest.Random(uint64(os.Getpid())<<20|uint64(i), store.ChunkThreshold+1+i))
		}
		head, _ := b.Put(fmt.Appendf(nil, "pid %d head %d", os.Getpid(), i))
		b.SetRef("heads/main", head)
		if err := b.Commit(true); err != nil {
			fmt.Println("error:", err)
			return 1
		}
		fmt.Println(head.String())
	}
}

// TestKillDuringWrites kills a writing process with SIGKILL at random
// moments, many times, and checks after each that every commit it
// acknowledged is there and intact.
func TestKillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	dir := t.TempDir()
	killWriter(t, dir, "COAL_TEST_WRITER", 8, 200, func(round int, acked []coda.ID) {
		s, err := pebblestore.Open(dir, pebblestore.Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		for _, id := range acked {
			if err := s.Verify(id); err != nil {
				t.Fatalf("round %d: acknowledged %s: %v", round, id.Short(), err)
			}
		}
		head, err := s.GetRef("heads/main")
		if err != nil {
			t.Fatalf("round %d: head: %v", round, err)
		}
		if err := s.Verify(head); err != nil {
			t.Fatalf("round %d: head %s: %v", round, head.Short(), err)
		}
		n := 0
		for id, err := range s.Objects() {
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(id); err != nil {
				t.Fatalf("round %d: fsck: %v", round, err)
			}
			n++
		}
		s.Close()
		t.Logf("round %d: %d commits acknowledged so far, %d objects, all intact", round, len(acked), n)
	})
}

// killWriter runs the test binary as a writing process (with env set to
// dir) rounds times, kills it with SIGKILL after 20 to 20+most
// acknowledged commits, and calls check with the ids acknowledged so far
// in every round; it returns them.
func killWriter(t *testing.T, dir, env string, rounds, most int, check func(round int, acked []coda.ID)) []coda.ID {
	t.Helper()
	var acked []coda.ID
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), env+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Read acknowledgements until a random count, then kill mid-stream.
		stop := 20 + rand.IntN(most)
		sc := bufio.NewScanner(out)
		for n := 0; n < stop && sc.Scan(); n++ {
			line := sc.Text()
			id, err := coda.ParseID(line)
			if err != nil {
				t.Fatalf("round %d: writer said %q", round, line)
			}
			acked = append(acked, id)
		}
		cmd.Process.Kill()
		// Acknowledgements already printed when it died count too.
		for sc.Scan() {
			if id, err := coda.ParseID(sc.Text()); err == nil {
				acked = append(acked, id)
			}
		}
		cmd.Wait()

		check(round, acked)
	}
	return acked
}

func TestLockedByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "COAL_TEST_HOLD="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	buf := make([]byte, 256)
	n, _ := stdout.Read(buf) // waits for the other process to have the store open
	if got := string(buf[:n]); got != "open\n" {
		t.Fatalf("holder process said %q", got)
	}
	_, err = pebblestore.Open(dir, pebblestore.Options{})
	if !errors.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("Open of a store open elsewhere = %v, want an Unavailable error", err)
	}
	t.Logf("error: %v", err)
}

func TestOpenTwiceInProcess(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	_, err := pebblestore.Open(dir, pebblestore.Options{})
	if !errors.Is(err, errs.Unavailable) {
		t.Fatalf("second Open = %v, want an Unavailable error", err)
	}
	s.Close()
	open(t, dir) // and it can be opened again after Close
}

func TestUnknownFormat(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.SetRaw([]byte("\x00format"), []byte("coal-store/99"))
	s.Close()
	_, err := pebblestore.Open(dir, pebblestore.Options{})
	if !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "coal-store/99") {
		t.Fatalf("Open of a store in an unknown layout = %v", err)
	}
}

func TestForeignDatabase(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(dir, &pebble.Options{Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	db.Set([]byte("someone else's key"), []byte("value"), pebble.Sync)
	db.Close()
	_, err = pebblestore.Open(dir, pebblestore.Options{})
	if !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "not a coal store") {
		t.Fatalf("Open of another Pebble database = %v", err)
	}
}

func TestCorruption(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	small := []byte("some bytes that will rot")
	big := storetest.Random(1, 1<<20)
	sid, _ := s.Put(small)
	bid, _ := s.Put(big)
	m, err := s.Chunks(bid)
	if err != nil {
		t.Fatal(err)
	}

	// Rot one byte of the small object and one of a chunk.
	rotten := append([]byte{0x00}, small...)
	rotten[5] ^= 1
	if err := s.SetRawObject(sid, rotten); err != nil {
		t.Fatal(err)
	}
	chunk, _ := s.GetChunk(m.Chunks[2].ID)
	chunk[100] ^= 1
	if err := s.SetRawChunk(m.Chunks[2].ID, chunk); err != nil {
		t.Fatal(err)
	}

	for _, id := range []coda.ID{sid, bid} {
		err := s.Verify(id)
		if !errors.Is(err, errs.Corrupt) || !strings.Contains(err.Error(), id.String()) {
			t.Errorf("Verify(%s) = %v, want a Corrupt error naming it", id.Short(), err)
		}
	}
	// Plain reads trust the bytes...
	if _, err := s.Get(sid); err != nil {
		t.Errorf("Get without VerifyReads: %v", err)
	}
	s.Close()
	// ...unless VerifyReads is set.
	v, err := pebblestore.Open(dir, pebblestore.Options{VerifyReads: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.Get(sid); !errors.Is(err, errs.Corrupt) {
		t.Errorf("Get(rotten small) with VerifyReads = %v", err)
	}
	if _, err := v.Get(bid); !errors.Is(err, errs.Corrupt) {
		t.Errorf("Get(rotten big) with VerifyReads = %v", err)
	}
	// A bad entry tag or a broken manifest is corruption too.
	v.SetRawObject(sid, []byte{0x07, 1, 2})
	if _, err := v.Get(sid); !errors.Is(err, errs.Corrupt) {
		t.Errorf("Get(unknown tag) = %v", err)
	}
	v.SetRawObject(bid, []byte{0x01, 1, 2})
	if _, err := v.Size(bid); !errors.Is(err, errs.Corrupt) {
		t.Errorf("Size(bad manifest) = %v", err)
	}
	var _ store.Verifier = v
}

// TestPutSummed checks store.SummedPutter: an object put with the id
// its caller computed reads back as Put would store it, small or large
// (chunked), and a large one whose id is wrong is refused.
func TestPutSummed(t *testing.T) {
	s, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	small := []byte("a small object")
	large := make([]byte, store.ChunkThreshold+1000)
	for i := range large {
		large[i] = byte(i * 7)
	}
	b := s.NewBatch()
	sp, ok := b.(store.SummedPutter)
	if !ok {
		t.Fatal("a pebblestore batch is not a store.SummedPutter")
	}
	for _, data := range [][]byte{small, large} {
		if err := sp.PutSummed(coda.Sum(data), data); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.PutSummed(coda.Sum(small), large); !errs.Is(err, errs.Internal) {
		t.Fatalf("a large object with a wrong id: %v, want internal", err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{small, large} {
		got, err := s.Get(coda.Sum(data))
		if err != nil || string(got) != string(data) {
			t.Fatalf("Get of %d bytes: %d bytes, %v", len(data), len(got), err)
		}
	}
}
