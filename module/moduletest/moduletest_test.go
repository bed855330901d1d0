package moduletest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCopyCircle(t *testing.T) {
	dir := t.TempDir()
	CopyCircle(t, dir, "bench::circle_7")
	b, err := os.ReadFile(filepath.Join(dir, "interface.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"bench::circle_7"`) || strings.Contains(string(b), `"geometry::circle"`) {
		t.Errorf("interface.json not renamed:\n%s", b)
	}
	impls, err := os.ReadDir(filepath.Join(dir, "impls"))
	if err != nil || len(impls) == 0 {
		t.Errorf("impls not copied: %v, %d files", err, len(impls))
	}
}
