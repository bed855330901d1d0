package module_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/coalescent/coal/module"
)

// decoders are the module object decoders, each with its re-encoder.
var decoders = map[string]func([]byte) ([]byte, error){
	"interface": func(b []byte) ([]byte, error) {
		x, err := module.DecodeInterface(b)
		if err != nil {
			return nil, err
		}
		return x.Encode()
	},
	"spec": func(b []byte) ([]byte, error) {
		x, err := module.DecodeSpec(b)
		if err != nil {
			return nil, err
		}
		return x.Encode()
	},
	"impl": func(b []byte) ([]byte, error) {
		x, err := module.DecodeImpl(b)
		if err != nil {
			return nil, err
		}
		return x.Encode()
	},
	"bench": func(b []byte) ([]byte, error) {
		x, err := module.DecodeBench(b)
		if err != nil {
			return nil, err
		}
		return x.Encode()
	},
	"result": func(b []byte) ([]byte, error) {
		x, err := module.DecodeResultUnchecked(b)
		if err != nil {
			return nil, err
		}
		_ = x.Verify() // must not panic either
		return x.Encode()
	},
	"build": func(b []byte) ([]byte, error) {
		x, err := module.DecodeBuild(b)
		if err != nil {
			return nil, err
		}
		return x.Encode()
	},
}

// FuzzDecode: no input makes a decoder panic, and what decodes encodes
// back to the same bytes (one encoding per object).
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, b []byte) {
		for name, dec := range decoders {
			out, err := dec(b)
			if err == nil && !bytes.Equal(out, b) {
				t.Fatalf("%s: decodes and encodes to different bytes:\n%x\n%x", name, b, out)
			}
		}
	})
}

// TestFuzzSeeds writes the seed corpus (module objects of the circle) when
// COAL_WRITE_SEEDS is set, and checks that every seed decodes as some
// module object (or is a Program).
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if os.Getenv("COAL_WRITE_SEEDS") != "" {
		h, w, _ := evaluateHome(t)
		for i, obj := range catalogObjects(t, w, h.NodeKey()) {
			if len(obj) > 4096 {
				continue
			}
			writeFile(t, filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", obj))
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) < 5 {
		t.Fatalf("seed corpus: %d files, %v", len(ents), err)
	}
	decoded := 0
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var s string
		if _, err := fmt.Sscanf(string(bytes.TrimPrefix(b, []byte("go test fuzz v1\n"))), "[]byte(%q)", &s); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		for _, dec := range decoders {
			if out, err := dec([]byte(s)); err == nil && bytes.Equal(out, []byte(s)) {
				decoded++
			}
		}
	}
	if decoded < 5 {
		t.Fatalf("only %d seeds decode as module objects", decoded)
	}
}
