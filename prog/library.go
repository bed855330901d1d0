package prog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coins"
	"github.com/coalescent/coal/errs"
)

// A Routine is a routine in its canonical, position-independent form: its
// code with every address field zero, and the fixups naming what each
// field holds. Its library id (ID) is the id of its CODA object.
type Routine struct {
	Code   []byte
	Fixups []Fixup // in address order, not overlapping
}

// A Fixup is an address field of a routine: the 2-byte immediate of the
// LIT16 at At. It names the routine with id Routine, or, if Routine is
// zero, the offset Local in the routine itself.
type Fixup struct {
	At      uint16
	Routine coda.ID
	Local   uint16
}

// A Lib is the value of /lib/NAME: a routine and every routine it needs,
// directly or not, sorted by id, so that it links on its own.
type Lib struct {
	Routine *Routine
	Deps    []*Routine
}

// NamedLib is a library routine made by Build: an exported routine of the
// main source, or a routine the program links by id. An exported routine
// without a library id has a nil Lib and Why says why it has none.
type NamedLib struct {
	Name string
	ID   coda.ID
	Lib  *Lib
	Why  string
}

func (r *Routine) value() coda.Value {
	fs := make([]coda.Value, len(r.Fixups))
	for i, f := range r.Fixups {
		t := coda.Enum(0, coda.U16(f.Local))
		if !f.Routine.IsZero() {
			t = coda.Enum(1, coda.FixedBytes(f.Routine[:]))
		}
		fs[i] = coda.Struct(coda.U16(f.At), t)
	}
	return coda.Struct(coda.Bytes(r.Code), coda.List(fs...))
}

// ID returns the routine's library id: the id of its object.
func (r *Routine) ID() coda.ID {
	id, err := coda.ObjectID(RoutineSchema(), r.value())
	if err != nil { // only for a routine over the object size limit
		return coda.ID{}
	}
	return id
}

// Encode returns the routine's canonical object.
func (r *Routine) Encode() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	if _, err := loadSchemas(); err != nil {
		return nil, err
	}
	b, err := coda.EncodeObject(RoutineSchema(), r.value())
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("prog: encode routine: %w", err))
	}
	return b, nil
}

func routineFromValue(v coda.Value) (*Routine, error) {
	r := &Routine{Code: v.Index(0).AsBytes()}
	for i, n := 0, v.Index(1).Len(); i < n; i++ {
		f := v.Index(1).Index(i)
		x := Fixup{At: uint16(f.Index(0).AsUint())}
		t := f.Index(1)
		p, _ := t.Payload()
		if t.Tag() == 1 {
			x.Routine = coda.ID(p.AsBytes())
			if x.Routine.IsZero() {
				return nil, invalid("routine: fixup %d names the zero id", i)
			}
		} else {
			x.Local = uint16(p.AsUint())
		}
		r.Fixups = append(r.Fixups, x)
	}
	return r, r.check()
}

// check enforces docs/programs.md §3: code that ends in RTN, fixups in
// order on LIT16 instructions with zero immediates, local targets inside.
func (r *Routine) check() error {
	if len(r.Code) == 0 || len(r.Code) > MaxCode {
		return invalid("routine: code of %d bytes (want 1 to %d)", len(r.Code), MaxCode)
	}
	if coins.Opcode(r.Code[len(r.Code)-1]) != coins.RTN {
		return invalid("routine: code does not end in RTN")
	}
	next := 0
	for i, f := range r.Fixups {
		at := int(f.At)
		switch {
		case at < next:
			return invalid("routine: fixup %d at 0x%04x: fixups must be in address order, not overlapping", i, at)
		case at+3 > len(r.Code):
			return invalid("routine: fixup %d at 0x%04x: outside the code (%d bytes)", i, at, len(r.Code))
		case coins.Opcode(r.Code[at]) != coins.LIT16:
			return invalid("routine: fixup %d at 0x%04x: the byte there is %s, not LIT16", i, at, coins.Opcode(r.Code[at]))
		case r.Code[at+1] != 0 || r.Code[at+2] != 0:
			return invalid("routine: fixup %d at 0x%04x: the address field is not zero", i, at)
		case f.Routine.IsZero() && int(f.Local) >= len(r.Code):
			return invalid("routine: fixup %d at 0x%04x: offset 0x%04x is outside the code", i, at, f.Local)
		}
		next = at + 3
	}
	return nil
}

// DecodeRoutine decodes a Routine object.
func DecodeRoutine(obj []byte) (*Routine, error) {
	v, err := decodeObject(obj, RoutineSchema(), "Routine")
	if err != nil {
		return nil, err
	}
	return routineFromValue(v)
}

func decodeObject(obj []byte, s *coda.Schema, what string) (coda.Value, error) {
	if _, err := loadSchemas(); err != nil {
		return coda.Value{}, err
	}
	if len(obj) < coda.IDSize || coda.ID(obj[:coda.IDSize]) != s.ID {
		return coda.Value{}, invalid("not a %s object (want schema %s)", what, s.ID)
	}
	v, err := coda.DecodeBody(s, obj[coda.IDSize:], coda.DecodeOptions{})
	if err != nil {
		if de, ok := err.(*coda.DecodeError); ok {
			return coda.Value{}, invalid("%s: decode at byte %d (%s): %s", what, de.Offset+coda.IDSize, de.Path, de.Msg)
		}
		return coda.Value{}, errs.E(errs.Invalid, fmt.Errorf("prog: decode %s: %w", what, err))
	}
	return v, nil
}

// Encode returns the Lib's canonical object. Deps are sorted by id first.
func (l *Lib) Encode() ([]byte, error) {
	c := &Lib{Routine: l.Routine, Deps: slices.Clone(l.Deps)}
	slices.SortFunc(c.Deps, func(a, b *Routine) int { x, y := a.ID(), b.ID(); return bytes.Compare(x[:], y[:]) })
	if err := c.check(); err != nil {
		return nil, err
	}
	deps := make([]coda.Value, len(c.Deps))
	for i, d := range c.Deps {
		deps[i] = d.value()
	}
	if _, err := loadSchemas(); err != nil {
		return nil, err
	}
	b, err := coda.EncodeObject(LibSchema(), coda.Struct(c.Routine.value(), coda.List(deps...)))
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("prog: encode lib: %w", err))
	}
	return b, nil
}

// DecodeLib decodes the value of /lib/NAME.
func DecodeLib(obj []byte) (*Lib, error) {
	v, err := decodeObject(obj, LibSchema(), "Lib")
	if err != nil {
		return nil, err
	}
	r, err := routineFromValue(v.Index(0))
	if err != nil {
		return nil, err
	}
	l := &Lib{Routine: r}
	for i, n := 0, v.Index(1).Len(); i < n; i++ {
		d, err := routineFromValue(v.Index(1).Index(i))
		if err != nil {
			return nil, fmt.Errorf("dep %d: %w", i, err)
		}
		l.Deps = append(l.Deps, d)
	}
	return l, l.check()
}

// check: the routine is valid, deps are sorted by id without repeats, and
// they are exactly the routines the routine needs, directly or not.
func (l *Lib) check() error {
	if l.Routine == nil {
		return invalid("lib: no routine")
	}
	if err := l.Routine.check(); err != nil {
		return err
	}
	self := l.Routine.ID()
	byID := map[coda.ID]*Routine{}
	var prev coda.ID
	for i, d := range l.Deps {
		if err := d.check(); err != nil {
			return fmt.Errorf("dep %d: %w", i, err)
		}
		id := d.ID()
		if i > 0 && bytes.Compare(prev[:], id[:]) >= 0 {
			return invalid("lib: dep %d (%s) is out of order or repeated", i, id)
		}
		if id == self {
			return invalid("lib: dep %d is the routine itself", i)
		}
		prev = id
		byID[id] = d
	}
	need := map[coda.ID]bool{}
	var walk func(r *Routine) error
	walk = func(r *Routine) error {
		for _, f := range r.Fixups {
			if f.Routine.IsZero() || f.Routine == self || need[f.Routine] {
				continue
			}
			d := byID[f.Routine]
			if d == nil {
				return invalid("lib: needs routine %s, which is not among its deps", f.Routine)
			}
			need[f.Routine] = true
			if err := walk(d); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(l.Routine); err != nil {
		return err
	}
	if len(need) != len(l.Deps) {
		return invalid("lib: %d deps, but the routine needs %d", len(l.Deps), len(need))
	}
	return nil
}

// A Library finds routines by library id, for Link. The zero value is not
// usable; use NewLibrary.
type Library struct {
	byID  map[coda.ID]*Routine
	names map[string]coda.ID
}

// NewLibrary returns an empty Library.
func NewLibrary() *Library {
	return &Library{byID: map[coda.ID]*Routine{}, names: map[string]coda.ID{}}
}

// Add adds the routines of obj, the value of /lib/name.
func (l *Library) Add(name string, obj []byte) error {
	lib, err := DecodeLib(obj)
	if err != nil {
		return fmt.Errorf("/lib/%s: %w", name, err)
	}
	l.AddLib(name, lib)
	return nil
}

// AddLib adds a decoded Lib under name ("" for none).
func (l *Library) AddLib(name string, lib *Lib) {
	id := lib.Routine.ID()
	l.byID[id] = lib.Routine
	if name != "" {
		l.names[name] = id
	}
	for _, d := range lib.Deps {
		l.byID[d.ID()] = d
	}
}

// Lookup returns the routine with library id id (errs.NotExist if none).
func (l *Library) Lookup(id coda.ID) (*Routine, error) {
	if r := l.byID[id]; r != nil {
		return r, nil
	}
	return nil, errs.E(errs.NotExist, fmt.Sprintf("prog: no library routine %s", id))
}

// Names returns the names added, with their ids.
func (l *Library) Names() map[string]coda.ID {
	m := make(map[string]coda.ID, len(l.names))
	for k, v := range l.names {
		m[k] = v
	}
	return m
}

// Link returns the ROM of p ready to load: its code followed by every
// library routine it needs, each once, in the order first needed
// (imports in order, each one's fixups in order, depth first), with every
// address field filled. lookup finds a routine by id; a routine whose id
// is not the one asked for is an error (errs.Invalid).
func Link(p *Program, lookup func(coda.ID) (*Routine, error)) ([]byte, error) {
	rom := slices.Clone(p.Code)
	addr := map[coda.ID]int{}
	var place func(id coda.ID) (int, error)
	place = func(id coda.ID) (int, error) {
		if a, ok := addr[id]; ok {
			return a, nil
		}
		r, err := lookup(id)
		if err != nil {
			return 0, err
		}
		if r == nil || r.ID() != id {
			return 0, invalid("link: library routine %s: lookup gave another routine", id)
		}
		if err := r.check(); err != nil {
			return 0, fmt.Errorf("link: library routine %s: %w", id, err)
		}
		a := len(rom)
		if a+len(r.Code) > MaxCode {
			return 0, invalid("link: program and library routines are more than %d bytes", MaxCode)
		}
		addr[id] = a
		rom = append(rom, r.Code...)
		for _, f := range r.Fixups {
			t := a + int(f.Local)
			if !f.Routine.IsZero() {
				if t, err = place(f.Routine); err != nil {
					return 0, err
				}
			}
			binary.LittleEndian.PutUint16(rom[a+int(f.At)+1:], uint16(t))
		}
		return a, nil
	}
	targets := make([]int, len(p.Imports))
	for i, id := range p.Imports {
		a, err := place(id)
		if err != nil {
			return nil, err
		}
		targets[i] = a
	}
	for _, l := range p.Links {
		if int(l.At)+3 > len(p.Code) || int(l.Import) >= len(targets) {
			return nil, invalid("link at 0x%04x: outside the code or no such import", l.At)
		}
		binary.LittleEndian.PutUint16(rom[int(l.At)+1:], uint16(targets[l.Import]))
	}
	return rom, nil
}

// Build assembles Co source into a Program. opts.Resolver finds imported
// modules (nil: the standard library only; see Resolver for a world's /lib).
func Build(file string, src []byte, opts co.Options) (*Program, error) {
	p, _, err := BuildLibrary(file, src, opts)
	return p, err
}

// BuildLibrary is Build, also returning the library routines of the
// program: every exported routine of the main source that has a library
// id, and every routine the program links by id, by name; and, with a nil
// Lib, the exported routines that have no library id, with the reason.
func BuildLibrary(file string, src []byte, opts co.Options) (*Program, []NamedLib, error) {
	cp, err := co.AssembleProgram(file, src, opts)
	if err != nil {
		return nil, nil, err
	}
	tok, err := co.Tokenise(file, src)
	if err != nil {
		return nil, nil, err
	}
	fs := canonicalForms(cp)
	p := &Program{Code: slices.Clone(cp.ROM), Source: tok, Coins: CoinsSpec(), Entries: []Entry{{Name: MainEntry}}}
	var libs []NamedLib
	libNames := map[string]bool{}
	addLib := func(i int) error {
		r := cp.Routines[i]
		if libNames[r.Name] {
			return invalid("%s: two library routines named %s", file, r.Name)
		}
		libNames[r.Name] = true
		libs = append(libs, NamedLib{Name: r.Name, ID: fs[i].id, Lib: fs.lib(i)})
		return nil
	}
	for i, r := range cp.Routines {
		if r.Module != "" || !r.Exported || r.Dynamic {
			continue
		}
		if r.Name == MainEntry {
			return nil, nil, invalid("%s: an exported routine cannot be named %s, the entry point of the top-level code", file, MainEntry)
		}
		// A stub calls the routine and halts: the entry point.
		stub := len(p.Code)
		p.Code = append(p.Code, byte(coins.LIT16), byte(r.Addr), byte(r.Addr>>8), byte(coins.CAL16), byte(coins.HALT))
		p.Entries = append(p.Entries, Entry{Name: r.Name, Addr: uint16(stub)})
		p.Exports = append(p.Exports, Export{Name: r.Name, Addr: uint16(r.Addr), ID: fs[i].id})
		if fs[i].id.IsZero() {
			libs = append(libs, NamedLib{Name: r.Name, Why: fs[i].why})
		} else if err := addLib(i); err != nil {
			return nil, nil, err
		}
	}
	if len(p.Code) > MaxCode {
		return nil, nil, invalid("%s: program with its entry stubs is %d bytes, more than %d", file, len(p.Code), MaxCode)
	}
	index := map[coda.ID]int{}
	for _, l := range cp.Links {
		f := fs[l.Routine]
		r := cp.Routines[l.Routine]
		if f.id.IsZero() {
			return nil, nil, invalid("%s: routine %s cannot be linked by id: %s", file, r.Name, f.why)
		}
		k, ok := index[f.id]
		if !ok {
			k = len(p.Imports)
			index[f.id] = k
			p.Imports = append(p.Imports, f.id)
			if !libNames[r.Name] {
				if err := addLib(l.Routine); err != nil {
					return nil, nil, err
				}
			}
		}
		p.Links = append(p.Links, LinkAt{At: uint16(l.At), Import: uint16(k)})
	}
	if err := p.check(); err != nil {
		return nil, nil, err
	}
	return p, libs, nil
}

// form is the canonical form of one routine of an assembled program, or
// why it has none.
type form struct {
	r     *Routine
	id    coda.ID
	why   string
	state uint8 // 0 not visited, 1 visiting, 2 done
}

type forms []form

// canonicalForms computes the canonical form and library id of every
// routine of cp (decision 8): address fields zeroed, each naming the
// routine itself or an anchor in it by offset, any other routine by id.
func canonicalForms(cp *co.Program) forms {
	fs := make(forms, len(cp.Routines))
	var visit func(i int)
	visit = func(i int) {
		f := &fs[i]
		if f.state != 0 {
			return
		}
		f.state = 1
		defer func() { f.state = 2 }()
		cr := cp.Routines[i]
		if cr.Fixed != "" {
			f.why = cr.Fixed
			return
		}
		r := &Routine{Code: slices.Clone(cr.Code)}
		for _, ref := range cr.Refs {
			x := Fixup{At: uint16(ref.At)}
			switch {
			case ref.Routine < 0:
				x.Local = uint16(ref.Anchor)
			case ref.Routine == i:
			default:
				visit(ref.Routine)
				g := fs[ref.Routine]
				switch {
				case g.state == 1:
					f.why = "it and " + cp.Routines[ref.Routine].Name + " call each other (mutually recursive routines have no library id)"
					return
				case g.id.IsZero():
					f.why = "it uses " + cp.Routines[ref.Routine].Name + ", which has none: " + g.why
					return
				}
				x.Routine = g.id
			}
			r.Code[ref.At+1], r.Code[ref.At+2] = 0, 0
			r.Fixups = append(r.Fixups, x)
		}
		if err := r.check(); err != nil {
			f.why = err.Error()
			return
		}
		f.r, f.id = r, r.ID()
	}
	for i := range fs {
		visit(i)
	}
	return fs
}

// lib returns the Lib of routine i (which has an id).
func (fs forms) lib(i int) *Lib {
	l := &Lib{Routine: fs[i].r}
	byID := map[coda.ID]*Routine{}
	for _, f := range fs {
		if f.r != nil {
			byID[f.id] = f.r
		}
	}
	seen := map[coda.ID]bool{fs[i].id: true}
	var walk func(r *Routine)
	walk = func(r *Routine) {
		for _, x := range r.Fixups {
			if x.Routine.IsZero() || seen[x.Routine] {
				continue
			}
			seen[x.Routine] = true
			d := byID[x.Routine]
			l.Deps = append(l.Deps, d)
			walk(d)
		}
	}
	walk(l.Routine)
	slices.SortFunc(l.Deps, func(a, b *Routine) int { x, y := a.ID(), b.ID(); return bytes.Compare(x[:], y[:]) })
	return l
}
