package store

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// goldenManifest is a two-chunk manifest and its encoding, byte by byte.
// It must never change.
func goldenManifest() (Manifest, string) {
	m := Manifest{
		ID:   coda.Sum([]byte("value")),
		Size: 300000,
		Chunks: []ChunkRef{
			{ID: coda.Sum([]byte("chunk 0")), Len: 200000},
			{ID: coda.Sum([]byte("chunk 1")), Len: 100000},
		},
	}
	enc := strings.Join([]string{
		hex.EncodeToString(m.ID[:]),           // id of the whole value
		"e093040000000000",                    // size 300000, u64 LE
		"02",                                  // 2 chunks, LEB128
		hex.EncodeToString(m.Chunks[0].ID[:]), // chunk 0 id
		"400d0300",                            // chunk 0 len 200000, u32 LE
		hex.EncodeToString(m.Chunks[1].ID[:]), // chunk 1 id
		"a0860100",                            // chunk 1 len 100000, u32 LE
	}, "")
	return m, enc
}

func TestManifestGolden(t *testing.T) {
	m, want := goldenManifest()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("encoding:\n got %s\nwant %s", got, want)
	}
	d, err := DecodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != m.ID || d.Size != m.Size || len(d.Chunks) != 2 || d.Chunks[0] != m.Chunks[0] || d.Chunks[1] != m.Chunks[1] {
		t.Fatalf("decoded %+v, want %+v", d, m)
	}
}

func TestManifestRejects(t *testing.T) {
	m, _ := goldenManifest()
	good, _ := m.MarshalBinary()
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	setLen := func(i int, n uint32) func(b []byte) []byte {
		return func(b []byte) []byte {
			off := manifestHeader + 1 + i*chunkRefSize + coda.IDSize
			b[off], b[off+1], b[off+2], b[off+3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
			return b
		}
	}
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", good[:manifestHeader]},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"truncated", good[:len(good)-1]},
		{"non-minimal count", mod(func(b []byte) []byte {
			return append(append(b[:manifestHeader:manifestHeader], 0x82, 0x00), good[manifestHeader+1:]...)
		})},
		{"count too large", mod(func(b []byte) []byte { b[manifestHeader] = 3; return b })},
		{"one chunk", mod(func(b []byte) []byte { b[manifestHeader] = 1; return b[:len(b)-chunkRefSize] })},
		{"size at threshold", mod(func(b []byte) []byte {
			copy(b[coda.IDSize:], []byte{0x00, 0x00, 0x04, 0, 0, 0, 0, 0}) // 262144
			return b
		})},
		{"size huge", mod(func(b []byte) []byte { b[coda.IDSize+7] = 0x80; return b })},
		{"lengths do not add up", mod(setLen(1, 99999))},
		{"first chunk too short", mod(func(b []byte) []byte {
			return setLen(1, 300000-MinChunk)(setLen(0, MinChunk)(b))
		})},
		{"chunk too long", mod(func(b []byte) []byte {
			return setLen(1, 300000-MaxChunk-1)(setLen(0, MaxChunk+1)(b))
		})},
		{"empty last chunk", mod(func(b []byte) []byte { return setLen(1, 0)(b) })},
		{"huge count", append(append(bytes.Clone(good[:manifestHeader]), 0xff, 0xff, 0xff, 0xff, 0x0f), good[manifestHeader+1:]...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeManifest(tt.b)
			if !errors.Is(err, errs.Corrupt) {
				t.Fatalf("DecodeManifest = %v, want a Corrupt error", err)
			}
		})
	}
	// Encoding refuses what decoding refuses.
	bad := m
	bad.Size++
	if _, err := bad.MarshalBinary(); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("MarshalBinary of a bad manifest = %v", err)
	}
}

// FuzzDecodeManifest checks that no input makes the decoder panic and that
// every accepted input is canonical: it re-encodes to the same bytes. The
// seed corpus is in testdata/fuzz/FuzzDecodeManifest.
func FuzzDecodeManifest(f *testing.F) {
	_, enc := goldenManifest()
	b, _ := hex.DecodeString(enc)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(b)
		if err != nil {
			if !errors.Is(err, errs.Corrupt) {
				t.Fatalf("error of kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		again, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("re-encoding an accepted manifest: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted non-canonical input:\n in %x\nout %x", b, again)
		}
	})
}
