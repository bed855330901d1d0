package module

import (
	"crypto/ed25519"
	_ "embed"
	"fmt"
	"math"
	"regexp"
	"sync"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

//go:embed module.coda
var moduleCoda []byte

// SchemaSource returns module.coda, the CODA source of the module objects.
func SchemaSource() []byte { return append([]byte(nil), moduleCoda...) }

var schemas = sync.OnceValues(func() (map[string]*coda.Schema, error) {
	list, err := coda.NewRegistry().Compile("module.coda", moduleCoda)
	if err != nil {
		return nil, errs.E(errs.Internal, fmt.Errorf("module: compile module.coda: %w", err))
	}
	m := map[string]*coda.Schema{}
	for _, s := range list {
		m[s.Name] = s
	}
	return m, nil
})

// Schemas returns the schemas of module.coda, for /sys/schemas, in
// declaration order.
func Schemas() ([]*coda.Schema, error) {
	list, err := coda.NewRegistry().Compile("module.coda", moduleCoda)
	if err != nil {
		return nil, errs.E(errs.Internal, err)
	}
	return list, nil
}

func schema(name string) *coda.Schema {
	m, err := schemas()
	if err != nil {
		return nil
	}
	return m[name]
}

// registry resolves the module schemas (and nothing else).
var registry = sync.OnceValue(func() *coda.Registry {
	r := coda.NewRegistry()
	if m, err := schemas(); err == nil {
		for _, s := range m {
			r.Add(s)
		}
	}
	return r
})

// Limits of module objects.
const (
	MaxName      = 200 // bytes of a module, function, spec, impl or bench name
	MaxFunctions = 256
	MaxCount     = 1 << 20 // inputs of one property or bench
)

// nameRE is the form of a module name: words of lowercase letters, digits
// and _ joined by ::. Every such name is a valid path segment.
var nameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*(::[a-z_][a-z0-9_]*)*$`)

// ValidName reports whether name is a valid module name.
func ValidName(name string) bool { return len(name) <= MaxName && nameRE.MatchString(name) }

// A Function is a function of an interface.
type Function struct {
	Name   string `json:"name"`
	Input  string `json:"input"`  // the input schema's name
	Output string `json:"output"` // the output schema's name
}

// An Interface is a module's name, schemas and functions.
type Interface struct {
	Name      string     `json:"name"`
	Schemas   string     `json:"schemas"` // CODA source
	Functions []Function `json:"functions"`
	Doc       string     `json:"doc"`
}

// A Case says what a function must output for an input (objects).
type Case struct {
	Function string
	Input    []byte
	Output   []byte
}

// A Bound limits generated inputs (check.Bound): Field a dotted path in
// the input ("" the whole value), numbers within [Min, Max], lists,
// strings and bytes at most MaxLen long (0 the default).
type Bound struct {
	Field    string
	Min, Max float64
	MaxLen   int
}

// An Oracle says what a generated input's output must be: exactly one of
// Reference (an Impl id) and Predicate (a Program id) is set.
type Oracle struct {
	Reference *coda.ID
	Predicate *coda.ID
}

// A Property checks Count generated inputs of Function against Oracle.
type Property struct {
	Function string
	Bounds   []Bound
	Count    uint32
	Seed     uint64
	Oracle   Oracle
}

// A Spec is a specification of an interface.
type Spec struct {
	Interface  coda.ID
	Name       string
	Cases      []Case
	Properties []Property
}

// An Impl is an implementation of an interface.
type Impl struct {
	Interface coda.ID
	Name      string
	Program   coda.ID
	Language  string
}

// A Generator makes Count inputs within Bounds from the PCG seeded Seed.
type Generator struct {
	Bounds []Bound
	Seed   uint64
	Count  uint32
}

// A Bench is a workload of calls of one function: Inputs, or (if
// Generator is set) generated inputs.
type Bench struct {
	Interface coda.ID
	Name      string
	Function  string
	Inputs    [][]byte
	Generator *Generator
}

// ResultKind is what a Result claims.
type ResultKind uint8

// Result kinds.
const (
	ResultVerify   ResultKind = 1
	ResultEvaluate ResultKind = 2
)

func (k ResultKind) String() string {
	switch k {
	case ResultVerify:
		return "verify"
	case ResultEvaluate:
		return "evaluate"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// A Failure is why a verification failed.
type Failure struct {
	Spec     coda.ID `json:"spec"`
	Function string  `json:"function"`
	Input    []byte  `json:"input"`
	Expected []byte  `json:"expected,omitempty"`
	Got      []byte  `json:"got,omitempty"`
	Reason   string  `json:"reason"`
}

// A Result is a node's signed claim about an implementation.
type Result struct {
	Node      ed25519.PublicKey
	Interface coda.ID
	Impl      coda.ID
	Kind      ResultKind
	Subjects  []coda.ID // specs (verify) or benches (evaluate)
	Pass      bool
	Failure   *Failure
	Steps     uint64
	Wall      uint64 // nanoseconds, informational
	Machine   string
	Time      int64 // Unix nanoseconds
	Signature []byte
}

// A BuildRecord is what build chose.
type BuildRecord struct {
	Interface coda.ID   `json:"interface"`
	Impl      coda.ID   `json:"impl"`
	Program   coda.ID   `json:"program"`
	Steps     uint64    `json:"steps"`
	Results   []coda.ID `json:"results"`
	Reason    string    `json:"reason"`
	Time      int64     `json:"time"`
}

func id32(id coda.ID) coda.Value { return coda.FixedBytes(id[:]) }

func ids(l []coda.ID) coda.Value {
	vs := make([]coda.Value, len(l))
	for i, id := range l {
		vs[i] = id32(id)
	}
	return coda.List(vs...)
}

func bounds(l []Bound) coda.Value {
	vs := make([]coda.Value, len(l))
	for i, b := range l {
		vs[i] = coda.Struct(coda.String(b.Field), coda.F64(b.Min), coda.F64(b.Max), coda.I32(int32(b.MaxLen)))
	}
	return coda.List(vs...)
}

func encode(name string, v coda.Value) ([]byte, error) {
	s := schema(name)
	if s == nil {
		return nil, errs.E(errs.Internal, "module: no schema "+name)
	}
	obj, err := coda.EncodeObject(s, v)
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("module: encode %s: %w", name, err))
	}
	return obj, nil
}

// Encode returns the object bytes of i (checked first).
func (i *Interface) Encode() ([]byte, error) {
	if err := i.check(); err != nil {
		return nil, err
	}
	fs := make([]coda.Value, len(i.Functions))
	for k, f := range i.Functions {
		fs[k] = coda.Struct(coda.String(f.Name), coda.String(f.Input), coda.String(f.Output))
	}
	return encode("ModInterface", coda.Struct(coda.String(i.Name), coda.String(i.Schemas), coda.List(fs...), coda.String(i.Doc)))
}

// Encode returns the object bytes of s (checked first).
func (s *Spec) Encode() ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	cs := make([]coda.Value, len(s.Cases))
	for k, c := range s.Cases {
		cs[k] = coda.Struct(coda.String(c.Function), coda.Bytes(c.Input), coda.Bytes(c.Output))
	}
	ps := make([]coda.Value, len(s.Properties))
	for k, p := range s.Properties {
		var o coda.Value
		if p.Oracle.Reference != nil {
			o = coda.Enum(0, id32(*p.Oracle.Reference))
		} else {
			o = coda.Enum(1, id32(*p.Oracle.Predicate))
		}
		ps[k] = coda.Struct(coda.String(p.Function), bounds(p.Bounds), coda.U32(p.Count), coda.U64(p.Seed), o)
	}
	return encode("ModSpec", coda.Struct(id32(s.Interface), coda.String(s.Name), coda.List(cs...), coda.List(ps...)))
}

// Encode returns the object bytes of m (checked first).
func (m *Impl) Encode() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	return encode("ModImpl", coda.Struct(id32(m.Interface), coda.String(m.Name), id32(m.Program), coda.String(m.Language)))
}

// Encode returns the object bytes of b (checked first).
func (b *Bench) Encode() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	var calls coda.Value
	if b.Generator != nil {
		g := b.Generator
		calls = coda.Enum(1, coda.Struct(bounds(g.Bounds), coda.U64(g.Seed), coda.U32(g.Count)))
	} else {
		in := make([]coda.Value, len(b.Inputs))
		for k, x := range b.Inputs {
			in[k] = coda.Bytes(x)
		}
		calls = coda.Enum(0, coda.List(in...))
	}
	return encode("ModBench", coda.Struct(id32(b.Interface), coda.String(b.Name), coda.String(b.Function), calls))
}

func (r *Result) value(sig []byte) coda.Value {
	f := coda.None()
	if r.Failure != nil {
		x := r.Failure
		f = coda.Some(coda.Struct(id32(x.Spec), coda.String(x.Function), coda.Bytes(x.Input), coda.Bytes(x.Expected), coda.Bytes(x.Got), coda.String(x.Reason)))
	}
	var node [32]byte
	copy(node[:], r.Node)
	return coda.Struct(coda.FixedBytes(node[:]), id32(r.Interface), id32(r.Impl), coda.U8(uint8(r.Kind)), ids(r.Subjects),
		coda.Bool(r.Pass), f, coda.U64(r.Steps), coda.U64(r.Wall), coda.String(r.Machine), coda.I64(r.Time), coda.Bytes(sig))
}

// SignedBytes returns what the signature signs: the object with an empty
// signature.
func (r *Result) SignedBytes() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	return encode("ModResult", r.value(nil))
}

// Sign sets r.Node to as's public key and r.Signature to as's signature.
func (r *Result) Sign(as cdb.Identity) error {
	r.Node = append(ed25519.PublicKey(nil), as.Public...)
	msg, err := r.SignedBytes()
	if err != nil {
		return err
	}
	sig, err := as.Sign(msg)
	if err != nil {
		return err
	}
	r.Signature = sig
	return nil
}

// Encode returns the object bytes of r, signature included.
func (r *Result) Encode() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	return encode("ModResult", r.value(r.Signature))
}

// Verify checks r's signature.
func (r *Result) Verify() error {
	msg, err := r.SignedBytes()
	if err != nil {
		return err
	}
	if len(r.Signature) != ed25519.SignatureSize || !ed25519.Verify(r.Node, msg, r.Signature) {
		return errs.E(errs.Invalid, "module: result: bad signature")
	}
	return nil
}

// Encode returns the object bytes of b.
func (b *BuildRecord) Encode() ([]byte, error) {
	return encode("ModBuild", coda.Struct(id32(b.Interface), id32(b.Impl), id32(b.Program), coda.U64(b.Steps), ids(b.Results),
		coda.String(b.Reason), coda.I64(b.Time)))
}

// ---- checks ----

func invalid(what, format string, args ...any) error {
	return errs.E(errs.Invalid, fmt.Sprintf("module: %s: %s", what, fmt.Sprintf(format, args...)))
}

func checkName(what, n string) error {
	if n == "" || len(n) > MaxName {
		return invalid(what, "a name of %d bytes (want 1 to %d)", len(n), MaxName)
	}
	return nil
}

func (i *Interface) check() error {
	if !ValidName(i.Name) {
		return invalid("interface", "bad module name %q: want words of a-z, 0-9 and _ joined by ::, at most %d bytes", i.Name, MaxName)
	}
	if len(i.Functions) == 0 || len(i.Functions) > MaxFunctions {
		return invalid("interface "+i.Name, "%d functions (want 1 to %d)", len(i.Functions), MaxFunctions)
	}
	seen := map[string]bool{}
	for k, f := range i.Functions {
		if !co.ValidName(f.Name) || len(f.Name) > MaxName || f.Name == "main" {
			return invalid("interface "+i.Name, "function %d: %q is not a Co entry name", k, f.Name)
		}
		if seen[f.Name] {
			return invalid("interface "+i.Name, "function %s declared twice", f.Name)
		}
		seen[f.Name] = true
		if f.Input == "" || f.Output == "" {
			return invalid("interface "+i.Name, "function %s: no input or output schema", f.Name)
		}
	}
	return nil
}

// Registry compiles the interface's schemas and checks that every
// function's input and output names one.
func (i *Interface) Registry() (*coda.Registry, error) {
	reg := coda.NewRegistry()
	if _, err := reg.Compile(i.Name+".coda", []byte(i.Schemas)); err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("module: interface %s: its schemas: %w", i.Name, err))
	}
	for _, f := range i.Functions {
		for _, n := range []string{f.Input, f.Output} {
			if _, ok := reg.Lookup(n); !ok {
				return nil, invalid("interface "+i.Name, "function %s: no schema %s in its schemas", f.Name, n)
			}
		}
	}
	return reg, nil
}

// Function returns the function named name.
func (i *Interface) Function(name string) (Function, bool) {
	for _, f := range i.Functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

func checkBounds(what string, bs []Bound) error {
	for k, b := range bs {
		if math.IsNaN(b.Min) || math.IsNaN(b.Max) || b.Min > b.Max {
			return invalid(what, "bound %d (%q): min %v > max %v", k, b.Field, b.Min, b.Max)
		}
		if b.MaxLen < math.MinInt32 || b.MaxLen > MaxCount {
			return invalid(what, "bound %d (%q): maxlen %d", k, b.Field, b.MaxLen)
		}
	}
	return nil
}

func checkObj(what string, b []byte) error {
	if len(b) < coda.IDSize {
		return invalid(what, "not an object (%d bytes, less than a schema id)", len(b))
	}
	return nil
}

func (s *Spec) check() error {
	if err := checkName("spec", s.Name); err != nil {
		return err
	}
	if len(s.Cases)+len(s.Properties) == 0 {
		return invalid("spec "+s.Name, "no cases and no properties")
	}
	for k, c := range s.Cases {
		w := fmt.Sprintf("spec %s: case %d", s.Name, k)
		if c.Function == "" {
			return invalid(w, "no function")
		}
		if err := checkObj(w+" input", c.Input); err != nil {
			return err
		}
		if err := checkObj(w+" output", c.Output); err != nil {
			return err
		}
	}
	for k, p := range s.Properties {
		w := fmt.Sprintf("spec %s: property %d", s.Name, k)
		if p.Function == "" {
			return invalid(w, "no function")
		}
		if p.Count == 0 || p.Count > MaxCount {
			return invalid(w, "count %d (want 1 to %d)", p.Count, MaxCount)
		}
		if (p.Oracle.Reference == nil) == (p.Oracle.Predicate == nil) {
			return invalid(w, "want exactly one oracle: a reference impl or a predicate")
		}
		if err := checkBounds(w, p.Bounds); err != nil {
			return err
		}
	}
	return nil
}

func (m *Impl) check() error {
	if err := checkName("impl", m.Name); err != nil {
		return err
	}
	if m.Language != "co" {
		return invalid("impl "+m.Name, "language %q (only co runs here)", m.Language)
	}
	return nil
}

func (b *Bench) check() error {
	if err := checkName("bench", b.Name); err != nil {
		return err
	}
	if b.Function == "" {
		return invalid("bench "+b.Name, "no function")
	}
	if b.Generator != nil {
		if len(b.Inputs) > 0 {
			return invalid("bench "+b.Name, "both inputs and a generator")
		}
		if b.Generator.Count == 0 || b.Generator.Count > MaxCount {
			return invalid("bench "+b.Name, "count %d (want 1 to %d)", b.Generator.Count, MaxCount)
		}
		return checkBounds("bench "+b.Name, b.Generator.Bounds)
	}
	if len(b.Inputs) == 0 || len(b.Inputs) > MaxCount {
		return invalid("bench "+b.Name, "%d inputs (want 1 to %d)", len(b.Inputs), MaxCount)
	}
	for k, x := range b.Inputs {
		if err := checkObj(fmt.Sprintf("bench %s: input %d", b.Name, k), x); err != nil {
			return err
		}
	}
	return nil
}

func (r *Result) check() error {
	if len(r.Node) != ed25519.PublicKeySize {
		return invalid("result", "a node key of %d bytes", len(r.Node))
	}
	if r.Kind != ResultVerify && r.Kind != ResultEvaluate {
		return invalid("result", "unknown %s", r.Kind)
	}
	if r.Failure != nil && r.Pass {
		return invalid("result", "passes with a failure")
	}
	return nil
}

// ---- decoding ----

// Kind of a catalog entry.
type Kind uint8

// Kinds of catalog entries.
const (
	KindInterface Kind = iota + 1
	KindSpec
	KindImpl
	KindCode
	KindBench
	KindResult
	KindBuild
	KindMain
)

var kindNames = map[Kind]string{KindInterface: "interface", KindSpec: "spec", KindImpl: "impl", KindCode: "code",
	KindBench: "bench", KindResult: "result", KindBuild: "build", KindMain: "main"}

func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// decodeAs decodes obj, which must be of schema name.
func decodeAs(obj []byte, name string) (coda.Value, error) {
	s := schema(name)
	if s == nil {
		return coda.Value{}, errs.E(errs.Internal, "module: no schema "+name)
	}
	if len(obj) < coda.IDSize {
		return coda.Value{}, invalid("decode "+name, "%d bytes at byte 0, less than a schema id", len(obj))
	}
	if coda.ID(obj[:coda.IDSize]) != s.ID {
		return coda.Value{}, invalid("decode "+name, "schema id %s at byte 0, want %s's %s", coda.ID(obj[:coda.IDSize]).Short(), name, s.ID.Short())
	}
	_, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: registry()})
	if err != nil {
		return coda.Value{}, errs.E(errs.Invalid, fmt.Errorf("module: decode %s: %w", name, err))
	}
	return v, nil
}

func asID(v coda.Value) coda.ID { return coda.ID(v.AsBytes()) }

func decodeBounds(v coda.Value) []Bound {
	var out []Bound
	for i := 0; i < v.Len(); i++ {
		b := v.Index(i)
		out = append(out, Bound{Field: b.Index(0).AsString(), Min: b.Index(1).AsFloat(), Max: b.Index(2).AsFloat(), MaxLen: int(b.Index(3).AsInt())})
	}
	return out
}

func decodeIDs(v coda.Value) []coda.ID {
	var out []coda.ID
	for i := 0; i < v.Len(); i++ {
		out = append(out, asID(v.Index(i)))
	}
	return out
}

// DecodeInterface decodes and checks an Interface object.
func DecodeInterface(obj []byte) (*Interface, error) {
	v, err := decodeAs(obj, "ModInterface")
	if err != nil {
		return nil, err
	}
	i := &Interface{Name: v.Index(0).AsString(), Schemas: v.Index(1).AsString(), Doc: v.Index(3).AsString()}
	fs := v.Index(2)
	for k := 0; k < fs.Len(); k++ {
		f := fs.Index(k)
		i.Functions = append(i.Functions, Function{Name: f.Index(0).AsString(), Input: f.Index(1).AsString(), Output: f.Index(2).AsString()})
	}
	if err := i.check(); err != nil {
		return nil, err
	}
	if _, err := i.Registry(); err != nil {
		return nil, err
	}
	return i, nil
}

// DecodeSpec decodes and checks a Spec object.
func DecodeSpec(obj []byte) (*Spec, error) {
	v, err := decodeAs(obj, "ModSpec")
	if err != nil {
		return nil, err
	}
	s := &Spec{Interface: asID(v.Index(0)), Name: v.Index(1).AsString()}
	cs := v.Index(2)
	for k := 0; k < cs.Len(); k++ {
		c := cs.Index(k)
		s.Cases = append(s.Cases, Case{Function: c.Index(0).AsString(), Input: c.Index(1).AsBytes(), Output: c.Index(2).AsBytes()})
	}
	ps := v.Index(3)
	for k := 0; k < ps.Len(); k++ {
		p := ps.Index(k)
		pr := Property{Function: p.Index(0).AsString(), Bounds: decodeBounds(p.Index(1)), Count: uint32(p.Index(2).AsUint()), Seed: p.Index(3).AsUint()}
		o := p.Index(4)
		pl, _ := o.Payload()
		id := asID(pl)
		if o.Tag() == 0 {
			pr.Oracle.Reference = &id
		} else {
			pr.Oracle.Predicate = &id
		}
		s.Properties = append(s.Properties, pr)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// DecodeImpl decodes and checks an Impl object.
func DecodeImpl(obj []byte) (*Impl, error) {
	v, err := decodeAs(obj, "ModImpl")
	if err != nil {
		return nil, err
	}
	m := &Impl{Interface: asID(v.Index(0)), Name: v.Index(1).AsString(), Program: asID(v.Index(2)), Language: v.Index(3).AsString()}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeBench decodes and checks a Bench object.
func DecodeBench(obj []byte) (*Bench, error) {
	v, err := decodeAs(obj, "ModBench")
	if err != nil {
		return nil, err
	}
	b := &Bench{Interface: asID(v.Index(0)), Name: v.Index(1).AsString(), Function: v.Index(2).AsString()}
	c := v.Index(3)
	pl, _ := c.Payload()
	if c.Tag() == 0 {
		for k := 0; k < pl.Len(); k++ {
			b.Inputs = append(b.Inputs, pl.Index(k).AsBytes())
		}
	} else {
		b.Generator = &Generator{Bounds: decodeBounds(pl.Index(0)), Seed: pl.Index(1).AsUint(), Count: uint32(pl.Index(2).AsUint())}
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	return b, nil
}

// DecodeResultUnchecked decodes a Result object without checking its
// signature.
func DecodeResultUnchecked(obj []byte) (*Result, error) {
	v, err := decodeAs(obj, "ModResult")
	if err != nil {
		return nil, err
	}
	r := &Result{Node: ed25519.PublicKey(v.Index(0).AsBytes()), Interface: asID(v.Index(1)), Impl: asID(v.Index(2)),
		Kind: ResultKind(v.Index(3).AsUint()), Subjects: decodeIDs(v.Index(4)), Pass: v.Index(5).AsBool(),
		Steps: v.Index(7).AsUint(), Wall: v.Index(8).AsUint(), Machine: v.Index(9).AsString(), Time: v.Index(10).AsInt(),
		Signature: v.Index(11).AsBytes()}
	if f := v.Index(6); f.IsSome() {
		x := f.Index(0)
		r.Failure = &Failure{Spec: asID(x.Index(0)), Function: x.Index(1).AsString(), Input: x.Index(2).AsBytes(),
			Expected: x.Index(3).AsBytes(), Got: x.Index(4).AsBytes(), Reason: x.Index(5).AsString()}
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeResult decodes a Result object and checks its signature.
func DecodeResult(obj []byte) (*Result, error) {
	r, err := DecodeResultUnchecked(obj)
	if err != nil {
		return nil, err
	}
	if err := r.Verify(); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeBuild decodes a Build record.
func DecodeBuild(obj []byte) (*BuildRecord, error) {
	v, err := decodeAs(obj, "ModBuild")
	if err != nil {
		return nil, err
	}
	return &BuildRecord{Interface: asID(v.Index(0)), Impl: asID(v.Index(1)), Program: asID(v.Index(2)), Steps: v.Index(3).AsUint(),
		Results: decodeIDs(v.Index(4)), Reason: v.Index(5).AsString(), Time: v.Index(6).AsInt()}, nil
}

// KindOfObject returns the kind of a module object by its schema id
// (KindCode for a Program object), or 0.
func KindOfObject(obj []byte, programSchema coda.ID) Kind {
	if len(obj) < coda.IDSize {
		return 0
	}
	id := coda.ID(obj[:coda.IDSize])
	switch {
	case id == programSchema:
		return KindCode
	case schema("ModInterface") != nil && id == schema("ModInterface").ID:
		return KindInterface
	case id == schema("ModSpec").ID:
		return KindSpec
	case id == schema("ModImpl").ID:
		return KindImpl
	case id == schema("ModBench").ID:
		return KindBench
	case id == schema("ModResult").ID:
		return KindResult
	case id == schema("ModBuild").ID:
		return KindBuild
	}
	return 0
}
