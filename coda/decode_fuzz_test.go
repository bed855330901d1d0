package coda_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coda/codatest"
)

var updateSeeds = flag.Bool("update-seeds", false, "write missing FuzzDecode seed files from the golden vectors")

// fuzzTypes returns the types FuzzDecode decodes against: input byte 0
// picks one. Indexes below 200 are the golden vectors' types (append-only,
// so seeds keep their meaning); from 200 on, extra types.
func fuzzTypes() map[int]*coda.Type {
	ts := map[int]*coda.Type{}
	for i, v := range codatest.Vectors() {
		ts[i] = v.Type
	}
	extra := []*coda.Type{
		codatest.Ref(codatest.Profile),
		codatest.MapOf(codatest.Ref(codatest.Color), codatest.ListOf(codatest.Ref(codatest.Expr))),
		codatest.ListOf(codatest.Prim(coda.KindAny)),
		codatest.MapOf(codatest.Fixed(0), codatest.Ref(codatest.Zero)),
		codatest.ListOf(codatest.ListOf(codatest.Ref(codatest.Zero))),
		codatest.OptionalOf(codatest.MapOf(codatest.Prim(coda.KindI16), codatest.OptionalOf(codatest.Ref(codatest.Tree)))),
		codatest.ListOf(codatest.Prim(coda.KindF32)),
		codatest.ListOf(codatest.Prim(coda.KindF64)),
		codatest.MapOf(codatest.LinkTo(codatest.Prim(coda.KindAny)), codatest.Prim(coda.KindBool)),
	}
	for i, t := range extra {
		ts[200+i] = t
	}
	return ts
}

// FuzzDecode decodes arbitrary bytes against a fixed set of types covering
// every kind: it must never panic, and every input it accepts must be the
// canonical encoding of what it decoded to.
func FuzzDecode(f *testing.F) {
	for i, v := range codatest.Vectors() {
		f.Add(append([]byte{byte(i)}, v.Bytes()...))
	}
	types := fuzzTypes()
	// A small element limit keeps lists of zero-size elements from using
	// the fuzzer's memory; the rules are the same.
	opts := coda.DecodeOptions{Limits: coda.Limits{MaxElems: 1 << 12}, Resolver: codatest.DefaultResolver}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		typ, ok := types[int(data[0])]
		if !ok {
			return
		}
		in := data[1:]
		v, err := coda.DecodeValue(typ, in, opts)
		if err != nil {
			var de *coda.DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > len(in) {
				t.Fatalf("decode %s %x: error %v has no offset in the input", typ, in, err)
			}
			return
		}
		out, err := coda.AppendValue(nil, typ, v)
		if err != nil {
			t.Fatalf("decode %s %x = %s, which does not encode: %v", typ, in, v, err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("decode %s %x = %s, which encodes to %x", typ, in, v, out)
		}
	})
}

// TestFuzzSeeds keeps testdata/fuzz/FuzzDecode seeded with every golden
// vector (go test fuzz v1 format).
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for i, v := range codatest.Vectors() {
		path := filepath.Join(dir, "vector-"+v.Name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", append([]byte{byte(i)}, v.Bytes()...))
		got, err := os.ReadFile(path)
		if os.IsNotExist(err) && *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v (run with -update-seeds)", err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s:\n got %q\nwant %q", path, got, want)
		}
	}
}
