package node

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
)

// TestReplica: two nodes on 127.0.0.1 sync a world one of them shares
// with the other, and a write reaches the other within seconds.
func TestReplica(t *testing.T) {
	opts := Options{API: "127.0.0.1:0", NoMDNS: true, Listen: []string{"/ip4/127.0.0.1/tcp/0"}}
	a, err := Open(filepath.Join(t.TempDir(), "a"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(filepath.Join(t.TempDir(), "b"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Replica() == nil || b.Replica() == nil {
		t.Fatal("no sync engine with a swarm")
	}
	w, err := a.Home().World("")
	if err != nil {
		t.Fatal(err)
	}
	var share acl.ACL
	share.Grant(acl.Key(a.Home().NodeKey().Public32()), acl.All)
	share.Grant(acl.Key(b.Home().NodeKey().Public32()), acl.Read|acl.Write)
	raw, err := share.Encode()
	if err != nil {
		t.Fatal(err)
	}
	put := func(path, text string) cdb.CommitInfo {
		t.Helper()
		ci, err := w.Commit(context.Background(), a.Home().NodeKey(), []cdb.Op{{Kind: cdb.PutBlob, Path: path, Blob: strings.NewReader(text), Size: int64(len(text))}}, "t")
		if err != nil {
			t.Fatal(err)
		}
		return ci
	}
	if _, err := w.Commit(context.Background(), a.Home().NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: "/.acl", Raw: raw}}, "share"); err != nil {
		t.Fatal(err)
	}
	put("/hello", "from a")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := b.Swarm().Connect(ctx, a.Swarm().Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	holds := func(id, commit [32]byte) bool {
		bw, err := b.Home().World(w.ID().String())
		if err != nil {
			return false
		}
		_, err = bw.LoadCommit(commit)
		return err == nil
	}
	head, _ := w.Head()
	for !holds(w.ID(), head) {
		if ctx.Err() != nil {
			t.Fatal("b never got a's world")
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	ci := put("/later", "later")
	for !holds(w.ID(), ci.ID) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("a's write did not reach b within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("write reached the peer over loopback TCP in %v", time.Since(start))
	// A large value (chunked) comes over CTP.
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	for i := range big {
		big[i] ^= byte(i * 7 / 5)
	}
	ci, err = w.Commit(context.Background(), a.Home().NodeKey(), []cdb.Op{{Kind: cdb.PutBlob, Path: "/big", Blob: bytes.NewReader(big), Size: int64(len(big))}}, "big")
	if err != nil {
		t.Fatal(err)
	}
	for !holds(w.ID(), ci.ID) {
		if ctx.Err() != nil {
			t.Fatal("the large value's commit never reached b")
		}
		time.Sleep(10 * time.Millisecond)
	}
	bw, err := b.Home().World(w.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	blob, err := bw.OpenBlob(coda.ID{}, "/big")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(blob)
	blob.Close()
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("b's /big: %d bytes (%v), want the 1 MiB written", len(got), err)
	}
	if st := b.Replica().Stats(a.Swarm().ID()); st.BytesRecv > 512<<10 {
		t.Errorf("sync moved %d bytes from a; the 1 MiB value should have come over CTP", st.BytesRecv)
	}
	st := b.Replica().Status(w.ID())
	if len(st) != 1 || st[0].Peer != a.Swarm().ID().String() {
		t.Errorf("b's status: %+v, want a", st)
	}
}
