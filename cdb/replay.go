package cdb

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// ReplayResult is what Replay checked.
type ReplayResult struct {
	Count int     `json:"count"` // commits checked
	Root  coda.ID `json:"root"`  // the tree of the current branch's head
	Head  coda.ID `json:"head"`
}

// Replay rebuilds the world's history from genesis: every commit reachable
// from any branch, parents before children, is checked by ValidateCommit
// (signatures; ops re-applied to the first parent's tree give the commit's
// tree; merge commits recomputed). progress, if not nil, is called with
// the number of commits checked so far. The first bad commit is an
// errs.Corrupt error naming it.
func (w *World) Replay(progress func(n int)) (ReplayResult, error) {
	op := errs.Op("cdb.Replay")
	commits, err := w.allCommits()
	if err != nil {
		return ReplayResult{}, errs.E(op, errs.Corrupt, err)
	}
	byID := make(map[coda.ID]*Commit, len(commits))
	for _, c := range commits {
		byID[c.ID] = c
	}
	env := w.validateEnv(w.h.store, false)
	for i, c := range commits {
		parents := make([]*Commit, len(c.Parents))
		for j, p := range c.Parents {
			parents[j] = byID[p]
		}
		if err := ValidateCommit(env, c, parents); err != nil {
			return ReplayResult{Count: i}, errs.E(op, errs.Corrupt, err)
		}
		if progress != nil {
			progress(i + 1)
		}
	}
	head, err := w.Head()
	if err != nil {
		return ReplayResult{}, errs.E(op, err)
	}
	return ReplayResult{Count: len(commits), Root: byID[head].Tree, Head: head}, nil
}

// allCommits returns every commit reachable from a branch head of the
// world, parents before children (ties: time, then id).
func (w *World) allCommits() ([]*Commit, error) {
	refs, err := w.h.store.ListRefs("head/" + w.id.String() + "/")
	if err != nil {
		return nil, err
	}
	var all []*Commit
	seen := map[coda.ID]bool{}
	for _, r := range refs {
		err := w.walkHistory(r.ID, seen, func(c *Commit) error {
			all = append(all, c)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// Kahn's algorithm over the DAG, in (time, id) order among the ready.
	children := map[coda.ID][]*Commit{}
	waiting := map[coda.ID]int{}
	var ready []*Commit
	for _, c := range all {
		waiting[c.ID] = len(c.Parents)
		if len(c.Parents) == 0 {
			ready = append(ready, c)
		}
		for _, p := range c.Parents {
			children[p] = append(children[p], c)
		}
	}
	order := func(a, b *Commit) int {
		return cmp.Or(cmp.Compare(b.Time, a.Time), bytes.Compare(b.ID[:], a.ID[:]))
	}
	out := make([]*Commit, 0, len(all))
	for len(ready) > 0 {
		slices.SortFunc(ready, order) // oldest last
		c := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		out = append(out, c)
		for _, k := range children[c.ID] {
			waiting[k.ID]--
			if waiting[k.ID] == 0 {
				ready = append(ready, k)
			}
		}
	}
	if len(out) != len(all) {
		return nil, fmt.Errorf("history has a cycle or a commit of another world")
	}
	return out, nil
}

// Fsck checks every object reachable from the world's branches: each
// commit's hash and decoding, each tree (every node decodes, the structure
// is canonical), and each value's hash and decoding (a blob's header; a
// value of a known schema decodes against it). fn is called with one line
// per problem, naming the object and path; Fsck returns an errs.Corrupt
// error if there was any.
func (w *World) Fsck(fn func(problem string)) error {
	_, err := w.FsckCount(fn)
	return err
}

// FsckCounts says how much Fsck checked.
type FsckCounts struct {
	Commits int `json:"commits"` // commit objects
	Dirs    int `json:"dirs"`    // distinct directories, every node of each
	Values  int `json:"values"`  // distinct value objects
	// Withheld counts the values (among Values) missing by design.
	Withheld int `json:"withheld"`
	// Opaque counts the opaque subtrees (and their op groups) met,
	// missing by design (docs/sync.md).
	Opaque int `json:"opaque,omitempty"`
}

// Objects returns the number of commits, directories and values checked.
func (c FsckCounts) Objects() int { return c.Commits + c.Dirs + c.Values }

// FsckCount is Fsck, also returning how much it checked (also when it
// found problems).
func (w *World) FsckCount(fn func(problem string)) (FsckCounts, error) {
	return w.FsckReport(fn, nil)
}

// FsckReport is FsckCount, also calling withheld (if not nil) with one
// line per value missing by design: withheld by the maker of a bundle
// (World.Withheld), naming the object, its path, its commit and the
// maker's key. Those are counted in Withheld, not reported as problems.
func (w *World) FsckReport(fn func(problem string), withheld func(line string)) (FsckCounts, error) {
	var n FsckCounts
	op := errs.Op("cdb.Fsck")
	problems := 0
	report := func(format string, args ...any) {
		problems++
		if fn != nil {
			fn(fmt.Sprintf(format, args...))
		}
	}
	verifier, _ := w.h.store.(store.Verifier)
	if u, ok := w.h.store.(interface{ Unwrap() store.Store }); ok && verifier == nil {
		verifier, _ = u.Unwrap().(store.Verifier)
	}
	checkHash := func(id coda.ID) error {
		if verifier != nil {
			return verifier.Verify(id)
		}
		b, err := w.h.store.Get(id)
		if err != nil {
			return err
		}
		if coda.Sum(b) != id {
			return errs.E(errs.Corrupt, fmt.Sprintf("object %s: bytes hash to %s", id, coda.Sum(b)))
		}
		return nil
	}
	refs, err := w.h.store.ListRefs("head/" + w.id.String() + "/")
	if err != nil {
		return n, errs.E(op, err)
	}
	// Walk from the heads. Each commit's tree is verified (directories
	// shared with trees verified before are skipped), and its values are
	// checked by diff against the tree of the child it was reached from,
	// whose values are all checked already: so each distinct directory
	// and value is read about once, whatever the length of the history.
	type visit struct{ id, from coda.ID }
	seen := map[coda.ID]bool{}
	checkedValue := map[coda.ID]bool{}
	opq, err := w.OpaqueSubtrees()
	if err != nil {
		return n, errs.E(op, err)
	}
	// An opaque subtree recorded here is skipped where its node is not
	// here (a version that arrived whole is checked like any other).
	isOpaque := func(p string, node coda.ID) bool {
		if _, ok := opq[p]; !ok {
			return false
		}
		ok, err := w.h.store.Has(node)
		return err == nil && !ok
	}
	opaqueSeen := map[coda.ID]bool{}
	treeVerifier := w.h.tree.NewVerifier()
	treeVerifier.Skip = isOpaque
	byDesign := func(format string, args ...any) {
		n.Opaque++
		if withheld != nil {
			withheld(fmt.Sprintf(format, args...))
		}
	}
	var stack []visit
	for _, r := range refs {
		stack = append(stack, visit{r.ID, tree.EmptyRoot})
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		id := v.id
		if seen[id] {
			continue
		}
		seen[id] = true
		n.Commits++
		if err := checkHash(id); err != nil {
			report("commit %s: %v", id, err)
			continue
		}
		c, err := w.readCommit(id)
		if err != nil {
			report("commit %s: %v", id, err)
			continue
		}
		for _, g := range c.Hidden {
			if maker, ok, werr := w.Withheld(g); werr == nil && ok {
				byDesign("op group %s (commit %s): withheld by the bundle's maker (not readable by %s): missing by design", g, id, KeyString(maker))
			} else {
				report("op group %s of commit %s: missing from the store", g, id)
			}
		}
		if err := treeVerifier.Verify(c.Tree); err != nil {
			report("tree %s of commit %s: %v", c.Tree, id, err)
			for _, p := range c.Parents {
				stack = append(stack, visit{p, tree.EmptyRoot})
			}
			continue
		}
		for _, p := range c.Parents {
			stack = append(stack, visit{p, c.Tree})
		}
		reg, err := w.schemasAt(c.Tree)
		if err != nil {
			report("schemas of commit %s: %v", id, err)
			reg = coda.NewRegistry()
		}
		err = w.h.tree.DiffPruned(v.from, c.Tree, func(p string, a, b tree.Entry) bool {
			return b.Kind == tree.KindDir && isOpaque(p, b.ID) || a.Kind == tree.KindDir && isOpaque(p, a.ID)
		}, func(ch tree.Change) error {
			e := ch.B
			if e.Kind != tree.KindValue || checkedValue[e.ID] {
				return nil
			}
			checkedValue[e.ID] = true
			p := metaPath(ch.Path, ch.Meta)
			if err := checkHash(e.ID); err != nil {
				if maker, ok, werr := w.Withheld(e.ID); errs.Is(err, errs.NotExist) && werr == nil && ok {
					n.Withheld++
					if withheld != nil {
						withheld(fmt.Sprintf("object %s at %s (commit %s): withheld by the bundle's maker (not readable by %s): missing by design",
							e.ID, p, id, KeyString(maker)))
					}
					return nil
				}
				report("object %s at %s (commit %s): %v", e.ID, p, id, err)
				return nil
			}
			if err := checkValue(w.h.store, reg, e.ID); err != nil {
				report("object %s at %s (commit %s): %v", e.ID, p, id, err)
			}
			return nil
		}, func(p string, _, e tree.Entry) error {
			if e.Kind == tree.KindDir && isOpaque(p, e.ID) && !opaqueSeen[e.ID] {
				opaqueSeen[e.ID] = true // reported once per version
				byDesign("opaque subtree %s at %s (commit %s): its nodes were not sent (%s may read nothing in it): missing by design",
					e.ID, p, id, KeyString(opq[p]))
			}
			return nil
		})
		if err != nil {
			report("tree %s of commit %s: %v", c.Tree, id, err)
		}
	}
	n.Dirs, n.Values = treeVerifier.Dirs(), len(checkedValue)
	if problems > 0 {
		return n, errs.E(op, errs.Corrupt, fmt.Sprintf("%d problems found", problems))
	}
	return n, nil
}

// checkValue decodes the object id: a blob's header, or a value of a schema
// in reg. Objects of unknown schemas are only hashed.
func checkValue(s store.Store, reg *coda.Registry, id coda.ID) error {
	size, err := s.Size(id)
	if err != nil {
		return err
	}
	head, err := readHead(s, id, size)
	if err != nil {
		return err
	}
	if schemaOf(head) == coda.BlobSchema().ID {
		if _, _, err := blobHeader(head, size); err != nil {
			return errs.E(errs.Corrupt, err)
		}
		return nil
	}
	if size > MaxValueSize {
		return nil
	}
	b, err := s.Get(id)
	if err != nil {
		return err
	}
	if _, _, err := coda.DecodeObject(b, coda.DecodeOptions{Resolver: reg}); err != nil && !errs.Is(err, errs.NotExist) {
		return errs.E(errs.Corrupt, err)
	}
	return nil
}
