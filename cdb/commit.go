package cdb

// The commit object (docs/cdb.md, "Commits"): a CODA object of the built-in
// schema Signed in commit.coda,
//
//	Signed ‖ { commit: Commit, signature: optional<bytes[64]> }
//
// whose id is the commit id. The signature is ed25519 by commit.author over
// the object bytes of the inner Commit (Commit's schema id ‖ its body).

import (
	"bytes"
	"crypto/ed25519"
	_ "embed"
	"fmt"
	"slices"
	"sync"

	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

//go:embed commit.coda
var commitCoda []byte

// Commit is a decoded commit. Merge commits have no Author and no
// Signature; every other commit has both.
type Commit struct {
	ID        coda.ID           // the id of the stored Signed object
	World     coda.ID           // zero in a genesis commit
	Parents   []coda.ID         // sorted bytewise; empty only in genesis
	Tree      coda.ID           // the root after this commit
	Author    ed25519.PublicKey // nil in merge commits
	Time      hlc.Time          // > every parent's time (merge: = the max)
	Message   string
	Ops       []Change   // every leaf changed, in path order
	Call      *Call      // the program call that made the commit (issue 8)
	Conflicts []Conflict // merge commits: the concurrent losers
	Signature []byte     // nil in merge commits
}

// IsMerge reports whether c is a merge commit (unsigned, no author).
func (c *Commit) IsMerge() bool { return c.Author == nil }

// IsGenesis reports whether c is a genesis commit.
func (c *Commit) IsGenesis() bool { return len(c.Parents) == 0 }

// Stamp returns the stamp c puts on the leaves it changes.
func (c *Commit) Stamp() tree.Stamp {
	s := tree.Stamp{Time: uint64(c.Time)}
	copy(s.Author[:], c.Author)
	return s
}

// Change is one op of a commit: the leaf at Path (the metadata leaf of the
// directory Path, if Meta) became the value ID, or a tombstone (Delete).
type Change struct {
	Path   string  `json:"path"`
	Meta   bool    `json:"meta,omitempty"`
	Delete bool    `json:"delete,omitempty"`
	ID     coda.ID `json:"id,omitzero"`
}

// Call records the program call that produced a commit (issue 8).
type Call struct {
	Program coda.ID
	Entry   string
	Input   *coda.ID
	Output  *coda.ID
	Steps   uint64
}

// Conflict is a concurrent loser kept by a merge commit: at Path (or the
// metadata leaf of Path, if Meta) Winner was kept and Loser overruled. A
// tombstone's id is zero. Conflicts (the method) fills WinnerItem and
// LoserItem with the values.
type Conflict struct {
	Path        string     `json:"path"`
	Meta        bool       `json:"meta,omitempty"`
	Winner      coda.ID    `json:"winner"`
	Loser       coda.ID    `json:"loser"`
	WinnerStamp tree.Stamp `json:"-"`
	LoserStamp  tree.Stamp `json:"-"`
	WinnerItem  *Item      `json:"winner_value,omitempty"`
	LoserItem   *Item      `json:"loser_value,omitempty"`
}

// commitSchemas are the compiled schemas of commit.coda.
type commitSchemas struct {
	reg                               *coda.Registry
	stamp, change, op, call, conflict *coda.Schema
	commit, signed, dirMeta           *coda.Schema
	put, del                          uint32 // Change tags
}

var (
	schemasOnce sync.Once
	schemasVal  *commitSchemas
	schemasErr  error
)

func loadCommitSchemas() (*commitSchemas, error) {
	schemasOnce.Do(func() {
		reg := coda.NewRegistry()
		list, err := reg.Compile("commit.coda", commitCoda)
		if err != nil {
			schemasErr = errs.E(errs.Internal, fmt.Errorf("cdb: compile commit.coda: %w", err))
			return
		}
		by := map[string]*coda.Schema{}
		for _, s := range list {
			by[s.Name] = s
		}
		cs := &commitSchemas{reg: reg, stamp: by["Stamp"], change: by["Change"], op: by["Op"],
			call: by["Call"], conflict: by["Conflict"], commit: by["Commit"], signed: by["Signed"], dirMeta: by["DirMeta"]}
		p, ok1 := cs.change.VariantByName("Put")
		d, ok2 := cs.change.VariantByName("Delete")
		if !ok1 || !ok2 || cs.signed == nil || cs.commit == nil {
			schemasErr = errs.E(errs.Internal, "cdb: commit.coda lacks a schema")
			return
		}
		cs.put, cs.del = p.Tag, d.Tag
		schemasVal = cs
	})
	return schemasVal, schemasErr
}

// CommitSchemaID returns the schema id of stored commit objects (Signed).
func CommitSchemaID() coda.ID {
	cs, err := loadCommitSchemas()
	if err != nil {
		return coda.ID{}
	}
	return cs.signed.ID
}

func stampValue(s tree.Stamp) coda.Value {
	return coda.Struct(coda.U64(s.Time), coda.FixedBytes(s.Author[:]))
}

func optID(id *coda.ID) coda.Value {
	if id == nil {
		return coda.None()
	}
	return coda.Some(coda.Link(*id))
}

// commitValue returns c (without signature) as a value of schema Commit.
func (cs *commitSchemas) commitValue(c *Commit) coda.Value {
	parents := make([]coda.Value, len(c.Parents))
	for i, p := range c.Parents {
		parents[i] = coda.Link(p)
	}
	author := coda.None()
	if c.Author != nil {
		author = coda.Some(coda.FixedBytes(c.Author))
	}
	ops := make([]coda.Value, len(c.Ops))
	for i, o := range c.Ops {
		ch := coda.Enum(cs.del)
		if !o.Delete {
			ch = coda.Enum(cs.put, coda.Link(o.ID))
		}
		ops[i] = coda.Struct(coda.String(o.Path), coda.Bool(o.Meta), ch)
	}
	call := coda.None()
	if c.Call != nil {
		call = coda.Some(coda.Struct(coda.Link(c.Call.Program), coda.String(c.Call.Entry),
			optID(c.Call.Input), optID(c.Call.Output), coda.U64(c.Call.Steps)))
	}
	confs := make([]coda.Value, len(c.Conflicts))
	for i, k := range c.Conflicts {
		confs[i] = coda.Struct(coda.String(k.Path), coda.Bool(k.Meta), coda.Link(k.Winner), coda.Link(k.Loser),
			stampValue(k.WinnerStamp), stampValue(k.LoserStamp))
	}
	return coda.Struct(
		coda.FixedBytes(c.World[:]),
		coda.List(parents...),
		coda.Link(c.Tree),
		author,
		coda.U64(uint64(c.Time)),
		coda.String(c.Message),
		coda.List(ops...),
		call,
		coda.List(confs...),
	)
}

// unsignedBytes returns the object bytes of the inner Commit: what the
// signature covers.
func (cs *commitSchemas) unsignedBytes(c *Commit) ([]byte, error) {
	return coda.EncodeObject(cs.commit, cs.commitValue(c))
}

// encode returns the stored object bytes of c (schema Signed).
func (cs *commitSchemas) encode(c *Commit) ([]byte, error) {
	sig := coda.None()
	if c.Signature != nil {
		sig = coda.Some(coda.FixedBytes(c.Signature))
	}
	b, err := coda.EncodeObject(cs.signed, coda.Struct(cs.commitValue(c), sig))
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("cdb: encode commit: %w", err))
	}
	return b, nil
}

// sign sets c.Author and c.Signature for key and returns the object bytes.
//
// The signature verifies for c.Author by construction: ed25519 signing is
// deterministic and a signature by a private key always verifies under
// its public key, and key.Public is checked to be that key (Identity's
// private key holds its public half). So World.finish need not verify
// the commits build signed (ValidateEnv.signedHere).
func (cs *commitSchemas) sign(c *Commit, key Identity) ([]byte, error) {
	if key.CanSign() && !bytes.Equal(key.Public, key.priv[ed25519.SeedSize:]) {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("identity %q: public key is not its private key's", key.Name))
	}
	c.Author = key.Public
	// The value is built once for both encodings: a commit of an import
	// holds an op per file.
	v := cs.commitValue(c)
	msg, err := coda.EncodeObject(cs.commit, v)
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("cdb: encode commit: %w", err))
	}
	sig, err := key.Sign(msg)
	if err != nil {
		return nil, err
	}
	c.Signature = sig
	obj, err := coda.EncodeObject(cs.signed, coda.Struct(v, coda.Some(coda.FixedBytes(sig))))
	if err != nil {
		return nil, errs.E(errs.Invalid, fmt.Errorf("cdb: encode commit: %w", err))
	}
	c.ID = coda.Sum(obj)
	return obj, nil
}

// DecodeCommit decodes the object bytes of a commit. It checks everything
// that needs no other object: canonical encoding, parents sorted without
// duplicates, ops in strictly increasing path order with valid paths,
// author and signature present together (and absent only with two or more
// parents). It does not verify the signature (Commit.Verify does).
func DecodeCommit(data []byte) (*Commit, error) {
	cs, err := loadCommitSchemas()
	if err != nil {
		return nil, err
	}
	return cs.decode(data)
}

func (cs *commitSchemas) decode(data []byte) (*Commit, error) {
	bad := func(format string, args ...any) error {
		return errs.E(errs.Invalid, fmt.Errorf("cdb: bad commit: "+format, args...))
	}
	if len(data) < coda.IDSize || coda.ID(data[:coda.IDSize]) != cs.signed.ID {
		return nil, bad("not a commit object")
	}
	body, err := coda.DecodeBody(cs.signed, data[coda.IDSize:], coda.DecodeOptions{Resolver: cs.reg})
	if err != nil {
		return nil, bad("%w", err)
	}
	v := body.Index(0)
	c := &Commit{ID: coda.Sum(data)}
	copy(c.World[:], v.Index(0).AsBytes())
	ps := v.Index(1)
	for i := range ps.Len() {
		p := ps.Index(i).AsID()
		if i > 0 && bytes.Compare(c.Parents[i-1][:], p[:]) >= 0 {
			return nil, bad("parents not sorted or repeated")
		}
		c.Parents = append(c.Parents, p)
	}
	c.Tree = v.Index(2).AsID()
	if a := v.Index(3); a.IsSome() {
		p, _ := a.Payload()
		c.Author = ed25519.PublicKey(p.AsBytes())
	}
	c.Time = hlc.Time(v.Index(4).AsUint())
	c.Message = v.Index(5).AsString()
	ops := v.Index(6)
	c.Ops = make([]Change, 0, ops.Len())
	var prev []string
	for i := range ops.Len() {
		o := ops.Index(i)
		ch := Change{Path: o.Index(0).AsString(), Meta: o.Index(1).AsBool()}
		segs, err := tree.SplitPath(ch.Path)
		if err != nil {
			return nil, bad("op %d: %w", i, err)
		}
		if ch.Path != tree.JoinPath(segs) {
			return nil, bad("op %d: path %q is not in canonical form %q", i, ch.Path, tree.JoinPath(segs))
		}
		if len(segs) == 0 && !ch.Meta {
			return nil, bad("op %d: the root is a directory", i)
		}
		k := opKey(segs, ch.Meta)
		if i > 0 && comparePathKeys(prev, k) >= 0 {
			return nil, bad("ops not in path order at %q", ch.Path)
		}
		prev = k
		e := o.Index(2)
		switch e.Tag() {
		case cs.put:
			p, _ := e.Payload()
			ch.ID = p.AsID()
			if ch.ID.IsZero() {
				return nil, bad("op %d: put of the zero id", i)
			}
		default:
			ch.Delete = true
		}
		c.Ops = append(c.Ops, ch)
	}
	if cv := v.Index(7); cv.IsSome() {
		p, _ := cv.Payload()
		call := &Call{Program: p.Index(0).AsID(), Entry: p.Index(1).AsString(), Steps: p.Index(4).AsUint()}
		if in := p.Index(2); in.IsSome() {
			x, _ := in.Payload()
			id := x.AsID()
			call.Input = &id
		}
		if out := p.Index(3); out.IsSome() {
			x, _ := out.Payload()
			id := x.AsID()
			call.Output = &id
		}
		c.Call = call
	}
	confs := v.Index(8)
	for i := range confs.Len() {
		k := confs.Index(i)
		c.Conflicts = append(c.Conflicts, Conflict{
			Path: k.Index(0).AsString(), Meta: k.Index(1).AsBool(),
			Winner: k.Index(2).AsID(), Loser: k.Index(3).AsID(),
			WinnerStamp: stampOf(k.Index(4)), LoserStamp: stampOf(k.Index(5)),
		})
	}
	if s := body.Index(1); s.IsSome() {
		p, _ := s.Payload()
		c.Signature = p.AsBytes()
	}
	switch {
	case (c.Author == nil) != (c.Signature == nil):
		return nil, bad("author and signature must be present together")
	case c.Author == nil && len(c.Parents) < 2:
		return nil, bad("an unsigned commit must be a merge of two or more parents")
	case c.Author != nil && len(c.Conflicts) > 0:
		return nil, bad("only merge commits have conflicts")
	case len(c.Parents) == 0 && !c.World.IsZero():
		return nil, bad("a genesis commit has the zero world")
	case len(c.Parents) > 0 && c.World.IsZero():
		return nil, bad("a commit with parents names its world")
	}
	return c, nil
}

func stampOf(v coda.Value) tree.Stamp {
	s := tree.Stamp{Time: v.Index(0).AsUint()}
	copy(s.Author[:], v.Index(1).AsBytes())
	return s
}

// Verify checks c's signature: nil for a valid signature, an errs.Invalid
// error for a bad one ("cdb: bad signature": the caller names the commit),
// and nil for merge commits (which are checked by
// recomputing them, not by signature).
func (c *Commit) Verify() error {
	if c.IsMerge() {
		return nil
	}
	cs, err := loadCommitSchemas()
	if err != nil {
		return err
	}
	msg, err := cs.unsignedBytes(c)
	if err != nil {
		return err
	}
	if len(c.Author) != ed25519.PublicKeySize || !ed25519.Verify(c.Author, msg, c.Signature) {
		return errs.E(errs.Invalid, "cdb: bad signature")
	}
	return nil
}

// opKey is the path-order key of a leaf: its segments, plus "" for the
// metadata leaf of a directory (which comes first in the directory).
func opKey(segs []string, meta bool) []string {
	if meta {
		return append(slices.Clip(segs), "")
	}
	return segs
}

// comparePathKeys compares path-order keys: segment by segment, a proper
// prefix (a leaf) before what is under the directory of that name.
func comparePathKeys(a, b []string) int {
	return slices.Compare(a, b)
}

// EncodeCommit returns the stored object bytes of c as it is (its
// signature included, not checked). With SignCommit it lets tools and
// tests build commits by hand — including forged ones, which
// ValidateCommit must refuse.
func EncodeCommit(c *Commit) ([]byte, error) {
	cs, err := loadCommitSchemas()
	if err != nil {
		return nil, err
	}
	return cs.encode(c)
}

// SignCommit sets c.Author to key's public key, signs c, sets c.Signature
// and c.ID, and returns the object bytes.
func SignCommit(c *Commit, key Identity) ([]byte, error) {
	cs, err := loadCommitSchemas()
	if err != nil {
		return nil, err
	}
	return cs.sign(c, key)
}
