package cli

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/coda"
)

func init() { register(newImportCmd) }

// importJSON is what coal import --json prints.
type importJSON struct {
	Commit coda.ID `json:"commit"`
	Files  int64   `json:"files"`
	Bytes  int64   `json:"bytes"`
}

func newImportCmd(e *env) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "import DIR --to PATH",
		Short: "Store a directory tree of files as blobs, in one commit",
		Long: `Store every regular file under DIR as a blob at the same relative path under
PATH, in one commit, and print the commit's id. Symbolic links and other
special files are skipped. On a terminal, a progress bar is drawn on
standard error.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fi, err := os.Stat(args[0])
			if err != nil {
				return err
			}
			if !fi.IsDir() {
				return fmt.Errorf("import %s: not a directory", args[0])
			}
			return e.withWorld(func(s *session) error {
				who, err := e.author(s)
				if err != nil {
					return err
				}
				bar := newProgressBar(e.stderr)
				var total int64
				if bar.w != nil {
					total = countFiles(args[0]) // for the bar only: a terminal is watching
				}
				var files, bytes int64
				c, err := s.world.Import(e.ctx, who, args[0], to, func(n int, b int64) {
					files, bytes = int64(n), b
					bar.update(files, total, bytes)
				})
				bar.done()
				if err != nil {
					return err
				}
				if e.json {
					return e.printJSON(importJSON{Commit: c.ID, Files: files, Bytes: bytes})
				}
				return e.printCommit(c.ID)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "the directory to import into")
	cmd.MarkFlagRequired("to")
	return cmd
}

// countFiles counts the regular files under dir, as Import will store
// them; errors count as nothing (Import reports them).
func countFiles(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar draws the progress of a long operation on a terminal, at
// most ten times a second. On anything but a terminal it draws nothing.
type progressBar struct {
	w     io.Writer // nil: not a terminal
	last  time.Time
	drawn bool
	line  string // what was last computed, drawn or not
}

func newProgressBar(w io.Writer) *progressBar {
	if !isTerminal(w) {
		return &progressBar{}
	}
	return &progressBar{w: w}
}

// update draws files of total files (total 0: unknown) and bytes done.
func (p *progressBar) update(files, total, bytes int64) {
	if p.w == nil {
		return
	}
	const width = 30
	p.line = fmt.Sprintf("%d files, %s", files, formatBytes(bytes))
	if total > 0 && files <= total {
		n := int(files * width / total)
		p.line = fmt.Sprintf("[%s%s] %3d%% %d/%d files, %s", strings.Repeat("=", n), strings.Repeat(" ", width-n),
			files*100/total, files, total, formatBytes(bytes))
	}
	now := time.Now()
	if p.drawn && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.drawn = now, true
	fmt.Fprintf(p.w, "\r\x1b[K%s", p.line)
}

// done draws the final state and ends the bar's line.
func (p *progressBar) done() {
	if p.w != nil && p.line != "" {
		fmt.Fprintf(p.w, "\r\x1b[K%s\n", p.line)
	}
}

// formatBytes formats n with a binary unit.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
