package codatest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/coalescent/coal/coda"
)

var update = flag.Bool("update", false, "write golden files that do not exist yet (never rewrites one)")

const goldenDir = "../testdata/golden"

func TestVectorsParse(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Vectors() {
		if seen[v.Name] {
			t.Errorf("duplicate vector name %q", v.Name)
		}
		seen[v.Name] = true
		if _, err := ParseHex(v.Body); err != nil {
			t.Errorf("%s: %v", v.Name, err)
		}
	}
}

// TestGolden checks every vector both ways against its hand-written bytes
// and against its committed file.
func TestGolden(t *testing.T) {
	opts := coda.DecodeOptions{Resolver: DefaultResolver}
	for _, v := range Vectors() {
		t.Run(v.Name, func(t *testing.T) {
			want := v.Bytes()
			got, err := coda.AppendValue(nil, v.Type, v.Value)
			if err != nil {
				t.Fatalf("encode %s: %v", v.Value, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("encode %s:\n got %x\nwant %x", v.Value, got, want)
			}
			dec, err := coda.DecodeValue(v.Type, want, opts)
			if err != nil {
				t.Fatalf("decode %x: %v", want, err)
			}
			if !coda.Equal(dec, v.Value) {
				t.Errorf("decode %x:\n got %s\nwant %s", want, dec, v.Value)
			}

			path := filepath.Join(goldenDir, v.Name+".txt")
			text, err := os.ReadFile(path)
			if os.IsNotExist(err) && *update {
				if err := os.WriteFile(path, []byte(FormatFile(v)), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v (run with -update to create missing golden files)", err)
			}
			file, err := ParseHex(string(text))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if !bytes.Equal(file, want) {
				t.Errorf("%s holds %x, the vector says %x: golden files never change", path, file, want)
			}
		})
	}
}

// TestGoldenFilesHaveVectors keeps the folder and the table in step.
func TestGoldenFilesHaveVectors(t *testing.T) {
	names := map[string]bool{}
	for _, v := range Vectors() {
		names[v.Name+".txt"] = true
	}
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !names[filepath.Base(f)] {
			t.Errorf("%s has no vector in codatest.Vectors", f)
		}
	}
}
