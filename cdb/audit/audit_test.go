package audit

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/errs"
)

func testLog(t *testing.T) (*Log, string, Options) {
	t.Helper()
	dir := t.TempDir()
	pub, priv, _ := ed25519.GenerateKey(nil)
	opts := Options{Key: priv, Public: pub, Clock: func() time.Time { return time.Unix(1700000000, 0) }}
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range []string{"get", "list", "commit", "log", "diff"} {
		if err := l.Append(Record{Actor: "ed25519:x", Action: a, Path: "/p" + strings.Repeat("x", i), Result: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	return l, dir, opts
}

func TestAppendListVerify(t *testing.T) {
	l, dir, opts := testLog(t)
	if n, err := l.Verify(); err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v; want 5, nil", n, err)
	}
	recs, err := l.List(2)
	if err != nil || len(recs) != 2 || recs[0].Action != "log" || recs[1].Seq != 5 {
		t.Fatalf("List(2) = %+v, %v", recs, err)
	}
	l.Close()
	l2, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Append(Record{Action: "get", Result: "not-exist"}); err != nil {
		t.Fatal(err)
	}
	if n, err := l2.Verify(); err != nil || n != 6 {
		t.Fatalf("after reopen: Verify = %d, %v; want 6, nil", n, err)
	}
}

func TestVerifyDetects(t *testing.T) {
	edit := func(name string, f func(lines [][]byte) [][]byte, wantRecord string) {
		t.Run(name, func(t *testing.T) {
			l, dir, _ := testLog(t)
			p := filepath.Join(dir, "log")
			b, _ := os.ReadFile(p)
			lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
			lines = f(lines)
			out := append(bytes.Join(lines, []byte("\n")), '\n')
			if len(lines) == 0 {
				out = nil
			}
			if err := os.WriteFile(p, out, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := l.Verify()
			if !errs.Is(err, errs.Corrupt) {
				t.Fatalf("Verify = %v, want a corrupt error", err)
			}
			if !strings.Contains(err.Error(), wantRecord) {
				t.Errorf("Verify = %v, want it to name %s", err, wantRecord)
			}
		})
	}
	edit("edited", func(ls [][]byte) [][]byte {
		ls[2] = bytes.Replace(ls[2], []byte(`"commit"`), []byte(`"commiT"`), 1)
		return ls
	}, "record 4")
	edit("edited and re-encoded canonically", func(ls [][]byte) [][]byte {
		ls[1] = bytes.Replace(ls[1], []byte(`"/px"`), []byte(`"/py"`), 1)
		return ls
	}, "record 3")
	edit("removed", func(ls [][]byte) [][]byte { return append(ls[:1], ls[2:]...) }, "record 2")
	edit("reordered", func(ls [][]byte) [][]byte { ls[1], ls[2] = ls[2], ls[1]; return ls }, "record 2")
	edit("last edited", func(ls [][]byte) [][]byte {
		ls[4] = bytes.Replace(ls[4], []byte(`"diff"`), []byte(`"difF"`), 1)
		return ls
	}, "record 5")
	edit("cut short", func(ls [][]byte) [][]byte { return ls[:3] }, "record 4")
	edit("not canonical", func(ls [][]byte) [][]byte { ls[0] = append([]byte(" "), ls[0]...); return ls }, "record 1")
}

func TestTornTailIsCut(t *testing.T) {
	l, dir, opts := testLog(t)
	l.Close()
	f, _ := os.OpenFile(filepath.Join(dir, "log"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":6,"time":"2023`)
	f.Close()
	l2, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := l2.Verify(); err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v; want 5, nil", n, err)
	}
}

func TestForgedHead(t *testing.T) {
	l, dir, _ := testLog(t)
	p := filepath.Join(dir, "head")
	b, _ := os.ReadFile(p)
	f := strings.Fields(string(b))
	os.WriteFile(p, []byte(strings.Join([]string{f[0], f[1], f[2], "-"}, " ")+"\n"), 0o600)
	if _, err := l.Verify(); !errs.Is(err, errs.Corrupt) {
		t.Fatalf("Verify with an unsigned head = %v, want corrupt", err)
	}
}

// TestAppendLater checks the records appended without waiting: concurrent
// AppendLater and Append calls all end up in the log, each caller's in
// its order, the chain verifies; List, Flush and Close see every one of
// them; after a failed write, AppendLater fails.
func TestAppendLater(t *testing.T) {
	l, dir, opts := testLog(t)
	const callers, each = 8, 50
	done := make(chan error, callers)
	for g := range callers {
		go func() {
			for i := range each {
				r := Record{Action: "get", Path: "/g" + strings.Repeat("x", g) + "/" + string(rune('a'+i%26)), Result: "ok"}
				var err error
				if g%2 == 0 {
					err = l.AppendLater(r)
				} else {
					err = l.Append(r)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range callers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	recs, err := l.List(0)
	if err != nil {
		t.Fatal(err)
	}
	if want := 5 + callers*each; len(recs) != want {
		t.Fatalf("List after AppendLater: %d records, want %d", len(recs), want)
	}
	// Each caller's records are in its order.
	next := map[string]int{}
	for _, r := range recs[5:] {
		g := r.Path[:strings.LastIndexByte(r.Path, '/')]
		if want := string(rune('a' + next[g]%26)); r.Path[len(g)+1:] != want {
			t.Fatalf("record %d: %s, want %s/%s (out of order)", r.Seq, r.Path, g, want)
		}
		next[g]++
	}
	if err := l.AppendLater(Record{Action: "get", Path: "/last", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := l2.Verify(); err != nil || n != 5+callers*each+1 {
		t.Fatalf("after Close and reopen: Verify = %d, %v; want %d (Close must write what AppendLater queued)", n, err, 5+callers*each+1)
	}
	// A write that fails (the log closed under it) makes later calls fail.
	l2.mu.Lock()
	f := l2.f
	l2.f = nil
	l2.mu.Unlock()
	f.Close()
	if err := l2.AppendLater(Record{Action: "get", Result: "ok"}); err != nil {
		t.Fatalf("first AppendLater on a broken log: %v (it cannot know yet)", err)
	}
	if err := l2.Flush(); err == nil {
		t.Fatal("Flush after a lost AppendLater: no error")
	}
	if err := l2.AppendLater(Record{Action: "get", Result: "ok"}); err == nil {
		t.Fatal("AppendLater after lost records: no error")
	}
}

// TestHeadSlots checks the two head slots across many groups: after each
// append one slot names the last record and the other the one before,
// across a change of the head line's length (seq 9 → 10) and a reopen; a
// slot torn by a crash is passed over by Open (and rewritten), one naming
// records the log lacks (its group's log sync cut short) too, and Verify
// refuses a slot that is not a whole signed head.
func TestHeadSlots(t *testing.T) {
	l, dir, opts := testLog(t)
	for i := 6; i <= 12; i++ {
		if err := l.Append(Record{Action: "commit", Result: "ok"}); err != nil {
			t.Fatal(err)
		}
		h := l.readSlots()
		a, b := h[newestFirst(h)[0]], h[newestFirst(h)[1]]
		if a.err != nil || b.err != nil || a.seq != uint64(i) || b.seq != uint64(i-1) {
			t.Fatalf("after record %d: slots name %d (%v) and %d (%v), want %d and %d", i, a.seq, a.err, b.seq, b.err, i, i-1)
		}
	}
	l.Close()
	// A crash tore the slot being written.
	h := l.readSlots()
	older := slotNames[newestFirst(h)[1]]
	if err := os.WriteFile(filepath.Join(dir, older), []byte("coal-audit-head-v1 99"), 0o600); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Open said so in a record of its own.
	if n, err := l2.Verify(); err != nil || n != 13 {
		t.Fatalf("after a torn slot: Verify = %d, %v; want 13, nil", n, err)
	}
	if recs, _ := l2.List(1); len(recs) != 1 || recs[0].Action != "audit-repair" || recs[0].Path != "/"+older {
		t.Fatalf("after a torn slot: the last record is %+v, want audit-repair of /%s", recs, older)
	}
	if err := l2.Append(Record{Action: "get", Result: "ok"}, Record{Action: "get", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	l2.Close()
	// A crash after the head's sync and before the log's: cut the
	// log's last two records (one group): Open falls back to the other
	// slot.
	p := filepath.Join(dir, "log")
	b, _ := os.ReadFile(p)
	lines := bytes.SplitAfter(b, []byte("\n"))
	os.WriteFile(p, bytes.Join(lines[:13], nil), 0o600)
	l3, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := l3.Verify(); err != nil || n != 14 {
		t.Fatalf("after a cut group: Verify = %d, %v; want 14 (13 and the repair), nil", n, err)
	}
	if err := l3.Append(Record{Action: "get", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	if n, err := l3.Verify(); err != nil || n != 15 {
		t.Fatalf("Verify = %d, %v; want 15, nil", n, err)
	}
	// An unsigned slot is refused, the older one too.
	h = l3.readSlots()
	for _, i := range []int{newestFirst(h)[1], newestFirst(h)[0]} {
		f := strings.Fields(string(h[i].line))
		os.WriteFile(filepath.Join(dir, slotNames[i]), []byte(strings.Join([]string{f[0], f[1], f[2], "-"}, " ")+"\n"), 0o600)
		if _, err := l3.Verify(); !errs.Is(err, errs.Corrupt) {
			t.Fatalf("Verify with an unsigned %s = %v, want corrupt", slotNames[i], err)
		}
	}
	l3.Close()
}
