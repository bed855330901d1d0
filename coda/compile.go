package coda

// The compiler: parsed declarations to compiled schemas with ids
// (docs/coda.md, sections 3 and 4).
//
//  1. Collect declarations; reject duplicates and keywords as names.
//  2. Check each declaration (fields, variants, tags) and resolve its types:
//     keywords, then the compilation's own declarations, then the registry.
//  3. Reject infinite types: cycles of bare struct field references.
//  4. Split the local reference graph into strongly connected components
//     (Tarjan), which come out in dependency order; compile each as a group:
//     references inside it become Rec, references out of it Ref by id.
//  5. Order each group's members canonically and compute the ids.

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"strings"
)

// keywords are the names a declaration may not take: the built-in types and
// the declaration keywords (KindInvalid).
var keywords = map[string]Kind{
	"bool": KindBool, "u8": KindU8, "u16": KindU16, "u32": KindU32, "u64": KindU64,
	"i8": KindI8, "i16": KindI16, "i32": KindI32, "i64": KindI64, "f32": KindF32, "f64": KindF64,
	"string": KindString, "bytes": KindBytes, "any": KindAny,
	"list": KindList, "map": KindMap, "optional": KindOptional, "link": KindLink,
	"schema": KindInvalid, "enum": KindInvalid,
}

// A nameResolver finds schemas by name beyond the compilation; *Registry is one.
type nameResolver interface {
	Lookup(name string) (*Schema, bool)
}

// rtype is a resolved type before compilation: a Type whose references are
// to a declaration of the compilation (local >= 0) or to a known schema (ext).
type rtype struct {
	kind      Kind
	n         uint32
	elem, key *rtype
	local     int
	ext       *Schema
}

type rvariant struct {
	name    string
	tag     uint32
	payload *rtype
}

type compiler struct {
	names nameResolver
	errs  ErrorList
	decls []*Decl        // the schemas to compile, in declaration order
	index map[string]int // name → index in decls

	fields   [][]*rtype   // per decl, struct field types
	variants [][]rvariant // per decl, sorted by tag
	edges    [][]int      // per decl, every local reference
	direct   [][]int      // per decl, local references that are bare struct fields
}

// compileFiles compiles parsed files as one compilation. It returns the
// compiled schemas in declaration order, or the errors.
func compileFiles(files []*File, names nameResolver) ([]*Schema, ErrorList) {
	c := &compiler{names: names, index: make(map[string]int)}
	first := make(map[string]*Decl)
	for _, f := range files {
		for _, d := range f.Decls {
			if d.Name == "" {
				continue
			}
			if _, ok := keywords[d.Name]; ok {
				c.errs.add(d.NamePos, "%q is a keyword and cannot be declared", d.Name)
				c.check(d, false)
				continue
			}
			if prev, ok := first[d.Name]; ok {
				c.errs.add(d.NamePos, "duplicate schema %q (first declared at %s)", d.Name, prev.NamePos)
				c.check(d, false)
				continue
			}
			first[d.Name] = d
			c.index[d.Name] = len(c.decls)
			c.decls = append(c.decls, d)
		}
	}
	n := len(c.decls)
	c.fields = make([][]*rtype, n)
	c.variants = make([][]rvariant, n)
	c.edges = make([][]int, n)
	c.direct = make([][]int, n)
	for i, d := range c.decls {
		c.check(d, true)
		for _, t := range c.fields[i] {
			if t != nil && t.local >= 0 {
				c.direct[i] = append(c.direct[i], t.local)
			}
		}
	}
	c.infinite()
	comps := tarjan(len(c.decls), c.edges)
	for _, comp := range comps {
		if len(comp) > MaxGroupSize {
			d := c.decls[comp[0]]
			c.errs.add(d.NamePos, "%q is in a recursive group of %d schemas, more than %d", d.Name, len(comp), MaxGroupSize)
		}
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return c.compile(comps), nil
}

// MaxGroupSize is the most schemas one recursive group may have. Ordering a
// group's members costs time quadratic in its size (docs/coda.md, section 4).
const MaxGroupSize = 1024

// check checks a declaration and resolves its types, reporting errors.
// With keep, the results are stored for the declaration's index.
func (c *compiler) check(d *Decl, keep bool) {
	i := -1
	if keep {
		i = c.index[d.Name]
	}
	resolve := func(x *TypeExpr) *rtype {
		t := c.resolve(x)
		if i >= 0 {
			c.refs(i, t)
		}
		return t
	}
	if d.Kind == KindEnum {
		if len(d.Variants) == 0 && !d.bad {
			c.errs.add(d.NamePos, "enum %q has no variants", d.Name)
		}
		names := make(map[string]*VariantDecl)
		tags := make(map[uint64]*VariantDecl)
		var vs []rvariant
		next, nextOK := uint64(0), true
		for _, v := range d.Variants {
			if prev, ok := names[v.Name]; ok {
				c.errs.add(v.Pos, "duplicate variant %q in enum %q (first at %d:%d)", v.Name, d.Name, prev.Pos.Line, prev.Pos.Col)
			} else {
				names[v.Name] = v
			}
			tag, tagPos := next, v.Pos
			if v.HasTag {
				tag, tagPos, nextOK = v.Tag, v.TagPos, true
			}
			switch {
			case !nextOK && !v.HasTag:
				// The previous tag was out of range; reported there.
			case tag > math.MaxUint32 && v.HasTag:
				c.errs.add(tagPos, "tag %d out of range: tags are u32", tag)
				nextOK = false
			case tag > math.MaxUint32:
				c.errs.add(tagPos, "tag of variant %q out of range: the previous tag is %d, the largest u32", v.Name, uint32(math.MaxUint32))
				nextOK = false
			default:
				if prev, ok := tags[tag]; ok {
					c.errs.add(tagPos, "duplicate tag %d (variant %q at %d:%d has it too)", tag, prev.Name, prev.Pos.Line, prev.Pos.Col)
				} else {
					tags[tag] = v
				}
			}
			next = tag + 1
			var payload *rtype
			if v.Payload != nil {
				payload = resolve(v.Payload)
			}
			vs = append(vs, rvariant{v.Name, uint32(tag), payload})
		}
		if i >= 0 {
			slices.SortStableFunc(vs, func(a, b rvariant) int { return cmp.Compare(a.tag, b.tag) })
			c.variants[i] = vs
		}
	} else {
		names := make(map[string]*FieldDecl)
		var fs []*rtype
		for _, f := range d.Fields {
			if prev, ok := names[f.Name]; ok {
				c.errs.add(f.Pos, "duplicate field %q in schema %q (first at %d:%d)", f.Name, d.Name, prev.Pos.Line, prev.Pos.Col)
			} else {
				names[f.Name] = f
			}
			fs = append(fs, resolve(f.Type))
		}
		if i >= 0 {
			c.fields[i] = fs
		}
	}
}

// refs records the local references of type t, found in declaration i.
func (c *compiler) refs(i int, t *rtype) {
	if t == nil {
		return
	}
	if t.local >= 0 {
		c.edges[i] = append(c.edges[i], t.local)
	}
	c.refs(i, t.key)
	c.refs(i, t.elem)
}

// resolve resolves a type expression, reporting errors; nil if it fails.
func (c *compiler) resolve(x *TypeExpr) *rtype {
	if x == nil {
		return nil
	}
	t := &rtype{local: -1}
	kind, isKeyword := keywords[x.Name]
	if !isKeyword {
		if i, ok := c.index[x.Name]; ok {
			t.kind, t.local = KindRef, i
			return t
		}
		if c.names != nil {
			if s, ok := c.names.Lookup(x.Name); ok {
				t.kind, t.ext = KindRef, s
				return t
			}
		}
		c.errs.add(x.Pos, "unknown type %q", x.Name)
		return nil
	}
	nargs := 0
	switch kind {
	case KindInvalid:
		c.errs.add(x.Pos, "expected a type, found keyword %q", x.Name)
		return nil
	case KindList, KindOptional, KindLink:
		nargs = 1
	case KindMap:
		nargs = 2
	}
	if len(x.Args) != nargs {
		c.errs.add(x.Pos, "%s takes %d type arguments, got %d", x.Name, nargs, len(x.Args))
		return nil
	}
	if x.HasLen && kind != KindBytes {
		c.errs.add(x.Pos, "%s takes no length", x.Name)
		return nil
	}
	t.kind = kind
	switch kind {
	case KindBytes:
		if x.HasLen {
			if x.Len > MaxFixedBytes {
				c.errs.add(x.Pos, "bytes[%d] is longer than %d bytes", x.Len, MaxFixedBytes)
				return nil
			}
			t.kind, t.n = KindFixedBytes, uint32(x.Len)
		}
	case KindList, KindOptional:
		t.elem = c.resolve(x.Args[0])
	case KindLink:
		t.elem = c.resolve(x.Args[0])
		if e := t.elem; e != nil && e.kind != KindRef && e.kind != KindAny {
			c.errs.add(x.Args[0].Pos, "invalid link target %s: must be a schema name or any", x.Args[0])
			return nil
		}
	case KindMap:
		t.key = c.resolve(x.Args[0])
		t.elem = c.resolve(x.Args[1])
		if k := t.key; k != nil && !c.isKey(k) {
			c.errs.add(x.Args[0].Pos, "invalid map key type %s: keys must be bool, integers, string, bytes, bytes[N], links or enums without payloads", x.Args[0])
			return nil
		}
	}
	if (nargs > 0 && t.elem == nil) || (nargs > 1 && t.key == nil) {
		return nil
	}
	return t
}

func (c *compiler) isKey(t *rtype) bool {
	switch t.kind {
	case KindBool, KindString, KindBytes, KindFixedBytes, KindLink:
		return true
	case KindRef:
		if t.ext != nil {
			return isKeyEnum(t.ext)
		}
		d := c.decls[t.local]
		if d.Kind != KindEnum || len(d.Variants) == 0 {
			return false
		}
		for _, v := range d.Variants {
			if v.Payload != nil {
				return false
			}
		}
		return true
	}
	return t.kind.IsInteger()
}

// infinite reports every cycle of bare struct field references: a type
// with no finite values.
func (c *compiler) infinite() {
	for _, comp := range tarjan(len(c.decls), c.direct) {
		start := comp[0]
		if len(comp) == 1 && !slices.Contains(c.direct[start], start) {
			continue
		}
		in := make(map[int]bool, len(comp))
		for _, v := range comp {
			in[v] = true
		}
		// The shortest cycle through start, by breadth-first search.
		prev := map[int]int{}
		queue := []int{start}
		found := false
		for len(queue) > 0 && !found {
			v := queue[0]
			queue = queue[1:]
			for _, w := range c.direct[v] {
				if !in[w] {
					continue
				}
				if w == start {
					prev[start] = v
					found = true
					break
				}
				if _, seen := prev[w]; !seen {
					prev[w] = v
					queue = append(queue, w)
				}
			}
		}
		path := []string{c.decls[start].Name}
		for v := prev[start]; v != start; v = prev[v] {
			path = append(path, c.decls[v].Name)
		}
		path = append(path, c.decls[start].Name)
		slices.Reverse(path[1 : len(path)-1])
		c.errs.add(c.decls[start].NamePos, "infinite type: %s (a cycle must pass through list, map, optional, link or an enum payload)", strings.Join(path, " → "))
	}
}

// compile compiles the checked declarations, group by group in dependency
// order, and returns them in declaration order.
func (c *compiler) compile(comps [][]int) []*Schema {
	m := MetaID()
	compiled := make([]*Schema, len(c.decls))
	for _, comp := range comps {
		group := make([]*Schema, len(comp))
		member := make(map[int]int, len(comp))
		for j, di := range comp {
			group[j] = &Schema{Name: c.decls[di].Name, Kind: c.decls[di].Kind}
			compiled[di] = group[j]
			member[di] = j
		}
		var conv func(t *rtype) Type
		conv = func(t *rtype) Type {
			ct := Type{Kind: t.kind, N: t.n}
			switch {
			case t.ext != nil:
				ct.Ref, ct.Schema = t.ext.ID, t.ext
			case t.local >= 0:
				if j, ok := member[t.local]; ok {
					ct.Kind, ct.N, ct.Schema = KindRec, uint32(j), group[j]
				} else {
					// Tarjan's order: the other group is compiled already.
					s := compiled[t.local]
					ct.Ref, ct.Schema = s.ID, s
				}
			}
			if t.elem != nil {
				e := conv(t.elem)
				ct.Elem = &e
			}
			if t.key != nil {
				k := conv(t.key)
				ct.Key = &k
			}
			return ct
		}
		for j, di := range comp {
			s := group[j]
			for _, f := range c.fields[di] {
				s.Fields = append(s.Fields, Field{Type: conv(f)})
			}
			for k, f := range c.decls[di].Fields {
				s.Fields[k].Name = f.Name
			}
			for _, v := range c.variants[di] {
				sv := Variant{Name: v.name, Tag: v.tag}
				if v.payload != nil {
					p := conv(v.payload)
					sv.Payload = &p
				}
				s.Variants = append(s.Variants, sv)
			}
		}
		group, aliases := canonicalOrder(group)
		for j, s := range group {
			s.Group, s.Index = group, j
		}
		for _, s := range group {
			s.ID = memberID(m, s)
		}
		// A member that is the same type as another (see collapse) becomes
		// that member under its own name: same definition, same id.
		for s, rep := range aliases {
			name := s.Name
			*s = *rep
			s.Name = name
		}
	}
	return compiled
}

// canonicalOrder collapses the members of a group that are the same type
// (collapse), sorts the rest by their labels and rewrites the Rec indexes to
// match. It returns the canonical group and, for every member collapsed
// into another, that other member.
func canonicalOrder(group []*Schema) ([]*Schema, map[*Schema]*Schema) {
	if len(group) < 2 {
		return group, nil
	}
	group, aliases := collapse(group)
	if len(group) < 2 {
		return group, aliases
	}
	// Labels of the collapsed group are all distinct, so the order is total.
	labels := groupLabels(group)
	order := make([]int, len(group)) // order[new] = old
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(labels[a][:], labels[b][:]) })
	newIndex := make([]uint32, len(group))
	sorted := make([]*Schema, len(group))
	for nw, old := range order {
		newIndex[old] = uint32(nw)
		sorted[nw] = group[old]
	}
	for _, s := range group {
		forEachRec(s, func(t *Type) { t.N = newIndex[t.N] })
	}
	return sorted, aliases
}

// collapse merges the members of a group that unfold to the same type.
// The labels of groupLabels are Moore's partition refinement with ordered
// successors: after n rounds, two members have equal labels exactly when
// they are bisimilar, i.e. the same (possibly infinite) type. Keeping one
// of each makes the group minimal, so ids never depend on declaration
// order (docs/coda.md, section 4). The first member of each class stays.
func collapse(group []*Schema) ([]*Schema, map[*Schema]*Schema) {
	labels := groupLabels(group)
	classOf := make(map[ID]uint32, len(group))
	newIndex := make([]uint32, len(group))
	var reps []*Schema
	aliases := map[*Schema]*Schema{}
	for i, l := range labels {
		c, ok := classOf[l]
		if !ok {
			c = uint32(len(reps))
			classOf[l] = c
			reps = append(reps, group[i])
		} else {
			aliases[group[i]] = reps[c]
		}
		newIndex[i] = c
	}
	if len(aliases) == 0 {
		return group, nil
	}
	for _, s := range reps {
		forEachRec(s, func(t *Type) {
			t.N = newIndex[t.N]
			t.Schema = reps[t.N]
		})
	}
	return reps, aliases
}

// tarjan returns the strongly connected components of the graph with n
// vertices and the given edges, in reverse topological order: every
// component comes after the components it has edges to. Each component's
// vertices are in increasing order.
func tarjan(n int, edges [][]int) [][]int {
	index := make([]int, n) // 0: unvisited; else visit order + 1
	low := make([]int, n)
	onStack := make([]bool, n)
	var stack []int
	var comps [][]int
	next := 1
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range edges[v] {
			if index[w] == 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			slices.Sort(comp)
			comps = append(comps, comp)
		}
	}
	for v := range n {
		if index[v] == 0 {
			visit(v)
		}
	}
	return comps
}
