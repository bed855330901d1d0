package cli

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/co"
)

func init() { register(newDisasmCmd) }

func newDisasmCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "disasm FILE.rom",
		Short: "Disassemble a ROM into Co source",
		Long: `Disassemble a ROM image into Co source that assembles back to the same
bytes: one instruction per line with its address in a comment; bytes that are
not instructions are written as string literals. FILE - reads standard input.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rom []byte
			var err error
			if args[0] == "-" {
				rom, err = io.ReadAll(e.stdin)
			} else {
				rom, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			_, err = io.WriteString(e.stdout, co.Disassemble(rom))
			return err
		},
	}
}
