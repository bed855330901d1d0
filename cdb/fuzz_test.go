package cdb

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
)

// seedCommits returns commit objects of every shape: genesis, signed with
// ops, merge with conflicts, and with a call.
func seedCommits(t testing.TB) map[string][]byte {
	cs := mustSchemas()
	key, err := NewIdentity("k", bytes.Repeat([]byte{7}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	w := coda.Sum([]byte("world"))
	p1, p2 := coda.Sum([]byte("p1")), coda.Sum([]byte("p2"))
	if bytes.Compare(p1[:], p2[:]) > 0 {
		p1, p2 = p2, p1
	}
	in := coda.Sum([]byte("in"))
	stamp := tree.Stamp{Time: 5 << 16}
	copy(stamp.Author[:], key.Public)
	commits := map[string]*Commit{
		"genesis": {Tree: tree.EmptyRoot, Time: 1 << 16, Message: "create world default"},
		"ops": {World: w, Parents: []coda.ID{p1}, Tree: coda.Sum([]byte("t")), Time: 2 << 16, Message: "m",
			Ops: []Change{{Path: "/", Meta: true, ID: coda.Sum([]byte("meta"))}, {Path: "/a", ID: coda.Sum([]byte("a"))}, {Path: "/a/b", Delete: true}, {Path: "/a0", ID: coda.Sum([]byte("c"))}}},
		"call": {World: w, Parents: []coda.ID{p1}, Tree: coda.Sum([]byte("t")), Time: 3 << 16,
			Call: &Call{Program: coda.Sum([]byte("prog")), Entry: "main", Input: &in, Steps: 99}},
		"merge": {World: w, Parents: []coda.ID{p1, p2}, Tree: coda.Sum([]byte("t")), Time: 4 << 16,
			Ops:       []Change{{Path: "/x", ID: coda.Sum([]byte("x"))}},
			Conflicts: []Conflict{{Path: "/x", Winner: coda.Sum([]byte("x")), Loser: coda.Sum([]byte("y")), WinnerStamp: stamp, LoserStamp: stamp}}},
	}
	out := map[string][]byte{}
	for name, c := range commits {
		var b []byte
		if c.Parents != nil && len(c.Parents) == 2 {
			b, err = cs.encode(c)
		} else {
			b, err = cs.sign(c, key)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b
	}
	return out
}

func FuzzCommitDecode(f *testing.F) {
	for _, b := range seedCommits(f) {
		f.Add(b)
	}
	cs := mustSchemas()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCommit(data)
		if err != nil {
			return
		}
		b, err := cs.encode(c)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(b, data) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", b, data)
		}
		c.Verify() // must not panic
	})
}

// TestWriteFuzzSeeds writes the seed corpus (go test -run TestWriteFuzzSeeds
// -update) and checks that the stored seeds still decode.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzCommitDecode")
	for name, b := range seedCommits(t) {
		file := filepath.Join(dir, name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte("go test fuzz v1\n[]byte("+quoteBytes(b)+")\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		c, err := DecodeCommit(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.IsMerge() != (name == "merge") {
			t.Errorf("%s: IsMerge = %v", name, c.IsMerge())
		}
		if err := c.Verify(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := os.Stat(file); err != nil {
			t.Errorf("seed %s missing (run with -update): %v", name, err)
		}
	}
}
