package cli

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb"
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
			dir := args[0]
			fi, err := os.Stat(dir)
			if err != nil {
				return err
			}
			if !fi.IsDir() {
				return fmt.Errorf("import %s: not a directory", dir)
			}
			files, err := cdb.ImportFiles(dir)
			if err != nil {
				return err
			}
			c, err := e.api()
			if err != nil {
				return err
			}
			// The files go to the node as a tar archive, written as it is
			// sent; the node stores each file as it arrives. The bar
			// shows what was sent.
			bar := newProgressBar(e.stderr)
			pr, pw := io.Pipe()
			werr := make(chan error, 1)
			go func() {
				err := writeTar(pw, dir, files, func(n, b int64) { bar.update(n, int64(len(files)), b) })
				pw.CloseWithError(err)
				werr <- err
			}()
			res, err := c.Import(e.ctx, e.remoteWorld(), to, pr, "")
			pr.CloseWithError(io.ErrClosedPipe) // stops the writer if the node answered early
			if terr := <-werr; terr != nil && terr != io.ErrClosedPipe && err != nil {
				err = terr // what went wrong here, not how the request ended
			}
			bar.done()
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(importJSON{Commit: res.Commit, Files: res.Files, Bytes: res.Bytes})
			}
			return e.printCommit(res.Commit)
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "the directory to import into")
	cmd.MarkFlagRequired("to")
	return cmd
}

// writeTar writes the files (relative to dir) to w as a tar archive of
// regular files, calling progress after each with the files and bytes
// written.
func writeTar(w io.Writer, dir string, files []string, progress func(files, bytes int64)) error {
	// Small files are mostly tar headers and padding: buffered, they
	// travel in large writes.
	bw := bufio.NewWriterSize(w, 256<<10)
	tw := tar.NewWriter(bw)
	var total int64
	for i, rel := range files {
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: rel, Size: fi.Size(), Mode: 0o644, ModTime: fi.ModTime()}
		if err := tw.WriteHeader(h); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
		n, err := io.CopyN(tw, f, fi.Size())
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: read %d of %d bytes: %w", f.Name(), n, fi.Size(), err)
		}
		total += n
		progress(int64(i+1), total)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
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
