package cdb

// The commit object (docs/cdb.md, "Commits"): a CODA object of the built-in
// schema Signed in commit.coda,
//
//	Signed ‖ { commit: Commit, signature: optional<bytes[64]> }
//
// whose id is the commit id. The signature is ed25519 by commit.author over
// the object bytes of the inner Commit (Commit's schema id ‖ its body). The
// ops and conflicts are not in it: they are in Ops objects, one per
// directory whose leaves the commit changed, which the Commit links by id
// (sorted bytewise); so a directory's group can travel as its id alone
// and the signature still covers it ("Redactable ops").

import (
	"bytes"
	"crypto/ed25519"
	_ "embed"
	"fmt"
	"slices"
	"strings"
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
	// OpGroups are the ids of the commit's Ops objects, sorted bytewise:
	// what its id and signature cover of Ops and Conflicts. Nil in a
	// commit being built (encoding computes them from Ops and Conflicts).
	OpGroups []coda.ID
	// Hidden are the groups of OpGroups this node does not hold: withheld
	// from it because they are inside subtrees it may not read (opaque,
	// docs/sync.md). Ops and Conflicts then hold only the other groups'.
	Hidden []coda.ID
	// groups are the encoded Ops objects, set when the commit is encoded
	// from its Ops, for its writer to store beside it; groupDirs their
	// directories.
	groups    [][]byte
	groupDirs []string
	// read, set by fill when it read every op group, names the slices it
	// read them into: while Ops, Conflicts and OpGroups are still those
	// slices, OpGroups are the ids of the very bytes Ops and Conflicts
	// were decoded from, and encoding need not compute them again.
	read readSlices
}

// readSlices identifies the Ops, Conflicts and OpGroups slices of a
// commit by their first element and length.
type readSlices struct {
	ops    *Change
	nops   int
	confs  *Conflict
	nconfs int
	groups *coda.ID
	ngroup int
}

func first[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

func readSlicesOf(c *Commit) readSlices {
	return readSlices{first(c.Ops), len(c.Ops), first(c.Conflicts), len(c.Conflicts), first(c.OpGroups), len(c.OpGroups)}
}

// groupsRead reports whether c's OpGroups are the ids of the op groups
// its Ops and Conflicts were read from (fill), unchanged since.
func (c *Commit) groupsRead() bool {
	return c.read.ngroup > 0 && c.read == readSlicesOf(c)
}

// Opaque reports whether some of c's op groups are withheld from this node.
func (c *Commit) Opaque() bool { return len(c.Hidden) > 0 }

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
	commit, signed, dirMeta, ops      *coda.Schema
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
			call: by["Call"], conflict: by["Conflict"], commit: by["Commit"], signed: by["Signed"], dirMeta: by["DirMeta"], ops: by["Ops"]}
		p, ok1 := cs.change.VariantByName("Put")
		d, ok2 := cs.change.VariantByName("Delete")
		if !ok1 || !ok2 || cs.signed == nil || cs.commit == nil || cs.ops == nil {
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

// OpsSchemaID returns the schema id of a commit's op groups (Ops objects).
func OpsSchemaID() coda.ID {
	cs, err := loadCommitSchemas()
	if err != nil {
		return coda.ID{}
	}
	return cs.ops.ID
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

// opDir returns the directory whose op group holds the leaf path (the
// metadata leaf of the directory path, if meta).
func opDir(path string, meta bool) string {
	if meta {
		return path
	}
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/"
	}
	return path[:i]
}

// groupOps encodes c.Ops and c.Conflicts as Ops objects, one per
// directory, and sets c.OpGroups (sorted bytewise) and c.groups.
func (cs *commitSchemas) groupOps(c *Commit) error {
	type group struct{ ops, confs []coda.Value }
	by := map[string]*group{}
	var dirs []string
	get := func(d string) *group {
		g := by[d]
		if g == nil {
			g = &group{}
			by[d] = g
			dirs = append(dirs, d)
		}
		return g
	}
	for _, o := range c.Ops {
		ch := coda.Enum(cs.del)
		if !o.Delete {
			ch = coda.Enum(cs.put, coda.Link(o.ID))
		}
		g := get(opDir(o.Path, o.Meta))
		g.ops = append(g.ops, coda.Struct(coda.String(o.Path), coda.Bool(o.Meta), ch))
	}
	for _, k := range c.Conflicts {
		g := get(opDir(k.Path, k.Meta))
		g.confs = append(g.confs, coda.Struct(coda.String(k.Path), coda.Bool(k.Meta), coda.Link(k.Winner), coda.Link(k.Loser),
			stampValue(k.WinnerStamp), stampValue(k.LoserStamp)))
	}
	ids := make([]coda.ID, 0, len(dirs))
	objs := make([][]byte, 0, len(dirs))
	for _, d := range dirs {
		g := by[d]
		b, err := coda.EncodeObject(cs.ops, coda.Struct(coda.List(g.ops...), coda.List(g.confs...)))
		if err != nil {
			return errs.E(errs.Invalid, errs.Path(d), fmt.Errorf("cdb: encode the ops of a commit: %w", err))
		}
		ids = append(ids, coda.Sum(b))
		objs = append(objs, b)
	}
	ord := make([]int, len(ids))
	for i := range ord {
		ord[i] = i
	}
	slices.SortFunc(ord, func(a, b int) int { return bytes.Compare(ids[a][:], ids[b][:]) })
	c.OpGroups = make([]coda.ID, len(ids))
	c.groups = make([][]byte, len(ids))
	c.groupDirs = make([]string, len(ids))
	for i, j := range ord {
		c.OpGroups[i], c.groups[i], c.groupDirs[i] = ids[j], objs[j], dirs[j]
	}
	return nil
}

// GroupDirs returns the directory of each op group of c that this node
// holds (those not in Hidden), by group id.
func (c *Commit) GroupDirs() (map[coda.ID]string, error) {
	cs, err := loadCommitSchemas()
	if err != nil {
		return nil, err
	}
	k := &Commit{Ops: c.Ops, Conflicts: c.Conflicts}
	if err := cs.groupOps(k); err != nil {
		return nil, err
	}
	out := make(map[coda.ID]string, len(k.OpGroups))
	for i, g := range k.OpGroups {
		out[g] = k.groupDirs[i]
	}
	return out, nil
}

// commitValue returns c (without signature) as a value of schema Commit.
// A commit whose ops are all here (Hidden nil) gets its OpGroups anew from
// its Ops and Conflicts; one with withheld groups keeps its OpGroups.
//
// A commit whose groups fill read, and whose Ops, Conflicts and OpGroups
// are still the slices it read them into, keeps its OpGroups too: they
// are the ids of the bytes its Ops and Conflicts were decoded from, each
// checked (fill), and fill's checks (canonical bytes, one directory per
// group, ops in path order, no conflicts in a signed commit) make them
// the ids computing them anew would give. Verify of every received
// commit encoded and hashed every op group a second time.
func (cs *commitSchemas) commitValue(c *Commit) (coda.Value, error) {
	if c.Hidden == nil && !c.groupsRead() {
		if err := cs.groupOps(c); err != nil {
			return coda.Value{}, err
		}
	}
	parents := make([]coda.Value, len(c.Parents))
	for i, p := range c.Parents {
		parents[i] = coda.Link(p)
	}
	author := coda.None()
	if c.Author != nil {
		author = coda.Some(coda.FixedBytes(c.Author))
	}
	ops := make([]coda.Value, len(c.OpGroups))
	for i, g := range c.OpGroups {
		ops[i] = coda.Link(g)
	}
	call := coda.None()
	if c.Call != nil {
		call = coda.Some(coda.Struct(coda.Link(c.Call.Program), coda.String(c.Call.Entry),
			optID(c.Call.Input), optID(c.Call.Output), coda.U64(c.Call.Steps)))
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
	), nil
}

// unsignedBytes returns the object bytes of the inner Commit: what the
// signature covers.
func (cs *commitSchemas) unsignedBytes(c *Commit) ([]byte, error) {
	v, err := cs.commitValue(c)
	if err != nil {
		return nil, err
	}
	return coda.EncodeObject(cs.commit, v)
}

// encode returns the stored object bytes of c (schema Signed). A commit
// being built (no OpGroups) gets its op groups, which its writer stores
// (Groups).
func (cs *commitSchemas) encode(c *Commit) ([]byte, error) {
	v, err := cs.commitValue(c)
	if err != nil {
		return nil, err
	}
	sig := coda.None()
	if c.Signature != nil {
		sig = coda.Some(coda.FixedBytes(c.Signature))
	}
	b, err := coda.EncodeObject(cs.signed, coda.Struct(v, sig))
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
	if c.Hidden != nil {
		return nil, errs.E(errs.Invalid, "cdb: cannot sign a commit whose ops are partly withheld")
	}
	// The signer holds every op: the groups are always computed anew.
	if err := cs.groupOps(c); err != nil {
		return nil, err
	}
	// The value is built once for both encodings.
	v, err := cs.commitValue(c)
	if err != nil {
		return nil, err
	}
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
// duplicates, op groups sorted without duplicates, author and signature
// present together (and absent only with two or more parents). It does
// not read the op groups (DecodeCommitWith does): Ops and Conflicts are
// empty and every group is in Hidden. It does not verify the signature (Commit.Verify does).
func DecodeCommit(data []byte) (*Commit, error) {
	cs, err := loadCommitSchemas()
	if err != nil {
		return nil, err
	}
	c, err := cs.decode(data)
	if err != nil {
		return nil, err
	}
	if len(c.OpGroups) > 0 {
		c.Hidden = slices.Clone(c.OpGroups) // not read
	}
	return c, nil
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
	gs := v.Index(6)
	c.OpGroups = make([]coda.ID, 0, gs.Len())
	for i := range gs.Len() {
		g := gs.Index(i).AsID()
		if g.IsZero() {
			return nil, bad("op group %d: the zero id", i)
		}
		if i > 0 && bytes.Compare(c.OpGroups[i-1][:], g[:]) >= 0 {
			return nil, bad("op groups not sorted or repeated")
		}
		c.OpGroups = append(c.OpGroups, g)
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
	if s := body.Index(1); s.IsSome() {
		p, _ := s.Payload()
		c.Signature = p.AsBytes()
	}
	switch {
	case (c.Author == nil) != (c.Signature == nil):
		return nil, bad("author and signature must be present together")
	case c.Author == nil && len(c.Parents) < 2:
		return nil, bad("an unsigned commit must be a merge of two or more parents")
	case len(c.Parents) == 0 && !c.World.IsZero():
		return nil, bad("a genesis commit has the zero world")
	case len(c.Parents) > 0 && c.World.IsZero():
		return nil, bad("a commit with parents names its world")
	}
	return c, nil
}

// fill reads c's op groups through get and sets c.Ops and c.Conflicts
// (in path order) from them. A group get reports as not existing (errs.NotExist)
// is listed in c.Hidden, and its ops are not in c.Ops. Each group must
// decode, be of one directory, hold its ops in path order, and hold at
// least one op or conflict; two groups may not be of one directory; a
// signed commit's groups hold no conflicts.
func (cs *commitSchemas) fill(c *Commit, get func(coda.ID) ([]byte, error)) error {
	bad := func(g coda.ID, format string, args ...any) error {
		return errs.E(errs.Invalid, fmt.Errorf("cdb: bad commit: op group %s: "+format, append([]any{g}, args...)...))
	}
	c.Ops, c.Conflicts, c.Hidden, c.read = nil, nil, nil, readSlices{}
	dirs := map[string]bool{}
	var runs [][2]int // the ops of each group: c.Ops[start:end]
	for _, g := range c.OpGroups {
		runs = append(runs, [2]int{len(c.Ops), len(c.Ops)})
		data, err := get(g)
		if errs.Is(err, errs.NotExist) {
			c.Hidden = append(c.Hidden, g)
			continue
		}
		if err != nil {
			return err
		}
		if coda.Sum(data) != g {
			return bad(g, "its bytes hash to %s", coda.Sum(data))
		}
		if len(data) < coda.IDSize || coda.ID(data[:coda.IDSize]) != cs.ops.ID {
			return bad(g, "not an op group (Ops) object")
		}
		body, err := coda.DecodeBody(cs.ops, data[coda.IDSize:], coda.DecodeOptions{Resolver: cs.reg})
		if err != nil {
			return bad(g, "%w", err)
		}
		ops, confs := body.Index(0), body.Index(1)
		if ops.Len()+confs.Len() == 0 {
			return bad(g, "empty")
		}
		dir := ""
		same := func(path string, meta bool) error {
			d := opDir(path, meta)
			if dir == "" {
				dir = d
				if dirs[d] {
					return bad(g, "a second group of directory %q", d)
				}
				dirs[d] = true
			} else if d != dir {
				return bad(g, "%q is not in directory %q", path, dir)
			}
			return nil
		}
		var prev Change
		for i := range ops.Len() {
			o := ops.Index(i)
			ch := Change{Path: o.Index(0).AsString(), Meta: o.Index(1).AsBool()}
			if !tree.CanonicalPath(ch.Path) {
				segs, err := tree.SplitPath(ch.Path)
				if err != nil {
					return bad(g, "op %d: %w", i, err)
				}
				return bad(g, "op %d: path %q is not in canonical form %q", i, ch.Path, tree.JoinPath(segs))
			}
			if ch.Path == "/" && !ch.Meta {
				return bad(g, "op %d: the root is a directory", i)
			}
			if i > 0 && comparePaths(prev.Path, prev.Meta, ch.Path, ch.Meta) >= 0 {
				return bad(g, "ops not in path order at %q", ch.Path)
			}
			prev = ch
			if err := same(ch.Path, ch.Meta); err != nil {
				return err
			}
			e := o.Index(2)
			switch e.Tag() {
			case cs.put:
				p, _ := e.Payload()
				ch.ID = p.AsID()
				if ch.ID.IsZero() {
					return bad(g, "op %d: put of the zero id", i)
				}
			default:
				ch.Delete = true
			}
			c.Ops = append(c.Ops, ch)
		}
		runs[len(runs)-1][1] = len(c.Ops)
		if confs.Len() > 0 && c.Author != nil {
			return bad(g, "only merge commits have conflicts")
		}
		for i := range confs.Len() {
			k := confs.Index(i)
			cf := Conflict{
				Path: k.Index(0).AsString(), Meta: k.Index(1).AsBool(),
				Winner: k.Index(2).AsID(), Loser: k.Index(3).AsID(),
				WinnerStamp: stampOf(k.Index(4)), LoserStamp: stampOf(k.Index(5)),
			}
			if !tree.CanonicalPath(cf.Path) {
				return bad(g, "conflict %d: path %q is not canonical", i, cf.Path)
			}
			if err := same(cf.Path, cf.Meta); err != nil {
				return err
			}
			c.Conflicts = append(c.Conflicts, cf)
		}
	}
	if len(c.OpGroups) > 1 {
		c.Ops = mergeRuns(c.Ops, runs)
		slices.SortStableFunc(c.Conflicts, func(a, b Conflict) int { return comparePaths(a.Path, a.Meta, b.Path, b.Meta) })
	}
	// Only a signed commit's: a merge commit's conflicts need not be in
	// path order within a group, and computing its groups anew from the
	// sorted list is how a disorder shows.
	if c.Hidden == nil && !c.IsMerge() {
		c.read = readSlicesOf(c)
	}
	return nil
}

// Groups returns the encoded op groups (Ops objects) of a commit built
// here, by id, for its writer to store beside the commit object; nil for a
// decoded commit (its groups are stored already, or travel apart).
func (c *Commit) Groups() [][]byte { return c.groups }

// DecodeCommitWith is DecodeCommit that also reads the commit's op groups
// through get (a group get reports as errs.NotExist is listed in Hidden)
// and fills Ops and Conflicts.
func DecodeCommitWith(data []byte, get func(coda.ID) ([]byte, error)) (*Commit, error) {
	cs, err := loadCommitSchemas()
	if err != nil {
		return nil, err
	}
	c, err := cs.decode(data)
	if err != nil {
		return nil, err
	}
	if err := cs.fill(c, get); err != nil {
		return nil, err
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

// mergeRuns returns ops in path order, given that each run ops[start:end]
// is in path order and no two ops have the same key (two ops of one key
// are of one directory, so of one group, where they would be out of
// order). Groups are mostly of directories side by side, whose runs do
// not overlap: sorted by their first op, such runs need only be laid end
// to end. Otherwise it sorts.
func mergeRuns(ops []Change, runs [][2]int) []Change {
	less := func(a, b Change) int { return comparePaths(a.Path, a.Meta, b.Path, b.Meta) }
	runs = slices.DeleteFunc(runs, func(r [2]int) bool { return r[0] == r[1] })
	if len(runs) <= 1 {
		return ops
	}
	slices.SortFunc(runs, func(a, b [2]int) int { return less(ops[a[0]], ops[b[0]]) })
	for i := 1; i < len(runs); i++ {
		if less(ops[runs[i-1][1]-1], ops[runs[i][0]]) >= 0 {
			slices.SortFunc(ops, less)
			return ops
		}
	}
	out := make([]Change, 0, len(ops))
	for _, r := range runs {
		out = append(out, ops[r[0]:r[1]]...)
	}
	return out
}

// comparePaths compares the leaves (path a, metadata leaf if am) and
// (b, bm) of canonical paths in path order, as comparePathKeys compares
// their opKeys, without splitting the paths: fill sorts every commit's
// ops with it, and splitting on every comparison was most of a clone's
// sorting time.
func comparePaths(a string, am bool, b string, bm bool) int {
	ia, ib := newSegIter(a, am), newSegIter(b, bm)
	for {
		sa, oka := ia.next()
		sb, okb := ib.next()
		switch {
		case !oka && !okb:
			return 0
		case !oka:
			return -1
		case !okb:
			return 1
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
}

// segIter yields the segments of a path's opKey: its segments, then ""
// for a metadata leaf.
type segIter struct {
	rest string
	more bool // segments left in rest
	meta bool // the "" of a metadata leaf still to come
}

func newSegIter(p string, meta bool) segIter {
	p = strings.TrimPrefix(p, "/")
	return segIter{rest: p, more: p != "", meta: meta}
}

func (it *segIter) next() (string, bool) {
	if it.more {
		i := strings.IndexByte(it.rest, '/')
		if i < 0 {
			it.more = false
			return it.rest, true
		}
		seg := it.rest[:i]
		it.rest = it.rest[i+1:]
		return seg, true
	}
	if it.meta {
		it.meta = false
		return "", true
	}
	return "", false
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

// putCommit puts the commit object obj of c, built here, and its op groups.
func putCommit(b interface{ Put([]byte) (coda.ID, error) }, c *Commit, obj []byte) error {
	for _, g := range c.groups {
		if _, err := b.Put(g); err != nil {
			return err
		}
	}
	c.groups, c.groupDirs = nil, nil
	_, err := b.Put(obj)
	return err
}
