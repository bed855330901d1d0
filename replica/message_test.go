package replica

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

var writeSeeds = flag.Bool("seeds", false, "write the fuzz seed corpus to testdata/fuzz/FuzzDecode")

func idOf(b byte) coda.ID {
	var x coda.ID
	for i := range x {
		x[i] = b
	}
	return x
}

func sampleMessages() []message {
	return []message{
		Heads{},
		Heads{Heads: []Head{{World: idOf(1), Branch: "main", Head: idOf(2)}, {World: idOf(3), Branch: "main", Head: idOf(4)}}},
		Pull{World: idOf(1), Want: idOf(2)},
		Pull{World: idOf(1), Want: idOf(2), Haves: []coda.ID{idOf(5), idOf(6)}},
		Part{Data: []byte("CODW\x01")},
		Refuse{Kind: "not-exist", Reason: "no such world"},
		Pull{World: idOf(1), Want: idOf(2), Haves: []coda.ID{idOf(5)}, Large: 1 << 20},
		Fetch{},
		Fetch{Values: []Large{{Commit: idOf(7), Path: "/big/file", ID: idOf(8), Size: 3 << 20}}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		b, err := Encode(m)
		if err != nil {
			t.Fatalf("encode %T: %v", m, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("decode %T: %v", m, err)
		}
		if !reflect.DeepEqual(normal(got), normal(m)) {
			t.Errorf("round trip: got %#v, want %#v", got, m)
		}
	}
}

// normal makes nil and empty slices alike.
func normal(m any) any {
	switch m := m.(type) {
	case Heads:
		if len(m.Heads) == 0 {
			m.Heads = nil
		}
		return m
	case Pull:
		if len(m.Haves) == 0 {
			m.Haves = nil
		}
		return m
	case Fetch:
		if len(m.Values) == 0 {
			m.Values = nil
		}
		return m
	}
	return m
}

// TestGolden pins the bytes of a Pull (docs/sync.md draws them).
func TestGolden(t *testing.T) {
	b, err := Encode(Pull{World: idOf(1), Want: idOf(2), Haves: []coda.ID{idOf(3)}})
	if err != nil {
		t.Fatal(err)
	}
	body := hex.EncodeToString(b[coda.IDSize:])
	want := strings.Repeat("01", 32) + strings.Repeat("02", 32) + "01" + strings.Repeat("03", 32) + "0000000000000000"
	if body != want {
		t.Errorf("Pull body:\n got %s\nwant %s", body, want)
	}
	ids := map[string]string{"Heads": headsSchema.ID.String(), "Pull": pullSchema.ID.String(), "Part": partSchema.ID.String(),
		"Refuse": refuseSchema.ID.String(), "Fetch": fetchSchema.ID.String()}
	wantIDs := map[string]string{ // docs/sync.md
		"Heads":  "3tvue2hzzekhb64xbzvrifebp6idiy6rgvwfxvbtflywwwb7pv4q",
		"Pull":   "q2mimxen3nf2r4zqing4hq5f3rgjwy4olaco6ivhc6vielyhtlcq",
		"Part":   "3gnxltikbler3aglaa5onn5nlnasztn6ncnatpk44l4ewvdlhsda",
		"Refuse": "lvzh5etoeg257en2zavmtrrdb7zzxhweab7lkr7wtwqawrjqqutq",
		"Fetch":  "z7f5qyovwerbflstupzbjqujvxqxg37c6gadjzdzvzzhrueen5eq",
	}
	for n, id := range ids {
		if w := wantIDs[n]; w != id {
			t.Errorf("schema %s: id %s, want %s", n, id, w)
		}
	}
	if testing.Verbose() {
		t.Logf("schema ids: %v", ids)
	}
}

func TestDecodeRejects(t *testing.T) {
	enc := func(m message) []byte {
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	many := make([]coda.ID, MaxHaves+1)
	tests := []struct {
		name string
		b    []byte
		kind errs.Kind
	}{
		{"empty", nil, errs.Invalid},
		{"garbage", []byte("hello, this is not a message at all, really not"), errs.Invalid},
		{"heads out of order", enc(Heads{Heads: []Head{{World: idOf(3), Branch: "main"}, {World: idOf(1), Branch: "main"}}}), errs.Invalid},
		{"heads repeated", enc(Heads{Heads: []Head{{World: idOf(1), Branch: "main"}, {World: idOf(1), Branch: "main"}}}), errs.Invalid},
		{"too many haves", enc(Pull{Haves: many}), errs.Limit},
		{"big part", enc(Part{Data: make([]byte, MaxPart+1)}), errs.Limit},
		{"trailing byte", append(enc(Refuse{Kind: "x"}), 0), errs.Invalid},
		{"long path", enc(Fetch{Values: []Large{{Path: strings.Repeat("a", MaxPathLen+1)}}}), errs.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.b)
			if !errs.Is(err, tt.kind) {
				t.Errorf("Decode: %v, want kind %v", err, tt.kind)
			}
		})
	}
}

// FuzzDecode: no input panics; whatever decodes encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages() {
		b, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		out, err := Encode(m.(message))
		if err != nil {
			t.Fatalf("re-encode %T: %v", m, err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("decode → encode changed the bytes:\n in %x\nout %x", b, out)
		}
	})
}

func TestWriteSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("-seeds writes the corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, m := range sampleMessages() {
		b, _ := Encode(m)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
