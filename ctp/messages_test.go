package ctp

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func id(b byte) coda.ID {
	var x coda.ID
	for i := range x {
		x[i] = b
	}
	return x
}

// TestSchemaIDs pins the schema ids: ctp.coda is a wire format.
func TestSchemaIDs(t *testing.T) {
	must(t, loadSchemas())
	for _, s := range []*coda.Schema{wantSchema, blockSchema, manifestSchema, missingSchema} {
		t.Logf("%s %s", s.Name, s.ID)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(schemaIDs), "\n") {
		f := strings.Fields(line)
		want[f[0]] = f[1]
	}
	for _, s := range []*coda.Schema{wantSchema, blockSchema, manifestSchema, missingSchema} {
		if s.ID.String() != want[s.Name] {
			t.Errorf("schema %s: id %s, want %s (ctp.coda changed: that changes the protocol)", s.Name, s.ID, want[s.Name])
		}
	}
}

// schemaIDs are the ids of ctp.coda's schemas, as docs/protocols.md lists them.
const schemaIDs = `
Want ylbxxrjdoedog7oknwr7swlnaozrjmot5twcyb7z2hy4uiosy2oa
Block 3gnxltikbler3aglaa5onn5nlnasztn6ncnatpk44l4ewvdlhsda
Manifest 2n2gf37f6kleljzoylh4hy2kgqpt7ndy2h2hrepxrbjsdvukrhha
Missing s5flbgsscx7r5ikc3j2ymh344cwgnmznm5ahrbsq3vrgj245hcqq
`

// TestGolden: the bodies of each message, byte by byte (docs/protocols.md).
func TestGolden(t *testing.T) {
	must(t, loadSchemas())
	w, err := EncodeWant(Want{World: id(1), Commit: id(2), Path: "/a", IDs: []coda.ID{id(3), id(4)}})
	must(t, err)
	want := strings.Repeat("01", 32) + strings.Repeat("02", 32) + "02" + "2f61" + "02" + strings.Repeat("03", 32) + strings.Repeat("04", 32)
	if got := hex.EncodeToString(w[coda.IDSize:]); got != want {
		t.Errorf("Want body\n got %s\nwant %s", got, want)
	}
	if got := hex.EncodeToString(encodeBlock([]byte("hi"))[coda.IDSize:]); got != "026869" {
		t.Errorf("Block body %s, want 026869", got)
	}
	if got := hex.EncodeToString(encodeMissing(id(5))[coda.IDSize:]); got != strings.Repeat("05", 32) {
		t.Errorf("Missing body %s", got)
	}
	m := store.Manifest{ID: id(6), Size: store.ChunkThreshold + 1, Chunks: []store.ChunkRef{{ID: id(7), Len: store.MinChunk + 1}, {ID: id(8), Len: store.ChunkThreshold - store.MinChunk}}}
	mb, err := encodeManifest(&m)
	must(t, err)
	sb, err := m.MarshalBinary()
	must(t, err)
	if !bytes.Equal(mb[coda.IDSize:], sb) {
		t.Errorf("Manifest body is not the store's manifest encoding")
	}
	// Each is a canonical CODA object of its schema.
	for _, obj := range [][]byte{w, encodeBlock([]byte("hi")), encodeMissing(id(5)), mb} {
		s, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: schemaReg})
		must(t, err)
		again, err := coda.EncodeObject(s, v)
		if err != nil || !bytes.Equal(again, obj) {
			t.Errorf("%s: re-encoded %x, %v; want %x", s.Name, again, err, obj)
		}
	}
}

func TestDecodeWant(t *testing.T) {
	must(t, loadSchemas())
	w := Want{World: id(1), Commit: id(2), Path: "/a/b", IDs: []coda.ID{id(3), id(4), id(5)}}
	obj, err := EncodeWant(w)
	must(t, err)
	got, err := DecodeWant(obj)
	must(t, err)
	if got.World != w.World || got.Commit != w.Commit || got.Path != w.Path || len(got.IDs) != 3 || got.IDs[2] != id(5) {
		t.Errorf("round trip: got %+v", got)
	}
	tooMany := Want{World: id(1), IDs: make([]coda.ID, MaxWantIDs+1)}
	if _, err := EncodeWant(tooMany); !errs.Is(err, errs.Limit) {
		t.Errorf("EncodeWant of %d ids: %v, want errs.Limit", MaxWantIDs+1, err)
	}
	ids := make([]coda.Value, MaxWantIDs+1)
	for i := range ids {
		ids[i] = coda.FixedBytes(make([]byte, 32))
	}
	big, err := coda.EncodeObject(wantSchema, coda.Struct(coda.FixedBytes(make([]byte, 32)), coda.FixedBytes(make([]byte, 32)), coda.String(""), coda.List(ids...)))
	must(t, err)
	if _, err := DecodeWant(big); !errs.Is(err, errs.Limit) {
		t.Errorf("DecodeWant of %d ids: %v, want errs.Limit", MaxWantIDs+1, err)
	}
	for _, tt := range []struct {
		name string
		obj  []byte
		msg  string
	}{
		{"empty", nil, "not a Want"},
		{"other schema", encodeMissing(id(1)), "not a Want"},
		{"truncated", obj[:len(obj)-1], "byte"},
		{"trailing", append(append([]byte{}, obj...), 0), "trailing"},
		{"no ids", mustWant(t, Want{World: id(1)}), "no ids"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeWant(tt.obj)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want an invalid error with %q", err, tt.msg)
			}
		})
	}
}

// mustWant encodes w without EncodeWant's checks.
func mustWant(t *testing.T, w Want) []byte {
	ids := make([]coda.Value, len(w.IDs))
	for i, x := range w.IDs {
		ids[i] = coda.FixedBytes(x[:])
	}
	b, err := coda.EncodeObject(wantSchema, coda.Struct(coda.FixedBytes(w.World[:]), coda.FixedBytes(w.Commit[:]), coda.String(w.Path), coda.List(ids...)))
	must(t, err)
	return b
}

func TestDecodeReply(t *testing.T) {
	must(t, loadSchemas())
	r, err := decodeReply(encodeBlock([]byte("abc")))
	if err != nil || r.kind != replyBlock || string(r.data) != "abc" {
		t.Errorf("block: %+v, %v", r, err)
	}
	r, err = decodeReply(encodeMissing(id(9)))
	if err != nil || r.kind != replyMissing || r.id != id(9) {
		t.Errorf("missing: %+v, %v", r, err)
	}
	blk := encodeBlock([]byte("abc"))
	nonMinimal := append(append([]byte{}, blockSchema.ID[:]...), 0x83, 0x00, 'a', 'b', 'c')
	for _, tt := range []struct {
		name string
		obj  []byte
		msg  string
	}{
		{"short", []byte{1, 2}, "shorter than a schema id"},
		{"unknown schema", encodeMissing(id(1))[coda.IDSize:], "is not Block, Manifest or Missing"},
		{"block length", blk[:len(blk)-1], "length 3 at byte 32, but 2 bytes follow"},
		{"block non-minimal", nonMinimal, "byte 32"},
		{"missing short", encodeMissing(id(1))[:40], "body of 8 bytes"},
		{"manifest", append(append([]byte{}, manifestSchema.ID[:]...), make([]byte, 50)...), "manifest"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeReply(tt.obj)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want an invalid error with %q", err, tt.msg)
			}
		})
	}
}

func FuzzDecodeWant(f *testing.F) {
	for _, s := range wantSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		w, err := DecodeWant(obj)
		if err != nil {
			if k := errs.KindOf(err); k != errs.Invalid && k != errs.Limit {
				t.Fatalf("error of kind %v: %v", k, err)
			}
			return
		}
		again, err := EncodeWant(w)
		if err != nil || !bytes.Equal(again, obj) {
			t.Fatalf("decoded %+v re-encodes to %x, %v; input %x", w, again, err, obj)
		}
	})
}

func FuzzDecodeReply(f *testing.F) {
	for _, s := range replySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		r, err := decodeReply(obj)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error of kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		var again []byte
		switch r.kind {
		case replyBlock:
			again = encodeBlock(r.data)
		case replyMissing:
			again = encodeMissing(r.id)
		case replyManifest:
			again, err = encodeManifest(r.manifest)
		}
		if err != nil || !bytes.Equal(again, obj) {
			t.Fatalf("reply %d re-encodes to %x, %v; input %x", r.kind, again, err, obj)
		}
	})
}

func wantSeeds(t testing.TB) [][]byte {
	must(t, loadSchemas())
	w, err := EncodeWant(Want{World: id(1), Commit: id(2), Path: "/a", IDs: []coda.ID{id(3), id(4)}})
	must(t, err)
	one, err := EncodeWant(Want{World: id(1), Path: "/pub/big", IDs: []coda.ID{id(9)}})
	must(t, err)
	return [][]byte{w, one, w[:40], append(append([]byte{}, w[:96]...), 0xff, 0xff, 0xff)}
}

func replySeeds(t testing.TB) [][]byte {
	must(t, loadSchemas())
	m := store.Manifest{ID: id(6), Size: store.ChunkThreshold + 1, Chunks: []store.ChunkRef{{ID: id(7), Len: store.MinChunk + 1}, {ID: id(8), Len: store.ChunkThreshold - store.MinChunk}}}
	mb, err := encodeManifest(&m)
	must(t, err)
	return [][]byte{encodeBlock([]byte("hello")), encodeBlock(nil), encodeMissing(id(3)), mb, mb[:len(mb)-3]}
}

// TestWriteCorpus writes the seed corpora to testdata/fuzz when
// COAL_WRITE_CORPUS=1.
func TestWriteCorpus(t *testing.T) {
	if os.Getenv("COAL_WRITE_CORPUS") != "1" {
		t.Skip("set COAL_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	for name, seeds := range map[string][][]byte{"FuzzDecodeWant": wantSeeds(t), "FuzzDecodeReply": replySeeds(t)} {
		dir := filepath.Join("testdata", "fuzz", name)
		must(t, os.MkdirAll(dir, 0o755))
		for i, s := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644))
		}
	}
}
