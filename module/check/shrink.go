package check

import (
	"bytes"
	"errors"
	"iter"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/coalescent/coal/coda"
)

// Shrink returns the smallest input it finds, starting from input (object
// bytes of schema s), for which fails still holds: greedy, in passes over
// the value (SPEC.md §3). Numbers move toward 0 (or the in-bounds value
// nearest 0), to integers and to fewer decimals, then by bisection; lists, maps,
// strings and bytes get shorter, then their elements smaller; optionals
// become absent; enums take earlier variants; struct fields shrink one by
// one. Every candidate stays within bounds (the explicit ones: the default
// generation ranges do not constrain shrinking). fails is called at most
// budget times; Shrink is deterministic. It returns input itself when input
// is not an object of s, when bounds are invalid, or when nothing smaller
// fails. fails is never called with input itself.
func Shrink(input []byte, s *coda.Schema, reg *coda.Registry, bounds []Bound, fails func([]byte) bool, budget int) []byte {
	if s == nil || fails == nil || budget <= 0 || len(input) < coda.IDSize || coda.ID(input[:coda.IDSize]) != s.ID {
		return input
	}
	lim, err := compileBounds(s, bounds)
	if err != nil {
		return input
	}
	c, _ := costs(s) // with an `any` inside, the table still serves the rest
	if c == nil {
		return input // an unresolved reference
	}
	var opts coda.DecodeOptions
	if reg != nil {
		opts.Resolver = reg
	}
	v, err := coda.DecodeBody(s, input[coda.IDSize:], opts)
	if err != nil {
		return input
	}
	sh := &shrinker{s: s, lim: lim, cost: c, fails: fails, budget: budget, best: input}
	sh.root = sh.node(schemaType(s), "", v)
	for !sh.stop {
		if !sh.walk(sh.root) {
			break
		}
	}
	return sh.best
}

// node is a mutable value: the shrinker edits it in place.
type node struct {
	t    *coda.Type
	path string
	leaf coda.Value // scalars, strings, bytes, links, anys
	kids []*node    // list elements; map key, value, key, …; struct fields; an enum's payload; an optional's value
	tag  uint32     // enum
	some bool       // optional

	// enc caches the node's canonical body encoding and depth its nesting
	// levels, when ok: a try re-encodes only the nodes on the path from
	// the root to the node it changes.
	enc   []byte
	depth int
	ok    bool
}

type shrinker struct {
	s      *coda.Schema
	lim    limits
	cost   costTable
	fails  func([]byte) bool
	budget int
	calls  int
	stop   bool
	root   *node
	best   []byte
	stack  []*node // the walk's path from the root to the node it is at
	saved  []node  // try's copies of the stack's encodings
}

func (sh *shrinker) node(t *coda.Type, path string, v coda.Value) *node {
	n := &node{t: t, path: path}
	switch t.Kind {
	case coda.KindList:
		for i := range v.Len() {
			n.kids = append(n.kids, sh.node(t.Elem, path, v.Index(i)))
		}
	case coda.KindMap:
		for i := range v.Len() {
			e := v.Entry(i)
			n.kids = append(n.kids, sh.node(t.Key, path, e.Key), sh.node(t.Elem, path, e.Value))
		}
	case coda.KindOptional:
		if p, ok := v.Payload(); ok {
			n.some = true
			n.kids = []*node{sh.node(t.Elem, path, p)}
		}
	case coda.KindRef, coda.KindRec:
		s := t.Schema
		if s.Kind == coda.KindEnum {
			n.tag = v.Tag()
			if p, ok := v.Payload(); ok {
				vr, _ := s.VariantByTag(n.tag)
				n.kids = []*node{sh.node(vr.Payload, sh.lim.child(path, vr.Name), p)}
			}
			break
		}
		for i := range s.Fields {
			n.kids = append(n.kids, sh.node(&s.Fields[i].Type, sh.lim.child(path, s.Fields[i].Name), v.Index(i)))
		}
	default:
		n.leaf = v
	}
	return n
}

// value builds the coda.Value of n.
func (n *node) value() coda.Value {
	switch n.t.Kind {
	case coda.KindList:
		elems := make([]coda.Value, len(n.kids))
		for i, k := range n.kids {
			elems[i] = k.value()
		}
		return coda.List(elems...)
	case coda.KindMap:
		ents := make([]coda.MapEntry, len(n.kids)/2)
		for i := range ents {
			ents[i] = coda.MapEntry{Key: n.kids[2*i].value(), Value: n.kids[2*i+1].value()}
		}
		return coda.Map(ents...)
	case coda.KindOptional:
		if n.some {
			return coda.Some(n.kids[0].value())
		}
		return coda.None()
	case coda.KindRef, coda.KindRec:
		if n.t.Schema.Kind == coda.KindEnum {
			if len(n.kids) > 0 {
				return coda.Enum(n.tag, n.kids[0].value())
			}
			return coda.Enum(n.tag)
		}
		fields := make([]coda.Value, len(n.kids))
		for i, k := range n.kids {
			fields[i] = k.value()
		}
		return coda.Struct(fields...)
	}
	return n.leaf
}

// walk makes one pass over the tree below n, in preorder: at each node it
// tries the node's candidates until none is accepted, then walks the
// node's children. It reports whether it accepted anything.
func (sh *shrinker) walk(n *node) bool {
	sh.stack = append(sh.stack, n)
	defer func() { sh.stack = sh.stack[:len(sh.stack)-1] }()
	accepted := false
	for !sh.stop && sh.tryAll(n) {
		accepted = true
	}
	if !sh.stop && sh.bisect(n) {
		accepted = true
		for !sh.stop && sh.tryAll(n) {
		}
	}
	for i := 0; i < len(n.kids) && !sh.stop; i++ {
		if sh.walk(n.kids[i]) {
			accepted = true
		}
	}
	return accepted
}

// tryAll tries n's candidates in order and keeps the first that fails.
func (sh *shrinker) tryAll(n *node) bool {
	for c := range sh.candidates(n) {
		if sh.stop {
			return false
		}
		if sh.try(n, c) {
			return true
		}
	}
	return false
}

// try replaces n by c and keeps it if the whole input still fails.
func (sh *shrinker) try(n, c *node) bool {
	if same(n, c) {
		return false
	}
	old := *n
	*n = *c
	n.ok = false
	// n's ancestors (the walk's stack below n) are encoded again; keep
	// their encodings to put back if c is not kept.
	up := sh.stack[:len(sh.stack)-1]
	saved := sh.saved[:0]
	for _, a := range up {
		saved = append(saved, *a)
		a.ok = false
	}
	sh.saved = saved
	undo := func() {
		*n = old
		for i, a := range up {
			a.enc, a.depth, a.ok = saved[i].enc, saved[i].depth, saved[i].ok
		}
	}
	body, depth, err := encode(sh.root)
	if err != nil || depth > coda.DefaultMaxDepth {
		undo()
		return false
	}
	obj := make([]byte, 0, coda.IDSize+len(body))
	obj = append(append(obj, sh.s.ID[:]...), body...)
	if bytes.Equal(obj, sh.best) {
		undo()
		return false
	}
	if sh.calls >= sh.budget {
		undo()
		sh.stop = true
		return false
	}
	sh.calls++
	if !sh.fails(obj) {
		undo()
		return false
	}
	sh.best = obj
	sortMaps(sh.root)
	return true
}

// same reports whether a and b hold the same value, so that trying b in
// a's place would give the current input again.
func same(a, b *node) bool {
	if a == b {
		return true
	}
	if a.t.Kind != b.t.Kind || a.tag != b.tag || a.some != b.some || len(a.kids) != len(b.kids) || !coda.Equal(a.leaf, b.leaf) {
		return false
	}
	for i := range a.kids {
		if !same(a.kids[i], b.kids[i]) {
			return false
		}
	}
	return true
}

// encode returns n's canonical body encoding and nesting depth (the
// layouts of docs/coda.md §2), from the caches of the nodes that have not
// changed. Leaves are encoded by coda (which checks them); a map's entries
// are written in key order, and a repeated key is an error.
func encode(n *node) ([]byte, int, error) {
	if n.ok {
		return n.enc, n.depth, nil
	}
	var b []byte
	depth := 1
	sub := func(k *node) error {
		e, d, err := encode(k)
		if err != nil {
			return err
		}
		b = append(b, e...)
		depth = max(depth, 1+d)
		return nil
	}
	switch n.t.Kind {
	case coda.KindList:
		b = coda.AppendUvarint(b, uint64(len(n.kids)))
		for _, k := range n.kids {
			if err := sub(k); err != nil {
				return nil, 0, err
			}
		}
	case coda.KindMap:
		m := len(n.kids) / 2
		keys := make([]coda.Value, m)
		order := make([]int, m)
		for i := range m {
			keys[i], order[i] = n.kids[2*i].value(), i
		}
		slices.SortStableFunc(order, func(x, y int) int { return coda.CompareKeys(keys[x], keys[y]) })
		b = coda.AppendUvarint(b, uint64(m))
		for j, i := range order {
			if j > 0 && coda.CompareKeys(keys[order[j-1]], keys[i]) == 0 {
				return nil, 0, errDuplicateKey
			}
			if err := sub(n.kids[2*i]); err != nil {
				return nil, 0, err
			}
			if err := sub(n.kids[2*i+1]); err != nil {
				return nil, 0, err
			}
		}
	case coda.KindOptional:
		if !n.some {
			b = append(b, 0)
			break
		}
		b = append(b, 1)
		if err := sub(n.kids[0]); err != nil {
			return nil, 0, err
		}
	case coda.KindRef, coda.KindRec:
		if n.t.Schema.Kind == coda.KindEnum {
			b = coda.AppendUvarint(b, uint64(n.tag))
		}
		for _, k := range n.kids {
			if err := sub(k); err != nil {
				return nil, 0, err
			}
		}
	default:
		var err error
		if b, err = coda.AppendValue(nil, n.t, n.leaf); err != nil {
			return nil, 0, err
		}
		depth = 0
		if n.t.Kind == coda.KindAny {
			depth = 1 + valueDepth(n.leaf)
		}
	}
	n.enc, n.depth, n.ok = b, depth, true
	return b, depth, nil
}

var errDuplicateKey = errors.New("check: a repeated map key")

// valueDepth is the nesting depth of the body of an any value (counted
// as coda does: each struct, enum, list, map, optional and any a level).
func valueDepth(v coda.Value) int {
	d := 0
	switch v.Kind() {
	case coda.KindStruct, coda.KindEnum, coda.KindList, coda.KindMap, coda.KindOptional, coda.KindAny:
		d = 1
	default:
		return 0
	}
	inner := 0
	switch v.Kind() {
	case coda.KindEnum, coda.KindOptional, coda.KindAny:
		if p, ok := v.Payload(); ok {
			inner = valueDepth(p)
		}
	case coda.KindMap:
		for i := range v.Len() {
			e := v.Entry(i)
			inner = max(inner, valueDepth(e.Key), valueDepth(e.Value))
		}
	default:
		for i := range v.Len() {
			inner = max(inner, valueDepth(v.Index(i)))
		}
	}
	return d + inner
}

// sortMaps puts every map's entries back in canonical key order after a
// key changed.
func sortMaps(n *node) {
	for _, k := range n.kids {
		sortMaps(k)
	}
	if n.t.Kind != coda.KindMap || len(n.kids) < 4 {
		return
	}
	type ent struct {
		key   coda.Value
		nodes [2]*node
	}
	ents := make([]ent, len(n.kids)/2)
	for i := range ents {
		ents[i] = ent{n.kids[2*i].value(), [2]*node{n.kids[2*i], n.kids[2*i+1]}}
	}
	slices.SortStableFunc(ents, func(a, b ent) int { return coda.CompareKeys(a.key, b.key) })
	for i, e := range ents {
		n.kids[2*i], n.kids[2*i+1] = e.nodes[0], e.nodes[1]
	}
}

// candidates lists the replacements of n to try, simplest first (SPEC.md
// §3). Candidates equal to n are skipped by try (same bytes).
func (sh *shrinker) candidates(n *node) iter.Seq[*node] {
	return func(yield func(*node) bool) {
		sh.candidatesTo(n, yield)
	}
}

func (sh *shrinker) candidatesTo(n *node, yield func(*node) bool) {
	if m := sh.minimal(n.t, n.path, 0); m != nil {
		if !yield(m) {
			return
		}
	}
	with := func(v coda.Value) *node { return &node{t: n.t, path: n.path, leaf: v} }
	switch k := n.t.Kind; k {
	case coda.KindU8, coda.KindU16, coda.KindU32, coda.KindU64, coda.KindI8, coda.KindI16, coda.KindI32, coda.KindI64:
		for _, x := range sh.intCandidates(k, n.path, n.leaf.Bits()) {
			if k.IsSigned() {
				if !yield(with(coda.Int(k, int64(x)))) {
					return
				}
			} else {
				if !yield(with(coda.Uint(k, x))) {
					return
				}
			}
		}
	case coda.KindF32, coda.KindF64:
		for _, x := range sh.floatCandidates(k, n.path, n.leaf.AsFloat()) {
			if k == coda.KindF32 {
				if !yield(with(coda.F32(float32(x)))) {
					return
				}
			} else {
				if !yield(with(coda.F64(x))) {
					return
				}
			}
		}
	case coda.KindString:
		rs := []rune(n.leaf.AsString())
		for _, r := range removals(len(rs)) {
			if !yield(with(coda.String(string(slices.Delete(slices.Clone(rs), r[0], r[1]))))) {
				return
			}
		}
		for i, r := range rs {
			if r != 'a' {
				c := slices.Clone(rs)
				c[i] = 'a'
				if !yield(with(coda.String(string(c)))) {
					return
				}
			}
		}
	case coda.KindBytes, coda.KindFixedBytes:
		b := n.leaf.AsBytes()
		mk := coda.Bytes
		if k == coda.KindFixedBytes {
			mk = coda.FixedBytes
		} else {
			for _, r := range removals(len(b)) {
				if !yield(with(mk(slices.Delete(slices.Clone(b), r[0], r[1])))) {
					return
				}
			}
		}
		for i, x := range b {
			if x != 0 {
				c := slices.Clone(b)
				c[i] = 0
				if !yield(with(mk(c))) {
					return
				}
			}
		}
	case coda.KindList, coda.KindMap:
		per := 1
		if k == coda.KindMap {
			per = 2
		}
		for _, r := range removals(len(n.kids) / per) {
			c := *n
			c.kids = slices.Delete(slices.Clone(n.kids), per*r[0], per*r[1])
			if !yield(&c) {
				return
			}
		}
	case coda.KindOptional:
		if n.some {
			if !yield(&node{t: n.t, path: n.path}) {
				return
			}
		}
	case coda.KindRef, coda.KindRec:
		s := n.t.Schema
		if s.Kind != coda.KindEnum {
			break
		}
		for i := range s.Variants {
			v := &s.Variants[i]
			if v.Tag > n.tag {
				break
			}
			if v.Tag == n.tag && v.Payload == nil {
				break
			}
			if sh.cost.variantCost(v) >= inf {
				continue
			}
			c := &node{t: n.t, path: n.path, tag: v.Tag}
			if v.Payload != nil {
				p := sh.minimal(v.Payload, sh.lim.child(n.path, v.Name), 1)
				if p == nil {
					continue
				}
				c.kids = []*node{p}
			}
			if !yield(c) {
				return
			}
		}
	}
}

// removals lists the ranges [i, j) to delete from a sequence of n: sizes
// n, n/2, n/4, … 1, each at positions 0, k, 2k, … (SPEC.md §3).
func removals(n int) [][2]int {
	var out [][2]int
	for k := n; k >= 1; k /= 2 {
		for i := 0; i+k <= n; i += k {
			out = append(out, [2]int{i, i + k})
		}
	}
	return out
}

// minimal returns the simplest value of t at path: numbers at their target,
// empty strings, bytes, lists and maps, zero bytes and links, absent
// optionals, the cheapest variant of an enum. nil if there is none (an
// `any`, or no finite value).
func (sh *shrinker) minimal(t *coda.Type, path string, depth int) *node {
	if depth > coda.DefaultMaxDepth {
		return nil
	}
	n := &node{t: t, path: path}
	switch k := t.Kind; k {
	case coda.KindBool:
		n.leaf = coda.Bool(false)
	case coda.KindU8, coda.KindU16, coda.KindU32, coda.KindU64, coda.KindI8, coda.KindI16, coda.KindI32, coda.KindI64:
		a, b, ok := sh.intBounds(k, path)
		if !ok {
			return nil
		}
		x := fromKey(k, intTarget(k, a, b))
		if k.IsSigned() {
			n.leaf = coda.Int(k, int64(x))
		} else {
			n.leaf = coda.Uint(k, x)
		}
	case coda.KindF32, coda.KindF64:
		lo, hi := sh.floatBounds(k, path)
		t := floatTarget(lo, hi)
		if k == coda.KindF32 {
			f, ok := toF32(t, lo, hi)
			if !ok {
				return nil
			}
			n.leaf = coda.F32(f)
		} else {
			n.leaf = coda.F64(t)
		}
	case coda.KindString:
		n.leaf = coda.String("")
	case coda.KindBytes:
		n.leaf = coda.Bytes(nil)
	case coda.KindFixedBytes:
		n.leaf = coda.FixedBytes(make([]byte, t.N))
	case coda.KindLink:
		n.leaf = coda.Link(coda.ID{})
	case coda.KindList, coda.KindMap, coda.KindOptional:
	case coda.KindRef, coda.KindRec:
		s := t.Schema
		if sh.cost.typeCost(t) >= inf {
			return nil
		}
		if s.Kind == coda.KindEnum {
			v := sh.cost.cheapest(s)
			n.tag = v.Tag
			if v.Payload != nil {
				p := sh.minimal(v.Payload, sh.lim.child(path, v.Name), depth+1)
				if p == nil {
					return nil
				}
				n.kids = []*node{p}
			}
			break
		}
		for i := range s.Fields {
			f := sh.minimal(&s.Fields[i].Type, sh.lim.child(path, s.Fields[i].Name), depth+1)
			if f == nil {
				return nil
			}
			n.kids = append(n.kids, f)
		}
	default:
		return nil
	}
	return n
}

// intBounds is the range of kind k at path: the explicit bound cut to the
// type, or the whole type.
func (sh *shrinker) intBounds(k coda.Kind, path string) (uint64, uint64, bool) {
	if b := sh.lim[path]; b.hasRange {
		return intRange(k, b.min, b.max)
	}
	return intRange(k, math.Inf(-1), math.Inf(1))
}

func (sh *shrinker) floatBounds(k coda.Kind, path string) (float64, float64) {
	if b := sh.lim[path]; b.hasRange {
		return floatRange(k, b.min, b.max)
	}
	return floatRange(k, -math.MaxFloat64, math.MaxFloat64)
}

// intTarget is the value of [a, b] (order keys) nearest 0.
func intTarget(k coda.Kind, a, b uint64) uint64 {
	zero := orderKey(k, 0)
	return min(max(zero, a), b)
}

// floatTarget is the value of [lo, hi] nearest 0.
func floatTarget(lo, hi float64) float64 {
	t := min(max(0, lo), hi)
	if t == 0 {
		t = 0
	}
	return t
}

// intCandidates: the negation (toward positive) when the target is 0
// (the target itself is the minimal candidate; bisect does the rest).
func (sh *shrinker) intCandidates(k coda.Kind, path string, bits uint64) []uint64 {
	a, b, ok := sh.intBounds(k, path)
	if !ok || !k.IsSigned() {
		return nil
	}
	t := intTarget(k, a, b)
	xi := int64(bits)
	if t == orderKey(k, 0) && xi < 0 && -xi > 0 {
		if key := orderKey(k, uint64(-xi)); key >= a && key <= b {
			return []uint64{uint64(-xi)}
		}
	}
	return nil
}

// floatCandidates (SPEC.md §3): for a non-integer x the integers either
// side (toward the target first) and x rounded to 0, 1, … 17 decimals; for
// an integer x its negation when the target is 0. Only candidates in
// bounds and simpler than x are kept, each once.
func (sh *shrinker) floatCandidates(k coda.Kind, path string, x float64) []float64 {
	lo, hi := sh.floatBounds(k, path)
	t := floatTarget(lo, hi)
	bitSize := 64
	if k == coda.KindF32 {
		bitSize = 32
	}
	var raw []float64
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		// only the target (the minimal candidate)
	case !isInt(x):
		down, up := math.Floor(x), math.Ceil(x)
		if x < t {
			down, up = up, down
		}
		raw = append(raw, down, up)
		for d := 0; d <= 17; d++ {
			p := math.Pow10(d)
			raw = append(raw, math.Round(x*p)/p)
		}
	case t == 0 && x < 0:
		raw = append(raw, -x)
	}
	var out []float64
	for _, c := range raw {
		if k == coda.KindF32 {
			c = float64(float32(c))
		}
		if c == 0 {
			c = 0
		}
		if c < lo || c > hi || math.IsNaN(c) || math.IsInf(c, 0) || c == x || c == t || !simpler(c, x, t, bitSize) || slices.Contains(out, c) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// bisect moves the number n toward its target by binary search between the
// target and n (SPEC.md §3): integers over the integers, floats over the
// grid of their decimals (an integer's grid is 1), or, for floats too large
// for an exact grid, over the order of their bits. It assumes nothing: a
// predicate that is not monotone just ends at some failing value. It
// reports whether it accepted a value.
func (sh *shrinker) bisect(n *node) bool {
	switch k := n.t.Kind; {
	case k.IsInteger():
		return sh.bisectInt(n, k)
	case k == coda.KindF32 || k == coda.KindF64:
		return sh.bisectFloat(n, k)
	}
	return false
}

func (sh *shrinker) bisectInt(n *node, k coda.Kind) bool {
	a, b, ok := sh.intBounds(k, n.path)
	if !ok {
		return false
	}
	t := intTarget(k, a, b)
	x := orderKey(k, n.leaf.Bits())
	if x < a || x > b || x == t {
		return false
	}
	// dist d from the target toward x: d = 0 is the target (the minimal
	// candidate, already tried), d = hi fails.
	at := func(d uint64) uint64 {
		if x > t {
			return t + d
		}
		return t - d
	}
	hi := x - t
	if x < t {
		hi = t - x
	}
	var lo uint64
	accepted := false
	for hi-lo > 1 && !sh.stop {
		mid := lo + (hi-lo)/2
		v := fromKey(k, at(mid))
		c := &node{t: n.t, path: n.path, leaf: coda.Uint(k, v)}
		if k.IsSigned() {
			c.leaf = coda.Int(k, int64(v))
		}
		if sh.try(n, c) {
			hi, accepted = mid, true
		} else {
			lo = mid
		}
	}
	return accepted
}

func (sh *shrinker) bisectFloat(n *node, k coda.Kind) bool {
	lo, hi := sh.floatBounds(k, n.path)
	t := floatTarget(lo, hi)
	x := n.leaf.AsFloat()
	if math.IsNaN(x) || math.IsInf(x, 0) || x < lo || x > hi || x == t {
		return false
	}
	bitSize := 64
	if k == coda.KindF32 {
		bitSize = 32
	}
	mk := func(v float64) *node {
		c := &node{t: n.t, path: n.path, leaf: coda.F64(v)}
		if k == coda.KindF32 {
			c.leaf = coda.F32(float32(v))
		}
		return c
	}
	ok := func(v float64) bool { // a candidate worth a call
		if k == coda.KindF32 {
			v = float64(float32(v))
		}
		return v >= lo && v <= hi && decimals(v, bitSize) <= decimals(x, bitSize) && v != x
	}
	d := decimals(x, bitSize)
	p := math.Pow10(d)
	up := x > t // the direction from t to x
	if d <= 15 && math.Abs(x)*p < 1<<53 && math.Abs(t)*p < 1<<53 {
		// The grid: k/p for integers k between t's first grid point toward x and x.
		kx := math.Round(x * p)
		var kt float64
		if up {
			kt = math.Ceil(t * p)
		} else {
			kt = math.Floor(t * p)
		}
		// Search e in (loE, hiE]: e = -1 is "before kt", e = hiE is x.
		// |kx|, |kt| < 2^53, so the integers are exact in int64.
		ikx, ikt := int64(kx), int64(kt)
		hiE := ikx - ikt
		if hiE < 0 {
			hiE = -hiE
		}
		loE := int64(-1)
		if kt == t*p {
			loE = 0 // kt is the target: the minimal candidate tried it
		}
		accepted := false
		for hiE-loE > 1 && !sh.stop {
			mid := loE + (hiE-loE)/2
			kc := ikt + mid
			if !up {
				kc = ikt - mid
			}
			v := float64(kc) / p
			if !ok(v) {
				loE = mid
				continue
			}
			if sh.try(n, mk(v)) {
				hiE, accepted = mid, true
			} else {
				loE = mid
			}
		}
		return accepted
	}
	// Too large for an exact grid: bisect the order of the bits, rounding
	// each midpoint away from the target to an integer when x is one.
	key := func(v float64) uint64 {
		b := math.Float64bits(v)
		if b>>63 == 1 {
			return ^b
		}
		return b | 1<<63
	}
	val := func(u uint64) float64 {
		if u>>63 == 1 {
			return math.Float64frombits(u &^ (1 << 63))
		}
		return math.Float64frombits(^u)
	}
	kt, kx := key(t), key(x)
	loK, hiK := kt, kx
	accepted := false
	tried := map[float64]bool{}
	for !sh.stop {
		var gap uint64
		if up {
			gap = hiK - loK
		} else {
			gap = loK - hiK
		}
		if gap <= 1 {
			break
		}
		mid := loK + gap/2
		if !up {
			mid = loK - gap/2
		}
		v := val(mid)
		if isInt(x) {
			if up {
				v = math.Ceil(v)
			} else {
				v = math.Floor(v)
			}
		}
		if v == 0 {
			v = 0
		}
		kv := key(v)
		if (up && kv >= hiK) || (!up && kv <= hiK) || tried[v] || !ok(v) {
			loK = mid
			continue
		}
		tried[v] = true
		if sh.try(n, mk(v)) {
			hiK, accepted = kv, true
		} else {
			loK = mid
		}
	}
	return accepted
}

// simpler reports whether a is simpler than b with target t: a finite
// number before a NaN or infinity; an integer before a non-integer; of two
// non-integers, fewer decimals first; then nearer the target; then the
// positive one.
func simpler(a, b, t float64, bitSize int) bool {
	fa, fb := !math.IsNaN(a) && !math.IsInf(a, 0), !math.IsNaN(b) && !math.IsInf(b, 0)
	if fa != fb {
		return fa
	}
	if !fa {
		return false
	}
	ia, ib := isInt(a), isInt(b)
	if ia != ib {
		return ia
	}
	if !ia {
		if da, db := decimals(a, bitSize), decimals(b, bitSize); da != db {
			return da < db
		}
	}
	if ea, eb := math.Abs(a-t), math.Abs(b-t); ea != eb {
		return ea < eb
	}
	return a > b
}

func isInt(x float64) bool { return x == math.Trunc(x) && !math.IsInf(x, 0) }

// decimals is the number of digits after the point in the shortest decimal
// form of x that reads back as x at bitSize.
func decimals(x float64, bitSize int) int {
	s := strconv.FormatFloat(x, 'f', -1, bitSize)
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return utf8.RuneCountInString(s[i+1:])
		}
	}
	return 0
}
