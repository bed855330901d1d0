package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/co"
)

func init() { register(newAsmCmd) }

func newAsmCmd(e *env) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "asm FILE.co",
		Short: "Assemble a Co program into a ROM",
		Long: `Assemble a Co program into a ROM image for the Core machine.

The ROM is written next to the source (FILE.rom), to the file named by -o,
or to standard output with -o -. Errors are printed as FILE:LINE:COL: message,
all of them, and the command exits 1. The language is specified in docs/co.md.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rom, err := assembleFile(args[0])
			if err != nil {
				return err
			}
			if out == "-" {
				_, err := e.stdout.Write(rom)
				return err
			}
			if out == "" {
				out = strings.TrimSuffix(args[0], filepath.Ext(args[0])) + ".rom"
			}
			return os.WriteFile(out, rom, 0o666)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the ROM to this file (- for standard output)")
	return cmd
}

// assembleFile assembles a Co source file. Assembly errors come back as an
// exitError listing them all, so the command exits 1 with no prefix.
func assembleFile(file string) ([]byte, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	rom, err := co.Assemble(file, src, co.Options{})
	if err != nil {
		return nil, &exitError{code: 1, msg: err.Error()}
	}
	return rom, nil
}
