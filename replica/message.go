package replica

// The messages of /coal/sync/1.0.0, schemas in sync.coda (docs/sync.md
// draws every byte). Each travels as a CODA object on a relay.Conn; the Go
// structs are encoded to coda.Values by hand, as bundle's header is:
//
//	Heads  { heads: list<Head { world bytes[32], branch string, head bytes[32] }> }
//	       (each branch a ValidBranch name, at most MaxBranches per world)
//	Pull   { world: bytes[32], want: bytes[32], haves: list<bytes[32]> }
//	Part   { data: bytes }
//	Refuse { kind: string, reason: string }
//	Fetch  { values: list<Large { commit bytes[32], path string, id bytes[32], size u64 }> }

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

//go:embed sync.coda
var syncCoda []byte

// Limits on what a message may hold; more is errs.Limit.
const (
	MaxHeads     = 4096    // heads in one Heads
	MaxBranches  = 1024    // heads of one world in one Heads
	MaxHaves     = 64      // haves in one Pull
	MaxPart      = 1 << 20 // bytes in one Part
	MaxBranchLen = 128     // bytes of a branch name (cdb's bound)
	MaxReasonLen = 4096    // bytes of a Refuse's kind or reason
	MaxFetch     = 1 << 16 // values in one Fetch
	MaxPathLen   = 4096    // bytes of a Large's path
)

// The message schemas, compiled once.
var (
	schemaOnce                            sync.Once
	schemaReg                             *coda.Registry
	headSchema, headsSchema, pullSchema   *coda.Schema
	partSchema, refuseSchema, fetchSchema *coda.Schema
	schemaErr                             error
)

func loadSchemas() error {
	schemaOnce.Do(func() {
		reg, err := coda.Bind("sync.coda", syncCoda, map[string]**coda.Schema{"Head": &headSchema, "Heads": &headsSchema, "Pull": &pullSchema,
			"Part": &partSchema, "Refuse": &refuseSchema, "Fetch": &fetchSchema})
		if err != nil {
			schemaErr = errs.E(errs.Op("replica"), err)
			return
		}
		schemaReg = reg
	})
	return schemaErr
}

// sendSchemas is the wire context a sync stream's sender declares.
func sendSchemas() []coda.ID {
	if loadSchemas() != nil {
		return nil
	}
	return []coda.ID{headsSchema.ID, pullSchema.ID, partSchema.ID, refuseSchema.ID, fetchSchema.ID}
}

// ValidBranch checks a branch name as cdb does when it makes a branch: 1
// to MaxBranchLen bytes of UTF-8, a valid path segment (no '/', NUL, "."
// or ".."), no '~', space, tab or newline, not "HEAD" or "@". A name a
// peer announces must pass it (docs/sync.md, "Heads").
func ValidBranch(name string) error {
	if len(name) > MaxBranchLen || name == "HEAD" || name == "@" || strings.ContainsAny(name, "~ \t\n") || !tree.ValidName(name) {
		return errs.E(errs.Invalid, fmt.Sprintf("replica: bad branch name %q (1 to %d bytes, a path segment without '~' or white space, not HEAD or @)", name, MaxBranchLen))
	}
	return nil
}

// Head is one branch head of one world.
type Head struct {
	World  coda.ID `json:"world"`
	Branch string  `json:"branch"`
	Head   coda.ID `json:"head"`
}

// Heads lists the heads a node shows a peer, sorted by world then branch.
type Heads struct {
	Heads []Head
}

// Pull asks for the commits of World up to Want that the asker lacks.
// Values over Large bytes may be left to CTP (0: none).
type Pull struct {
	World coda.ID
	Want  coda.ID
	Haves []coda.ID
	Large uint64
}

// Part is a piece of the bundle answering a Pull.
type Part struct {
	Data []byte
}

// Refuse answers a Pull that cannot be served.
type Refuse struct {
	Kind   string
	Reason string
}

// Large is a value left out of an answer's bundle, to fetch over CTP.
type Large struct {
	Commit coda.ID
	Path   string
	ID     coda.ID
	Size   uint64
}

// Fetch ends an answer whose bundle left values out.
type Fetch struct {
	Values []Large
}

// message is one of Heads, Pull, Part, Refuse, Fetch.
type message interface {
	schema() *coda.Schema
	value() coda.Value
}

func (Heads) schema() *coda.Schema  { return headsSchema }
func (Pull) schema() *coda.Schema   { return pullSchema }
func (Part) schema() *coda.Schema   { return partSchema }
func (Refuse) schema() *coda.Schema { return refuseSchema }
func (Fetch) schema() *coda.Schema  { return fetchSchema }

func id(x coda.ID) coda.Value { return coda.FixedBytes(x[:]) }

func (m Heads) value() coda.Value {
	hs := make([]coda.Value, len(m.Heads))
	for i, h := range m.Heads {
		hs[i] = coda.Struct(id(h.World), coda.String(h.Branch), id(h.Head))
	}
	return coda.Struct(coda.List(hs...))
}

func (m Pull) value() coda.Value {
	hv := make([]coda.Value, len(m.Haves))
	for i, h := range m.Haves {
		hv[i] = id(h)
	}
	return coda.Struct(id(m.World), id(m.Want), coda.List(hv...), coda.U64(m.Large))
}

func (m Fetch) value() coda.Value {
	vs := make([]coda.Value, len(m.Values))
	for i, l := range m.Values {
		vs[i] = coda.Struct(id(l.Commit), coda.String(l.Path), id(l.ID), coda.U64(l.Size))
	}
	return coda.Struct(coda.List(vs...))
}

func (m Part) value() coda.Value   { return coda.Struct(coda.Bytes(m.Data)) }
func (m Refuse) value() coda.Value { return coda.Struct(coda.String(m.Kind), coda.String(m.Reason)) }

// Encode returns the object bytes of m (schema id ‖ canonical body).
func Encode(m message) ([]byte, error) {
	if err := loadSchemas(); err != nil {
		return nil, err
	}
	return coda.EncodeObject(m.schema(), m.value())
}

// Decode decodes the object bytes of a sync message (Heads, Pull, Part
// or Refuse), checking the rules coda cannot: the limits above, heads in
// order without repeats, valid UTF-8.
func Decode(obj []byte) (any, error) {
	if err := loadSchemas(); err != nil {
		return nil, err
	}
	s, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: schemaReg})
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("replica: message: %w", err))
	}
	return fromValue(s, v)
}

// fromValue turns a decoded value of a sync schema into its message.
func fromValue(s *coda.Schema, v coda.Value) (any, error) {
	if err := loadSchemas(); err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return errs.E(errs.Invalid, fmt.Sprintf("replica: %s: ", s.Name)+fmt.Sprintf(format, args...))
	}
	switch s.ID {
	case headsSchema.ID:
		list := v.Index(0)
		if list.Len() > MaxHeads {
			return nil, errs.E(errs.Limit, fmt.Sprintf("replica: Heads: %d heads, at most %d", list.Len(), MaxHeads))
		}
		m := Heads{Heads: make([]Head, list.Len())}
		run := 0 // heads of the world of head i so far
		for i := range list.Len() {
			e := list.Index(i)
			h := Head{World: coda.ID(e.Index(0).AsBytes()), Branch: e.Index(1).AsString(), Head: coda.ID(e.Index(2).AsBytes())}
			if len(h.Branch) > MaxBranchLen || !utf8.ValidString(h.Branch) {
				return nil, bad("head %d: branch name of %d bytes (at most %d, UTF-8)", i, len(h.Branch), MaxBranchLen)
			}
			if err := ValidBranch(h.Branch); err != nil {
				return nil, bad("head %d: %v", i, err)
			}
			run++
			if i > 0 {
				p := m.Heads[i-1]
				c := bytes.Compare(p.World[:], h.World[:])
				if c > 0 || c == 0 && p.Branch >= h.Branch {
					return nil, bad("head %d: not after head %d (sorted by world, then branch, no repeats)", i, i-1)
				}
				if c != 0 {
					run = 1
				}
			}
			if run > MaxBranches {
				return nil, errs.E(errs.Limit, fmt.Sprintf("replica: Heads: head %d: more than %d branches of world %s (MaxBranches)", i, MaxBranches, h.World))
			}
			m.Heads[i] = h
		}
		return m, nil
	case pullSchema.ID:
		list := v.Index(2)
		if list.Len() > MaxHaves {
			return nil, errs.E(errs.Limit, fmt.Sprintf("replica: Pull: %d haves, at most %d", list.Len(), MaxHaves))
		}
		m := Pull{World: coda.ID(v.Index(0).AsBytes()), Want: coda.ID(v.Index(1).AsBytes()), Large: v.Index(3).AsUint()}
		for i := range list.Len() {
			m.Haves = append(m.Haves, coda.ID(list.Index(i).AsBytes()))
		}
		return m, nil
	case partSchema.ID:
		d := v.Index(0).AsBytes()
		if len(d) > MaxPart {
			return nil, errs.E(errs.Limit, fmt.Sprintf("replica: Part: %d bytes, at most %d", len(d), MaxPart))
		}
		return Part{Data: d}, nil
	case refuseSchema.ID:
		m := Refuse{Kind: v.Index(0).AsString(), Reason: v.Index(1).AsString()}
		if len(m.Kind) > MaxReasonLen || len(m.Reason) > MaxReasonLen || !utf8.ValidString(m.Kind) || !utf8.ValidString(m.Reason) {
			return nil, bad("kind or reason longer than %d bytes or not UTF-8", MaxReasonLen)
		}
		return m, nil
	case fetchSchema.ID:
		list := v.Index(0)
		if list.Len() > MaxFetch {
			return nil, errs.E(errs.Limit, fmt.Sprintf("replica: Fetch: %d values, at most %d", list.Len(), MaxFetch))
		}
		m := Fetch{Values: make([]Large, list.Len())}
		for i := range list.Len() {
			e := list.Index(i)
			l := Large{Commit: coda.ID(e.Index(0).AsBytes()), Path: e.Index(1).AsString(), ID: coda.ID(e.Index(2).AsBytes()), Size: e.Index(3).AsUint()}
			if len(l.Path) > MaxPathLen || !utf8.ValidString(l.Path) {
				return nil, bad("value %d: path of %d bytes (at most %d, UTF-8)", i, len(l.Path), MaxPathLen)
			}
			m.Values[i] = l
		}
		return m, nil
	}
	return nil, errs.E(errs.Invalid, fmt.Sprintf("replica: an object of schema %s is not a sync message", s.ID))
}
