package tree

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the FuzzNodeDecode seed corpus in testdata")

// TestFuzzCorpus writes (with -update-corpus) and checks the seed corpus of
// FuzzNodeDecode: valid nodes of every shape, plus a few near misses.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzNodeDecode")
	if *updateCorpus {
		r := rand.New(rand.NewPCG(9, 9))
		var seeds [][]byte
		for range 12 {
			seeds = append(seeds, encodeNode(randNode(r)))
		}
		seeds = append(seeds, encodeNode(&node{}))
		bad := encodeNode(randNode(r))
		seeds = append(seeds, bad[:len(bad)-1], append(bad, 0))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seeds {
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) < 10 {
		t.Fatalf("seed corpus %s: %d files, %v", dir, len(ents), err)
	}
}
