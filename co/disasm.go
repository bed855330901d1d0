package co

import (
	"fmt"
	"strings"

	"github.com/coalescent/coal/coins"
)

// A line of disassembly: one instruction, or a run of data bytes.
type disLine struct {
	addr int
	op   coins.Opcode
	imm  uint64
	data []byte // non-nil for data
}

// Disassemble returns Co source that assembles to exactly rom: top-level
// code, one instruction per line with its address in a comment. Bytes that
// do not start a valid instruction (an unassigned opcode, or an immediate
// cut short by the end of the ROM) are written as string literals. Where a
// LIT16 feeds a CAL16, JMP16 or JPC16, or a LIT8 feeds a JPR8 or JCR8, and
// its target is the start of a line, the target gets an anchor L followed
// by its address in hex and the literal is written as *Lxxxx or &Lxxxx,
// which assemble to the same bytes.
func Disassemble(rom []byte) string {
	var lines []disLine
	for i := 0; i < len(rom); {
		op := coins.Opcode(rom[i])
		n := op.ImmLen()
		if !op.Valid() || i+1+n > len(rom) {
			last := len(lines) - 1
			if last >= 0 && lines[last].data != nil && len(lines[last].data) < 16 {
				lines[last].data = append(lines[last].data, rom[i])
			} else {
				lines = append(lines, disLine{addr: i, data: []byte{rom[i]}})
			}
			i++
			continue
		}
		var v uint64
		for k := n - 1; k >= 0; k-- {
			v = v<<8 | uint64(rom[i+1+k])
		}
		lines = append(lines, disLine{addr: i, op: op, imm: v})
		i += 1 + n
	}

	starts := map[int]bool{len(rom): true}
	for _, l := range lines {
		starts[l.addr] = true
	}
	// target returns the address line i refers to, if it is a literal
	// feeding a jump or call whose target starts a line.
	target := func(i int) (int, bool) {
		if i+1 >= len(lines) || lines[i].data != nil || lines[i+1].data != nil {
			return 0, false
		}
		l, next := lines[i], lines[i+1].op
		var t int
		switch {
		case l.op == coins.LIT16 && (next == coins.CAL16 || next == coins.JMP16 || next == coins.JPC16):
			t = int(l.imm)
		case l.op == coins.LIT8 && (next == coins.JPR8 || next == coins.JCR8):
			t = l.addr + 3 + int(int8(l.imm))
		default:
			return 0, false
		}
		return t, starts[t]
	}
	labels := map[int]bool{}
	for i := range lines {
		if t, ok := target(i); ok {
			labels[t] = true
		}
	}

	var b strings.Builder
	b.WriteString("( disassembled by coal )\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if labels[l.addr] {
			fmt.Fprintf(&b, "#L%04x\n", l.addr)
		}
		fmt.Fprintf(&b, "( %04x ) ", l.addr)
		t, ok := target(i)
		switch {
		case l.data != nil:
			b.WriteString(quoteBytes(l.data))
		case ok:
			sigil := '&'
			if l.op == coins.LIT16 {
				sigil = '*'
			}
			fmt.Fprintf(&b, "%cL%04x", sigil, t)
			// The jump or call that takes the address goes on the same
			// line, unless it is a target itself.
			if next := lines[i+1]; !labels[next.addr] {
				fmt.Fprintf(&b, " %s", next.op.Mnemonic())
				i++
			}
		default:
			b.WriteString(l.op.Mnemonic())
			if n := l.op.ImmLen(); n > 0 {
				fmt.Fprintf(&b, " 0x%0*x", 2*n, l.imm)
			}
		}
		b.WriteByte('\n')
	}
	if labels[len(rom)] {
		fmt.Fprintf(&b, "#L%04x\n", len(rom))
	}
	return b.String()
}
