package co

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/coalescent/coal/coins"
)

// MaxROM is the largest program: the Core's instruction RAM, 64 KiB.
const MaxROM = 1 << 16

// Limits on macro expansion, so that hostile source cannot make the
// assembler run away: a program has at most MaxROM bytes anyway.
const (
	maxItems      = MaxROM + 1 // items in all bodies together
	maxExpansions = 1 << 18    // macro uses expanded in all
	maxTokens     = 1 << 22    // tokens visited while expanding
	maxErrors     = 100        // errors reported before giving up
	maxName       = 1024       // bytes in a name or argument after interpolation
	maxDepth      = 256        // macro uses nested in each other
)

// A Resolver finds the source of an imported module by its import path
// (".co.stack"). It returns a file name used in error positions and the
// source text. A Resolver that does not know the path returns an error
// wrapping errs.NotExist.
type Resolver interface {
	Resolve(path string) (file string, src []byte, err error)
}

// ResolverFunc adapts a function to a Resolver.
type ResolverFunc func(path string) (file string, src []byte, err error)

// Resolve calls f.
func (f ResolverFunc) Resolve(path string) (string, []byte, error) { return f(path) }

// Options configures Assemble. The zero value is ready to use.
type Options struct {
	// Resolver finds imported modules. Nil means the standard library
	// (StdLib) only.
	Resolver Resolver
}

// Assemble turns the Co source src, read from the file named file, into a
// ROM image for the Core machine. The error, if any, is an ErrorList with
// every error found, sorted by position.
func Assemble(file string, src []byte, opts Options) ([]byte, error) {
	p, err := AssembleProgram(file, src, opts)
	if err != nil {
		return nil, err
	}
	return p.ROM, nil
}

// A Program is an assembled program: its ROM and where each of its bytes
// came from, for messages about a running program.
type Program struct {
	ROM   []byte
	Spans []Span // in address order, not overlapping

	// Routines are the routines of the program: those linked into the ROM,
	// in layout order, then those linked by content id (<name, @name),
	// which are not in the ROM, in the order they were first referenced.
	Routines []Routine
	// Links are the address fields of the ROM that name a routine linked
	// by content id, to be filled when the program is loaded.
	Links []Ref
}

// A Span is a run of ROM bytes assembled from one source token.
type Span struct {
	Addr, Len int
	Pos       Pos    // the token
	From      Pos    // the outermost macro use it was expanded from, if any
	Routine   string // the routine it belongs to; "" for top-level code
}

// Source returns the span holding the byte at addr.
func (p *Program) Source(addr int) (Span, bool) {
	i := sort.Search(len(p.Spans), func(i int) bool { return p.Spans[i].Addr+p.Spans[i].Len > addr })
	if i < len(p.Spans) && p.Spans[i].Addr <= addr {
		return p.Spans[i], true
	}
	return Span{}, false
}

// String describes the span: "FILE:LINE:COL", then where it was expanded
// from and the routine it is in, if any.
func (s Span) String() string {
	str := s.Pos.String()
	if s.From.IsValid() && s.From != s.Pos {
		str += " (in macro expanded at " + s.From.String() + ")"
	}
	if s.Routine != "" {
		str += " in routine " + s.Routine
	}
	return str
}

// AssembleProgram is Assemble, returning the ROM with its source spans.
func AssembleProgram(file string, src []byte, opts Options) (*Program, error) {
	a := &assembler{
		resolver: opts.Resolver,
		mods:     map[string]*module{},
		linked:   map[linkKey]*body{},
	}
	if a.resolver == nil {
		a.resolver = StdLib()
	}
	rom := a.assemble(file, src)
	if len(a.errs) > 0 {
		a.errs.RemoveMultiples()
		return nil, a.errs
	}
	p := &Program{ROM: rom, Spans: a.spans}
	a.describe(p)
	return p, nil
}

type assembler struct {
	errs     ErrorList
	resolver Resolver
	mods     map[string]*module // loaded modules by import path
	main     *module
	bodies   []*body // the entry, then routines in layout order, then dynamic ones
	linked   map[linkKey]*body
	queue    []*routine // routines linked but not yet expanded
	queueb   []*body    // their bodies
	nitems   int
	nexp     int
	ntok     int
	stop     bool // a limit was hit: stop expanding
	seen     map[Error]bool
	spans    []Span
}

// A body is the code of the entry or of one routine, expanded.
type body struct {
	r       *routine // nil for the entry
	dyn     bool     // linked by content id: not in the ROM
	items   []item
	anchors map[string]int // anchor name → index in items
	addr    int
	size    int
	code    []byte
	index   int // in Program.Routines
}

// linkKey names a routine linked into the ROM (dyn false) or by content id.
type linkKey struct {
	r   *routine
	dyn bool
}

type itemKind uint8

const (
	iOp     itemKind = iota // an instruction with its immediate
	iData                   // raw bytes
	iAnchor                 // an anchor definition (no bytes)
	iAbs                    // LIT16 address of an anchor
	iRel                    // LIT8 offset of an anchor
	iCall                   // LIT16 address of a routine, CAL16
	iAddr                   // LIT16 address of a routine
	iPad                    // zero bytes up to an absolute address
)

type item struct {
	kind   itemKind
	pos    Pos
	from   Pos // outermost macro use this item was expanded from, if any
	op     coins.Opcode
	imm    uint64
	data   []byte
	name   string
	target *body
	pad    int // iPad: the address to pad to
	addr   int
	size   int
}

// scope is where names in a token stream are resolved: the module, and
// inside a macro its arguments.
type scope struct {
	mod    *module
	macro  *macro
	params map[string]arg
	from   Pos // outermost macro use
	active map[*macro]bool
}

// arg is a macro argument: its text, and the module it was written in.
type arg struct {
	text string
	mod  *module
}

func (a *assembler) errorf(pos, from Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if from.IsValid() && from != pos {
		msg += " (in macro expanded at " + from.String() + ")"
	}
	e := Error{Pos: pos, Msg: msg}
	if a.seen[e] {
		return
	}
	if a.seen == nil {
		a.seen = map[Error]bool{}
	}
	a.seen[e] = true
	a.errs.Add(pos, msg)
	if len(a.errs) >= maxErrors && !a.stop {
		a.errs.Add(pos, "too many errors")
		a.stop = true
	}
}

func (a *assembler) assemble(file string, src []byte) []byte {
	toks := lex(file, src, &a.errs)
	a.main = parse(file, toks, &a.errs)
	a.loadImports(a.main)

	// Layout order: the entry, the main module's routines in source order,
	// then imported routines in the order they are first referenced.
	entry := &body{anchors: map[string]int{}}
	a.bodies = append(a.bodies, entry)
	for _, r := range a.main.order {
		a.link(r, false)
	}
	a.expand(entry, a.main.entry, &scope{mod: a.main, active: map[*macro]bool{}})
	for len(a.queue) > 0 && !a.stop {
		r := a.queue[0]
		a.queue = a.queue[1:]
		b := a.queueb[0]
		a.queueb = a.queueb[1:]
		a.expand(b, r.body, &scope{mod: r.mod, active: map[*macro]bool{}})
		b.items = append(b.items, item{kind: iOp, pos: r.pos, op: coins.RTN})
	}
	if len(a.bodies) > 1 {
		// Top-level code halts when it runs off its end into the routines.
		entry.items = append(entry.items, item{kind: iOp, op: coins.HALT})
	}
	if a.stop {
		return nil
	}
	// Lay out even after errors: items dropped for errors only bring
	// anchors closer, so layout reports no error that is not real.
	return a.layout()
}

// link adds a routine to the program (once) and returns its body: in the
// ROM, or (dyn) among the routines linked by content id.
func (a *assembler) link(r *routine, dyn bool) *body {
	k := linkKey{r, dyn}
	if b, ok := a.linked[k]; ok {
		return b
	}
	b := &body{r: r, dyn: dyn, anchors: map[string]int{}}
	a.linked[k] = b
	a.bodies = append(a.bodies, b)
	a.queue = append(a.queue, r)
	a.queueb = append(a.queueb, b)
	return b
}

// loadImports loads, recursively, the modules m imports and checks its
// import items.
func (a *assembler) loadImports(m *module) {
	seen := map[string]*importItem{}
	for _, it := range m.imports {
		key := "%" + it.local
		what, defined := "macro", m.macros[it.local] != nil
		if it.routine {
			key = ":" + it.local
			what, defined = "routine", m.routines[it.local] != nil
		}
		if defined {
			a.errs.Addf(it.pos, "imported %s %s is also defined in this module", what, it.local)
		}
		if old := seen[key]; old != nil {
			a.errs.Addf(it.pos, "%s %s already imported at %s", what, it.local, old.pos)
		}
		seen[key] = it
		dep := a.load(it.path, it.pos)
		if dep == nil {
			continue
		}
		if it.routine {
			r := dep.routines[it.name]
			switch {
			case r == nil:
				a.errs.Addf(it.pos, "module %s has no routine %s", it.path, it.name)
			case !r.exported:
				a.errs.Addf(it.pos, "routine %s of %s is local (defined with ':'), not exported", it.name, it.path)
			}
		} else if dep.macros[it.name] == nil {
			a.errs.Addf(it.pos, "module %s has no macro %s", it.path, it.name)
		}
	}
}

// load returns the module at an import path, loading it on first use.
// It returns nil if the module cannot be found or read.
func (a *assembler) load(path string, pos Pos) *module {
	if m, ok := a.mods[path]; ok {
		return m
	}
	a.mods[path] = nil // a failed or cyclic load sees nil
	file, src, err := a.resolver.Resolve(path)
	if err != nil {
		a.errs.Addf(pos, "import %s: %v", path, err)
		return nil
	}
	toks := lex(file, src, &a.errs)
	m := parse(path, toks, &a.errs)
	if m.hasEntry {
		a.errs.Addf(m.entry[0].pos, "module %s has top-level code; only the main source may", path)
	}
	a.mods[path] = m
	a.loadImports(m)
	return m
}

// lookupMacro resolves a macro name in module m.
func (a *assembler) lookupMacro(m *module, name string) *macro {
	if mac := m.macros[name]; mac != nil {
		return mac
	}
	for _, it := range m.imports {
		if !it.routine && it.local == name {
			if dep := a.mods[it.path]; dep != nil {
				return dep.macros[it.name]
			}
		}
	}
	return nil
}

// lookupRoutine resolves a routine name in module m.
func (a *assembler) lookupRoutine(m *module, name string) *routine {
	if r := m.routines[name]; r != nil {
		return r
	}
	for _, it := range m.imports {
		if it.routine && it.local == name {
			if dep := a.mods[it.path]; dep != nil {
				if r := dep.routines[it.name]; r != nil && r.exported {
					return r
				}
			}
		}
	}
	return nil
}

// subst replaces each {p} in s by the argument of parameter p. If s is
// exactly one {p}, it also returns the module the argument was written in,
// where a name made of it is resolved.
func (a *assembler) subst(s string, sc *scope, t token) (string, *module, bool) {
	if !hasParams(s) {
		return s, sc.mod, true
	}
	if sc.params == nil && sc.macro == nil {
		a.errorf(t.pos, sc.from, "parameter interpolation %q outside a macro", s)
		return "", nil, false
	}
	var b strings.Builder
	mod := sc.mod
	for i := 0; i < len(s); {
		switch s[i] {
		case '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				a.errorf(t.pos, sc.from, "unterminated '{' in %q", s)
				return "", nil, false
			}
			p := s[i+1 : i+j]
			v, ok := sc.params[p]
			if !ok {
				a.errorf(t.pos, sc.from, "macro %s has no parameter %q", sc.macro.name, p)
				return "", nil, false
			}
			b.WriteString(v.text)
			if b.Len() > maxName {
				a.errorf(t.pos, sc.from, "name longer than %d bytes after interpolation", maxName)
				return "", nil, false
			}
			if i == 0 && i+j+1 == len(s) {
				mod = v.mod
			}
			i += j + 1
		case '}':
			a.errorf(t.pos, sc.from, "unmatched '}' in %q", s)
			return "", nil, false
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), mod, true
}

// add appends an item to b, reporting whether it did (not after a limit).
func (a *assembler) add(b *body, it item) bool {
	if a.stop {
		return false
	}
	a.nitems++
	if a.nitems > maxItems {
		a.errorf(it.pos, it.from, "program too large: more than %d items after macro expansion", MaxROM)
		a.stop = true
		return false
	}
	b.items = append(b.items, it)
	return true
}

// expand expands a token stream into items of body b.
func (a *assembler) expand(b *body, toks []token, sc *scope) {
	for j := 0; j < len(toks) && !a.stop; j++ {
		t := toks[j]
		a.ntok++
		if a.ntok > maxTokens {
			a.errorf(t.pos, sc.from, "macro expansion too large (more than %d tokens)", maxTokens)
			a.stop = true
			return
		}
		switch t.kind {
		case kWord:
			s, _, ok := a.subst(t.text, sc, t)
			if !ok {
				continue
			}
			op, ok := coins.OpcodeByMnemonic(s)
			if !ok {
				if _, _, isNum := parseNumber(s, 8); isNum {
					a.errorf(t.pos, sc.from, "number %s without LIT8, LIT16, LIT32 or LIT64 before it", s)
				} else {
					a.errorf(t.pos, sc.from, "unknown instruction %q", s)
				}
				continue
			}
			it := item{kind: iOp, pos: t.pos, from: sc.from, op: op}
			if n := op.ImmLen(); n > 0 {
				if j+1 >= len(toks) || toks[j+1].kind != kWord {
					a.errorf(t.pos, sc.from, "%s needs a number after it", s)
					continue
				}
				j++
				ns, _, ok := a.subst(toks[j].text, sc, toks[j])
				if !ok {
					continue
				}
				v, msg, isNum := parseNumber(ns, n)
				if !isNum {
					a.errorf(toks[j].pos, sc.from, "%s needs a number after it, not %q", s, ns)
					continue
				}
				if msg != "" {
					a.errorf(toks[j].pos, sc.from, "%s", msg)
					continue
				}
				it.imm = v
			}
			a.add(b, it)
		case kBreak:
		case kString:
			a.add(b, item{kind: iData, pos: t.pos, from: sc.from, data: t.str})
		case kUse:
			j = a.use(b, toks, j, sc)
		case kArg:
			a.errorf(t.pos, sc.from, "argument %s does not follow a macro use", t)
		case kCall, kAddr:
			s, mod, ok := a.subst(t.text, sc, t)
			if !ok {
				continue
			}
			if msg := validName(s); msg != "" {
				a.errorf(t.pos, sc.from, "%s", msg)
				continue
			}
			r := a.lookupRoutine(mod, s)
			if r == nil {
				a.errorf(t.pos, sc.from, "undefined routine %s", s)
				continue
			}
			k := iCall
			if t.kind == kAddr {
				k = iAddr
			}
			a.add(b, item{kind: k, pos: t.pos, from: sc.from, name: s, target: a.link(r, b.dyn)})
		case kExtCall, kExtAddr:
			s, mod, ok := a.subst(t.text, sc, t)
			if !ok {
				continue
			}
			if msg := validName(s); msg != "" {
				a.errorf(t.pos, sc.from, "%s", msg)
				continue
			}
			r := a.lookupRoutine(mod, s)
			if r == nil {
				a.errorf(t.pos, sc.from, "undefined routine %s", s)
				continue
			}
			if !r.exported {
				a.errorf(t.pos, sc.from, "%s: routine %s is local (defined with ':'); only exported routines (^) are linked by content id", t, s)
				continue
			}
			k := iCall
			if t.kind == kExtAddr {
				k = iAddr
			}
			a.add(b, item{kind: k, pos: t.pos, from: sc.from, name: s, target: a.link(r, true)})
		case kAnchor, kAbs, kRel:
			s, _, ok := a.subst(t.text, sc, t)
			if !ok {
				continue
			}
			if msg := validName(s); msg != "" {
				a.errorf(t.pos, sc.from, "%s", msg)
				continue
			}
			switch t.kind {
			case kAnchor:
				if old, dup := b.anchors[s]; dup {
					a.errorf(t.pos, sc.from, "anchor %s already defined at %s", s, b.items[old].pos)
					continue
				}
				if a.add(b, item{kind: iAnchor, pos: t.pos, from: sc.from, name: s}) {
					b.anchors[s] = len(b.items) - 1
				}
			case kAbs:
				a.add(b, item{kind: iAbs, pos: t.pos, from: sc.from, name: s})
			default:
				a.add(b, item{kind: iRel, pos: t.pos, from: sc.from, name: s})
			}
		case kPad:
			s, _, ok := a.subst(t.text, sc, t)
			if !ok {
				continue
			}
			v, err := strconv.ParseUint(s, 16, 32)
			if err != nil || s == "" || strings.HasPrefix(s, "+") {
				a.errorf(t.pos, sc.from, "padding needs a hexadecimal address after '|', not %q", s)
				continue
			}
			if v > MaxROM {
				a.errorf(t.pos, sc.from, "padding to 0x%x is beyond the end of instruction RAM (0x%x)", v, MaxROM)
				continue
			}
			a.add(b, item{kind: iPad, pos: t.pos, from: sc.from, pad: int(v)})
		default:
			a.errorf(t.pos, sc.from, "unexpected %s %q", t.kind, t)
		}
	}
}

// use expands the macro use at toks[j] with its arguments, and returns the
// index of the last token it consumed.
func (a *assembler) use(b *body, toks []token, j int, sc *scope) int {
	t := toks[j]
	var args []arg
	for j+1 < len(toks) && toks[j+1].kind == kArg {
		j++
		s, mod, ok := a.subst(toks[j].text, sc, toks[j])
		if !ok {
			return j
		}
		if s == "" {
			a.errorf(toks[j].pos, sc.from, "empty macro argument")
			return j
		}
		if i := strings.IndexAny(s, "{}"); i >= 0 {
			a.errorf(toks[j].pos, sc.from, "character %q not allowed in macro argument %q", s[i], s)
			return j
		}
		args = append(args, arg{text: s, mod: mod})
	}
	name, mod, ok := a.subst(t.text, sc, t)
	if !ok {
		return j
	}
	if msg := validName(name); msg != "" {
		a.errorf(t.pos, sc.from, "%s", msg)
		return j
	}
	mac := a.lookupMacro(mod, name)
	if mac == nil {
		a.errorf(t.pos, sc.from, "undefined macro %s", name)
		return j
	}
	if len(args) != len(mac.params) {
		a.errorf(t.pos, sc.from, "macro %s takes %d arguments (%s), got %d", name, len(mac.params), strings.Join(mac.params, " "), len(args))
		return j
	}
	if sc.active[mac] {
		a.errorf(t.pos, sc.from, "macro %s uses itself", name)
		return j
	}
	if len(sc.active) >= maxDepth {
		a.errorf(t.pos, sc.from, "macro uses nested more than %d deep", maxDepth)
		return j
	}
	a.nexp++
	if a.nexp > maxExpansions {
		a.errorf(t.pos, sc.from, "too many macro expansions (more than %d)", maxExpansions)
		a.stop = true
		return j
	}
	inner := &scope{mod: mac.mod, macro: mac, params: map[string]arg{}, from: sc.from, active: sc.active}
	if !inner.from.IsValid() {
		inner.from = t.pos
	}
	for i, p := range mac.params {
		inner.params[p] = args[i]
	}
	sc.active[mac] = true
	a.expand(b, mac.body, inner)
	delete(sc.active, mac)
	return j
}

// parseNumber parses a literal for an immediate of n bytes: decimal
// (optionally negative) or 0x hexadecimal. isNum reports whether s looks
// like a number at all; msg says why it does not fit.
func parseNumber(s string, n int) (v uint64, msg string, isNum bool) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	base := 10
	if strings.HasPrefix(digits, "0x") || strings.HasPrefix(digits, "0X") {
		base, digits = 16, digits[2:]
		if neg {
			return 0, fmt.Sprintf("bad number %q: a hexadecimal literal cannot be negative", s), true
		}
	}
	if digits == "" {
		return 0, "", false
	}
	for i := 0; i < len(digits); i++ {
		if unhex(digits[i]) < 0 || (base == 10 && unhex(digits[i]) > 9) {
			return 0, "", false
		}
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return 0, fmt.Sprintf("number %s does not fit in 64 bits", s), true
	}
	bits := uint(8 * n)
	if neg {
		if bits < 64 && u > 1<<(bits-1) || bits == 64 && u > 1<<63 {
			return 0, fmt.Sprintf("number %s does not fit in %d bits", s, bits), true
		}
		v = -u
		if bits < 64 {
			v &= 1<<bits - 1
		}
		return v, "", true
	}
	if bits < 64 && u >= 1<<bits {
		return 0, fmt.Sprintf("number %s does not fit in %d bits", s, bits), true
	}
	return u, "", true
}

// layout assigns addresses and writes the ROM. Bodies in the ROM are laid
// out one after the other from address 0; each body linked by content id
// is laid out on its own from address 0 (its addresses are offsets).
func (a *assembler) layout() []byte {
	addr := 0
	for _, b := range a.bodies {
		if b.dyn {
			a.place(b, 0)
			continue
		}
		addr = a.place(b, addr)
	}
	if addr > MaxROM {
		a.errs.Addf(Pos{File: a.main.path}, "program too large: %d bytes (instruction RAM holds %d)", addr, MaxROM)
		return nil
	}
	rom := make([]byte, 0, addr)
	entry := a.bodies[0]
	for _, b := range a.bodies {
		name := ""
		if b.r != nil {
			name = b.r.name
			if b.r.mod != a.main {
				name = b.r.mod.path + " " + name
			}
		}
		if b.dyn {
			b.code = a.emit(nil, b, entry, name)
			continue
		}
		start := len(rom)
		rom = a.emit(rom, b, entry, name)
		b.code = rom[start:len(rom):len(rom)]
	}
	if len(a.errs) > 0 {
		return nil
	}
	return rom
}

// place gives the items of b their addresses from addr and returns the
// address after them.
func (a *assembler) place(b *body, addr int) int {
	b.addr = addr
	for i := range b.items {
		it := &b.items[i]
		it.addr = addr
		switch it.kind {
		case iOp:
			it.size = 1 + it.op.ImmLen()
		case iData:
			it.size = len(it.data)
		case iAbs, iAddr:
			it.size = 3
		case iRel:
			it.size = 2
		case iCall:
			it.size = 4
		case iPad:
			if b.dyn {
				a.errorf(it.pos, it.from, "routine %s is linked by content id and cannot pad to an absolute address", b.r.name)
				it.pad = addr
			}
			if it.pad < addr {
				a.errorf(it.pos, it.from, "padding to 0x%04x, but already at 0x%04x", it.pad, addr)
				it.pad = addr
			}
			it.size = it.pad - addr
		}
		addr += it.size
	}
	b.size = addr - b.addr
	return addr
}

// emit appends the bytes of body b to out. Routine addresses in a body
// linked by content id, and addresses of routines linked by content id,
// are written as zero: they are filled in when the program is loaded.
func (a *assembler) emit(out []byte, b, entry *body, name string) []byte {
	for _, it := range b.items {
		if !b.dyn && it.size > 0 && it.kind != iPad && it.pos.IsValid() {
			a.spans = append(a.spans, Span{Addr: it.addr, Len: it.size, Pos: it.pos, From: it.from, Routine: name})
		}
		switch it.kind {
		case iOp:
			out = append(out, byte(it.op))
			for k := 0; k < it.op.ImmLen(); k++ {
				out = append(out, byte(it.imm>>(8*k)))
			}
		case iData:
			out = append(out, it.data...)
		case iPad:
			out = append(out, make([]byte, it.size)...)
		case iCall, iAddr:
			target := it.target.addr
			if it.target.dyn {
				target = 0
			}
			out = append(out, byte(coins.LIT16), byte(target), byte(target>>8))
			if it.kind == iCall {
				out = append(out, byte(coins.CAL16))
			}
		case iAbs, iRel:
			target, ok := b.anchorAddr(it.name)
			if !ok {
				target, ok = entry.anchorAddr(it.name)
				if ok && b.dyn {
					a.errorf(it.pos, it.from, "routine %s is linked by content id and cannot refer to anchor %s of the top-level code", b.r.name, it.name)
					continue
				}
			}
			if !ok {
				a.errorf(it.pos, it.from, "undefined anchor %s", it.name)
				continue
			}
			if it.kind == iAbs {
				if b.dyn {
					target -= b.addr
				}
				out = append(out, byte(coins.LIT16), byte(target), byte(target>>8))
				continue
			}
			// The relative jump is meant to follow the LIT8 at once:
			// offsets count from the instruction after it.
			off := target - (it.addr + 3)
			if off < -128 || off > 127 {
				a.errorf(it.pos, it.from, "anchor %s is %d bytes away, too far for a relative address (-128..127); use *%s", it.name, off, it.name)
				continue
			}
			out = append(out, byte(coins.LIT8), byte(int8(off)))
		}
	}
	return out
}

func (b *body) anchorAddr(name string) (int, bool) {
	i, ok := b.anchors[name]
	if !ok {
		return 0, false
	}
	return b.items[i].addr, true
}
