package acl_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/errs"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata")

// The schema ids of the stored objects: they change only if acl.coda (or
// CODA's schema encoding) does, which changes every stored .acl and group.
func TestSchemaIDs(t *testing.T) {
	a, err := acl.ACLSchema()
	if err != nil {
		t.Fatal(err)
	}
	g, err := acl.GroupSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{
		{a.ID.String(), "h27yjvbnad4wyx2pbehns22gzsmnyz2gycaputoifztysze476uq"},
		{g.ID.String(), "6rbcdvxl2q2le5y7spkmtofn5rm3safnapdqhjtpygq65tpotnuq"},
	} {
		if c.got != c.want {
			t.Errorf("schema id: got %s, want %s", c.got, c.want)
		}
	}
}

var key1 = [32]byte{1}

// Golden bodies (after the 32-byte schema id), byte by byte.
func TestGolden(t *testing.T) {
	a := acl.ACL{Rules: []acl.Rule{
		{Who: acl.Anyone, Rights: acl.Read},
		{Who: acl.Key(key1), Rights: acl.Admin},                    // stored as 7
		{Who: acl.GroupNamed("eng"), Rights: acl.Read | acl.Write}, //
	}}
	aclBody := "03" + // three rules, sorted: key, group, anyone
		"00" + "01" + strings.Repeat("00", 31) + "07" + // Key(01 00…) admin (7)
		"01" + "03" + hex.EncodeToString([]byte("eng")) + "03" + // Group("eng") read,write
		"02" + "01" // Anyone read
	g := acl.Group{Members: []acl.Who{acl.GroupNamed("ops"), acl.Key(key1), acl.Key(key1)}}
	groupBody := "02" + // two members, sorted, the repeat dropped
		"00" + "01" + strings.Repeat("00", 31) + // Key(01 00…)
		"01" + "03" + hex.EncodeToString([]byte("ops")) // Group("ops")
	for _, c := range []struct {
		name string
		enc  func() ([]byte, error)
		want string
	}{
		{"acl", a.Encode, aclBody},
		{"group", g.Encode, groupBody},
	} {
		b, err := c.enc()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := hex.EncodeToString(b[32:]); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	var a acl.ACL
	a.Grant(acl.Key(key1), acl.Read)
	a.Grant(acl.Key(key1), acl.Write)
	a.Grant(acl.GroupNamed("eng"), acl.Admin)
	a.Grant(acl.Anyone, acl.None) // no rights: no rule
	b, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	d, err := acl.DecodeACL(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(d.Rules), fmt.Sprint([]acl.Rule{{acl.Key(key1), acl.Read | acl.Write}, {acl.GroupNamed("eng"), acl.All}}); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if !d.Revoke(acl.Key(key1)) || d.Revoke(acl.Key(key1)) {
		t.Errorf("Revoke: want true, then false")
	}
	if got := d.RightsOf(acl.GroupNamed("eng")); got != acl.All {
		t.Errorf("RightsOf: got %s, want %s", got, acl.All)
	}
}

func TestText(t *testing.T) {
	for _, s := range []string{"anyone", "group:eng", "ed25519:aeaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} {
		w, err := acl.ParseWho(s)
		if err != nil {
			t.Errorf("ParseWho(%q): %v", s, err)
			continue
		}
		if w.String() != s {
			t.Errorf("ParseWho(%q).String() = %q", s, w)
		}
	}
	if w, _ := acl.ParseWho("ed25519:aeaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); w != acl.Key(key1) {
		t.Errorf("ParseWho: got %v, want the key 01 00…", w)
	}
	for _, s := range []string{"", "bob", "group:", "group:a/b", "ed25519:xyz", "Anyone"} {
		if _, err := acl.ParseWho(s); !errs.Is(err, errs.Invalid) {
			t.Errorf("ParseWho(%q): got %v, want invalid", s, err)
		}
	}
	for s, want := range map[string]acl.Rights{"read": acl.Read, "write,read": acl.Read | acl.Write, "admin": acl.Admin, "read, write,admin": acl.All} {
		if got, err := acl.ParseRights(s); err != nil || got != want {
			t.Errorf("ParseRights(%q) = %s, %v; want %s", s, got, err, want)
		}
	}
	for _, s := range []string{"", "rw", "read,,write", "list"} {
		if _, err := acl.ParseRights(s); !errs.Is(err, errs.Invalid) {
			t.Errorf("ParseRights(%q): got %v, want invalid", s, err)
		}
	}
	if got := (acl.Read | acl.Admin).String(); got != "read,admin" {
		t.Errorf("String: got %q", got)
	}
	if got := acl.None.String(); got != "none" {
		t.Errorf("String: got %q", got)
	}
}

func TestEncodeRefuses(t *testing.T) {
	for name, enc := range map[string]func() ([]byte, error){
		"rights 8":         acl.ACL{Rules: []acl.Rule{{acl.Anyone, 8}}}.Encode,
		"group name":       acl.ACL{Rules: []acl.Rule{{acl.GroupNamed("a/b"), acl.Read}}}.Encode,
		"empty group name": acl.ACL{Rules: []acl.Rule{{acl.GroupNamed(""), acl.Read}}}.Encode,
		"anyone in group":  acl.Group{Members: []acl.Who{acl.Anyone}}.Encode,
		"bad kind":         acl.Group{Members: []acl.Who{{Kind: 9}}}.Encode,
	} {
		if _, err := enc(); !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: got %v, want invalid", name, err)
		}
	}
}

// objects returns object bytes for the fuzz corpus: valid ACLs and groups
// and near misses.
func objects(t testing.TB) map[string][]byte {
	aclSchema, _ := acl.ACLSchema()
	groupSchema, _ := acl.GroupSchema()
	must := func(b []byte, err error) []byte {
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	key := func(b byte) string { return "00" + strings.Repeat(hex.EncodeToString([]byte{b}), 32) }
	raw := func(id []byte, body string) []byte {
		b, err := hex.DecodeString(body)
		if err != nil {
			t.Fatal(err)
		}
		return append(append([]byte{}, id...), b...)
	}
	a, g := aclSchema.ID[:], groupSchema.ID[:]
	return map[string][]byte{
		"acl-empty":   must(acl.ACL{}.Encode()),
		"acl-genesis": must(acl.GenesisACL(key1)),
		"acl-all": must(acl.ACL{Rules: []acl.Rule{{acl.Key(key1), acl.Read}, {acl.Key([32]byte{2}), acl.Write},
			{acl.GroupNamed("eng"), acl.Read | acl.Write}, {acl.Anyone, acl.Read}}}.Encode()),
		"group-empty":  must(acl.Group{}.Encode()),
		"group-nested": must(acl.Group{Members: []acl.Who{acl.Key(key1), acl.GroupNamed("a"), acl.GroupNamed("b")}}.Encode()),
		// Near misses, each rejected.
		"bad-rights-0":       raw(a, "01"+"02"+"00"),
		"bad-rights-4":       raw(a, "01"+"02"+"04"),
		"bad-rights-5":       raw(a, "01"+"02"+"05"),
		"bad-unsorted":       raw(a, "02"+"02"+"01"+key(1)+"01"),
		"bad-repeat":         raw(a, "02"+key(1)+"01"+key(1)+"02"),
		"bad-group-name":     raw(a, "01"+"01"+"03"+hex.EncodeToString([]byte("a/b"))+"01"),
		"bad-group-dotdot":   raw(g, "01"+"01"+"02"+hex.EncodeToString([]byte(".."))),
		"bad-anyone-member":  raw(g, "01"+"02"),
		"bad-member-repeat":  raw(g, "02"+key(3)+key(3)),
		"bad-trailing":       append(must(acl.ACL{}.Encode()), 0),
		"bad-schema":         raw(g, "01"+"02"+"01"),
		"bad-tag":            raw(a, "01"+"03"+"01"),
		"bad-short":          a[:20],
		"bad-names-unsorted": raw(g, "02"+"01"+"01"+"62"+"01"+"01"+"61"),
	}
}

func TestDecode(t *testing.T) {
	for name, b := range objects(t) {
		_, errA := acl.DecodeACL(b)
		_, errG := acl.DecodeGroup(b)
		ok := errA == nil || errG == nil
		if ok != !strings.HasPrefix(name, "bad-") {
			t.Errorf("%s: decode ACL: %v; decode group: %v", name, errA, errG)
		}
		for _, err := range []error{errA, errG} {
			if err != nil && !errs.Is(err, errs.Invalid) {
				t.Errorf("%s: got %v, want an invalid error", name, err)
			}
		}
	}
}

// The seed corpus of FuzzACLDecode is objects(), written by -update.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzACLDecode")
	for name, b := range objects(t) {
		file := filepath.Join(dir, name)
		want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if *update {
			if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil || string(got) != want {
			t.Errorf("%s: seed missing or stale (run go test ./acl -run TestFuzzCorpus -update): %v", file, err)
		}
	}
}

func FuzzACLDecode(f *testing.F) {
	for _, b := range objects(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := acl.DecodeACL(b); err == nil {
			enc, err := a.Encode()
			if err != nil {
				t.Fatalf("decoded ACL does not encode: %v", err)
			}
			if !bytes.Equal(enc, b) {
				t.Fatalf("ACL re-encodes differently:\n got %x\nwant %x", enc, b)
			}
		} else if !errs.Is(err, errs.Invalid) {
			t.Fatalf("decode ACL: got %v, want an invalid error", err)
		}
		if g, err := acl.DecodeGroup(b); err == nil {
			enc, err := g.Encode()
			if err != nil {
				t.Fatalf("decoded group does not encode: %v", err)
			}
			if !bytes.Equal(enc, b) {
				t.Fatalf("group re-encodes differently:\n got %x\nwant %x", enc, b)
			}
		} else if !errs.Is(err, errs.Invalid) && !errors.Is(err, errs.Invalid) {
			t.Fatalf("decode group: got %v, want an invalid error", err)
		}
	})
}

func TestJSON(t *testing.T) {
	a := acl.ACL{Rules: []acl.Rule{{acl.Key(key1), acl.Read | acl.Write}, {acl.GroupNamed("eng"), acl.All}, {acl.Anyone, acl.Read}}}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rules":[{"who":"ed25519:aeaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","rights":"read,write"},{"who":"group:eng","rights":"read,write,admin"},{"who":"anyone","rights":"read"}]}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var back acl.ACL
	if err := json.Unmarshal(b, &back); err != nil || fmt.Sprint(back) != fmt.Sprint(a) {
		t.Errorf("round trip: got %v, %v; want %v", back, err, a)
	}
	if err := json.Unmarshal([]byte(`{"rules":[{"who":"bob","rights":"read"}]}`), &back); err == nil {
		t.Errorf("unmarshal of a bad who: no error")
	}
}
