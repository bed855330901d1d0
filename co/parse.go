package co

import "fmt"

// A module is one parsed Co source: its imports, macros, routines and
// top-level code.
type module struct {
	path     string // import path (".co.stack"), or the file name of the main source
	imports  []*importItem
	macros   map[string]*macro
	routines map[string]*routine
	order    []*routine // routines in source order
	entry    []token    // top-level code
	hasEntry bool       // whether there was any top-level code
}

// An importItem is one item of an import block: `%name`, `:name`, or either
// with `=local`.
type importItem struct {
	pos     Pos
	path    string // module path it comes from
	routine bool   // `:` item (else `%`)
	name    string // name in that module
	local   string // name in the importing module
}

// A macro is `% name [ params ] body ;`.
type macro struct {
	pos    Pos
	name   string
	params []string
	body   []token
	mod    *module
}

// A routine is `: name body ;` or `^ name body ;`.
type routine struct {
	pos      Pos
	name     string
	exported bool
	body     []token
	mod      *module
}

// parse builds a module from tokens. Errors are added to errs.
func parse(path string, toks []token, errs *ErrorList) *module {
	m := &module{
		path:     path,
		macros:   map[string]*macro{},
		routines: map[string]*routine{},
	}
	i := 0
	// body collects tokens up to the ';' closing a definition that started
	// at start, rejecting tokens that only make sense at top level.
	body := func(what string, start token) []token {
		var out []token
		for ; i < len(toks); i++ {
			t := toks[i]
			switch t.kind {
			case kEnd:
				i++
				return out
			case kImport, kMacroDef, kRoutineDef, kExportDef:
				errs.Addf(t.pos, "%s inside %s (missing ';' after %s at %s?)", t, what, what, start.pos)
				return out
			case kOpen, kClose, kPath, kImpMacro, kImpRoutine:
				errs.Addf(t.pos, "unexpected %s %q in %s", t.kind, t, what)
				continue
			}
			out = append(out, t)
		}
		errs.Addf(start.pos, "%s not terminated (missing ';')", what)
		return out
	}
	name := func(def token, what string) (string, bool) {
		if i >= len(toks) || toks[i].kind != kWord {
			errs.Addf(def.pos, "%s needs a name after %q", what, def)
			return "", false
		}
		t := toks[i]
		i++
		if msg := validName(t.text); msg != "" {
			errs.Add(t.pos, msg)
			return "", false
		}
		return t.text, true
	}
	for i < len(toks) {
		t := toks[i]
		i++
		switch t.kind {
		case kImport:
			m.parseImport(toks, &i, t, errs)
		case kMacroDef:
			n, ok := name(t, "macro")
			var params []string
			if i < len(toks) && toks[i].kind == kOpen {
				open := toks[i]
				i++
				seen := map[string]bool{}
				closed := false
				for i < len(toks) {
					p := toks[i]
					i++
					if p.kind == kClose {
						closed = true
						break
					}
					if p.kind != kWord {
						errs.Addf(p.pos, "unexpected %s %q in parameter list", p.kind, p)
						continue
					}
					if msg := validName(p.text); msg != "" {
						errs.Add(p.pos, msg)
						continue
					}
					if seen[p.text] {
						errs.Addf(p.pos, "duplicate parameter %s", p.text)
					}
					seen[p.text] = true
					params = append(params, p.text)
				}
				if !closed {
					errs.Add(open.pos, "parameter list not terminated (missing ']')")
				}
			}
			what := "macro " + n
			b := body(what, t)
			if !ok {
				continue
			}
			if old, dup := m.macros[n]; dup {
				errs.Addf(t.pos, "macro %s already defined at %s", n, old.pos)
				continue
			}
			m.macros[n] = &macro{pos: t.pos, name: n, params: params, body: b, mod: m}
		case kRoutineDef, kExportDef:
			n, ok := name(t, "routine")
			b := body("routine "+n, t)
			if !ok {
				continue
			}
			if old, dup := m.routines[n]; dup {
				errs.Addf(t.pos, "routine %s already defined at %s", n, old.pos)
				continue
			}
			r := &routine{pos: t.pos, name: n, exported: t.kind == kExportDef, body: b, mod: m}
			m.routines[n] = r
			m.order = append(m.order, r)
		case kEnd:
			errs.Add(t.pos, "unexpected ';' at top level")
		case kOpen, kClose, kPath, kImpMacro, kImpRoutine:
			errs.Addf(t.pos, "unexpected %s %q at top level", t.kind, t)
		default:
			m.entry = append(m.entry, t)
			m.hasEntry = true
		}
	}
	return m
}

// parseImport parses an import block after its '+'.
func (m *module) parseImport(toks []token, i *int, start token, errs *ErrorList) {
	path := ""
	for *i < len(toks) {
		t := toks[*i]
		*i++
		switch t.kind {
		case kEnd:
			if path == "" {
				errs.Add(start.pos, "import block without a path")
			}
			return
		case kPath:
			path = "." + t.text
			if msg := validPath(path); msg != "" {
				errs.Add(t.pos, msg)
			}
		case kImpMacro, kImpRoutine:
			if path == "" {
				errs.Addf(t.pos, "import item %s before the module path", t)
				continue
			}
			name, local := t.text, t.text
			for j := 0; j < len(t.text); j++ {
				if t.text[j] == '=' {
					name, local = t.text[:j], t.text[j+1:]
					break
				}
			}
			bad := false
			for _, s := range []string{name, local} {
				if msg := validName(s); msg != "" {
					errs.Add(t.pos, msg)
					bad = true
					break
				}
			}
			if !bad {
				m.imports = append(m.imports, &importItem{
					pos: t.pos, path: path, routine: t.kind == kImpRoutine, name: name, local: local,
				})
			}
		case kImport, kMacroDef, kRoutineDef, kExportDef:
			errs.Addf(t.pos, "%s inside an import block (missing ';' after the import at %s?)", t, start.pos)
			*i--
			return
		default:
			errs.Addf(t.pos, "unexpected %s %q in import block (want a path, %%macro or :routine)", t.kind, t)
		}
	}
	errs.Add(start.pos, "import block not terminated (missing ';')")
}

// validPath reports why p is not a valid import path: one or more names,
// each preceded by '.'.
func validPath(p string) string {
	if len(p) < 2 || p[0] != '.' {
		return fmt.Sprintf("bad import path %q", p)
	}
	start := 1
	for j := 1; j <= len(p); j++ {
		if j == len(p) || p[j] == '.' {
			if msg := validName(p[start:j]); msg != "" {
				return fmt.Sprintf("bad import path %q: %s", p, msg)
			}
			start = j + 1
		}
	}
	return ""
}
