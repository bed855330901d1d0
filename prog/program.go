package prog

import (
	_ "embed"
	"fmt"
	"sync"

	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coins"
	"github.com/coalescent/coal/errs"
)

//go:embed program.coda
var programCoda []byte

// MaxCode is the largest code: the Core's instruction RAM, 64 KiB.
const MaxCode = co.MaxROM

// A Program is a Co program as stored in the tree.
type Program struct {
	Code    []byte    // the COINS ROM, loaded at address 0; Link fills its links
	Entries []Entry   // named entry points; "main" is the top-level code at 0
	Exports []Export  // the exported routines of the main source
	Imports []coda.ID // library routines linked by id at load time
	Links   []LinkAt  // the address fields of Code that name an import
	Source  []byte    // the tokenised Co source (co.Tokenise); Decompile gives the text
	Coins   coda.ID   // the COINS version it targets: CoinsSpec()
}

// An Entry is a named entry point: execution starts at Addr and the
// program halts when the entry is done.
type Entry struct {
	Name string
	Addr uint16
}

// An Export is an exported routine (^) of the main source: its address in
// Code, and its library id (zero if it has none: it refers to top-level
// data, pads, or calls a routine without one).
type Export struct {
	Name string
	Addr uint16
	ID   coda.ID
}

// A LinkAt is an address field of Code, the 2-byte immediate of the LIT16
// at At, that Link fills with the address of Imports[Import].
type LinkAt struct {
	At     uint16
	Import uint16
}

// MainEntry is the name of the entry point at address 0.
const MainEntry = "main"

type schemas struct {
	all                   []*coda.Schema
	program, routine, lib *coda.Schema
}

var loadSchemas = sync.OnceValues(func() (schemas, error) {
	var s schemas
	list, err := coda.NewRegistry().Compile("program.coda", programCoda)
	if err != nil {
		return s, errs.E(errs.Internal, fmt.Errorf("prog: compile program.coda: %w", err))
	}
	s.all = list
	for _, x := range list {
		switch x.Name {
		case "Program":
			s.program = x
		case "LibRoutine":
			s.routine = x
		case "Lib":
			s.lib = x
		}
	}
	if s.program == nil || s.routine == nil || s.lib == nil {
		return s, errs.E(errs.Internal, "prog: program.coda lacks a schema")
	}
	return s, nil
})

// Schema returns the schema of Program objects. (program.coda is part of
// the binary; if it did not compile, every function here would say so and
// Schema would be nil.)
func Schema() *coda.Schema { s, _ := loadSchemas(); return s.program }

// RoutineSchema returns the schema of Routine objects (library ids).
func RoutineSchema() *coda.Schema { s, _ := loadSchemas(); return s.routine }

// LibSchema returns the schema of /lib/NAME values.
func LibSchema() *coda.Schema { s, _ := loadSchemas(); return s.lib }

// Schemas returns every schema of program.coda, for /sys/schemas.
func Schemas() ([]*coda.Schema, error) {
	s, err := loadSchemas()
	return s.all, err
}

var coinsOnce = sync.OnceValue(func() coda.ID {
	// The COINS instruction set this coal runs: every assigned opcode with
	// its mnemonic and immediate length. A change to the set changes the id.
	b := []byte("COINS instruction set\n")
	for i := 0; i < 256; i++ {
		op := coins.Opcode(i)
		if op.Valid() {
			b = fmt.Appendf(b, "%02x %s %d\n", i, op.Mnemonic(), op.ImmLen())
		}
	}
	return coda.Sum(b)
})

// CoinsSpec returns the id of the COINS version this coal implements
// (docs/programs.md §2): the BLAKE3 of its opcode table.
func CoinsSpec() coda.ID { return coinsOnce() }

func invalid(format string, args ...any) error {
	return errs.E(errs.Invalid, fmt.Sprintf("prog: "+format, args...))
}

// Entry returns the address of the named entry point; "" means "main".
func (p *Program) Entry(name string) (uint16, error) {
	if name == "" {
		name = MainEntry
	}
	for _, e := range p.Entries {
		if e.Name == name {
			return e.Addr, nil
		}
	}
	names := make([]string, len(p.Entries))
	for i, e := range p.Entries {
		names[i] = e.Name
	}
	return 0, errs.E(errs.NotExist, fmt.Sprintf("prog: no entry point %q (the program has %v)", name, names))
}

// Decompile returns the readable Co source of the program.
func (p *Program) Decompile() ([]byte, error) { return co.Detokenise(p.Source) }

// Encode returns the canonical CODA object of p. It fails if p breaks a
// rule Decode checks.
func (p *Program) Encode() ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	entries := make([]coda.Value, len(p.Entries))
	for i, e := range p.Entries {
		entries[i] = coda.Struct(coda.String(e.Name), coda.U16(e.Addr))
	}
	exports := make([]coda.Value, len(p.Exports))
	for i, e := range p.Exports {
		exports[i] = coda.Struct(coda.String(e.Name), coda.U16(e.Addr), coda.FixedBytes(e.ID[:]))
	}
	imports := make([]coda.Value, len(p.Imports))
	for i, id := range p.Imports {
		imports[i] = coda.FixedBytes(id[:])
	}
	links := make([]coda.Value, len(p.Links))
	for i, l := range p.Links {
		links[i] = coda.Struct(coda.U16(l.At), coda.U16(l.Import))
	}
	v := coda.Struct(coda.FixedBytes(p.Coins[:]), coda.Bytes(p.Code), coda.List(entries...),
		coda.List(exports...), coda.List(imports...), coda.List(links...), coda.Bytes(p.Source))
	ss, err := loadSchemas()
	if err != nil {
		return nil, err
	}
	b, err := coda.EncodeObject(ss.program, v)
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("prog: encode: %w", err))
	}
	return b, nil
}

// Decode decodes a Program object. Anything but an object Encode could
// have written is errs.Invalid, with the byte offset for encoding errors.
func Decode(obj []byte) (*Program, error) {
	v, err := decodeObject(obj, Schema(), "Program")
	if err != nil {
		return nil, err
	}
	p := &Program{
		Coins:  coda.ID(v.Index(0).AsBytes()),
		Code:   v.Index(1).AsBytes(),
		Source: v.Index(6).AsBytes(),
	}
	for i, n := 0, v.Index(2).Len(); i < n; i++ {
		e := v.Index(2).Index(i)
		p.Entries = append(p.Entries, Entry{Name: e.Index(0).AsString(), Addr: uint16(e.Index(1).AsUint())})
	}
	for i, n := 0, v.Index(3).Len(); i < n; i++ {
		e := v.Index(3).Index(i)
		p.Exports = append(p.Exports, Export{Name: e.Index(0).AsString(), Addr: uint16(e.Index(1).AsUint()), ID: coda.ID(e.Index(2).AsBytes())})
	}
	for i, n := 0, v.Index(4).Len(); i < n; i++ {
		p.Imports = append(p.Imports, coda.ID(v.Index(4).Index(i).AsBytes()))
	}
	for i, n := 0, v.Index(5).Len(); i < n; i++ {
		l := v.Index(5).Index(i)
		p.Links = append(p.Links, LinkAt{At: uint16(l.Index(0).AsUint()), Import: uint16(l.Index(1).AsUint())})
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return p, nil
}

// check enforces the rules of docs/programs.md §1 beyond the encoding.
func (p *Program) check() error {
	if len(p.Code) > MaxCode {
		return invalid("code of %d bytes is larger than instruction RAM (%d)", len(p.Code), MaxCode)
	}
	seen := map[string]bool{}
	for i, e := range p.Entries {
		if !validName(e.Name) {
			return invalid("entry %d: bad name %q (a Co name)", i, e.Name)
		}
		if seen[e.Name] {
			return invalid("entry %d: name %s repeated", i, e.Name)
		}
		seen[e.Name] = true
		if e.Name == MainEntry && e.Addr != 0 {
			return invalid("entry %s: address 0x%04x (the top-level code is at 0)", e.Name, e.Addr)
		}
		if int(e.Addr) > len(p.Code) || e.Addr != 0 && int(e.Addr) == len(p.Code) {
			return invalid("entry %s: address 0x%04x is outside the code (%d bytes)", e.Name, e.Addr, len(p.Code))
		}
	}
	if !seen[MainEntry] {
		return invalid("no %q entry point", MainEntry)
	}
	seen = map[string]bool{}
	for i, e := range p.Exports {
		if !validName(e.Name) {
			return invalid("export %d: bad name %q (a Co name)", i, e.Name)
		}
		if seen[e.Name] {
			return invalid("export %d: name %s repeated", i, e.Name)
		}
		seen[e.Name] = true
		if int(e.Addr) >= len(p.Code) {
			return invalid("export %s: address 0x%04x is outside the code (%d bytes)", e.Name, e.Addr, len(p.Code))
		}
	}
	ids := map[coda.ID]bool{}
	for i, id := range p.Imports {
		if ids[id] {
			return invalid("import %d: id %s repeated", i, id)
		}
		ids[id] = true
	}
	next := 0
	for i, l := range p.Links {
		switch {
		case int(l.At) < next:
			return invalid("link %d at 0x%04x: links must be in address order, not overlapping", i, l.At)
		case int(l.At)+3 > len(p.Code):
			return invalid("link %d at 0x%04x: outside the code (%d bytes)", i, l.At, len(p.Code))
		case coins.Opcode(p.Code[l.At]) != coins.LIT16:
			return invalid("link %d at 0x%04x: the byte there is %s, not LIT16", i, l.At, coins.Opcode(p.Code[l.At]))
		case int(l.Import) >= len(p.Imports):
			return invalid("link %d at 0x%04x: import %d of %d", i, l.At, l.Import, len(p.Imports))
		}
		next = int(l.At) + 3
	}
	if _, err := co.Detokenise(p.Source); err != nil {
		return errs.E(errs.Invalid, fmt.Errorf("prog: source: %w", err))
	}
	return nil
}

// validName reports whether s is a Co name (docs/co.md §1).
func validName(s string) bool { return len(s) <= 1024 && co.ValidName(s) }

// SchemaSource returns the text of program.coda, the schemas of Program
// and Lib objects, as coal prog add stores them in /sys/schemas.
func SchemaSource() []byte { return append([]byte(nil), programCoda...) }
