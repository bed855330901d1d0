package query_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/query"
)

func basic(name string, age int) map[string]any {
	return map[string]any{"name": name, "age": age, "score": 0, "nick": nil, "tags": []string{}, "friend": nil, "active": true}
}

func TestErrorsNamePositionAndSchema(t *testing.T) {
	e := newEnv(t)
	e.commit(t, person("/people/a", basic("a", 1)))
	v := e.w.As(e.h.NodeKey().Public)
	for _, c := range []struct {
		q    query.Query
		want []string
	}{
		{query.Query{Prefix: "/people", Where: "age > 1 && agee < 3"}, []string{"where:1:12:", "agee", "schema Person"}},
		{query.Query{Prefix: "/people", Where: "age >"}, []string{"where:1:6:", "schema Person"}},
		{query.Query{Prefix: "/people", Where: "name + 1"}, []string{"where:1:", "schema Person"}},
		{query.Query{Prefix: "/people", Where: "age"}, []string{"not bool", "schema Person"}},
		{query.Query{Prefix: "/people", Order: "nope"}, []string{"order", "nope", "schema Person"}},
		{query.Query{Prefix: "/people", Order: "tags"}, []string{"order", "tags", "no order"}},
		{query.Query{Prefix: "/people", Select: []string{"nope"}}, []string{"select", "nope", "schema Person"}},
		{query.Query{Prefix: "/people", Follow: []string{"name"}}, []string{"follow", "name", "not a link"}},
		{query.Query{Prefix: "/people", Cursor: "!!"}, []string{"cursor"}},
		{query.Query{Prefix: "/people/a"}, []string{"not a directory"}},
	} {
		_, err := query.Run(context.Background(), v, c.q, func(query.Row) error { return nil })
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("%+v: got %v, want an invalid error", c.q, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q does not say %q", c.q, err, w)
			}
		}
	}
	// A cursor of another query is refused.
	_, res := run(t, v, query.Query{Prefix: "/people", Limit: 1, Where: "true"})
	e.commit(t, person("/people/b", basic("b", 2)))
	_, res = run(t, v, query.Query{Prefix: "/people", Limit: 1})
	if res.Next == "" {
		t.Fatal("no cursor")
	}
	_, err := query.Run(context.Background(), v, query.Query{Prefix: "/people", Where: "age > 0", Cursor: res.Next}, func(query.Row) error { return nil })
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "another query") {
		t.Fatalf("cursor of another query: %v", err)
	}
}

// TestFollowDepthBound: an id covers the ids it links to, so links by id
// never form a cycle; following is bounded by the depth, and an object
// already on the way (a list naming it twice, a diamond) is not expanded
// inside itself.
func TestFollowDepthBound(t *testing.T) {
	e := newEnv(t)
	e.commit(t, person("/people/a0", basic("a0", 1)))
	a0, _ := e.w.Get(coda.ID{}, "/people/a0")
	b := basic("b", 2)
	b["friend"] = a0.ID.String()
	e.commit(t, person("/people/b", b))
	bi, _ := e.w.Get(coda.ID{}, "/people/b")
	am := basic("a", 3)
	am["friend"] = bi.ID.String()
	e.commit(t, person("/people/a", am))
	v := e.w.As(e.h.NodeKey().Public)
	for _, depth := range []int{1, 2, 5, 64} {
		rows, _ := run(t, v, query.Query{Prefix: "/people", Follow: []string{"friend"}, Depth: depth})
		if len(rows) != 3 {
			t.Fatalf("depth %d: %d rows", depth, len(rows))
		}
		for _, r := range rows {
			n := strings.Count(string(r.Value), `"value":`)
			want := map[string]int{"/people/a": 2, "/people/a0": 0, "/people/b": 1}[r.Path]
			if n != min(want, depth) {
				t.Fatalf("depth %d: %s followed %d links, want %d: %s", depth, r.Path, n, min(want, depth), r.Value)
			}
		}
	}
	// The chain friend.friend is followed twice, then stops.
	rows, _ := run(t, v, query.Query{Prefix: "/people", Where: `name == "a"`, Follow: []string{"friend.friend"}})
	var got struct {
		Friend struct {
			Value struct {
				Friend struct {
					ID    string
					Value map[string]any
				}
			}
		}
	}
	if err := json.Unmarshal(rows[0].Value, &got); err != nil {
		t.Fatalf("%s: %v", rows[0].Value, err)
	}
	if got.Friend.Value.Friend.Value["name"] != "a0" || got.Friend.Value.Friend.ID != a0.ID.String() {
		t.Fatalf("friend.friend of a: %s", rows[0].Value)
	}
}

func TestFollowSelfCycle(t *testing.T) {
	// A value whose link leads back to itself (through the old version
	// that links to the new one is impossible by content addressing; a
	// list of links naming the same object twice is the nearest): a
	// self-referential walk is cut by the ids seen on the way.
	e := newEnv(t)
	e.commit(t, person("/people/a", basic("a", 1)))
	a, _ := e.w.Get(coda.ID{}, "/people/a")
	b := basic("b", 2)
	b["friend"] = a.ID.String()
	e.commit(t, person("/people/b", b))
	v := e.w.As(e.h.NodeKey().Public)
	rows, _ := run(t, v, query.Query{Prefix: "/people", Where: `name == "b"`, Follow: []string{"friend"}, Depth: 64})
	if !strings.Contains(string(rows[0].Value), `"friend":{"id":"`+a.ID.String()+`","value":{"name":"a"`) {
		t.Fatalf("got %s", rows[0].Value)
	}
}

func TestHistory(t *testing.T) {
	e := newEnv(t)
	var commits []string
	for i := range 5 {
		commits = append(commits, e.commit(t, person("/people/a", basic("a", i))).String())
		e.commit(t, person("/people/other", basic("o", i)))
	}
	e.commit(t, cdb.Op{Kind: cdb.Delete, Path: "/people/a"})
	v := e.w.As(e.h.NodeKey().Public)
	rows, _ := run(t, v, query.Query{Prefix: "/people/a", History: true})
	if len(rows) != 5 {
		t.Fatalf("%d versions, want 5", len(rows))
	}
	for i, r := range rows {
		if r.Commit.String() != commits[4-i] {
			t.Fatalf("version %d: commit %s, want %s", i, r.Commit, commits[4-i])
		}
	}
	rows, _ = run(t, v, query.Query{Prefix: "/people/a", History: true, Where: "age % 2 == 0", Order: "age", Limit: 2})
	if len(rows) != 2 || !strings.Contains(string(rows[0].Value), `"age":0`) || !strings.Contains(string(rows[1].Value), `"age":2`) {
		t.Fatalf("filtered history: %v", rows)
	}
}

// TestACLTwoIdentities: a query never returns or counts a value its
// asker may not read, and a link into an unreadable path resolves as a
// missing object does.
func TestACLTwoIdentities(t *testing.T) {
	e := newEnv(t)
	bob, err := e.h.NewKey("bob")
	if err != nil {
		t.Fatal(err)
	}
	e.commit(t, cdb.Op{Kind: cdb.Mkdir, Path: "/pub/p", Schema: "Person"}, cdb.Op{Kind: cdb.Mkdir, Path: "/secret/p", Schema: "Person"})
	e.commit(t, person("/secret/p/s1", basic("s1", 10)), person("/secret/p/s2", basic("s2", 20)))
	s1, _ := e.w.Get(coda.ID{}, "/secret/p/s1")
	// A link to an object that exists nowhere.
	gone := person("/gone/g", basic("g", 99))
	gone.Schema = "Person"
	e.commit(t, gone)
	g, _ := e.w.Get(coda.ID{}, "/gone/g")
	e.commit(t, cdb.Op{Kind: cdb.Delete, Path: "/gone/g"})
	p1 := basic("p1", 10)
	p1["friend"] = s1.ID.String()
	p2 := basic("p2", 20)
	p2["friend"] = g.ID.String()
	e.commit(t, person("/pub/p/p1", p1), person("/pub/p/p2", p2))
	head, _ := e.w.Head()
	sn, err := acl.NewSnapshot(e.w.As(e.h.NodeKey().Public), head)
	if err != nil {
		t.Fatal(err)
	}
	grant, _, err := sn.Grant("/pub", acl.Key(bob.Public32()), acl.Read)
	if err != nil {
		t.Fatal(err)
	}
	e.commit(t, grant, cdb.Op{Kind: cdb.Mkdir, Path: query.IndexPath("/secret/p", "age")})

	alice := e.w.As(e.h.NodeKey().Public)
	asBob := e.w.As(bob.Public)
	q := query.Query{Prefix: "/", Recursive: true, Where: "age >= 10 && age <= 20"}
	ra, resA := run(t, alice, q)
	rb, resB := run(t, asBob, q)
	if got := paths(ra); !slices.Equal(got, []string{"/pub/p/p1", "/pub/p/p2", "/secret/p/s1", "/secret/p/s2"}) {
		t.Fatalf("alice: %v", got)
	}
	if got := paths(rb); !slices.Equal(got, []string{"/pub/p/p1", "/pub/p/p2"}) {
		t.Fatalf("bob: %v", got)
	}
	// bob reads p1, p2 and /pub/.acl (which does not fit the filter).
	if resB.Stats.Read != 3 || resB.Stats.Matched != 2 || resA.Stats.Matched != 4 {
		t.Fatalf("counts: alice %+v, bob %+v", resA.Stats, resB.Stats)
	}
	// The unreadable directory is as missing as a missing one, indexed or not.
	for _, q := range []query.Query{{Prefix: "/secret/p", Where: "age == 10"}, {Prefix: "/secret/p"}, {Prefix: "/nothing"}} {
		_, err := query.Run(context.Background(), asBob, q, func(query.Row) error { t.Fatal("a row"); return nil })
		if !errs.Is(err, errs.NotExist) {
			t.Fatalf("bob %+v: got %v, want not-exist", q, err)
		}
	}
	rows, _ := run(t, alice, query.Query{Prefix: "/secret/p", Where: "age == 10"})
	if len(rows) != 1 {
		t.Fatalf("alice through the index: %d rows", len(rows))
	}
	// Links: alice sees s1 inline; for bob it is null, exactly as the
	// link to the object that is gone is for both.
	fq := query.Query{Prefix: "/pub/p", Follow: []string{"friend"}, Select: []string{"name", "friend"}}
	ra, _ = run(t, alice, fq)
	rb, _ = run(t, asBob, fq)
	if string(ra[0].Value) == string(rb[0].Value) || !strings.Contains(string(ra[0].Value), `"value":{"name":"s1"`) {
		t.Fatalf("alice p1: %s", ra[0].Value)
	}
	if string(rb[0].Value) != `{"name":"p1","friend":null}` || string(rb[1].Value) != `{"name":"p2","friend":null}` || string(ra[1].Value) != string(rb[1].Value) {
		t.Fatalf("bob: %s %s; alice p2: %s", rb[0].Value, rb[1].Value, ra[1].Value)
	}
}

// TestIndexMerge: concurrent branches that change values and declare or
// drop indexes merge into a tree whose indexes answer as a scan does, and
// every commit (merges recomputed) passes replay.
func TestIndexMerge(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 11))
			e := newEnv(t)
			ctx := context.Background()
			e.commit(t, cdb.Op{Kind: cdb.Mkdir, Path: query.IndexPath("/people", "age")})
			randOps := func() {
				for range 1 + r.IntN(3) {
					var ops []cdb.Op
					switch r.IntN(6) {
					case 0:
						p := query.IndexPath("/people", "age")
						if _, err := e.w.Get(coda.ID{}, p); err == nil {
							ops = append(ops, cdb.Op{Kind: cdb.Delete, Path: p, Recursive: true})
						} else {
							ops = append(ops, cdb.Op{Kind: cdb.Mkdir, Path: p})
						}
					case 1:
						p := "/people/" + names[r.IntN(4)]
						if _, err := e.w.Get(coda.ID{}, p); err == nil {
							ops = append(ops, cdb.Op{Kind: cdb.Delete, Path: p})
						}
					default:
						ops = append(ops, person("/people/"+names[r.IntN(4)], basic("x", r.IntN(5))))
					}
					if len(ops) > 0 {
						if _, err := e.w.Commit(ctx, e.h.NodeKey(), ops, "r"); err != nil && !errs.Is(err, errs.Invalid) {
							t.Fatal(err)
						}
					}
				}
			}
			for round := range 4 {
				randOps()
				head, _ := e.w.Head()
				br := fmt.Sprintf("b%d", round)
				if err := e.w.CreateBranch(br, head); err != nil {
					t.Fatal(err)
				}
				randOps()
				if err := e.w.Switch(br); err != nil {
					t.Fatal(err)
				}
				randOps()
				if err := e.w.Switch("main"); err != nil {
					t.Fatal(err)
				}
				if _, _, err := e.w.Merge(ctx, br); err != nil {
					t.Fatal(err)
				}
				v := e.w.As(e.h.NodeKey().Public)
				for k := range 5 {
					for _, where := range []string{fmt.Sprintf("age == %d", k), fmt.Sprintf("age >= %d && age < %d", k, k+2)} {
						a, _ := run(t, v, query.Query{Prefix: "/people", Where: where})
						b, _ := run(t, v, query.Query{Prefix: "/people", Where: where, NoIndex: true})
						if !slices.Equal(paths(a), paths(b)) {
							t.Fatalf("round %d, %s: index %v, scan %v", round, where, paths(a), paths(b))
						}
					}
				}
			}
			if _, err := e.w.Replay(nil); err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}

// TestEntriesAreDerivedOnly: an author cannot write an index entry, and a
// commit whose entries differ from their derivation fails validation.
func TestEntriesAreDerivedOnly(t *testing.T) {
	e := newEnv(t)
	e.commit(t, person("/people/a", basic("a", 1)), cdb.Op{Kind: cdb.Mkdir, Path: query.IndexPath("/people", "age")})
	it, _ := e.w.Get(coda.ID{}, "/people/a")
	_, err := e.w.Commit(context.Background(), e.h.NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: query.IndexPath("/people", "age") + "/00/zed", Raw: it.Raw}}, "forge")
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "derived") {
		t.Fatalf("forged entry: %v", err)
	}
}

// TestLongNamesAndKeys: a name too long for a one-leaf entry and keys
// longer than an entry keeps are still found (the index answers a
// superset that the filter narrows).
func TestLongNamesAndKeys(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("n", 200)
	k1, k2 := strings.Repeat("k", 100)+"1", strings.Repeat("k", 100)+"2"
	e.commit(t, cdb.Op{Kind: cdb.Mkdir, Path: query.IndexPath("/people", "name")}, cdb.Op{Kind: cdb.Mkdir, Path: query.IndexPath("/people", "age")})
	e.commit(t, person("/people/"+long, basic(k1, 7)), person("/people/short", basic(k2, 7)))
	v := e.w.As(e.h.NodeKey().Public)
	for _, c := range []struct {
		where string
		want  []string
	}{
		{fmt.Sprintf("name == %q", k1), []string{"/people/" + long}},
		{fmt.Sprintf("name >= %q", k2), []string{"/people/short"}},
		{"age == 7", []string{"/people/" + long, "/people/short"}},
	} {
		rows, res := run(t, v, query.Query{Prefix: "/people", Where: c.where})
		if !slices.Equal(paths(rows), c.want) || !strings.HasPrefix(res.Stats.Plan, "index") {
			t.Fatalf("%s: got %v (%s), want %v", c.where, paths(rows), res.Stats.Plan, c.want)
		}
	}
}

type recorder struct{ events []cdb.AuditEvent }

func (r *recorder) Record(e cdb.AuditEvent) error { r.events = append(r.events, e); return nil }

// TestAuditRecordsQuery: a query is one audit event, action "query" on
// the prefix, with the asker and the commit queried.
func TestAuditRecordsQuery(t *testing.T) {
	rec := &recorder{}
	h, err := cdb.Init(t.TempDir()+"/home", query.With(acl.With(cdb.Options{Store: memstore.New(), Audit: rec})))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w, _ := h.World("")
	if _, _, err := w.AddSchemas(context.Background(), h.NodeKey(), "p.coda", []byte(schemas)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(context.Background(), h.NodeKey(), []cdb.Op{{Kind: cdb.Mkdir, Path: "/people", Schema: "Person"}}, "m"); err != nil {
		t.Fatal(err)
	}
	head, _ := w.Head()
	rec.events = nil
	run(t, w.As(h.NodeKey().Public), query.Query{Prefix: "/people", Where: "age > 1"})
	var q []cdb.AuditEvent
	for _, e := range rec.events {
		if e.Action == "query" {
			q = append(q, e)
		}
	}
	if len(q) != 1 || q[0].Path != "/people" || q[0].Commit != head || q[0].Result != "ok" || string(q[0].Actor) != string(h.NodeKey().Public) {
		t.Fatalf("audit: %+v", rec.events)
	}
}
