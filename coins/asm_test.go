package coins

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// asm is a tiny assembler for tests (the real one is package co, which
// imports this package). Tokens are separated by white space:
//
//	MNEMONIC          the opcode
//	LITn NUMBER       the literal, little-endian; NUMBER may be negative
//	name:             defines a label at the current address
//	LIT16 @name       the label's absolute address
//	LIT8 &name        the offset of the label from the instruction after
//	                  the next byte, i.e. for "LIT8 &x JCR8" (also LIT16)
//	.NUMBER           one raw byte
//	( ... )           a comment
func asm(src string) ([]byte, error) {
	type fix struct {
		at, w int
		name  string
		rel   bool
	}
	var (
		out    []byte
		labels = map[string]int{}
		fixes  []fix
	)
	toks := strings.Fields(src)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t == "(":
			for i < len(toks) && toks[i] != ")" {
				i++
			}
		case strings.HasSuffix(t, ":"):
			labels[strings.TrimSuffix(t, ":")] = len(out)
		case strings.HasPrefix(t, "."):
			v, err := strconv.ParseUint(t[1:], 0, 8)
			if err != nil {
				return nil, err
			}
			out = append(out, byte(v))
		default:
			op, ok := OpcodeByMnemonic(t)
			if !ok {
				return nil, fmt.Errorf("unknown mnemonic %q", t)
			}
			out = append(out, byte(op))
			w := op.ImmLen()
			if w == 0 {
				continue
			}
			i++
			if i >= len(toks) {
				return nil, fmt.Errorf("%s needs a value", t)
			}
			arg := toks[i]
			var buf [8]byte
			switch arg[0] {
			case '@', '&':
				fixes = append(fixes, fix{len(out), w, arg[1:], arg[0] == '&'})
			default:
				v, err := strconv.ParseInt(arg, 0, 64)
				if err != nil {
					u, err2 := strconv.ParseUint(arg, 0, 64)
					if err2 != nil {
						return nil, err
					}
					v = int64(u)
				}
				binary.LittleEndian.PutUint64(buf[:], uint64(v))
			}
			out = append(out, buf[:w]...)
		}
	}
	for _, f := range fixes {
		l, ok := labels[f.name]
		if !ok {
			return nil, fmt.Errorf("undefined label %q", f.name)
		}
		v := l
		if f.rel {
			v = l - (f.at + f.w + 1)
		}
		var buf [8]byte
		binary.LittleEndian.PutUint64(buf[:], uint64(int64(v)))
		copy(out[f.at:], buf[:f.w])
	}
	return out, nil
}

func mustAsm(t testing.TB, src string) []byte {
	t.Helper()
	b, err := asm(src)
	if err != nil {
		t.Fatalf("asm: %v", err)
	}
	return b
}
