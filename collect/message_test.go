package collect

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
)

func TestSchemaIDs(t *testing.T) {
	got := SchemaIDs()
	names := []string{"Ask", "Inventory", "Want", "Object", "Refuse"}
	var b strings.Builder
	for i, id := range got {
		fmt.Fprintf(&b, "| %s | `%s` |\n", names[i], id)
	}
	doc := readDoc(t)
	if !strings.Contains(doc, b.String()) {
		t.Fatalf("docs/protocols.md §7.1 does not pin the schema ids; want the rows\n%s", b.String())
	}
}

func goldenPeer(t testing.TB) peer.AddrInfo {
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	id, err := relay.PeerID(pub)
	if err != nil {
		t.Fatal(err)
	}
	return peer.AddrInfo{ID: id, Addrs: []ma.Multiaddr{ma.StringCast("/ip4/192.0.2.1/tcp/7071")}}
}

func samples(t testing.TB) []message {
	var a, b coda.ID
	a[0], b[0] = 1, 2
	return []message{
		Ask{},
		Ask{Since: a, Module: "geometry::circle"},
		Inventory{Head: a, Full: true,
			Entries:  []Item{{Kind: KindInterface, Module: "g", ID: a}, {Kind: KindSpec, Module: "g", ID: a}, {Kind: KindSpec, Module: "g", ID: b}},
			Opinions: []Opinion{{About: a, Kind: 1, Agree: 3}, {About: a, Kind: 2, Disagree: 1}},
			Peers:    []peer.AddrInfo{goldenPeer(t)}},
		Want{IDs: []coda.ID{a, b}},
		Object{Data: []byte("hi")},
		Refuse{Kind: "permission", Reason: "no"},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range samples(t) {
		obj, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(obj)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if !reflect.DeepEqual(norm(got), norm(m)) {
			t.Fatalf("round trip of %T: got %+v, want %+v", m, got, m)
		}
	}
}

// norm makes empty and nil slices equal.
func norm(m any) any {
	if inv, ok := m.(Inventory); ok {
		if len(inv.Entries) == 0 {
			inv.Entries = nil
		}
		if len(inv.Opinions) == 0 {
			inv.Opinions = nil
		}
		return inv
	}
	return m
}

// TestGolden: the bodies of small messages, byte by byte (docs §7.2).
func TestGolden(t *testing.T) {
	var a coda.ID
	a[0] = 1
	cases := []struct {
		m    message
		body string
	}{
		{Ask{Since: a, Module: "g"}, "01" + strings.Repeat("00", 31) + "01" + "67"},
		{Want{IDs: []coda.ID{a}}, "01" + "01" + strings.Repeat("00", 31)},
		{Object{Data: []byte("hi")}, "02" + "6869"},
		{Inventory{Head: a, Full: true, Entries: []Item{{Kind: 1, Module: "g", ID: a}}},
			"01" + strings.Repeat("00", 31) + "ff" + "01" + "01" + "0167" + "01" + strings.Repeat("00", 31) + "00" + "00"},
	}
	for _, c := range cases {
		obj, err := Encode(c.m)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(obj[32:]); got != c.body {
			t.Errorf("%T body = %s, want %s", c.m, got, c.body)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	var a, b coda.ID
	a[0], b[0] = 1, 2
	bad := []struct {
		name string
		m    message
		kind errs.Kind
	}{
		{"unsorted entries", Inventory{Entries: []Item{{Kind: 2, Module: "g", ID: a}, {Kind: 1, Module: "g", ID: a}}}, errs.Invalid},
		{"repeated entry", Inventory{Entries: []Item{{Kind: 2, Module: "g", ID: a}, {Kind: 2, Module: "g", ID: a}}}, errs.Invalid},
		{"kind 7 (build)", Inventory{Entries: []Item{{Kind: 7, Module: "g", ID: a}}}, errs.Invalid},
		{"kind 0", Inventory{Entries: []Item{{Kind: 0, Module: "g", ID: a}}}, errs.Invalid},
		{"module with slash", Inventory{Entries: []Item{{Kind: 1, Module: "../x", ID: a}}}, errs.Invalid},
		{"empty module", Inventory{Entries: []Item{{Kind: 1, Module: "", ID: a}}}, errs.Invalid},
		{"opinion kind 3", Inventory{Opinions: []Opinion{{About: a, Kind: 3}}}, errs.Invalid},
		{"unsorted opinions", Inventory{Opinions: []Opinion{{About: b, Kind: 0}, {About: a, Kind: 0}}}, errs.Invalid},
		{"unsorted want", Want{IDs: []coda.ID{b, a}}, errs.Invalid},
		{"repeated want", Want{IDs: []coda.ID{a, a}}, errs.Invalid},
		{"ask module", Ask{Module: "A/B"}, errs.Invalid},
		{"peer without addrs", Inventory{Peers: []peer.AddrInfo{{ID: goldenPeer(t).ID}}}, errs.Invalid},
		{"big object", Object{Data: make([]byte, MaxObject+1)}, errs.Limit},
	}
	for _, c := range bad {
		obj, err := Encode(c.m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(obj); !errs.Is(err, c.kind) {
			t.Errorf("%s: %v, want %v", c.name, err, c.kind)
		}
	}
	if _, err := Decode([]byte("short")); !errs.Is(err, errs.Invalid) {
		t.Errorf("short: %v", err)
	}
}

// FuzzDecode: any bytes either decode into a message that encodes back to
// the same bytes, or fail as invalid or over a limit.
func FuzzDecode(f *testing.F) {
	for _, m := range samples(f) {
		obj, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(obj)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if !errs.Is(err, errs.Invalid) && !errs.Is(err, errs.Limit) {
				t.Fatalf("error %v is neither invalid nor limit", err)
			}
			return
		}
		obj, err := Encode(m.(message))
		if err != nil {
			t.Fatalf("decoded %T does not encode: %v", m, err)
		}
		if !bytes.Equal(obj, data) {
			t.Fatalf("decode → encode changed the bytes:\n%x\n%x", data, obj)
		}
	})
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../docs/protocols.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSharable(t *testing.T) {
	gp := goldenPeer(t)
	other := peer.AddrInfo{ID: gp.ID, Addrs: []ma.Multiaddr{
		ma.StringCast("/ip4/127.0.0.1/tcp/1"),
		ma.StringCast("/ip4/192.0.2.7/tcp/2/p2p/" + gp.ID.String()),
	}}
	remote := peer.ID("remote")
	got := sharable([]peer.AddrInfo{other, {ID: remote, Addrs: other.Addrs}}, remote, false)
	if len(got) != 1 || len(got[0].Addrs) != 1 || got[0].Addrs[0].String() != "/ip4/192.0.2.7/tcp/2" {
		t.Fatalf("sharable to a remote asker: %v; want the one public address, without /p2p", got)
	}
	if got := sharable([]peer.AddrInfo{other}, remote, true); len(got) != 1 || len(got[0].Addrs) != 2 {
		t.Fatalf("sharable to a loopback asker: %v; want both addresses", got)
	}
}
