package call_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/bundle"
	"github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/prog"
)

var ctx = context.Background()

// fixedClock makes homes whose commits are reproducible: every commit's
// time is its parent's plus one.
func fixedClock() time.Time { return time.Unix(1_700_000_000, 0) }

func opts() cdb.Options {
	return call.With(acl.With(cdb.Options{NoAudit: true, Clock: fixedClock}))
}

// newHome makes a home with the Counter schema.
func newHome(t testing.TB) (*cdb.Home, *cdb.World) {
	t.Helper()
	h, err := cdb.Init(filepath.Join(t.TempDir(), "home"), opts())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	w, err := h.World("")
	if err != nil {
		t.Fatal(err)
	}
	addSchemas(t, w, h.NodeKey(), "schema Counter { n: u64 }\n")
	return h, w
}

func addSchemas(t testing.TB, w *cdb.World, as cdb.Identity, src string) {
	t.Helper()
	if _, _, err := w.AddSchemas(ctx, as, "test.coda", []byte(src)); err != nil {
		t.Fatal(err)
	}
}

// putProgram assembles the Co source src and stores it at path as a
// program.
func putProgram(t testing.TB, w *cdb.World, as cdb.Identity, path, src string) {
	t.Helper()
	obj := programObject(t, w, as, src)
	if _, err := w.Commit(ctx, as, []cdb.Op{{Kind: cdb.Put, Path: path, Raw: obj}}, "program"); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func counter(t testing.TB, w *cdb.World) uint64 {
	t.Helper()
	it, err := w.Get(coda.ID{}, "/counter/n")
	if err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(it.Raw[coda.IDSize:])
}

func head(t testing.TB, w *cdb.World) coda.ID {
	t.Helper()
	h, err := w.Head()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCounter(t *testing.T) {
	h, w := newHome(t)
	putProgram(t, w, h.NodeKey(), "/progs/counter", readFile(t, "../examples/counter/counter.co"))
	var last call.Result
	for i := 1; i <= 3; i++ {
		res, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/counter"})
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got := counter(t, w); got != uint64(i) {
			t.Fatalf("after call %d: n = %d, want %d", i, got, i)
		}
		if res.Output == nil || binary.LittleEndian.Uint64(res.Output[coda.IDSize:]) != uint64(i) {
			t.Fatalf("call %d: output %x, want n = %d", i, res.Output, i)
		}
		last = res
	}
	c, err := w.LoadCommit(last.Commit.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Call == nil || c.Call.Program != last.Program || c.Call.Entry != "main" || c.Call.Steps != last.Steps || c.Call.Steps == 0 ||
		c.Call.Output == nil || *c.Call.Output != coda.Sum(last.Output) || c.Call.Input != nil {
		t.Fatalf("call record %+v, want program %s, steps %d, output %s", c.Call, last.Program, last.Steps, coda.Sum(last.Output))
	}
	if len(c.Ops) != 1 || c.Ops[0].Path != "/counter/n" {
		t.Fatalf("ops %+v, want one put of /counter/n", c.Ops)
	}
	// The output object is stored.
	if _, err := h.Store().Get(*c.Call.Output); err != nil {
		t.Fatalf("output object: %v", err)
	}
	if _, err := w.Replay(nil); err != nil {
		t.Fatalf("replay: %v", err)
	}
}

// forge re-signs a copy of the commit id with change applied, stores it
// and points branch "forged" at it.
func forge(t *testing.T, h *cdb.Home, w *cdb.World, id coda.ID, change func(c *cdb.Commit, objs map[coda.ID][]byte)) (*cdb.Commit, map[coda.ID][]byte) {
	t.Helper()
	c, err := w.LoadCommit(id)
	if err != nil {
		t.Fatal(err)
	}
	k := *c.Call
	c.Call = &k
	objs := map[coda.ID][]byte{}
	change(c, objs)
	obj, err := cdb.SignCommit(c, h.NodeKey())
	if err != nil {
		t.Fatal(err)
	}
	objs[c.ID] = obj
	for _, g := range c.Groups() { // its op groups (docs/cdb.md)
		objs[coda.Sum(g)] = g
	}
	return c, objs
}

// callCommit sets up a home with one counter call on top of a clone's
// head: it returns the home, the clone and the call's commit.
func callAndClone(t *testing.T) (*cdb.Home, *cdb.World, *cdb.World, coda.ID) {
	t.Helper()
	h, w := newHome(t)
	putProgram(t, w, h.NodeKey(), "/progs/counter", readFile(t, "../examples/counter/counter.co"))
	var buf bytes.Buffer
	if _, err := bundle.Create(w, h.NodeKey(), &buf, bundle.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h2, _, err := bundle.CloneBundle(ctx, filepath.Join(t.TempDir(), "clone"), &buf, opts())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h2.Close() })
	w2, err := h2.World(w.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	res, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/counter"})
	if err != nil {
		t.Fatal(err)
	}
	return h, w, w2, res.Commit.ID
}

func TestTamper(t *testing.T) {
	h, w, w2, id := callAndClone(t)
	honest, err := w.LoadCommit(id)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := w.LoadCommit(honest.Parents[0])
	if err != nil {
		t.Fatal(err)
	}
	// The objects of the honest commit a receiver lacks.
	var buf bytes.Buffer
	if _, err := bundle.Create(w, h.NodeKey(), &buf, bundle.CreateOptions{Since: parent.ID}); err != nil {
		t.Fatal(err)
	}
	_, base, err := bundle.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	delete(base, id)
	otherOut := coda.Sum([]byte("another output"))
	cases := []struct {
		name   string
		change func(c *cdb.Commit, objs map[coda.ID][]byte)
	}{
		{"output", func(c *cdb.Commit, _ map[coda.ID][]byte) { c.Call.Output = &otherOut }},
		{"no output", func(c *cdb.Commit, _ map[coda.ID][]byte) { c.Call.Output = nil }},
		{"more steps", func(c *cdb.Commit, _ map[coda.ID][]byte) { c.Call.Steps++ }},
		{"fewer steps", func(c *cdb.Commit, _ map[coda.ID][]byte) { c.Call.Steps-- }},
		{"ops", func(c *cdb.Commit, objs map[coda.ID][]byte) {
			// n = 1000 instead of 1, ops and tree consistent.
			b := append([]byte(nil), mustGet(t, h, c.Ops[0].ID)...)
			binary.LittleEndian.PutUint64(b[coda.IDSize:], 1000)
			st := &memStore{s: h.Store(), mem: objs}
			root, err := cdb.ApplyCallWrites(st, parent.Tree, c.Stamp(), []cdb.CallWrite{{Path: "/counter/n", Data: b}})
			if err != nil {
				t.Fatal(err)
			}
			c.Tree, c.Ops[0].ID = root, coda.Sum(b)
		}},
		{"extra op", func(c *cdb.Commit, objs map[coda.ID][]byte) {
			st := &memStore{s: h.Store(), mem: objs}
			extra := append([]byte(nil), mustGet(t, h, c.Ops[0].ID)...)
			root, err := cdb.ApplyCallWrites(st, parent.Tree, c.Stamp(), []cdb.CallWrite{
				{Path: "/counter/n", Data: mustGet(t, h, c.Ops[0].ID)}, {Path: "/counter/m", Data: extra}})
			if err != nil {
				t.Fatal(err)
			}
			c.Tree = root
			c.Ops = append([]cdb.Change{{Path: "/counter/m", ID: coda.Sum(extra)}}, c.Ops...)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, objs := forge(t, h, w, id, tc.change)
			for k, v := range base {
				if objs[k] == nil {
					objs[k] = v
				}
			}
			// Bundle apply and sync: Receive.
			before := head(t, w2)
			_, err := w2.Receive(ctx, cdb.Incoming{Objects: objs, Head: c.ID, Maker: h.NodeKey().Public}, "")
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("receive of a forged call: %v, want an invalid error", err)
			}
			if !strings.Contains(err.Error(), "does not reproduce") {
				t.Fatalf("receive of a forged call: %v, want it to say the call does not reproduce", err)
			}
			t.Log(err)
			if head(t, w2) != before {
				t.Fatal("the forged commit moved the head")
			}
			// Replay: store it on a branch of the maker's home.
			b := h.Store().NewBatch()
			for _, o := range objs {
				if _, err := b.Put(o); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.SetRef("head/"+w.ID().String()+"/forged", c.ID); err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(true); err != nil {
				t.Fatal(err)
			}
			b.Discard()
			_, err = w.Replay(nil)
			if !errs.Is(err, errs.Corrupt) {
				t.Fatalf("replay with a forged call: %v, want corrupt", err)
			}
			if !strings.Contains(err.Error(), "does not reproduce") {
				t.Fatalf("replay with a forged call: %v, want it to say the call does not reproduce", err)
			}
			b = h.Store().NewBatch()
			b.DeleteRef("head/" + w.ID().String() + "/forged")
			b.Commit(true)
			b.Discard()
		})
	}
	// The honest commit is taken.
	objs := map[coda.ID][]byte{id: mustGet(t, h, id)}
	for k, v := range base {
		objs[k] = v
	}
	if _, err := w2.Receive(ctx, cdb.Incoming{Objects: objs, Head: id, Maker: h.NodeKey().Public}, ""); err != nil {
		t.Fatalf("receive of the honest call: %v", err)
	}
	if got := counter(t, w2); got != 1 {
		t.Fatalf("the clone's counter is %d, want 1", got)
	}
	if _, err := w2.Replay(nil); err != nil {
		t.Fatalf("replay of the clone: %v", err)
	}
}

// TestUnknownProgram: a call record naming a program nobody sent (not
// received, not stored, not withheld) cannot be re-executed, and is
// refused rather than taken on its signature.
func TestUnknownProgram(t *testing.T) {
	h, w, w2, id := callAndClone(t)
	honest, err := w.LoadCommit(id)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := bundle.Create(w, h.NodeKey(), &buf, bundle.CreateOptions{Since: honest.Parents[0]}); err != nil {
		t.Fatal(err)
	}
	_, base, err := bundle.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	delete(base, id)
	nobody := coda.Sum([]byte("a program no one has"))
	c, objs := forge(t, h, w, id, func(c *cdb.Commit, _ map[coda.ID][]byte) { c.Call.Program = nobody })
	for k, v := range base {
		if objs[k] == nil {
			objs[k] = v
		}
	}
	before := head(t, w2)
	_, err = w2.Receive(ctx, cdb.Incoming{Objects: objs, Head: c.ID, Maker: h.NodeKey().Public}, "")
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "names program "+nobody.String()) {
		t.Fatalf("receive of a call naming an unknown program: %v, want invalid naming the program", err)
	}
	if head(t, w2) != before {
		t.Fatal("the forged commit moved the head")
	}
}

func counterObject(t testing.TB, w *cdb.World, n uint64) []byte {
	t.Helper()
	reg, err := w.Schemas(coda.ID{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := reg.Lookup("Counter")
	obj, err := coda.EncodeObject(s, coda.Struct(coda.U64(n)))
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func mustGet(t testing.TB, h *cdb.Home, id coda.ID) []byte {
	t.Helper()
	b, err := h.Store().Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// memStore reads s and keeps writes in mem.
type memStore struct {
	s interface {
		Get(coda.ID) ([]byte, error)
	}
	mem map[coda.ID][]byte
}

func (m *memStore) Get(id coda.ID) ([]byte, error) {
	if b, ok := m.mem[id]; ok {
		return b, nil
	}
	return m.s.Get(id)
}

func (m *memStore) Put(b []byte) (coda.ID, error) {
	id := coda.Sum(b)
	m.mem[id] = append([]byte(nil), b...)
	return id, nil
}

// TestDeterminism: the same call on two homes (a copy of one home, so
// the same key and history) gives byte-identical commits.
func TestDeterminism(t *testing.T) {
	h, w := newHome(t)
	putProgram(t, w, h.NodeKey(), "/progs/counter", readFile(t, "../examples/counter/counter.co"))
	dir := h.Dir()
	h.Close()
	dir2 := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(dir2, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir2, "keys", "node.key"), 0o600); err != nil {
		t.Fatal(err)
	}
	var objs [2][]byte
	var trees [2]coda.ID
	for i, d := range []string{dir, dir2} {
		hh, err := cdb.Open(d, opts())
		if err != nil {
			t.Fatal(err)
		}
		ww, err := hh.World("")
		if err != nil {
			t.Fatal(err)
		}
		res, err := call.Run(ctx, ww, hh.NodeKey(), call.Request{Path: "/progs/counter"})
		if err != nil {
			t.Fatal(err)
		}
		objs[i] = mustGet(t, hh, res.Commit.ID)
		trees[i] = res.Commit.Tree
		hh.Close()
	}
	if !bytes.Equal(objs[0], objs[1]) || trees[0] != trees[1] {
		t.Fatalf("the same call on two homes gave commits\n%x\n%x", objs[0], objs[1])
	}
}

func TestHostile(t *testing.T) {
	h, w := newHome(t)
	putProgram(t, w, h.NodeKey(), "/progs/counter", readFile(t, "../examples/counter/counter.co"))
	if _, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/counter"}); err != nil {
		t.Fatal(err)
	}
	alice, err := cdb.NewIdentity("alice", bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	home := "/home/" + alice.Key()
	cases := []struct {
		name, src string
		steps     uint64
		as        cdb.Identity
		kind      errs.Kind
	}{
		{"infinite loop", "#l *l JMP16", 100_000, h.NodeKey(), errs.Limit},
		{"memory bomb", "LIT32 0 #l DPD32 ADR32 LIT8 1 STR8 LIT32 4096 ADD32 *l JMP16", 0, h.NodeKey(), errs.Limit},
		{"stack bomb", "#l LIT8 1 *l JMP16", 0, h.NodeKey(), errs.Invalid},
		{"exit code", "LIT16 0x0502 LIT8 0 LIT8 0xC0 LIT8 0 DVW16", 0, h.NodeKey(), errs.Invalid},
		// alice may write only her home: the counter is outside it.
		{"write outside rights", putSource("/counter/n", counterObject(t, w, 1_000_000)), 0, alice, errs.Permission},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/progs/" + tc.name
			if tc.as.Key() == alice.Key() {
				path = home + "/evil"
			}
			putProgram(t, w, h.NodeKey(), path, tc.src)
			before := head(t, w)
			_, err := call.Run(ctx, w, tc.as, call.Request{Path: path, MaxSteps: tc.steps})
			if !errs.Is(err, tc.kind) {
				t.Fatalf("got %v, want a %v error", err, tc.kind)
			}
			if head(t, w) != before {
				t.Fatal("a failed call committed")
			}
			t.Log(err)
		})
	}
	if got := counter(t, w); got != 1 {
		t.Fatalf("counter = %d, want 1", got)
	}
}

// putSource is a Co program that puts obj at path and halts.
func putSource(path string, obj []byte) string {
	req := append([]byte{call.OpPut, byte(len(path)), 0}, path...)
	req = append(req, obj...)
	var b strings.Builder
	for _, c := range req {
		fmt.Fprintf(&b, "\\x%02x", c)
	}
	return fmt.Sprintf("*r-end *r SUB16 *r LIT8 0xC4 LIT8 0 DMW16 HALT #r \"%s\" #r-end\n", b.String())
}

// programObject builds src and returns the program object to store,
// adding prog's schemas to /sys/schemas first if the world lacks them.
func programObject(t testing.TB, w *cdb.World, as cdb.Identity, src string) []byte {
	t.Helper()
	p, err := prog.Build("test.co", []byte(src), co.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := w.Schemas(coda.ID{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Lookup("Program"); !ok {
		all, err := prog.Schemas()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range all { // one by one: each may refer to the ones before
			op := cdb.Op{Kind: cdb.Put, Path: cdb.SchemasDir + "/" + s.Name, Raw: coda.SchemaObject(s)}
			if _, err := w.Commit(ctx, as, []cdb.Op{op}, "schema "+s.Name); err != nil {
				t.Fatal(err)
			}
		}
	}
	obj, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// TestEntry: --entry runs an exported routine; the record names it and
// replay re-executes it.
func TestEntry(t *testing.T) {
	h, w := newHome(t)
	put := strings.Replace(putSource("/counter/n", counterObject(t, w, 7)), "HALT", "RTN", 1)
	i := strings.Index(put, "#r ")
	src := "HALT\n^ seven " + put[:i] + " ;\n" + put[i:]
	putProgram(t, w, h.NodeKey(), "/progs/p", src)
	before := head(t, w)
	if res, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/p"}); err != nil || !res.Commit.ID.IsZero() || head(t, w) != before {
		t.Fatalf("main: %+v, %v; want no commit", res.Commit, err)
	}
	res, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/p", Entry: "seven"})
	if err != nil {
		t.Fatal(err)
	}
	if got := counter(t, w); got != 7 {
		t.Fatalf("n = %d, want 7", got)
	}
	c, err := w.LoadCommit(res.Commit.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Call.Entry != "seven" {
		t.Fatalf("entry %q, want seven", c.Call.Entry)
	}
	if _, err := w.Replay(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := call.Run(ctx, w, h.NodeKey(), call.Request{Path: "/progs/p", Entry: "eight"}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("unknown entry: %v", err)
	}
}

func account(t testing.TB, w *cdb.World, n int) uint64 {
	t.Helper()
	it, err := w.Get(coda.ID{}, fmt.Sprintf("/bank/acct-%d", n))
	if err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(it.Raw[coda.IDSize:])
}

func transfer(t testing.TB, w *cdb.World, from, to int, amount uint64) []byte {
	t.Helper()
	reg, err := w.Schemas(coda.ID{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := reg.Lookup("Transfer")
	obj, err := coda.EncodeObject(s, coda.Struct(coda.U8(uint8(from)), coda.U8(uint8(to)), coda.U64(amount)))
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// TestBank: transfers move money and never create it; a bad transfer
// commits nothing; the calls, inputs included, travel by bundle and are
// re-executed by the receiver.
func TestBank(t *testing.T) {
	h, w := newHome(t)
	owner := h.NodeKey()
	addSchemas(t, w, owner, readFile(t, "../examples/bank/bank.coda"))
	putProgram(t, w, owner, "/bank/transfer", readFile(t, "../examples/bank/bank.co"))
	reg, _ := w.Schemas(coda.ID{})
	acct, _ := reg.Lookup("Account")
	var ops []cdb.Op
	for i, b := range []uint64{100, 5, 0} {
		ops = append(ops, cdb.Op{Kind: cdb.Put, Path: fmt.Sprintf("/bank/acct-%d", i), Schema: "Account", Value: coda.Struct(coda.U64(b))})
	}
	if _, err := w.Commit(ctx, owner, ops, "open accounts"); err != nil {
		t.Fatal(err)
	}
	_ = acct
	var buf bytes.Buffer
	if _, err := bundle.Create(w, owner, &buf, bundle.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h2, _, err := bundle.CloneBundle(ctx, filepath.Join(t.TempDir(), "clone"), &buf, opts())
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	since := head(t, w)
	steps := []struct {
		from, to int
		amount   uint64
		code     int // 0: ok
	}{
		{0, 1, 30, 0}, {1, 2, 35, 0}, {2, 0, 36, 2}, {0, 0, 1, 1}, {0, 7, 1, 1}, {2, 1, 35, 0}, {0, 12, 1, 1},
	}
	for _, s := range steps {
		before := head(t, w)
		res, err := call.Run(ctx, w, owner, call.Request{Path: "/bank/transfer", Input: transfer(t, w, s.from, s.to, s.amount)})
		if s.code != 0 {
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("exited with code %d", s.code)) || head(t, w) != before {
				t.Fatalf("transfer %+v: %v, want exit code %d and no commit", s, err, s.code)
			}
			continue
		}
		if err != nil {
			t.Fatalf("transfer %+v: %v", s, err)
		}
		if res.Input == nil {
			t.Fatalf("transfer %+v: no input id", s)
		}
		if sum := account(t, w, 0) + account(t, w, 1) + account(t, w, 2); sum != 105 {
			t.Fatalf("after %+v the balances sum to %d, want 105", s, sum)
		}
	}
	if a, b, c := account(t, w, 0), account(t, w, 1), account(t, w, 2); a != 70 || b != 35 || c != 0 {
		t.Fatalf("balances %d %d %d, want 70 35 0", a, b, c)
	}
	// Someone else may read the bank but not write it: a transfer by
	// them commits nothing.
	mallory, _ := cdb.NewIdentity("mallory", bytes.Repeat([]byte{9}, 32))
	if _, err := call.Run(ctx, w, mallory, call.Request{Path: "/bank/transfer", Input: transfer(t, w, 0, 1, 1)}); err == nil {
		t.Fatal("a transfer by a key without rights succeeded")
	}
	// The calls travel by bundle, inputs included, and are re-executed.
	buf.Reset()
	if _, err := bundle.Create(w, owner, &buf, bundle.CreateOptions{Since: since}); err != nil {
		t.Fatal(err)
	}
	w2, err := h2.World(w.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Apply(ctx, w2, &buf, ""); err != nil {
		t.Fatalf("bundle apply: %v", err)
	}
	if a := account(t, w2, 0); a != 70 {
		t.Fatalf("the clone's acct-0 holds %d, want 70", a)
	}
	if _, err := w2.Replay(nil); err != nil {
		t.Fatal(err)
	}
}

// TestTodo: the to-do list's entries add items and mark them done.
func TestTodo(t *testing.T) {
	h, w := newHome(t)
	me := h.NodeKey()
	addSchemas(t, w, me, readFile(t, "../examples/todo/todo.coda"))
	putProgram(t, w, me, "/todo/app", readFile(t, "../examples/todo/todo.co"))
	reg, _ := w.Schemas(coda.ID{})
	obj := func(schema string, v coda.Value) []byte {
		s, _ := reg.Lookup(schema)
		b, err := coda.EncodeObject(s, v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, text := range []string{"milk", "write the docs", "a longer item with ünïcode"} {
		if _, err := call.Run(ctx, w, me, call.Request{Path: "/todo/app", Entry: "add", Input: obj("Add", coda.Struct(coda.String(text)))}); err != nil {
			t.Fatalf("add %q: %v", text, err)
		}
	}
	if _, err := call.Run(ctx, w, me, call.Request{Path: "/todo/app", Entry: "done", Input: obj("Done", coda.Struct(coda.U8(1)))}); err != nil {
		t.Fatalf("done 1: %v", err)
	}
	if _, err := call.Run(ctx, w, me, call.Request{Path: "/todo/app", Entry: "done", Input: obj("Done", coda.Struct(coda.U8(7)))}); err == nil {
		t.Fatal("done 7 (no such item) succeeded")
	} else if !strings.Contains(err.Error(), "exited with code 1") {
		t.Fatalf("done 7: %v, want exit code 1", err)
	}
	want := map[string]string{"/todo/items/00": `{"text":"milk","done":false}`, "/todo/items/01": `{"text":"write the docs","done":true}`,
		"/todo/items/02": `{"text":"a longer item with ünïcode","done":false}`, "/todo/next": `{"n":"3"}`}
	for p, j := range want {
		it, err := w.Get(coda.ID{}, p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := it.JSON(reg)
		if err != nil || string(got) != j {
			t.Fatalf("%s = %s (%v), want %s", p, got, err, j)
		}
	}
	if _, err := w.Replay(nil); err != nil {
		t.Fatal(err)
	}
}

// TestTriggers: a put under a directory with a trigger is followed by a
// call commit of its program, both through Pass and through the runner
// Start runs; trigger commits fire nothing.
func TestTriggers(t *testing.T) {
	h, w := newHome(t)
	me := h.NodeKey()
	putProgram(t, w, me, "/progs/counter", readFile(t, "../examples/counter/counter.co"))
	if _, err := call.SetTrigger(ctx, w, me, "/inbox", "/progs/counter", ""); err != nil {
		t.Fatal(err)
	}
	put := func(p string) {
		t.Helper()
		if _, err := w.Commit(ctx, me, []cdb.Op{{Kind: cdb.Put, Path: p, Raw: counterObject(t, w, 0)}}, "put "+p); err != nil {
			t.Fatal(err)
		}
	}
	tr := call.NewTriggers(h, []cdb.Identity{me}, nil)
	put("/inbox/a")
	put("/elsewhere")
	res, err := tr.Pass(ctx)
	if err != nil || len(res) != 1 || res[0].Commit.ID.IsZero() {
		t.Fatalf("pass: %+v, %v; want one trigger call", res, err)
	}
	if got := counter(t, w); got != 1 {
		t.Fatalf("counter %d, want 1", got)
	}
	if res, err := tr.Pass(ctx); err != nil || len(res) != 0 {
		t.Fatalf("second pass: %+v, %v; want nothing (trigger commits fire nothing)", res, err)
	}
	// The runner.
	ch, cancel := h.Subscribe(w.ID())
	defer cancel()
	stop := tr.Start(ctx)
	put("/inbox/b")
	deadline := time.After(10 * time.Second)
	for counter(t, w) != 2 {
		select {
		case <-ch:
		case <-deadline:
			t.Fatal("the trigger did not run within 10 s")
		}
	}
	stop()
	c, err := w.LoadCommit(head(t, w))
	if err != nil {
		t.Fatal(err)
	}
	if c.Call == nil || !strings.HasPrefix(c.Message, "trigger: on /inbox run /progs/counter after ") {
		t.Fatalf("head %q, call %v; want a trigger call", c.Message, c.Call)
	}
	if _, err := w.Replay(nil); err != nil {
		t.Fatal(err)
	}
}
