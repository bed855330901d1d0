package bundle

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// made is a bundle with its stats and the callbacks made: every OnValue,
// and the Leave calls that returned true.
type made struct {
	b      []byte
	st     Stats
	calls  []call
	reused bool
}

// leaveOver is a Leave threshold: values of more bytes are left.
func leaveOver(thr int64, calls *[]call) func(coda.ID, string, coda.ID, int64) bool {
	return func(c coda.ID, p string, id coda.ID, size int64) bool {
		if size <= thr {
			return false
		}
		*calls = append(*calls, call{leave: true, commit: c, path: p, id: id, size: size})
		return true
	}
}

// makeAs makes the bundle of opts as reader, by r (nil: Create); thr > 0
// sets a Leave of that threshold.
func makeAs(t *testing.T, r *Reuse, w *cdb.World, reader cdb.Identity, opts CreateOptions, thr int64) made {
	t.Helper()
	var m made
	opts.Reader = reader.Public
	opts.OnValue = func(p string, id coda.ID, sent bool) { m.calls = append(m.calls, call{path: p, id: id, sent: sent}) }
	if thr > 0 {
		opts.Leave = leaveOver(thr, &m.calls)
	}
	var b bytes.Buffer
	var err error
	if r == nil {
		m.st, err = Create(w, cdb.Identity{}, &b, opts)
	} else {
		m.st, m.reused, err = r.Create(w, cdb.Identity{}, &b, opts, uint64(thr))
	}
	if err != nil {
		t.Fatalf("make as %s: %v", cdb.KeyString(reader.Public), err)
	}
	m.b = b.Bytes()
	return m
}

// sameMade checks that got is want: the same bytes, stats and callbacks.
func sameMade(t *testing.T, got, want made, what string) {
	t.Helper()
	if !bytes.Equal(got.b, want.b) {
		t.Errorf("%s: %d bytes (reused %v), a fresh Create %d", what, len(got.b), got.reused, len(want.b))
	}
	if !reflect.DeepEqual(got.st, want.st) {
		t.Errorf("%s: stats %+v, a fresh Create's %+v", what, got.st, want.st)
	}
	if !slices.Equal(got.calls, want.calls) {
		t.Errorf("%s: %d callbacks, a fresh Create %d; first difference at %d", what, len(got.calls), len(want.calls), firstDiff(got.calls, want.calls))
	}
}

// history is a random history of alice's world: puts, deletes, .acl
// grants (to bob, anyone, the group friends), denials (an .acl naming
// erin without read), groups (carol, bob), a write in gina's home, and
// branches merged back. named are the keys it names so far.
type history struct {
	a       *open
	commits []coda.ID
	named   map[string]bool
}

func newHistory(t *testing.T, seed uint64, steps int) *history {
	rng := rand.New(rand.NewPCG(seed, 11))
	a := origin(t)
	for _, k := range []string{"carol", "dave", "erin", "frank", "gina"} {
		id, err := a.h.NewKey(k)
		must(t, err)
		a.keys[k] = id
	}
	h := &history{a: a, named: map[string]bool{"alice": true, "bob": true}}
	// Anyone may read / (so that unnamed readers see something).
	root := grant(a.key(t, "alice"), acl.All)
	root.Grant(acl.Anyone, acl.Read)
	a.putACL(t, "alice", "", root)
	h.commits = append(h.commits, a.head(t))
	dirs := []string{"/pub", "/pl", "/q", "/q/in", "/r", "/r/s/t", "/big"}
	for step := range steps {
		var ops []cdb.Op
		switch k := rng.IntN(12); {
		case k < 4:
			for range 1 + rng.IntN(3) {
				d := dirs[rng.IntN(len(dirs))]
				ops = append(ops, putOp(fmt.Sprintf("%s/v%d", d, rng.IntN(6)), fmt.Sprintf("value %d.%d%s", step, rng.IntN(3), bytes.Repeat([]byte("x"), rng.IntN(20)))))
			}
		case k == 4:
			d := dirs[rng.IntN(len(dirs))]
			ops = append(ops, cdb.Op{Kind: cdb.Delete, Path: fmt.Sprintf("%s/v%d", d, rng.IntN(6))})
		case k == 5:
			base := rng.IntN(1000)
			for i := range 20 {
				ops = append(ops, putOp(fmt.Sprintf("/big/e%04d", base+i), fmt.Sprintf("big %d %d", step, i)))
			}
		case k == 6 || k == 7:
			d := dirs[rng.IntN(len(dirs))]
			var a1 acl.ACL
			a1.Grant(acl.Key(a.key(t, "alice").Public32()), acl.All)
			switch rng.IntN(5) {
			case 0:
				a1.Grant(acl.Key(a.key(t, "bob").Public32()), acl.Read|acl.Write)
			case 1:
				a1.Grant(acl.Anyone, acl.Read)
			case 2:
				a1.Grant(acl.GroupNamed("friends"), acl.Read)
			case 3:
				// Erin is named, and denied read: she may only write.
				a1.Grant(acl.Key(a.key(t, "erin").Public32()), acl.Write)
				a1.Grant(acl.Anyone, acl.Read)
				h.named["erin"] = true
			}
			ops = append(ops, aclOp(t, d, a1))
		case k == 8:
			var g acl.Group
			g.Add(acl.Key(a.key(t, "carol").Public32()))
			if rng.IntN(2) == 0 {
				g.Add(acl.Key(a.key(t, "bob").Public32()))
			}
			b, err := g.Encode()
			must(t, err)
			ops = append(ops, cdb.Op{Kind: cdb.Put, Path: "/sys/groups/friends", Raw: b})
			h.named["carol"] = true
		case k == 9:
			ops = append(ops, putOp("/home/"+cdb.KeyString(a.key(t, "gina").Public)+"/note", fmt.Sprintf("note %d", step)))
			h.named["gina"] = true
		default:
			if len(h.commits) < 3 {
				continue
			}
			side := fmt.Sprintf("side%d", step)
			must(t, a.w.CreateBranch(side, h.commits[rng.IntN(len(h.commits))]))
			must(t, a.w.Switch(side))
			a.put(t, "alice", fmt.Sprintf("/r/side%d", step), "on side")
			must(t, a.w.Switch("main"))
			if _, _, err := a.w.Merge(ctx, side); err != nil {
				t.Fatal(err)
			}
			h.commits = append(h.commits, a.head(t))
			continue
		}
		if err := a.commit(t, "alice", ops...); errs.Is(err, errs.NotExist) {
			continue // a delete of nothing
		} else if err != nil {
			t.Fatal(err)
		}
		h.commits = append(h.commits, a.head(t))
	}
	return h
}

// TestReuseMatchesCreate: on random histories with .acl grants, denials,
// groups and homes, a Reuse answers a second unnamed reader from the
// first one's bundle with the bytes, stats and callbacks a fresh Create
// makes for it; a reader the history names (granted, denied, in a group,
// owning a home, the creator) is never answered from an entry and gets
// its own bundle; other heads, and Leave thresholds, are other entries.
func TestReuseMatchesCreate(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			h := newHistory(t, seed, 30)
			a := h.a
			r := NewReuse(1 << 30)
			heads := []coda.ID{coda.ID{}, h.commits[len(h.commits)/2]}
			for _, head := range heads {
				for _, thr := range []int64{0, 45} {
					opts := CreateOptions{Head: head}
					what := fmt.Sprintf("head %s, threshold %d", head, thr)
					// The first unnamed reader: made afresh, kept.
					first := makeAs(t, r, a.w, a.key(t, "dave"), opts, thr)
					if first.reused {
						t.Fatalf("%s: dave's bundle came from an entry before any was made", what)
					}
					sameMade(t, first, makeAs(t, nil, a.w, a.key(t, "dave"), opts, thr), what+", dave")
					for _, who := range []string{"frank", "erin", "carol", "gina", "bob", "alice"} {
						got := makeAs(t, r, a.w, a.key(t, who), opts, thr)
						if got.reused == h.named[who] {
							t.Errorf("%s, %s: reused %v, named %v", what, who, got.reused, h.named[who])
						}
						sameMade(t, got, makeAs(t, nil, a.w, a.key(t, who), opts, thr), what+", "+who)
					}
				}
			}
			s := r.Stats()
			if s.Stored != 4 || s.Entries != 4 || s.Hits == 0 || s.Named == 0 {
				t.Errorf("stats %+v: want 4 entries stored, hits and named readers", s)
			}
		})
	}
}

// TestReuseNamedLater: a key a later commit names (added to a group
// that an .acl grants) is answered from an entry at the heads before, never
// at the new head (a miss, for everyone first) nor when the world's
// current head names it, whatever head it asks for.
func TestReuseNamedLater(t *testing.T) {
	h := newHistory(t, 99, 0)
	a := h.a
	a.put(t, "alice", "/pub/a", "a")
	a.put(t, "alice", "/open/x", "x")
	a.putACL(t, "alice", "/pl", grant(a.key(t, "alice"), acl.All))
	var friends acl.ACL
	friends.Grant(acl.GroupNamed("friends"), acl.Read)
	friends.Grant(acl.Key(a.key(t, "alice").Public32()), acl.All)
	a.putACL(t, "alice", "/pl", friends)
	a.put(t, "alice", "/pl/secret", "for friends")
	before := a.head(t)
	r := NewReuse(1 << 30)
	makeAs(t, r, a.w, a.key(t, "dave"), CreateOptions{}, 0)
	if m := makeAs(t, r, a.w, a.key(t, "carol"), CreateOptions{}, 0); !m.reused {
		t.Fatalf("carol, named nowhere yet: not answered from dave's entry")
	}
	// Carol joins friends: she may read /pl/secret now.
	var g acl.Group
	g.Add(acl.Key(a.key(t, "carol").Public32()))
	b, err := g.Encode()
	must(t, err)
	must(t, a.commit(t, "alice", cdb.Op{Kind: cdb.Put, Path: "/sys/groups/friends", Raw: b}))
	for _, c := range []struct {
		who    string
		head   coda.ID
		reused bool
	}{
		{"carol", coda.ID{}, false}, // a new head: a miss (and she is named)
		{"dave", coda.ID{}, false},  // a new head: a miss
		{"frank", coda.ID{}, true},  // dave's entry
		{"carol", coda.ID{}, false}, // named
		{"dave", before, false},     // the world's current head moved: another key
		{"frank", before, true},
		{"carol", before, false}, // named at the world's current head
	} {
		got := makeAs(t, r, a.w, a.key(t, c.who), CreateOptions{Head: c.head}, 0)
		if got.reused != c.reused {
			t.Errorf("%s at %s: reused %v, want %v", c.who, c.head, got.reused, c.reused)
		}
		sameMade(t, got, makeAs(t, nil, a.w, a.key(t, c.who), CreateOptions{Head: c.head}, 0), c.who)
	}
	// /open is erin's alone at the world's current head: her bundle of
	// the head before is not others' (cdb.View judges at the current
	// head too), so it is never an entry's.
	only := grant(a.key(t, "alice"), acl.All)
	only.Grant(acl.Key(a.key(t, "erin").Public32()), acl.Read)
	a.putACL(t, "alice", "/open", only)
	makeAs(t, r, a.w, a.key(t, "dave"), CreateOptions{Head: before}, 0)
	frank := makeAs(t, r, a.w, a.key(t, "frank"), CreateOptions{Head: before}, 0)
	erin := makeAs(t, r, a.w, a.key(t, "erin"), CreateOptions{Head: before}, 0)
	if !frank.reused || erin.reused {
		t.Errorf("before, /open erin's at the current head: frank reused %v, erin %v; want true, false", frank.reused, erin.reused)
	}
	sameMade(t, erin, makeAs(t, nil, a.w, a.key(t, "erin"), CreateOptions{Head: before}, 0), "erin")
	if erin.st.Withheld >= frank.st.Withheld {
		t.Errorf("erin's bundle withholds %d values, frank's %d: want fewer", erin.st.Withheld, frank.st.Withheld)
	}
	cl := clone(t, makeAs(t, r, a.w, a.key(t, "carol"), CreateOptions{}, 0).b, secured())
	if got, err := cl.text(t, "/pl/secret"); err != nil || got != "for friends" {
		t.Errorf("carol's clone: /pl/secret = %q, %v", got, err)
	}
	cl = clone(t, makeAs(t, r, a.w, a.key(t, "frank"), CreateOptions{}, 0).b, secured())
	if got, err := cl.text(t, "/pl/secret"); !errs.Is(err, errs.NotExist) {
		t.Errorf("frank's clone (from an entry): /pl/secret = %q, %v; want it withheld", got, err)
	}
}

// TestReuseNotWhole: a maker lacking parts of the history (a clone made
// as bob: withheld values, hidden op groups, opaque subtrees) keeps no
// entry; bundles of another kind (since, haves) are Create's.
func TestReuseNotWhole(t *testing.T) {
	h := newHistory(t, 3, 20)
	a := h.a
	a.putACL(t, "alice", "/hidden", grant(a.key(t, "alice"), acl.All))
	a.put(t, "alice", "/hidden/x", "alice only")
	a.put(t, "alice", "/pub/y", "y")
	c := clone(t, makeAs(t, nil, a.w, a.key(t, "bob"), CreateOptions{}, 0).b, secured())
	r := NewReuse(1 << 30)
	for _, who := range []string{"dave", "frank"} {
		got := makeAs(t, r, c.w, a.key(t, who), CreateOptions{}, 0)
		if got.reused {
			t.Errorf("%s: answered from an entry of a maker that lacks parts", who)
		}
		sameMade(t, got, makeAs(t, nil, c.w, a.key(t, who), CreateOptions{}, 0), who)
	}
	for _, opts := range []CreateOptions{{Since: h.commits[1]}, {Haves: []coda.ID{h.commits[2]}}} {
		for _, who := range []string{"dave", "frank"} {
			got := makeAs(t, r, a.w, a.key(t, who), opts, 0)
			if got.reused {
				t.Errorf("%s, %+v: answered from an entry", who, opts)
			}
			sameMade(t, got, makeAs(t, nil, a.w, a.key(t, who), opts, 0), who)
		}
	}
	if s := r.Stats(); s.Entries != 0 || s.Uncached == 0 {
		t.Errorf("stats %+v: want no entry, uncached first clones", s)
	}
	var nilReuse *Reuse
	if got := makeAs(t, nilReuse, a.w, a.key(t, "dave"), CreateOptions{}, 0); got.reused {
		t.Errorf("a nil Reuse reused a bundle")
	}
}

// TestReuseBound: entries past a quarter of the bound are not kept; the
// least recently used entry goes first.
func TestReuseBound(t *testing.T) {
	h := newHistory(t, 5, 0)
	a := h.a
	var ops []cdb.Op
	for i := range 2000 {
		ops = append(ops, putOp(fmt.Sprintf("/open/v%04d", i), fmt.Sprintf("value %d", i)))
	}
	must(t, a.commit(t, "alice", ops...))
	var heads []coda.ID
	for i := range 6 {
		a.put(t, "alice", fmt.Sprintf("/open/w%d", i), "w")
		heads = append(heads, a.head(t))
	}
	// The sizes of the entries (each head's a little larger).
	big := NewReuse(1 << 30)
	sizes := make([]int64, len(heads))
	for i, head := range heads {
		before := big.Stats().Bytes
		makeAs(t, big, a.w, a.key(t, "dave"), CreateOptions{Head: head}, 0)
		sizes[i] = big.Stats().Bytes - before
		if sizes[i] <= 0 {
			t.Fatalf("head %d: no entry kept", i)
		}
	}
	small := NewReuse(4*sizes[5] - 1)
	for _, who := range []string{"dave", "frank"} {
		if got := makeAs(t, small, a.w, a.key(t, who), CreateOptions{Head: heads[5]}, 0); got.reused {
			t.Errorf("%s: an entry larger than a quarter of the bound was kept", who)
		}
	}
	if s := small.Stats(); s.Entries != 0 || s.Oversized != 2 {
		t.Errorf("stats %+v: want no entries, two oversized", s)
	}
	// Four entries fit, not five.
	bound := sizes[0] + sizes[1] + sizes[2] + sizes[3] + sizes[0]/2
	if bound/4 < sizes[5] {
		t.Fatalf("entries of %d bytes: the test needs them closer in size", sizes)
	}
	r := NewReuse(bound)
	use := func(i int, who string, reused bool) {
		t.Helper()
		got := makeAs(t, r, a.w, a.key(t, who), CreateOptions{Head: heads[i]}, 0)
		if got.reused != reused {
			t.Errorf("head %d, %s: reused %v, want %v", i, who, got.reused, reused)
		}
		sameMade(t, got, makeAs(t, nil, a.w, a.key(t, who), CreateOptions{Head: heads[i]}, 0), who)
	}
	for i := range 4 {
		use(i, "dave", false)
	}
	use(0, "frank", true) // 0 is the most recently used now
	use(4, "dave", false) // evicts 1
	use(1, "frank", false)
	use(0, "frank", true)
	if s := r.Stats(); s.Entries != 4 || s.Evicted != 2 || s.Bytes > bound {
		t.Errorf("stats %+v: want 4 entries, 2 evicted, within %d bytes", s, bound)
	}
}

// TestTeeWriter: what the tee keeps, in chunks, is what it wrote, and
// firstBytes reads across chunks; past its limit it keeps nothing.
func TestTeeWriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var out, want bytes.Buffer
	tee := &teeWriter{w: &out, limit: 64 << 20}
	for range 2000 {
		p := make([]byte, rng.IntN(9000))
		for i := range p {
			p[i] = byte(rng.IntN(256))
		}
		want.Write(p)
		if _, err := tee.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out.Bytes(), want.Bytes()) || tee.over || tee.n != int64(want.Len()) || len(tee.chunks) < 2 {
		t.Fatalf("tee: wrote %d bytes (same: %v), kept %d in %d chunks, over %v; want %d", out.Len(), bytes.Equal(out.Bytes(), want.Bytes()), tee.n, len(tee.chunks), tee.over, want.Len())
	}
	if got := bytes.Join(tee.chunks, nil); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("the chunks hold %d bytes, not those written", len(got))
	}
	for _, n := range []int{0, 1, 4096, len(tee.chunks[0]) + 3, 3 << 20, want.Len(), want.Len() + 5} {
		if got := firstBytes(tee.chunks, n); !bytes.Equal(got, want.Bytes()[:min(n, want.Len())]) {
			t.Errorf("firstBytes(%d): %d bytes, not the first written", n, len(got))
		}
	}
	small := &teeWriter{w: io.Discard, limit: 100}
	small.Write(make([]byte, 60))
	small.Write(make([]byte, 60))
	if !small.over || small.chunks != nil {
		t.Errorf("past the limit: over %v, %d chunks kept", small.over, len(small.chunks))
	}
}
