package prog

import (
	"fmt"
	"sort"
	"strings"

	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coins"
	"github.com/coalescent/coal/errs"
)

// LibPath is the import path of a world's code library: `+ .lib :NAME ;`
// imports the routine stored at /lib/NAME.
const LibPath = ".lib"

// LibModule returns the Co source of the module .lib made of libs, the
// values of /lib/NAME by NAME: one exported routine `^ NAME … ;` for each,
// and a local routine `: _ID … ;` for each routine they need that is not
// stored under a name. Each body is the routine's code written as Co that
// assembles to the same canonical form, so the routine keeps its id.
func LibModule(libs map[string]*Lib) ([]byte, error) {
	names := make([]string, 0, len(libs))
	for n := range libs {
		if !validName(n) {
			return nil, invalid("/lib/%s: the name is not a Co name", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	nameOf := map[coda.ID]string{}
	routines := map[coda.ID]*Routine{}
	for _, n := range names {
		id := libs[n].Routine.ID()
		if _, ok := nameOf[id]; !ok {
			nameOf[id] = n
		}
		routines[id] = libs[n].Routine
	}
	var deps []coda.ID
	for _, n := range names {
		for _, d := range libs[n].Deps {
			id := d.ID()
			if _, ok := nameOf[id]; !ok {
				nameOf[id] = "_" + id.String()
				routines[id] = d
				deps = append(deps, id)
			}
		}
	}
	sort.Slice(deps, func(i, j int) bool { return nameOf[deps[i]] < nameOf[deps[j]] })
	var b strings.Builder
	b.WriteString("( the code library of this world: /lib )\n")
	write := func(def, name string, r *Routine) error {
		body, err := RoutineSource(r, func(id coda.ID) (string, bool) { n, ok := nameOf[id]; return n, ok })
		if err != nil {
			return fmt.Errorf("/lib %s: %w", name, err)
		}
		fmt.Fprintf(&b, "%s %s %s;\n", def, name, body)
		return nil
	}
	for _, n := range names {
		if err := write("^", n, libs[n].Routine); err != nil {
			return nil, err
		}
	}
	for _, id := range deps {
		if err := write(":", nameOf[id], routines[id]); err != nil {
			return nil, err
		}
	}
	return []byte(b.String()), nil
}

// Resolver returns a co.Resolver that answers LibPath with LibModule(libs)
// and every other path with an errs.NotExist error; chain it before
// co.StdLib(): co.Chain(prog.Resolver(libs), co.StdLib()).
func Resolver(libs map[string]*Lib) co.Resolver {
	return co.ResolverFunc(func(path string) (string, []byte, error) {
		if path != LibPath {
			return "", nil, errs.E(errs.NotExist, "no module "+path+" in /lib")
		}
		src, err := LibModule(libs)
		if err != nil {
			return "", nil, err
		}
		return "/lib", src, nil
	})
}

// RoutineSource writes the body of routine r as Co text (without the
// routine's final RTN, which the assembler adds): instructions, string
// literals for bytes that are not, anchors #Lxxxx at local targets, *Lxxxx
// and $NAME for its address fields, names given by name. Every token is
// followed by one space.
func RoutineSource(r *Routine, name func(coda.ID) (string, bool)) (string, error) {
	if err := r.check(); err != nil {
		return "", err
	}
	end := len(r.Code) - 1 // the final RTN
	boundary := map[int]bool{}
	anchor := map[int]bool{}
	fix := map[int]Fixup{}
	for _, f := range r.Fixups {
		boundary[int(f.At)] = true
		boundary[int(f.At)+3] = true
		fix[int(f.At)] = f
		if f.Routine.IsZero() {
			anchor[int(f.Local)] = true
			boundary[int(f.Local)] = true
		}
	}
	var b strings.Builder
	var data []byte
	flush := func() {
		if len(data) > 0 {
			b.WriteString(quote(data))
			b.WriteByte(' ')
			data = data[:0]
		}
	}
	for i := 0; i <= end; {
		if anchor[i] {
			flush()
			fmt.Fprintf(&b, "#L%04x ", i)
		}
		if i == end {
			break
		}
		if f, ok := fix[i]; ok {
			flush()
			if f.Routine.IsZero() {
				fmt.Fprintf(&b, "*L%04x ", f.Local)
			} else {
				n, ok := name(f.Routine)
				if !ok {
					return "", invalid("routine needs %s, which has no name here", f.Routine)
				}
				fmt.Fprintf(&b, "$%s ", n)
			}
			i += 3
			continue
		}
		op := coins.Opcode(r.Code[i])
		n := 1 + op.ImmLen()
		fits := op.Valid() && i+n <= end
		for k := i + 1; fits && k < i+n; k++ {
			if boundary[k] {
				fits = false
			}
		}
		if !fits {
			data = append(data, r.Code[i])
			i++
			if boundary[i] || anchor[i] {
				flush()
			}
			continue
		}
		flush()
		b.WriteString(op.Mnemonic())
		if imm := op.ImmLen(); imm > 0 {
			var v uint64
			for k := imm - 1; k >= 0; k-- {
				v = v<<8 | uint64(r.Code[i+1+k])
			}
			fmt.Fprintf(&b, " 0x%0*x", 2*imm, v)
		}
		b.WriteByte(' ')
		i += n
	}
	flush()
	return b.String(), nil
}

// quote writes bytes as a Co string literal.
func quote(p []byte) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range p {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
