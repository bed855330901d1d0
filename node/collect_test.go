package node

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/collect"
	"github.com/coalescent/coal/module"
	"github.com/coalescent/coal/trust"
)

// openNet opens n nodes on 127.0.0.1 with their networks (no mDNS), with
// automatic collect off: the tests run each session themselves.
func openNet(t *testing.T, names ...string) []*Node {
	t.Helper()
	return openNetWith(t, Options{AutoCollect: -1}, names...)
}

// openNetWith is openNet with options (the network's are set here).
func openNetWith(t *testing.T, opts Options, names ...string) []*Node {
	t.Helper()
	opts.API, opts.NoMDNS, opts.Listen = "127.0.0.1:0", true, []string{"/ip4/127.0.0.1/tcp/0"}
	var out []*Node
	for _, name := range names {
		n, err := Open(filepath.Join(t.TempDir(), name), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		if n.Collector() == nil || n.Trust() == nil {
			t.Fatal("no collect service with a swarm")
		}
		out = append(out, n)
	}
	return out
}

// shareCatalog lets anyone read n's catalog (/mod).
func shareCatalog(t *testing.T, n *Node) {
	t.Helper()
	w, err := n.Home().World("")
	if err != nil {
		t.Fatal(err)
	}
	var a acl.ACL
	a.Grant(acl.Key(n.Home().NodeKey().Public32()), acl.All)
	a.Grant(acl.Anyone, acl.Read)
	raw, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(context.Background(), n.Home().NodeKey(), []cdb.Op{{Kind: cdb.Put, Path: module.Dir + "/.acl", Raw: raw}}, "share the catalog"); err != nil {
		t.Fatal(err)
	}
}

func connect(t *testing.T, ctx context.Context, from, to *Node) {
	t.Helper()
	if _, err := from.Swarm().Connect(ctx, to.Swarm().Addrs()[0]); err != nil {
		t.Fatal(err)
	}
}

func world(t *testing.T, n *Node) *cdb.World {
	t.Helper()
	w, err := n.Home().World("")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func entries(t *testing.T, n *Node, name string) map[coda.ID]module.Entry {
	t.Helper()
	w := world(t, n)
	ents, err := module.Catalog(w.As(n.Home().NodeKey().Public), coda.ID{}, name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[coda.ID]module.Entry{}
	for _, e := range ents {
		out[e.ID] = e
	}
	return out
}

const circle = "geometry::circle"

// TestCollectThreeNodes: A publishes the circle module; B discovers it
// from A and verifies it; C collects from B and gets B's verify Results,
// re-checks them (the first surely: B is new to C) and trusts B more; a liar D that
// signs an evaluate Result with a false step count loses C's trust when
// C re-checks it, and so does one that signs a verify Result claiming
// the cheating impl passes; the false Results are not stored on C.
func TestCollectThreeNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns := openNet(t, "a", "b", "c", "d")
	a, b, c, d := ns[0], ns[1], ns[2], ns[3]
	pub, err := module.Publish(ctx, world(t, a), a.Home().NodeKey(), filepath.Join("..", "examples", "modules", "circle"))
	if err != nil {
		t.Fatal(err)
	}
	shareCatalog(t, a)
	connect(t, ctx, b, a)

	// B discovers the module from A.
	reps, err := b.CollectNow(ctx, a.Swarm().ID().String(), circle, "")
	if err != nil {
		t.Fatal(err)
	}
	r := reps[0]
	if r.Listed != len(pub.Entries) || r.Imported != len(pub.Entries) || !r.Full {
		t.Fatalf("discover: listed %d, imported %d, full %v; want %d entries", r.Listed, r.Imported, r.Full, len(pub.Entries))
	}
	if got, want := entries(t, b, circle), entries(t, a, circle); len(got) != len(want) {
		t.Fatalf("B holds %d entries, A %d", len(got), len(want))
	}
	// Again: nothing new.
	if reps, err = b.CollectNow(ctx, a.Swarm().ID().String(), "", ""); err != nil || reps[0].Wanted != 0 {
		t.Fatalf("a second collect wanted %d objects (err %v), want 0", reps[0].Wanted, err)
	}

	// B verifies: one signed Result per impl.
	vr, err := module.Verify(ctx, world(t, b), b.Home().NodeKey(), circle, module.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vr.Impls) == 0 {
		t.Fatal("verify reported no impl")
	}
	shareCatalog(t, b)
	connect(t, ctx, c, b)

	// C collects from B: A's objects, B's Results (re-checked: B is new).
	reps, err = c.CollectNow(ctx, b.Swarm().ID().String(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	r = reps[0]
	t.Logf("C from B: %+v", r)
	// The first of B's Results is re-checked for sure (p = 1 for a new
	// peer); each agreement lowers p for the next.
	if res := r.Results; res.Received != len(vr.Impls) || res.Rechecked < 1 || res.Agreed != res.Rechecked || res.Stored != len(vr.Impls) || res.Failed != 0 {
		t.Fatalf("C's results from B: %+v; want %d received and stored, at least one re-checked, all re-checked agreed", res, len(vr.Impls))
	}
	bKey := b.Home().NodeKey().Public
	if c.Trust().Score(bKey, trust.Verdicts) <= 0.5 || c.Trust().RecheckP(bKey, trust.Verdicts) >= 1 {
		t.Fatalf("C's trust in B's verdicts: score %v, recheck p %v; want raised", c.Trust().Score(bKey, trust.Verdicts), c.Trust().RecheckP(bKey, trust.Verdicts))
	}
	if got, want := len(entries(t, c, circle)), len(entries(t, b, circle)); got != want {
		t.Fatalf("C holds %d entries, B %d", got, want)
	}

	// D lies: it takes the module from A and signs an evaluate Result
	// claiming 1 step for the first impl on every bench.
	connect(t, ctx, d, a)
	if _, err := d.CollectNow(ctx, a.Swarm().ID().String(), circle, ""); err != nil {
		t.Fatal(err)
	}
	var impl, iface coda.ID
	var benches []coda.ID
	for id, e := range entries(t, d, circle) {
		switch e.Kind {
		case module.KindImpl:
			if impl.IsZero() || id.String() < impl.String() {
				impl = id
			}
		case module.KindInterface:
			iface = id
		case module.KindBench:
			benches = append(benches, id)
		}
	}
	lie := &module.Result{Node: d.Home().NodeKey().Public, Interface: iface, Impl: impl, Kind: module.ResultEvaluate,
		Subjects: benches, Pass: true, Steps: 1, Machine: "liar", Time: time.Now().UnixNano()}
	if err := lie.Sign(d.Home().NodeKey()); err != nil {
		t.Fatal(err)
	}
	obj, err := lie.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// And a verify Result claiming the cheat (which knows the seed's
	// cases only) passes every spec.
	var cheat coda.ID
	var specs []coda.ID
	for id, e := range entries(t, d, circle) {
		switch e.Kind {
		case module.KindImpl:
			it, err := world(t, d).Get(coda.ID{}, e.Path)
			if err != nil {
				t.Fatal(err)
			}
			if x, err := module.DecodeImpl(it.Raw); err == nil && x.Name == "cheat" {
				cheat = id
			}
		case module.KindSpec:
			specs = append(specs, id)
		}
	}
	if cheat.IsZero() {
		t.Fatal("no cheat impl in the circle module")
	}
	lie2 := &module.Result{Node: d.Home().NodeKey().Public, Interface: iface, Impl: cheat, Kind: module.ResultVerify,
		Subjects: specs, Pass: true, Steps: 100, Machine: "liar", Time: time.Now().UnixNano()}
	if err := lie2.Sign(d.Home().NodeKey()); err != nil {
		t.Fatal(err)
	}
	obj2, err := lie2.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := module.Import(ctx, world(t, d), d.Home().NodeKey(), [][]byte{obj, obj2}); err != nil {
		t.Fatal(err)
	}
	shareCatalog(t, d)
	connect(t, ctx, c, d)
	dKey := d.Home().NodeKey().Public
	before := c.Trust().Score(dKey, trust.Scores)
	reps, err = c.CollectNow(ctx, d.Swarm().ID().String(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	r = reps[0]
	t.Logf("C from D: %+v", r)
	if r.Results.Rechecked != 2 || r.Results.Disagreed != 2 || r.Results.Stored != 0 {
		t.Fatalf("C's results from D: %+v; want both lies re-checked, found false, not stored", r.Results)
	}
	if c.Trust().Score(dKey, trust.Verdicts) >= 0.5 {
		t.Fatalf("C's trust in D's verdicts %v; want below a new peer's", c.Trust().Score(dKey, trust.Verdicts))
	}
	if after := c.Trust().Score(dKey, trust.Scores); after >= before || c.Trust().Counts(dKey, trust.Scores) {
		t.Fatalf("C's trust in D's scores: %v → %v; want lowered", before, after)
	}
	for _, o := range [][]byte{obj, obj2} {
		if _, ok := entries(t, c, circle)[coda.Sum(o)]; ok {
			t.Fatal("a false Result is in C's catalog")
		}
	}
	// The trust survives a restart of C's table.
	tr, err := trust.Open(filepath.Join(c.Home().Dir(), trust.FileName), trust.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// (Equal but for the decay of the instants between the two reads.)
	if got, want := tr.Score(dKey, trust.Scores), c.Trust().Score(dKey, trust.Scores); math.Abs(got-want) > 1e-9 {
		t.Fatalf("C's trust file holds D's score %v, the node %v", got, want)
	}
	_ = collect.Protocol
}
