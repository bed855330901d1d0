package cdb

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/coalescent/coal/coda"
)

func writeFiles(t testing.TB, dir string, n int) {
	t.Helper()
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%10), fmt.Sprintf("f%06d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestImport(t *testing.T) {
	h := newHome(t)
	w := defaultWorld(t, h)
	src := t.TempDir()
	writeFiles(t, src, 500)
	var files int
	ci, err := w.Import(ctx, h.NodeKey(), src, "/imp", func(f int, b int64) { files = f })
	if err != nil {
		t.Fatal(err)
	}
	if files != 500 || ci.Ops != 500 {
		t.Errorf("progress %d files, %d ops; want 500", files, ci.Ops)
	}
	b, err := w.OpenBlob(coda.ID{}, "/imp/d07/f000017.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(b)
	b.Close()
	if !bytes.Equal(got, []byte("file 17\n")) {
		t.Errorf("read %q", got)
	}
	ls, err := w.List(coda.ID{}, "/imp")
	if err != nil || len(ls) != 10 {
		t.Errorf("List: %d, %v", len(ls), err)
	}
	if _, err := w.Replay(nil); err != nil {
		t.Error(err)
	}
	n, err := w.FsckCount(func(p string) { t.Error(p) })
	if err != nil {
		t.Error(err)
	}
	// Genesis and the import; the 500 blobs (the genesis values too);
	// the root, /imp and its 10 directories.
	if n.Commits != 2 || n.Values < 500 || n.Dirs < 12 || n.Objects() != n.Commits+n.Dirs+n.Values {
		t.Errorf("FsckCount = %+v, want 2 commits, at least 500 values and 12 directories", n)
	}
}

func BenchmarkImport(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			src := b.TempDir()
			writeFiles(b, src, n)
			for b.Loop() {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), "home")
				h, err := Init(dir, Options{})
				if err != nil {
					b.Fatal(err)
				}
				w := defaultWorld(b, h)
				b.StartTimer()
				if _, err := w.Import(ctx, h.NodeKey(), src, "/imp", nil); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				h.Close()
				b.StartTimer()
			}
		})
	}
}
