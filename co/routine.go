package co

// A Routine is a routine of an assembled program, with what is needed to
// move its code elsewhere: the content-addressed code library (docs/co.md
// §11, docs/programs.md) stores routines in this position-independent form.
type Routine struct {
	Name     string
	Module   string // the import path of the module defining it; "" for the main source
	Exported bool   // defined with ^
	Dynamic  bool   // linked by content id (<name, @name): not in the ROM
	Addr     int    // address of its first byte in the ROM; 0 if Dynamic
	Code     []byte // its bytes; address fields of Dynamic routines are zero
	Refs     []Ref  // its address fields, in address order
	// Fixed says why the routine cannot be moved ("" if it can): it
	// refers to an anchor of the top-level code, or pads to an absolute
	// address. A fixed routine has no library id.
	Fixed string
}

// A Ref is an address field in code: a LIT16 whose 2-byte immediate is
// the address of a routine or of an anchor.
type Ref struct {
	At      int // offset of the LIT16 opcode in the routine (in the ROM, for Program.Links)
	Routine int // index in Program.Routines of the routine named; -1: an anchor of the same routine
	Anchor  int // Routine == -1: offset of the anchor in the routine
}

// describe fills p.Routines and p.Links from the laid-out bodies.
func (a *assembler) describe(p *Program) {
	var order []*body
	for _, dyn := range []bool{false, true} {
		for _, b := range a.bodies[1:] {
			if b.dyn == dyn {
				b.index = len(order)
				order = append(order, b)
			}
		}
	}
	for _, b := range order {
		r := Routine{Name: b.r.name, Exported: b.r.exported, Dynamic: b.dyn, Code: b.code}
		if b.r.mod != a.main {
			r.Module = b.r.mod.path
		}
		if !b.dyn {
			r.Addr = b.addr
		}
		for _, it := range b.items {
			switch it.kind {
			case iCall, iAddr:
				// A routine calling itself by id calls itself: the same
				// routine, whichever copy the call lands in.
				target := it.target.index
				if it.target.r == b.r {
					target = b.index
				}
				r.Refs = append(r.Refs, Ref{At: it.addr - b.addr, Routine: target})
			case iAbs, iRel:
				target, own := b.anchorAddr(it.name)
				switch {
				case !own && r.Fixed == "":
					r.Fixed = "it refers to anchor " + it.name + " of the top-level code"
				case own && it.kind == iAbs:
					r.Refs = append(r.Refs, Ref{At: it.addr - b.addr, Routine: -1, Anchor: target - b.addr})
				}
			case iPad:
				if r.Fixed == "" {
					r.Fixed = "it pads to an absolute address"
				}
			}
		}
		p.Routines = append(p.Routines, r)
	}
	for _, b := range a.bodies {
		if b.dyn {
			continue
		}
		for _, it := range b.items {
			if (it.kind == iCall || it.kind == iAddr) && it.target.dyn {
				p.Links = append(p.Links, Ref{At: it.addr, Routine: it.target.index})
			}
		}
	}
}

// ValidName reports whether s is a Co name: non-empty, without white space
// or rune characters (docs/co.md §1).
func ValidName(s string) bool { return validName(s) == "" }
