package relay

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// fuzzSeeds are well-formed and broken streams under the test schemas.
func fuzzSeeds(t testing.TB) [][]byte {
	_, note, blob := testSchemas(t)
	var buf bytes.Buffer
	c := NewConn(rw{bytes.NewReader(nil), &buf}, []coda.ID{note.ID, blob.ID}, nil, Options{})
	_ = c.Send(note, coda.Struct(coda.U64(300), coda.String("héllo")))
	_ = c.Send(blob, coda.Struct(coda.Bytes([]byte{0, 1, 2, 3})))
	_ = c.CloseWrite()
	full := buf.Bytes()
	return [][]byte{
		full,
		full[:len(full)-1],
		[]byte("CODW\x01\x00\x00"),
		[]byte("CODW\x01\x01"),
		stream([]coda.ID{note.ID}, frame(1, []byte{0x80, 0x00})),
		stream([]coda.ID{note.ID, note.ID}),
		stream([]coda.ID{blob.ID}, frame(1, append([]byte{0xff, 0xff, 0x03}, make([]byte, 8)...))),
	}
}

// FuzzRecv feeds arbitrary streams to Recv and RecvObject: no panics;
// every error but io.EOF has a kind; every object received re-encodes to
// the same bytes.
func FuzzRecv(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	reg, _, _ := testSchemas(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		c := NewConn(rw{bytes.NewReader(in), io.Discard}, nil, reg, Options{MaxMessage: 1 << 10})
		for i := 0; ; i++ {
			obj, err := c.RecvObject()
			if err == io.EOF {
				break
			}
			if err != nil {
				switch errs.KindOf(err) {
				case errs.Invalid, errs.Limit, errs.NotExist, errs.Unavailable:
				default:
					t.Fatalf("object %d: error of kind %v: %v", i, errs.KindOf(err), err)
				}
				break
			}
			s, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: reg})
			if err != nil {
				t.Fatalf("object %d passed RecvObject but does not decode: %v", i, err)
			}
			again, err := coda.EncodeObject(s, v)
			if err != nil || !bytes.Equal(again, obj) {
				t.Fatalf("object %d: re-encoded %x, %v; received %x", i, again, err, obj)
			}
		}
	})
}

// TestWriteCorpus writes the seed corpus of FuzzRecv to testdata/fuzz when
// COAL_WRITE_CORPUS=1.
func TestWriteCorpus(t *testing.T) {
	if os.Getenv("COAL_WRITE_CORPUS") != "1" {
		t.Skip("set COAL_WRITE_CORPUS=1 to rewrite testdata/fuzz/FuzzRecv")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRecv")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range fuzzSeeds(t) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
