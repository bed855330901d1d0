package query_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/query"
)

// model is a person as the test knows it.
type model struct {
	Name   string
	Age    int
	Score  float64
	Nick   *string
	Tags   []string
	Friend string // a path, or ""
	Active bool
}

// world is the test's picture of /people at one commit, and the indexes.
type world struct {
	people  map[string]model
	ids     map[string]coda.ID
	indexes map[string]bool
}

func (w world) clone() world {
	c := world{people: map[string]model{}, ids: map[string]coda.ID{}, indexes: map[string]bool{}}
	for k, v := range w.people {
		c.people[k] = v
	}
	for k, v := range w.ids {
		c.ids[k] = v
	}
	for k, v := range w.indexes {
		c.indexes[k] = v
	}
	return c
}

var names = []string{"ann", "bo", "cy", "dee", "ed", "flo", "gus", "hal", "ivy", "jo", "kai", "lu", "max", "ned", "oz", "pia"}
var nicks = []string{"a", "b", "zz"}
var tagsPool = []string{"x", "y", "z"}

func randModel(r *rand.Rand, w world) model {
	m := model{Name: names[r.IntN(len(names))], Age: r.IntN(60) - 5, Score: float64(r.IntN(40))/4 - 3, Active: r.IntN(2) == 0}
	if r.IntN(2) == 0 {
		n := nicks[r.IntN(len(nicks))]
		m.Nick = &n
	}
	for range r.IntN(3) {
		m.Tags = append(m.Tags, tagsPool[r.IntN(len(tagsPool))])
	}
	if len(w.ids) > 0 && r.IntN(2) == 0 {
		ps := mapsKeys(w.ids)
		m.Friend = ps[r.IntN(len(ps))]
	}
	return m
}

func mapsKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (m model) json(w world) map[string]any {
	j := map[string]any{"name": m.Name, "age": m.Age, "score": m.Score, "nick": nil, "tags": m.Tags, "friend": nil, "active": m.Active}
	if m.Tags == nil {
		j["tags"] = []string{}
	}
	if m.Nick != nil {
		j["nick"] = *m.Nick
	}
	if m.Friend != "" {
		j["friend"] = w.ids[m.Friend].String()
	}
	return j
}

// pred is a random filter: its CEL text and what it means.
type pred struct {
	text string
	eval func(string, model) bool
}

func randPred(r *rand.Rand, depth int) pred {
	if depth > 0 && r.IntN(3) == 0 {
		a, b := randPred(r, depth-1), randPred(r, depth-1)
		switch r.IntN(3) {
		case 0:
			return pred{"(" + a.text + " && " + b.text + ")", func(n string, m model) bool { return a.eval(n, m) && b.eval(n, m) }}
		case 1:
			return pred{"(" + a.text + " || " + b.text + ")", func(n string, m model) bool { return a.eval(n, m) || b.eval(n, m) }}
		default:
			return pred{"!(" + a.text + ")", func(n string, m model) bool { return !a.eval(n, m) }}
		}
	}
	ops := []string{"==", "!=", "<", "<=", ">", ">="}
	op := ops[r.IntN(len(ops))]
	switch r.IntN(8) {
	case 0, 1:
		c := r.IntN(60) - 5
		if r.IntN(2) == 0 {
			return pred{fmt.Sprintf("%d %s age", c, op), func(n string, m model) bool { return compare(op, c, m.Age) }}
		}
		return pred{fmt.Sprintf("age %s %d", op, c), func(n string, m model) bool { return compare(op, m.Age, c) }}
	case 2:
		c := names[r.IntN(len(names))]
		return pred{fmt.Sprintf("name %s %q", op, c), func(n string, m model) bool { return compare(op, m.Name, c) }}
	case 3:
		c := float64(r.IntN(40))/4 - 3
		return pred{fmt.Sprintf("score %s %v", op, floatLit(c)), func(n string, m model) bool { return compare(op, m.Score, c) }}
	case 4:
		if r.IntN(2) == 0 {
			return pred{"active", func(n string, m model) bool { return m.Active }}
		}
		return pred{"active == false", func(n string, m model) bool { return !m.Active }}
	case 5:
		if r.IntN(2) == 0 {
			return pred{"nick == null", func(n string, m model) bool { return m.Nick == nil }}
		}
		nk := nicks[r.IntN(len(nicks))]
		return pred{fmt.Sprintf("nick == %q", nk), func(n string, m model) bool { return m.Nick != nil && *m.Nick == nk }}
	case 6:
		t := tagsPool[r.IntN(len(tagsPool))]
		return pred{fmt.Sprintf("%q in tags", t), func(n string, m model) bool { return slices.Contains(m.Tags, t) }}
	default:
		k := r.IntN(3)
		lo := names[r.IntN(len(names))][:1]
		return pred{fmt.Sprintf("size(tags) > %d && _name >= %q", k, lo),
			func(n string, m model) bool { return len(m.Tags) > k && n[len("/people/"):] >= lo }}
	}
}

func floatLit(f float64) string {
	s := fmt.Sprintf("%v", f)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

func compare[T cmp.Ordered](op string, a, b T) bool {
	switch op {
	case "==":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	}
	return a >= b
}

// expect is the naive scan: every person p matches, in the order asked.
func expect(w world, p pred, order string) []string {
	var out []string
	for path, m := range w.people {
		if p.eval(path, m) {
			out = append(out, path)
		}
	}
	desc := strings.HasPrefix(order, "-")
	field := strings.TrimPrefix(order, "-")
	slices.SortFunc(out, func(a, b string) int {
		ma, mb := w.people[a], w.people[b]
		c := 0
		switch field {
		case "age":
			c = cmp.Compare(ma.Age, mb.Age)
		case "name":
			c = cmp.Compare(ma.Name, mb.Name)
		case "score":
			c = cmp.Compare(ma.Score, mb.Score)
		}
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return out
}

// TestRandomAgainstScan compares random queries, with and without
// indexes, at random past commits, with a naive scan of the test's model.
func TestRandomAgainstScan(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { randomRun(t, seed) })
	}
}

func randomRun(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	e := newEnv(t)
	v := e.w.As(e.h.NodeKey().Public)
	cur := world{people: map[string]model{}, ids: map[string]coda.ID{}, indexes: map[string]bool{}}
	type snap struct {
		commit coda.ID
		w      world
	}
	var snaps []snap
	for step := range 60 {
		var ops []cdb.Op
		next := cur.clone()
		switch k := r.IntN(10); {
		case k == 0:
			f := []string{"age", "name", "score", "nick", "active"}[r.IntN(5)]
			if next.indexes[f] {
				ops = append(ops, cdb.Op{Kind: cdb.Delete, Path: query.IndexPath("/people", f), Recursive: true})
				delete(next.indexes, f)
			} else {
				ops = append(ops, cdb.Op{Kind: cdb.Mkdir, Path: query.IndexPath("/people", f)})
				next.indexes[f] = true
			}
		case k == 1 && len(next.people) > 0:
			ps := mapsKeys(next.people)
			p := ps[r.IntN(len(ps))]
			ops = append(ops, cdb.Op{Kind: cdb.Delete, Path: p})
			delete(next.people, p)
			delete(next.ids, p)
		default:
			for range 1 + r.IntN(4) {
				p := "/people/" + names[r.IntN(len(names))]
				if slices.ContainsFunc(ops, func(o cdb.Op) bool { return o.Path == p }) {
					continue
				}
				m := randModel(r, cur)
				ops = append(ops, person(p, m.json(cur)))
				next.people[p] = m
			}
		}
		c := e.commit(t, ops...)
		for p := range next.people {
			it, err := e.w.Get(c, p)
			if err != nil {
				t.Fatalf("step %d: get %s: %v", step, p, err)
			}
			next.ids[p] = it.ID
		}
		cur = next
		snaps = append(snaps, snap{c, cur})
	}
	if _, err := e.w.Replay(nil); err != nil {
		t.Fatalf("replay (every commit's index entries derived again): %v", err)
	}
	indexed := 0
	for i := range 300 {
		s := snaps[r.IntN(len(snaps))]
		p := randPred(r, 2)
		order := []string{"", "age", "-age", "name", "-score"}[r.IntN(5)]
		want := expect(s.w, p, order)
		limit := 0
		if r.IntN(3) == 0 {
			limit = 1 + r.IntN(4)
		}
		for _, noIndex := range []bool{false, true} {
			q := query.Query{Prefix: "/people", Where: p.text, Order: order, Limit: limit, At: s.commit, NoIndex: noIndex}
			var got []string
			for page := 0; ; page++ {
				rows, res := run(t, v, q)
				got = append(got, paths(rows)...)
				if strings.HasPrefix(res.Stats.Plan, "index") {
					indexed++
				}
				if res.Next == "" {
					break
				}
				if page > 100 {
					t.Fatal("cursor does not advance")
				}
				q.Cursor = res.Next
			}
			if !slices.Equal(got, want) {
				t.Fatalf("query %d at step commit %s: where %s order %q limit %d noindex %v:\n got %v\nwant %v", i, s.commit, p.text, order, limit, noIndex, got, want)
			}
		}
	}
	if indexed == 0 {
		t.Fatal("no query used an index")
	}
	t.Logf("%d query runs used an index", indexed)
}
