package acl_test

// A randomized model test: random grants, revokes, .acl deletions and group
// changes (cycles included), then random (key, path) checks comparing the
// package's evaluation with a naive reference written from DESIGN.md's
// words, kept as simple as possible so that it is obviously right.

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb/tree"
)

// model is the reference: the rules of each directory that has an .acl,
// and the members of each group.
type model struct {
	acls   map[string]map[acl.Who]acl.Rights // directory → rules
	groups map[string][]acl.Who
}

// member is the least fixed point of "key is in g if g lists key or lists a
// group key is in": start from nothing and add groups until nothing
// changes.
func (m *model) member(g string, key [32]byte) bool {
	in := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for name, ms := range m.groups {
			if in[name] {
				continue
			}
			for _, w := range ms {
				if w == acl.Key(key) || w.Kind == acl.GroupWho && in[w.Group] {
					in[name], changed = true, true
					break
				}
			}
		}
	}
	return in[g]
}

func (m *model) rightsIn(dir string, key [32]byte) acl.Rights {
	var r acl.Rights
	for w, x := range m.acls[dir] {
		if w == acl.Anyone || w == acl.Key(key) || w.Kind == acl.GroupWho && m.member(w.Group, key) {
			r |= x
		}
	}
	return r
}

// effective: the entry's directory (or the directory itself, for "/d/"),
// read and write from the nearest .acl alone, admin from any .acl on the
// way down or from owning /home/KEY; admin implies read and write.
func (m *model) effective(key [32]byte, path string) acl.Rights {
	var dir string
	if strings.HasSuffix(path, "/") {
		dir = strings.TrimSuffix(path, "/")
	} else {
		dir = path[:strings.LastIndex(path, "/")]
	}
	if dir == "" {
		dir = "/"
	}
	var ancestors []string // from the root down to dir
	for d := dir; ; d = d[:strings.LastIndex(d, "/")] {
		if d == "" {
			d = "/"
		}
		ancestors = append([]string{d}, ancestors...)
		if d == "/" {
			break
		}
	}
	admin := false
	var nearest acl.Rights
	for _, d := range ancestors {
		if _, ok := m.acls[d]; ok {
			nearest = m.rightsIn(d, key)
			admin = admin || nearest&acl.Admin != 0
		}
	}
	home := "/home/" + keyTextOf(key)
	if dir == home || strings.HasPrefix(dir, home+"/") {
		admin = true
	}
	if admin {
		return acl.All
	}
	return nearest
}

func keyTextOf(k [32]byte) string { return acl.Key(k).String() }

func TestModel(t *testing.T) {
	keys := []string{"k0", "k1", "k2", "k3"}
	groups := []string{"g0", "g1", "g2"}
	dirs := []string{"/", "/a", "/a/b", "/a/b/c", "/d", "/home", "/home/" + keyText("k0"), "/home/" + keyText("k0") + "/x",
		"/home/" + keyText("k1") + "/y", "/sys", "/sys/groups"}
	whos := []acl.Who{acl.Anyone}
	for _, k := range keys {
		whos = append(whos, acl.Key(keyOf(k)))
	}
	for _, g := range groups {
		whos = append(whos, acl.GroupNamed(g))
	}
	rightsSets := []acl.Rights{acl.Read, acl.Write, acl.Read | acl.Write, acl.Admin}

	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		e := newEnv()
		m := &model{acls: map[string]map[acl.Who]acl.Rights{}, groups: map[string][]acl.Who{}}
		var log []string
		writeACL := func(d string) {
			p := strings.TrimSuffix(d, "/") + "/.acl"
			rules, ok := m.acls[d]
			if !ok {
				if _, err := e.tr.Get(e.root, p); err == nil {
					root, err := e.tr.Delete(e.root, p, tree.Stamp{Time: 1})
					if err != nil {
						t.Fatal(err)
					}
					e.root = root
				}
				return
			}
			var a acl.ACL
			for w, r := range rules {
				a.Grant(w, r)
			}
			b, err := a.Encode()
			if err != nil {
				t.Fatal(err)
			}
			id, _ := e.st.Put(b)
			if e.root, err = e.tr.Put(e.root, p, tree.Value(id, tree.Stamp{Time: 1})); err != nil {
				t.Fatal(err)
			}
		}
		writeGroup := func(g string) {
			b, err := acl.Group{Members: m.groups[g]}.Encode()
			if err != nil {
				t.Fatal(err)
			}
			id, _ := e.st.Put(b)
			if e.root, err = e.tr.Put(e.root, acl.GroupsDir+"/"+g, tree.Value(id, tree.Stamp{Time: 1})); err != nil {
				t.Fatal(err)
			}
		}
		for step := range 40 {
			d := dirs[rng.IntN(len(dirs))]
			w := whos[rng.IntN(len(whos))]
			switch rng.IntN(6) {
			case 0, 1: // grant
				r := rightsSets[rng.IntN(len(rightsSets))]
				if m.acls[d] == nil {
					m.acls[d] = map[acl.Who]acl.Rights{}
				}
				x := m.acls[d][w] | r
				if x&acl.Admin != 0 {
					x = acl.All
				}
				m.acls[d][w] = x
				log = append(log, fmt.Sprintf("grant %s %s %s", d, w, r))
				writeACL(d)
			case 2: // revoke (the .acl stays, perhaps with no rules)
				if m.acls[d] != nil {
					delete(m.acls[d], w)
					log = append(log, fmt.Sprintf("revoke %s %s", d, w))
					writeACL(d)
				}
			case 3: // delete the .acl
				delete(m.acls, d)
				log = append(log, fmt.Sprintf("rm %s/.acl", d))
				writeACL(d)
			case 4, 5: // group change, cycles allowed
				g := groups[rng.IntN(len(groups))]
				if w == acl.Anyone {
					w = acl.GroupNamed(groups[rng.IntN(len(groups))])
				}
				var gr acl.Group
				gr.Members = m.groups[g]
				if rng.IntN(3) == 0 {
					gr.Remove(w)
					log = append(log, fmt.Sprintf("group %s rm %s", g, w))
				} else {
					gr.Add(w)
					log = append(log, fmt.Sprintf("group %s add %s", g, w))
				}
				m.groups[g] = gr.Members
				writeGroup(g)
			}
			// One checker for the whole snapshot (its caches must not
			// change answers), and the package functions.
			c := acl.NewChecker(e.reader())
			for range 15 {
				k := keyOf(keys[rng.IntN(len(keys))])
				p := dirs[rng.IntN(len(dirs))]
				switch rng.IntN(3) {
				case 0:
					p = strings.TrimSuffix(p, "/") + "/"
				case 1:
					p = strings.TrimSuffix(p, "/") + "/.acl"
				default:
					p = strings.TrimSuffix(p, "/") + "/f"
				}
				want := m.effective(k, p)
				got, src, err := c.Effective(k, p)
				if err != nil {
					t.Fatalf("seed %d step %d: Effective(%s, %s): %v", seed, step, keyTextOf(k), p, err)
				}
				if got != want {
					t.Fatalf("seed %d step %d: Effective(%s, %s) = %s (%s), want %s\nafter:\n%s", seed, step, keyTextOf(k), p, got, src, want, strings.Join(log, "\n"))
				}
				canWrite := want.Has(acl.NeedFor(p))
				if err := acl.CheckWrite(e.reader(), k, []string{p}); (err == nil) != canWrite {
					t.Fatalf("seed %d step %d: CheckWrite(%s, %s) = %v, want allowed %v", seed, step, keyTextOf(k), p, err, canWrite)
				}
				if got := acl.ReadFilter(e.reader(), k)(p); got != want.Has(acl.Read) {
					t.Fatalf("seed %d step %d: ReadFilter(%s)(%s) = %v, want %v", seed, step, keyTextOf(k), p, got, want.Has(acl.Read))
				}
			}
		}
	}
}
