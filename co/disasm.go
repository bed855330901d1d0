package co

import (
	"fmt"
	"strings"

	"github.com/coalescent/coal/coins"
)

// Disassemble returns Co source that assembles to exactly rom: top-level
// code, one instruction per line with its address in a comment. Bytes that
// do not start a valid instruction (an unassigned opcode, or an immediate
// cut short by the end of the ROM) are written as string literals.
func Disassemble(rom []byte) string {
	var b strings.Builder
	b.WriteString("( disassembled by coal )\n")
	var data []byte
	dataAt := 0
	flush := func() {
		for len(data) > 0 {
			n := min(len(data), 16)
			fmt.Fprintf(&b, "( %04x ) %s\n", dataAt, quoteBytes(data[:n]))
			data, dataAt = data[n:], dataAt+n
		}
		data = nil
	}
	for i := 0; i < len(rom); {
		op := coins.Opcode(rom[i])
		n := op.ImmLen()
		if !op.Valid() || i+1+n > len(rom) {
			if len(data) == 0 {
				dataAt = i
			}
			data = append(data, rom[i])
			i++
			continue
		}
		flush()
		fmt.Fprintf(&b, "( %04x ) %s", i, op.Mnemonic())
		if n > 0 {
			var v uint64
			for k := n - 1; k >= 0; k-- {
				v = v<<8 | uint64(rom[i+1+k])
			}
			fmt.Fprintf(&b, " 0x%0*x", 2*n, v)
		}
		b.WriteByte('\n')
		i += 1 + n
	}
	flush()
	return b.String()
}
