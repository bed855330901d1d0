package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestModThroughNodeSameOutput runs the module commands on two homes set
// up alike, one without a node (the API in process) and one served by the
// real `coal serve`, and wants the same stdout, stderr and exit status
// once ids, keys and times are normalised (verify signs with each home's
// node key, so Results and found specs differ by id). Then it serves the
// first home too and wants its read commands byte for byte as they were
// without the node.
var wallPattern = regexp.MustCompile(`"(wall_ns|time)":\d+`)

func TestModThroughNodeSameOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the coal binary; skipped with -short")
	}
	dir := t.TempDir()
	circle := filepath.Join(dir, "circle")
	src := filepath.Join("..", "..", "examples", "modules", "circle")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(circle, rel), 0o777)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(circle, rel), b, 0o666)
	})
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.MkdirAll(bad, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "interface.json"), []byte("{\n  \"name\": \"x::y\",\n  \"schemas\": 7\n}\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	const pair = `{"a":{"radius":0,"center_x":0,"center_y":0},"b":{"radius":0,"center_x":0,"center_y":1}}`
	reads := [][]string{
		{"mod", "ls"},
		{"--json", "mod", "ls"},
		{"mod", "show", "geometry::circle"},
		{"--json", "mod", "show", "geometry::circle"},
		{"mod", "show", "nope::x"},
		{"--json", "mod", "show", "nope::x"},
	}
	steps := [][]string{
		{"mod", "publish", bad},
		{"mod", "publish", circle},
		{"mod", "publish", circle},
		{"--json", "mod", "ls"},
		{"mod", "show", "geometry::circle"},
		{"build", "geometry::circle"},
		{"verify", "geometry::circle"},
		// (Not verify again: specs run in id order, and the found specs'
		// ids differ between homes, as their names hold the node key, so
		// which spec a failing impl fails first differs.)
		{"evaluate", "geometry::circle"},
		{"build", "geometry::circle"},
		{"call", "/mod/geometry::circle/main", "--entry", "intersects", "--json", pair, "--schema", "CirclePair"},
		{"verify", "nope::x"},
		{"evaluate", "Bad"},
	}
	steps = append(steps, reads...)

	bin := coalBinary(t)
	run := func(home string, steps [][]string, norm bool) []string {
		var out []string
		for _, s := range steps {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), append([]string{"--home", home}, s...), strings.NewReader(""), &stdout, &stderr)
			if norm {
				// Wall times and the build's time differ between homes.
				o := wallPattern.ReplaceAllString(stdout.String(), `"$1":N`)
				out = append(out, normalise(t, home, o, stderr.String(), code))
			} else {
				out = append(out, stdout.String()+"\n--\n"+stderr.String()+"\n--\n"+string(rune('0'+code)))
			}
		}
		return out
	}
	direct, served := filepath.Join(dir, "direct"), filepath.Join(dir, "served")
	coalRun(t, bin, "--home", direct, "init")
	coalRun(t, bin, "--home", served, "init")
	want := run(direct, steps, true)
	startServe(t, bin, served)
	got := run(served, steps, true)
	for i, s := range steps {
		if got[i] != want[i] {
			t.Errorf("coal %q through the node:\n%s\nwithout:\n%s", s, got[i], want[i])
		}
	}
	if !strings.Contains(want[6], "FAIL cheat") || !strings.Contains(want[8], "built geometry::circle: direct") {
		t.Errorf("verify or build did not do what mod_circle.txtar checks:\n%s\n%s", want[6], want[8])
	}
	// One home, without and then through its node: byte for byte.
	before := run(direct, reads, false)
	startServe(t, bin, direct)
	after := run(direct, reads, false)
	for i, s := range reads {
		if after[i] != before[i] {
			t.Errorf("coal %q on one home through its node:\n%s\nwithout:\n%s", s, after[i], before[i])
		}
	}
}
