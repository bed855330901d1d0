package acl

// The stored objects of permissions: ACL (a directory's .acl entry) and
// Group (/sys/groups/NAME), CODA objects of the schemas in acl.coda.
//
//	ACL   = schema id (32) ‖ uvarint(n) ‖ rule × n
//	rule  = who ‖ rights (1 byte: 1, 2, 3 or 7)
//	Group = schema id (32) ‖ uvarint(n) ‖ who × n
//	who   = 0x00 ‖ key (32)                 Key
//	      | 0x01 ‖ uvarint(len) ‖ name      Group (a valid path segment)
//	      | 0x02                            Anyone (not in groups)
//
// Rules and members are sorted by who (tag, then the key's or the name's
// bytes) with no repeats, so equal permissions have equal ids. Decoding
// rejects every other byte string.

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

//go:embed acl.coda
var aclCoda []byte

// Rights is a set of rights: a bitmask of Read, Write and Admin.
type Rights uint8

// The rights. Admin implies Read and Write.
const (
	Read  Rights = 1 << iota // read the entries of a directory
	Write                    // put and delete entries
	Admin                    // edit .acl entries and /sys; holds everywhere below
	None  Rights = 0
	All          = Read | Write | Admin
)

// Has reports whether r includes every right of need.
func (r Rights) Has(need Rights) bool { return r&need == need }

// String returns the rights as a comma list in the order read, write,
// admin ("none" for the empty set), the form ParseRights reads.
func (r Rights) String() string {
	if r == None {
		return "none"
	}
	var parts []string
	for _, x := range []struct {
		r    Rights
		name string
	}{{Read, "read"}, {Write, "write"}, {Admin, "admin"}} {
		if r&x.r != 0 {
			parts = append(parts, x.name)
		}
	}
	if r&^All != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", uint8(r&^All)))
	}
	return strings.Join(parts, ",")
}

// ParseRights parses a comma list of "read", "write" and "admin".
func ParseRights(s string) (Rights, error) {
	var r Rights
	for _, p := range strings.Split(s, ",") {
		switch strings.TrimSpace(p) {
		case "read":
			r |= Read
		case "write":
			r |= Write
		case "admin":
			r |= Admin
		default:
			return None, errs.E(errs.Invalid, fmt.Sprintf("acl: bad rights %q: want a comma list of read, write, admin", s))
		}
	}
	return r, nil
}

// MarshalText returns the String form, for JSON.
func (r Rights) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses the String form ("none" too).
func (r *Rights) UnmarshalText(b []byte) error {
	if string(b) == "none" {
		*r = None
		return nil
	}
	x, err := ParseRights(string(b))
	if err != nil {
		return err
	}
	*r = x
	return nil
}

// canonical returns the stored form of r: admin carries read and write.
func (r Rights) canonical() Rights {
	if r&Admin != 0 {
		return All
	}
	return r
}

func validStored(r Rights) bool {
	return r == Read || r == Write || r == Read|Write || r == All
}

// WhoKind says what a Who names.
type WhoKind uint8

// The kinds of Who, numbered as the tags of the Who enum in acl.coda.
const (
	KeyWho    WhoKind = 0 // one ed25519 public key
	GroupWho  WhoKind = 1 // the group at /sys/groups/NAME
	AnyoneWho WhoKind = 2 // everyone
)

// Who is a principal in a rule or a group: a key, a group or anyone. Its
// zero value is the all-zero key.
type Who struct {
	Kind  WhoKind
	Key   [32]byte // KeyWho
	Group string   // GroupWho: the group's name, a path segment
}

// Key returns the Who of a public key.
func Key(k [32]byte) Who { return Who{Kind: KeyWho, Key: k} }

// GroupNamed returns the Who of the group at /sys/groups/name.
func GroupNamed(name string) Who { return Who{Kind: GroupWho, Group: name} }

// Anyone is everyone, including keys that are in no rule and no group.
var Anyone = Who{Kind: AnyoneWho}

// String returns the text form of w: the key's text form ("ed25519:…"),
// "group:NAME" or "anyone".
func (w Who) String() string {
	switch w.Kind {
	case KeyWho:
		return cdb.KeyString(w.Key[:])
	case GroupWho:
		return "group:" + w.Group
	case AnyoneWho:
		return "anyone"
	}
	return fmt.Sprintf("who(%d)", w.Kind)
}

// ParseWho parses the text form of a Who: a public key ("ed25519:…"),
// "group:NAME" or "anyone". (Local key names are the CLI's business.)
func ParseWho(s string) (Who, error) {
	switch {
	case s == "anyone":
		return Anyone, nil
	case strings.HasPrefix(s, "group:"):
		name := strings.TrimPrefix(s, "group:")
		if !tree.ValidName(name) {
			return Who{}, errs.E(errs.Invalid, fmt.Sprintf("acl: bad group name %q: a group name is a path segment", name))
		}
		return GroupNamed(name), nil
	case strings.HasPrefix(s, cdb.KeyPrefix):
		k, err := cdb.ParseKey(s)
		if err != nil {
			return Who{}, err
		}
		return Key([32]byte(k)), nil
	}
	return Who{}, errs.E(errs.Invalid, fmt.Sprintf("acl: bad principal %q: want %s…, group:NAME or anyone", s, cdb.KeyPrefix))
}

// MarshalText returns the String form, for JSON.
func (w Who) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText parses the String form (ParseWho).
func (w *Who) UnmarshalText(b []byte) error {
	x, err := ParseWho(string(b))
	if err != nil {
		return err
	}
	*w = x
	return nil
}

// Compare orders Whos as the stored lists are: by kind (key, group,
// anyone), then by the key's bytes or the group name's bytes.
func (w Who) Compare(v Who) int {
	if c := cmp.Compare(w.Kind, v.Kind); c != 0 {
		return c
	}
	switch w.Kind {
	case KeyWho:
		return bytes.Compare(w.Key[:], v.Key[:])
	case GroupWho:
		return strings.Compare(w.Group, v.Group)
	}
	return 0
}

func (w Who) check(inGroup bool) error {
	switch w.Kind {
	case KeyWho:
		return nil
	case GroupWho:
		if !tree.ValidName(w.Group) {
			return fmt.Errorf("bad group name %q: a group name is a path segment", w.Group)
		}
		return nil
	case AnyoneWho:
		if inGroup {
			return fmt.Errorf("anyone cannot be a group member (grant to anyone instead)")
		}
		return nil
	}
	return fmt.Errorf("unknown kind of principal %d", w.Kind)
}

// Rule gives Rights to Who.
type Rule struct {
	Who    Who    `json:"who"`
	Rights Rights `json:"rights"`
}

// ACL is the content of a directory's .acl entry. Encode makes it
// canonical: rules sorted by Who, one per Who (rights merged), no rule
// without rights, admin stored with read and write.
type ACL struct {
	Rules []Rule `json:"rules"`
}

// Grant adds rights to who's rule (creating it).
func (a *ACL) Grant(who Who, r Rights) {
	for i := range a.Rules {
		if a.Rules[i].Who == who {
			a.Rules[i].Rights = (a.Rules[i].Rights | r).canonical()
			return
		}
	}
	a.Rules = append(a.Rules, Rule{Who: who, Rights: r.canonical()})
	a.canonicalize()
}

// Revoke removes who's rule and reports whether there was one. Rights
// that who holds through groups or anyone are not affected.
func (a *ACL) Revoke(who Who) bool {
	n := len(a.Rules)
	a.Rules = slices.DeleteFunc(a.Rules, func(r Rule) bool { return r.Who == who })
	return len(a.Rules) != n
}

// RightsOf returns the rights the rule of exactly who gives (no groups).
func (a ACL) RightsOf(who Who) Rights {
	for _, r := range a.Rules {
		if r.Who == who {
			return r.Rights
		}
	}
	return None
}

func (a *ACL) canonicalize() {
	slices.SortStableFunc(a.Rules, func(x, y Rule) int { return x.Who.Compare(y.Who) })
	out := a.Rules[:0]
	for _, r := range a.Rules {
		if n := len(out); n > 0 && out[n-1].Who == r.Who {
			out[n-1].Rights = (out[n-1].Rights | r.Rights).canonical()
			continue
		}
		r.Rights = r.Rights.canonical()
		out = append(out, r)
	}
	a.Rules = slices.DeleteFunc(out, func(r Rule) bool { return r.Rights == None })
}

// Group is the content of /sys/groups/NAME: keys and other groups. Encode
// makes it canonical: members sorted by Who, no repeats.
type Group struct {
	Members []Who `json:"members"`
}

// Add adds members (repeats are dropped).
func (g *Group) Add(ws ...Who) {
	g.Members = append(g.Members, ws...)
	g.canonicalize()
}

// Remove removes who and reports whether it was a member.
func (g *Group) Remove(who Who) bool {
	n := len(g.Members)
	g.Members = slices.DeleteFunc(g.Members, func(w Who) bool { return w == who })
	return len(g.Members) != n
}

func (g *Group) canonicalize() {
	slices.SortFunc(g.Members, Who.Compare)
	g.Members = slices.Compact(g.Members)
}

// schemas are the compiled schemas of acl.coda.
type schemas struct {
	who, rule, acl, group *coda.Schema
	reg                   *coda.Registry
}

var (
	schemasOnce sync.Once
	schemasVal  *schemas
	schemasErr  error
)

func loadSchemas() (*schemas, error) {
	schemasOnce.Do(func() {
		reg := coda.NewRegistry()
		list, err := reg.Compile("acl.coda", aclCoda)
		if err != nil {
			schemasErr = errs.E(errs.Internal, fmt.Errorf("acl: compile acl.coda: %w", err))
			return
		}
		by := map[string]*coda.Schema{}
		for _, s := range list {
			by[s.Name] = s
		}
		s := &schemas{who: by["Who"], rule: by["Rule"], acl: by["ACL"], group: by["Group"], reg: reg}
		if s.who == nil || s.rule == nil || s.acl == nil || s.group == nil {
			schemasErr = errs.E(errs.Internal, "acl: acl.coda lacks a schema")
			return
		}
		schemasVal = s
	})
	return schemasVal, schemasErr
}

// ACLSchema returns the schema of .acl objects.
func ACLSchema() (*coda.Schema, error) {
	s, err := loadSchemas()
	if err != nil {
		return nil, err
	}
	return s.acl, nil
}

// GroupSchema returns the schema of group objects.
func GroupSchema() (*coda.Schema, error) {
	s, err := loadSchemas()
	if err != nil {
		return nil, err
	}
	return s.group, nil
}

func whoValue(w Who) coda.Value {
	switch w.Kind {
	case KeyWho:
		return coda.Enum(uint32(KeyWho), coda.FixedBytes(w.Key[:]))
	case GroupWho:
		return coda.Enum(uint32(GroupWho), coda.String(w.Group))
	}
	return coda.Enum(uint32(w.Kind))
}

func whoFromValue(v coda.Value) (Who, error) {
	switch WhoKind(v.Tag()) {
	case KeyWho:
		p, _ := v.Payload()
		var w Who
		w.Kind = KeyWho
		if copy(w.Key[:], p.AsBytes()) != 32 {
			return Who{}, fmt.Errorf("key is not 32 bytes")
		}
		return w, nil
	case GroupWho:
		p, _ := v.Payload()
		return GroupNamed(p.AsString()), nil
	case AnyoneWho:
		return Anyone, nil
	}
	return Who{}, fmt.Errorf("unknown kind of principal %d", v.Tag())
}

// Encode returns the canonical object bytes of a (after sorting and
// merging its rules). Rights outside read, write and admin, and bad group
// names, are errs.Invalid.
func (a ACL) Encode() ([]byte, error) {
	s, err := loadSchemas()
	if err != nil {
		return nil, err
	}
	c := ACL{Rules: slices.Clone(a.Rules)}
	for _, r := range c.Rules {
		if r.Rights&^All != 0 {
			return nil, errs.E(errs.Invalid, fmt.Sprintf("acl: rule for %s: bad rights %s", r.Who, r.Rights))
		}
		if err := r.Who.check(false); err != nil {
			return nil, errs.E(errs.Invalid, fmt.Errorf("acl: rule: %w", err))
		}
	}
	c.canonicalize()
	rules := make([]coda.Value, len(c.Rules))
	for i, r := range c.Rules {
		rules[i] = coda.Struct(whoValue(r.Who), coda.U8(uint8(r.Rights)))
	}
	b, err := coda.EncodeObject(s.acl, coda.Struct(coda.List(rules...)))
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("acl: encode: %w", err))
	}
	return b, nil
}

// Encode returns the canonical object bytes of g (after sorting and
// dropping repeats). Anyone and bad group names are errs.Invalid.
func (g Group) Encode() ([]byte, error) {
	s, err := loadSchemas()
	if err != nil {
		return nil, err
	}
	c := Group{Members: slices.Clone(g.Members)}
	for _, w := range c.Members {
		if err := w.check(true); err != nil {
			return nil, errs.E(errs.Invalid, fmt.Errorf("acl: group member: %w", err))
		}
	}
	c.canonicalize()
	ms := make([]coda.Value, len(c.Members))
	for i, w := range c.Members {
		ms[i] = whoValue(w)
	}
	b, err := coda.EncodeObject(s.group, coda.Struct(coda.List(ms...)))
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("acl: encode group: %w", err))
	}
	return b, nil
}

// decodeObject decodes b as an object of schema want.
func decodeObject(b []byte, want func(*schemas) *coda.Schema, what string) (coda.Value, error) {
	s, err := loadSchemas()
	if err != nil {
		return coda.Value{}, err
	}
	w := want(s)
	if len(b) < coda.IDSize || coda.ID(b[:coda.IDSize]) != w.ID {
		return coda.Value{}, errs.E(errs.Invalid, fmt.Sprintf("acl: not %s object (want schema %s)", what, w.ID))
	}
	v, err := coda.DecodeBody(w, b[coda.IDSize:], coda.DecodeOptions{})
	if err != nil {
		return coda.Value{}, errs.E(errs.Invalid, fmt.Errorf("acl: decode %s: %w", what, err))
	}
	return v, nil
}

// DecodeACL decodes the object bytes of an .acl entry. Everything but the
// canonical encoding (schema, sorted rules without repeats, stored rights
// 1, 2, 3 or 7, group names that are path segments) is errs.Invalid.
func DecodeACL(b []byte) (ACL, error) {
	v, err := decodeObject(b, func(s *schemas) *coda.Schema { return s.acl }, "an ACL")
	if err != nil {
		return ACL{}, err
	}
	list := v.Index(0)
	a := ACL{Rules: make([]Rule, list.Len())}
	for i := range a.Rules {
		rv := list.Index(i)
		who, err := whoFromValue(rv.Index(0))
		if err == nil {
			err = who.check(false)
		}
		if err != nil {
			return ACL{}, errs.E(errs.Invalid, fmt.Errorf("acl: rule %d: %w", i, err))
		}
		r := Rights(rv.Index(1).AsUint())
		if !validStored(r) {
			return ACL{}, errs.E(errs.Invalid, fmt.Sprintf("acl: rule %d: rights %d are not canonical (want 1 read, 2 write, 3 read and write, or 7 admin)", i, r))
		}
		if i > 0 && a.Rules[i-1].Who.Compare(who) >= 0 {
			return ACL{}, errs.E(errs.Invalid, fmt.Sprintf("acl: rule %d (%s) is out of order or repeated", i, who))
		}
		a.Rules[i] = Rule{Who: who, Rights: r}
	}
	return a, nil
}

// DecodeGroup decodes the object bytes of a group. Everything but the
// canonical encoding (schema, sorted members without repeats, no anyone,
// group names that are path segments) is errs.Invalid.
func DecodeGroup(b []byte) (Group, error) {
	v, err := decodeObject(b, func(s *schemas) *coda.Schema { return s.group }, "a group")
	if err != nil {
		return Group{}, err
	}
	list := v.Index(0)
	g := Group{Members: make([]Who, list.Len())}
	for i := range g.Members {
		who, err := whoFromValue(list.Index(i))
		if err == nil {
			err = who.check(true)
		}
		if err != nil {
			return Group{}, errs.E(errs.Invalid, fmt.Errorf("acl: member %d: %w", i, err))
		}
		if i > 0 && g.Members[i-1].Compare(who) >= 0 {
			return Group{}, errs.E(errs.Invalid, fmt.Sprintf("acl: member %d (%s) is out of order or repeated", i, who))
		}
		g.Members[i] = who
	}
	return g, nil
}
