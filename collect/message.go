package collect

// The messages of /coal/collect/1.0.0, schemas in collect.coda
// (docs/protocols.md §7 draws every byte). Each travels as a CODA object
// on a relay.Conn:
//
//	Ask       { since bytes[32], module string }
//	Inventory { head bytes[32], full bool,
//	            entries  list<Item { kind u8, module string, id bytes[32] }>,
//	            opinions list<Opinion { about bytes[32], kind u8, agree u64, disagree u64 }>,
//	            peers    list<Peer { id bytes, addrs list<bytes> }> }
//	Want      { ids list<bytes[32]> }
//	Object    { data bytes }
//	Refuse    { kind string, reason string }

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

//go:embed collect.coda
var collectCoda []byte

// Limits on what a message may hold; more is errs.Limit.
const (
	MaxEntries   = 1 << 16 // items in one Inventory (and ids in one Want)
	MaxOpinions  = 4096    // opinions in one Inventory
	MaxPeers     = 64      // peers in one Inventory
	MaxAddrs     = 16      // addresses of one peer
	MaxModuleLen = 255     // bytes of a module name
	MaxReasonLen = 4096    // bytes of a Refuse's kind or reason
	MaxObject    = 4 << 20 // bytes of one object
	maxIDLen     = 128     // bytes of a peer id
	maxAddrLen   = 256     // bytes of one multiaddr
	// maxMessage bounds a frame: an Inventory of MaxEntries items of
	// 255-byte names is about 19 MiB; objects are at most MaxObject.
	maxMessage = 24 << 20
)

// Entry kinds on the wire (module.Kind's numbers; build and main are
// local to a world and never sent).
const (
	KindInterface uint8 = 1
	KindSpec      uint8 = 2
	KindImpl      uint8 = 3
	KindCode      uint8 = 4
	KindBench     uint8 = 5
	KindResult    uint8 = 6
)

var (
	schemaOnce sync.Once
	schemaReg  *coda.Registry
	schemaErr  error

	askSchema, invSchema, wantSchema, objSchema, refuseSchema *coda.Schema
)

func loadSchemas() error {
	schemaOnce.Do(func() {
		reg, err := coda.Bind("collect.coda", collectCoda, map[string]**coda.Schema{"Ask": &askSchema, "Inventory": &invSchema, "Want": &wantSchema,
			"Object": &objSchema, "Refuse": &refuseSchema})
		if err != nil {
			schemaErr = errs.E(errs.Op("collect"), err)
			return
		}
		schemaReg = reg
	})
	return schemaErr
}

// SchemaIDs returns the schema ids of Ask, Inventory, Want, Object and
// Refuse, in that order (docs/protocols.md pins them).
func SchemaIDs() []coda.ID {
	if loadSchemas() != nil {
		return nil
	}
	return []coda.ID{askSchema.ID, invSchema.ID, wantSchema.ID, objSchema.ID, refuseSchema.ID}
}

// Ask opens a session.
type Ask struct {
	Since  coda.ID // the answerer's catalog commit we last saw; zero: all
	Module string  // "" every module; a name: that one (discover)
}

// Item is one catalog entry of an Inventory.
type Item struct {
	Kind   uint8
	Module string
	ID     coda.ID
}

// Opinion is an answerer's own evidence about a peer.
type Opinion struct {
	About    [32]byte
	Kind     uint8
	Agree    uint64
	Disagree uint64
}

// Inventory answers an Ask.
type Inventory struct {
	Head     coda.ID
	Full     bool
	Entries  []Item
	Opinions []Opinion
	Peers    []peer.AddrInfo
}

// Want names the objects the asker lacks.
type Want struct {
	IDs []coda.ID
}

// Object is one wanted object.
type Object struct {
	Data []byte
}

// Refuse answers an Ask that cannot be served.
type Refuse struct {
	Kind   string
	Reason string
}

// message is one of Ask, Inventory, Want, Object, Refuse.
type message interface {
	schema() *coda.Schema
	value() coda.Value
}

func (Ask) schema() *coda.Schema       { return askSchema }
func (Inventory) schema() *coda.Schema { return invSchema }
func (Want) schema() *coda.Schema      { return wantSchema }
func (Object) schema() *coda.Schema    { return objSchema }
func (Refuse) schema() *coda.Schema    { return refuseSchema }

func id32(x []byte) coda.Value { return coda.FixedBytes(x) }

func (m Ask) value() coda.Value { return coda.Struct(id32(m.Since[:]), coda.String(m.Module)) }

func (m Inventory) value() coda.Value {
	es := make([]coda.Value, len(m.Entries))
	for i, e := range m.Entries {
		es[i] = coda.Struct(coda.U8(e.Kind), coda.String(e.Module), id32(e.ID[:]))
	}
	ops := make([]coda.Value, len(m.Opinions))
	for i, o := range m.Opinions {
		ops[i] = coda.Struct(id32(o.About[:]), coda.U8(o.Kind), coda.U64(o.Agree), coda.U64(o.Disagree))
	}
	ps := make([]coda.Value, len(m.Peers))
	for i, ai := range m.Peers {
		as := make([]coda.Value, len(ai.Addrs))
		for j, a := range ai.Addrs {
			as[j] = coda.Bytes(a.Bytes())
		}
		ps[i] = coda.Struct(coda.Bytes([]byte(ai.ID)), coda.List(as...))
	}
	return coda.Struct(id32(m.Head[:]), coda.Bool(m.Full), coda.List(es...), coda.List(ops...), coda.List(ps...))
}

func (m Want) value() coda.Value {
	vs := make([]coda.Value, len(m.IDs))
	for i, x := range m.IDs {
		vs[i] = id32(x[:])
	}
	return coda.Struct(coda.List(vs...))
}

func (m Object) value() coda.Value { return coda.Struct(coda.Bytes(m.Data)) }
func (m Refuse) value() coda.Value { return coda.Struct(coda.String(m.Kind), coda.String(m.Reason)) }

// Encode returns the object bytes of m (schema id ‖ canonical body).
func Encode(m message) ([]byte, error) {
	if err := loadSchemas(); err != nil {
		return nil, err
	}
	return coda.EncodeObject(m.schema(), m.value())
}

// Decode decodes the object bytes of a collect message, checking the
// rules coda cannot (docs/protocols.md §7.2): limits, order, valid names,
// peer ids and multiaddrs.
func Decode(obj []byte) (any, error) {
	if err := loadSchemas(); err != nil {
		return nil, err
	}
	s, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: schemaReg, Limits: coda.Limits{MaxSize: maxMessage}})
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("collect: message: %w", err))
	}
	return fromValue(s, v)
}

// validModule reports whether name may be a module name on the wire: 1 to
// MaxModuleLen bytes of [a-z0-9_:]. (module.ValidName is stricter; the
// wire only keeps paths safe.)
func validModule(name string) bool {
	if name == "" || len(name) > MaxModuleLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == ':') {
			return false
		}
	}
	return true
}

func cmpItem(a, b Item) int {
	if c := strings.Compare(a.Module, b.Module); c != 0 {
		return c
	}
	if a.Kind != b.Kind {
		return int(a.Kind) - int(b.Kind)
	}
	return bytes.Compare(a.ID[:], b.ID[:])
}

func cmpOpinion(a, b Opinion) int {
	if c := bytes.Compare(a.About[:], b.About[:]); c != 0 {
		return c
	}
	return int(a.Kind) - int(b.Kind)
}

// fromValue turns a decoded value of a collect schema into its message.
func fromValue(s *coda.Schema, v coda.Value) (any, error) {
	if err := loadSchemas(); err != nil {
		return nil, err
	}
	bad := func(path string, format string, args ...any) error {
		return errs.E(errs.Invalid, errs.Path(s.Name+"."+path), fmt.Sprintf("collect: "+format, args...))
	}
	limit := func(path string, n, max int) error {
		return errs.E(errs.Limit, errs.Path(s.Name+"."+path), fmt.Sprintf("collect: %d, at most %d", n, max))
	}
	switch s.ID {
	case askSchema.ID:
		m := Ask{Since: coda.ID(v.Index(0).AsBytes()), Module: v.Index(1).AsString()}
		if m.Module != "" && !validModule(m.Module) {
			return nil, bad("module", "bad module name %q", m.Module)
		}
		return m, nil
	case invSchema.ID:
		m := Inventory{Head: coda.ID(v.Index(0).AsBytes()), Full: v.Index(1).AsBool()}
		el := v.Index(2)
		if el.Len() > MaxEntries {
			return nil, limit("entries", el.Len(), MaxEntries)
		}
		m.Entries = make([]Item, el.Len())
		for i := range el.Len() {
			e := el.Index(i)
			it := Item{Kind: uint8(e.Index(0).AsUint()), Module: e.Index(1).AsString(), ID: coda.ID(e.Index(2).AsBytes())}
			if it.Kind < KindInterface || it.Kind > KindResult {
				return nil, bad(fmt.Sprintf("entries[%d].kind", i), "kind %d, want 1 to 6", it.Kind)
			}
			if !validModule(it.Module) {
				return nil, bad(fmt.Sprintf("entries[%d].module", i), "bad module name %q", it.Module)
			}
			if i > 0 && cmpItem(m.Entries[i-1], it) >= 0 {
				return nil, bad(fmt.Sprintf("entries[%d]", i), "not after entry %d (sorted by module, kind, id; no repeats)", i-1)
			}
			m.Entries[i] = it
		}
		ol := v.Index(3)
		if ol.Len() > MaxOpinions {
			return nil, limit("opinions", ol.Len(), MaxOpinions)
		}
		m.Opinions = make([]Opinion, ol.Len())
		for i := range ol.Len() {
			e := ol.Index(i)
			o := Opinion{About: [32]byte(e.Index(0).AsBytes()), Kind: uint8(e.Index(1).AsUint()), Agree: e.Index(2).AsUint(), Disagree: e.Index(3).AsUint()}
			if o.Kind > 2 {
				return nil, bad(fmt.Sprintf("opinions[%d].kind", i), "kind %d, want 0 to 2", o.Kind)
			}
			if i > 0 && cmpOpinion(m.Opinions[i-1], o) >= 0 {
				return nil, bad(fmt.Sprintf("opinions[%d]", i), "not after opinion %d (sorted by about, kind; no repeats)", i-1)
			}
			m.Opinions[i] = o
		}
		pl := v.Index(4)
		if pl.Len() > MaxPeers {
			return nil, limit("peers", pl.Len(), MaxPeers)
		}
		seen := map[peer.ID]bool{}
		for i := range pl.Len() {
			ai, err := decodePeer(pl.Index(i), func(f string) string { return fmt.Sprintf("peers[%d]%s", i, f) }, bad)
			if err != nil {
				return nil, err
			}
			if seen[ai.ID] {
				return nil, bad(fmt.Sprintf("peers[%d].id", i), "peer %s twice", ai.ID)
			}
			seen[ai.ID] = true
			m.Peers = append(m.Peers, ai)
		}
		return m, nil
	case wantSchema.ID:
		l := v.Index(0)
		if l.Len() > MaxEntries {
			return nil, limit("ids", l.Len(), MaxEntries)
		}
		m := Want{IDs: make([]coda.ID, l.Len())}
		for i := range l.Len() {
			m.IDs[i] = coda.ID(l.Index(i).AsBytes())
			if i > 0 && bytes.Compare(m.IDs[i-1][:], m.IDs[i][:]) >= 0 {
				return nil, bad(fmt.Sprintf("ids[%d]", i), "not after id %d (sorted, no repeats)", i-1)
			}
		}
		return m, nil
	case objSchema.ID:
		d := v.Index(0).AsBytes()
		if len(d) > MaxObject {
			return nil, limit("data", len(d), MaxObject)
		}
		return Object{Data: d}, nil
	case refuseSchema.ID:
		m := Refuse{Kind: v.Index(0).AsString(), Reason: v.Index(1).AsString()}
		if len(m.Kind) > MaxReasonLen || len(m.Reason) > MaxReasonLen || !utf8.ValidString(m.Kind) || !utf8.ValidString(m.Reason) {
			return nil, bad("reason", "kind or reason longer than %d bytes or not UTF-8", MaxReasonLen)
		}
		return m, nil
	}
	return nil, errs.E(errs.Invalid, fmt.Sprintf("collect: an object of schema %s is not a collect message", s.ID))
}

func decodePeer(pv coda.Value, at func(string) string, bad func(string, string, ...any) error) (peer.AddrInfo, error) {
	idb := pv.Index(0).AsBytes()
	if len(idb) > maxIDLen {
		return peer.AddrInfo{}, bad(at(".id"), "%d bytes, at most %d", len(idb), maxIDLen)
	}
	id, err := peer.IDFromBytes(idb)
	if err != nil {
		return peer.AddrInfo{}, bad(at(".id"), "not a peer id: %v", err)
	}
	av := pv.Index(1)
	if n := av.Len(); n == 0 || n > MaxAddrs {
		return peer.AddrInfo{}, bad(at(".addrs"), "%d addresses, want 1 to %d", n, MaxAddrs)
	}
	ai := peer.AddrInfo{ID: id}
	for j := range av.Len() {
		b := av.Index(j).AsBytes()
		p := at(fmt.Sprintf(".addrs[%d]", j))
		if len(b) > maxAddrLen {
			return peer.AddrInfo{}, bad(p, "%d bytes, at most %d", len(b), maxAddrLen)
		}
		a, err := ma.NewMultiaddrBytes(b)
		if err != nil {
			return peer.AddrInfo{}, bad(p, "not a multiaddr: %v", err)
		}
		if !bytes.Equal(a.Bytes(), b) {
			return peer.AddrInfo{}, bad(p, "non-canonical multiaddr bytes")
		}
		if _, last := ma.SplitLast(a); last != nil && last.Protocol().Code == ma.P_P2P {
			return peer.AddrInfo{}, bad(p, "address %s ends in /p2p/ID", a)
		}
		ai.Addrs = append(ai.Addrs, a)
	}
	return ai, nil
}
