package bundle

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// TestHeaderSchemaID pins the header's schema id: changing bundle.coda
// changes the file format.
func TestHeaderSchemaID(t *testing.T) {
	got := HeaderSchemaID().String()
	t.Logf("Header schema id %s", got)
	if want := "w7cbfccnupsp2oar5fo3jafezw7flrbxdvfikab4kqhjxtoo3f5a"; got != want {
		t.Errorf("Header schema id %s, want %s (bundle.coda changed: a new format version)", got, want)
	}
}

func TestReadRejects(t *testing.T) {
	a := origin(t)
	good := a.bundle(t, "alice", CreateOptions{})
	if !bytes.HasPrefix(good, []byte("CODW\x01")) {
		t.Fatalf("a bundle starts with %q", good[:5])
	}
	hdr, objs, err := Read(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if hdr.World != a.w.ID() || hdr.Head != a.head(t) || int(hdr.Objects) != len(objs) || hdr.Author != a.key(t, "alice").Key() {
		t.Errorf("header %+v", hdr)
	}
	var list [][]byte
	for _, o := range objs {
		list = append(list, o)
	}
	wrongCount := hdr
	wrongCount.Objects++
	var wc bytes.Buffer
	if _, err := write(&wc, wrongCount, list); err != nil {
		t.Fatal(err)
	}
	noHeader := func() []byte {
		var b bytes.Buffer
		ww := coda.NewWireWriter(&b, []coda.ID{cdb.CommitSchemaID()})
		for _, o := range list {
			if coda.ID(o[:coda.IDSize]) == cdb.CommitSchemaID() {
				ww.WriteObject(o)
				break
			}
		}
		ww.Close()
		return b.Bytes()
	}()
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, ""},
		{"truncated", good[:len(good)-1], "truncated"},
		{"not a stream", []byte("hello"), ""},
		{"object count", wc.Bytes(), "announces"},
		{"no header", noHeader, "not a bundle header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Read(bytes.NewReader(c.data))
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Read: %v, want an invalid error with %q", err, c.want)
			}
		})
	}
	// A bundle of another world is refused before anything is read.
	other, err := cdb.Init(t.TempDir()+"/other", secured())
	must(t, err)
	defer other.Close()
	ow, err := other.World("")
	must(t, err)
	if _, err := Apply(ctx, ow, bytes.NewReader(good), ""); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "bundle of world") {
		t.Errorf("Apply to another world: %v", err)
	}
}

// TestHeldCommit: a commit whose time is beyond the receiver's skew bound
// holds the whole bundle (unavailable), storing nothing.
func TestHeldCommit(t *testing.T) {
	a := origin(t)
	since := a.head(t)
	future := func() time.Time { return time.Now().Add(time.Hour) }
	m := clone(t, a.bundle(t, "alice", CreateOptions{}), cdb.Options{Store: memstore.New(), Policy: lax{}, Clock: future})
	_, err := m.h.ImportKey("bob", mustExport(t, a.h, "bob"))
	must(t, err)
	m.put(t, "bob", "/pub/tomorrow", "from the future")
	before := state(t, a.h)
	_, err = Apply(ctx, a.w, bytes.NewReader(m.bundle(t, "bob", CreateOptions{Since: since})), "")
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "held") {
		t.Errorf("Apply: %v, want a held commit", err)
	}
	if after := state(t, a.h); after != before {
		t.Errorf("something was stored:\nbefore %s\nafter  %s", before, after)
	}
}

// FuzzRead: reading never panics, and whatever reads holds objects named
// by their hashes.
func FuzzRead(f *testing.F) {
	h, err := cdb.Init(f.TempDir()+"/h", secured())
	if err != nil {
		f.Fatal(err)
	}
	defer h.Close()
	w, err := h.World("")
	if err != nil {
		f.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := Create(w, h.NodeKey(), &b, CreateOptions{}); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte("CODW\x01\x00\x00"))
	// A header listing opaque subtrees and withheld ids (version 3).
	hdr := Header{Version: Version, World: w.ID(), Name: "w", Branch: "main", Author: cdb.KeyString(h.NodeKey().Public),
		Withheld: []coda.ID{coda.Sum([]byte("g"))}, Opaque: []string{"/a b", "/p", "/p0/q"}}
	var ob bytes.Buffer
	if _, err := write(&ob, hdr, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(ob.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		_, objs, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for id, o := range objs {
			if coda.Sum(o) != id {
				t.Fatalf("object %s hashes to %s", id, coda.Sum(o))
			}
		}
	})
}

// TestVersion1Refused: a bundle of format version 1 (its header did not
// list withheld values) is refused, saying so.
func TestVersion1Refused(t *testing.T) {
	var b bytes.Buffer
	ww := coda.NewWireWriter(&b, []coda.ID{headerV1})
	body := []byte{1, 0, 0, 0, 0, 0, 0, 0} // version: u64 1, the rest does not matter
	if err := ww.WriteObject(append(headerV1[:], body...)); err != nil {
		t.Fatal(err)
	}
	if err := ww.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, err := Read(&b)
	if want := "format version 1, this coal reads 3"; !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), want) {
		t.Errorf("Read: %v, want an invalid error with %q", err, want)
	}
}
