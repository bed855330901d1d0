package cdb

import (
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// hideSecret is a policy under which nothing below /secret is readable
// and every commit is allowed.
type hideSecret struct{}

func (hideSecret) CheckCommit(tree.Store, *Commit, []*Commit) error { return nil }
func (hideSecret) Genesis(ed25519.PublicKey) ([]GenesisLeaf, error) { return nil, nil }
func (hideSecret) Schemas() []*coda.Schema                          { return nil }
func (hideSecret) ReadFilter(tree.Store, coda.ID, coda.ID, ed25519.PublicKey) func(string) bool {
	return func(p string) bool { return !strings.HasPrefix(p, "/secret") }
}

func blobOp(path, text string) Op {
	return Op{Kind: PutBlob, Path: path, Blob: strings.NewReader(text), Size: int64(len(text))}
}

// TestViewResolve: a commit the reader may not see resolves exactly as an
// unknown one, by any name; prefixes are searched among visible commits.
func TestViewResolve(t *testing.T) {
	h, err := Init(filepath.Join(t.TempDir(), "home"), Options{Store: memstore.New(), Clock: testClock(), Policy: hideSecret{}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w := defaultWorld(t, h)
	var visible, hidden []coda.ID
	for i := range 24 {
		if i%2 == 0 {
			visible = append(visible, mustCommit(t, w, blobOp(fmt.Sprintf("/pub/%d", i), "p")).ID)
		} else {
			hidden = append(hidden, mustCommit(t, w, blobOp(fmt.Sprintf("/secret/%d", i), "s")).ID)
		}
	}
	last := mustCommit(t, w, blobOp("/pub/last", "p")).ID
	v := w.As(h.NodeKey().Public)
	unknown := func(rev string) string {
		_, err := w.Resolve(rev)
		if !errs.Is(err, errs.NotExist) {
			t.Fatalf("World.Resolve(%q): %v, want not-exist", rev, err)
		}
		return err.Error()
	}
	// A hidden commit by full id, prefix and relative name: the error of an
	// unknown name of the same form.
	fake := strings.Repeat("a", coda.IDTextLen)
	for _, c := range []struct{ rev, like string }{
		{hidden[0].String(), fake},
		{hidden[0].String()[:20], "aaaaaaaaaaaaaaaaaaaa"},
		{"HEAD~1", "nobranch"},
	} {
		_, err := v.Resolve(c.rev)
		want := strings.ReplaceAll(unknown(c.like), c.like, c.rev)
		if !errs.Is(err, errs.NotExist) || err.Error() != want {
			t.Errorf("Resolve(%q): %v, want %q", c.rev, err, want)
		}
	}
	for rev, want := range map[string]coda.ID{"HEAD": last, "HEAD~2": visible[len(visible)-1], visible[0].String(): visible[0]} {
		if got, err := v.Resolve(rev); err != nil || got != want {
			t.Errorf("Resolve(%q) = %s, %v; want %s", rev, got, err, want)
		}
	}
	// Every one-character prefix against a naive count of the visible
	// commits that have it.
	all := append(append([]coda.ID{w.ID(), last}, visible...), hidden...)
	for _, ch := range "abcdefghijklmnopqrstuvwxyz234567" {
		p := string(ch)
		var seen []coda.ID
		for _, id := range all {
			if id.HasPrefix(p) && !isIn(id, hidden) {
				seen = append(seen, id)
			}
		}
		got, err := v.Resolve(p)
		switch len(seen) {
		case 0:
			if !errs.Is(err, errs.NotExist) || err.Error() != unknownRevisionText(p) {
				t.Errorf("Resolve(%q): %v, want unknown", p, err)
			}
		case 1:
			if err != nil || got != seen[0] {
				t.Errorf("Resolve(%q) = %s, %v; want %s", p, got, err, seen[0])
			}
		default:
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), fmt.Sprintf("%d commits start with it", len(seen))) {
				t.Errorf("Resolve(%q): %v, want ambiguous among %d", p, err, len(seen))
			}
		}
	}
}

func isIn(id coda.ID, ids []coda.ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func unknownRevisionText(rev string) string {
	return errs.E(errs.Op("cdb.Resolve"), unknownRevision(rev)).Error()
}
