package call

// Triggers (docs/calls.md, "Triggers"): a directory DIR may hold a value
// DIR/.on of schema Trigger naming a program. After each commit that
// changes something under DIR, the program runs as a follow-up call, as
// the author of DIR/.on, against the head then. Commits made by triggers
// fire no triggers, so a trigger cannot loop.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// TriggerName is the name of a directory's trigger value.
const TriggerName = ".on"

// TriggerSchemaSource is the schema of trigger values, added to
// /sys/schemas by SetTrigger if missing.
const TriggerSchemaSource = "schema Trigger { program: string  entry: string }\n"

// triggerPrefix starts the message of every trigger commit.
const triggerPrefix = "trigger: "

// Trigger is a directory's trigger.
type Trigger struct {
	Dir     string
	Program string // the program's path
	Entry   string
}

// SetTrigger makes dir run the program at prog (entry) after each commit
// that changes it: it puts dir/.on, adding the Trigger schema to
// /sys/schemas first if the world lacks it.
func SetTrigger(ctx context.Context, w *cdb.World, as cdb.Identity, dir, prog, entry string) (cdb.CommitInfo, error) {
	op := errs.Op("call.SetTrigger")
	segs, err := tree.SplitPath(dir)
	if err != nil {
		return cdb.CommitInfo{}, errs.E(op, err)
	}
	if _, err := tree.SplitPath(prog); err != nil {
		return cdb.CommitInfo{}, errs.E(op, err)
	}
	dir = tree.JoinPath(segs)
	reg, err := w.Schemas(coda.ID{})
	if err != nil {
		return cdb.CommitInfo{}, errs.E(op, err)
	}
	if _, ok := reg.Lookup("Trigger"); !ok {
		if _, _, err := w.AddSchemas(ctx, as, "trigger.coda", []byte(TriggerSchemaSource)); err != nil {
			return cdb.CommitInfo{}, errs.E(op, err)
		}
	}
	v := coda.Struct(coda.String(prog), coda.String(entry))
	p := strings.TrimSuffix(dir, "/") + "/" + TriggerName
	ci, err := w.Commit(ctx, as, []cdb.Op{{Kind: cdb.Put, Path: p, Schema: "Trigger", Value: v}}, "on "+dir+" run "+prog)
	if err != nil {
		return cdb.CommitInfo{}, errs.E(op, err)
	}
	return ci, nil
}

// readTrigger returns the trigger at dir in root, and the key that wrote
// it, or false.
func readTrigger(st tree.Store, root coda.ID, dir string) (Trigger, []byte, bool) {
	p := strings.TrimSuffix(dir, "/") + "/" + TriggerName
	e, err := tree.New(st).Get(root, p)
	if err != nil || e.Kind != tree.KindValue {
		return Trigger{}, nil, false
	}
	b, err := st.Get(e.ID)
	if err != nil || len(b) < coda.IDSize {
		return Trigger{}, nil, false
	}
	// Trigger's body: two strings.
	body := b[coda.IDSize:]
	progPath, rest, ok := readString(body)
	if !ok {
		return Trigger{}, nil, false
	}
	entry, rest, ok := readString(rest)
	if !ok || len(rest) != 0 {
		return Trigger{}, nil, false
	}
	return Trigger{Dir: dir, Program: progPath, Entry: entry}, e.Stamp.Author[:], true
}

func readString(b []byte) (string, []byte, bool) {
	var n uint64
	for i := 0; i < len(b) && i < 10; i++ {
		n |= uint64(b[i]&0x7F) << (7 * i)
		if b[i] < 0x80 {
			b = b[i+1:]
			if n > uint64(len(b)) {
				return "", nil, false
			}
			return string(b[:n]), b[n:], true
		}
	}
	return "", nil, false
}

// Fired returns the triggers commit c fires: those of every directory
// above a path c changes that holds a trigger in c's tree, once each,
// in path order. A trigger commit, a merge and a commit that only sets
// triggers fire none.
func Fired(st tree.Store, c *cdb.Commit) []Trigger {
	if c.IsMerge() || strings.HasPrefix(c.Message, triggerPrefix) {
		return nil
	}
	seen := map[string]bool{}
	var out []Trigger
	for _, o := range c.Ops {
		if strings.HasSuffix(o.Path, "/"+TriggerName) {
			continue
		}
		for d := parentDir(o.Path); ; d = parentDir(d) {
			if !seen[d] {
				seen[d] = true
				if t, _, ok := readTrigger(st, c.Tree, d); ok {
					out = append(out, t)
				}
			}
			if d == "/" {
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b Trigger) int { return strings.Compare(a.Dir, b.Dir) })
	return out
}

// triggerMessage is the message of tr's commit after c, without the
// prefix.
func triggerMessage(tr Trigger, c *cdb.Commit) string {
	return fmt.Sprintf("on %s run %s after %s", tr.Dir, tr.Program, c.ID.Short())
}

func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// Triggers runs the triggers of a home's worlds. Pass fires the triggers
// of every commit made since the last pass; Start runs passes whenever a
// world's head moves. A trigger runs as the key that wrote its .on value,
// if Keys holds it; otherwise it is skipped (logged).
type Triggers struct {
	h    *cdb.Home
	keys []cdb.Identity
	log  *slog.Logger

	mu    sync.Mutex
	heads map[coda.ID]coda.ID // world → the head of the last pass
}

// NewTriggers returns a trigger runner over h acting with keys, starting
// from the worlds' current heads.
func NewTriggers(h *cdb.Home, keys []cdb.Identity, log *slog.Logger) *Triggers {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Triggers{h: h, keys: keys, log: log, heads: map[coda.ID]coda.ID{}}
	if infos, err := h.Worlds(); err == nil {
		for _, i := range infos {
			if w, err := h.World(i.ID.String()); err == nil {
				if head, err := w.Head(); err == nil {
					t.heads[i.ID] = head
				}
			}
		}
	}
	return t
}

// Pass fires the triggers of every commit on each world's current branch
// since the last pass, oldest first (first parents), and returns the calls
// made.
func (t *Triggers) Pass(ctx context.Context) ([]Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	infos, err := t.h.Worlds()
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, i := range infos {
		w, err := t.h.World(i.ID.String())
		if err != nil {
			return out, err
		}
		rs, err := t.world(ctx, w)
		out = append(out, rs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (t *Triggers) world(ctx context.Context, w *cdb.World) ([]Result, error) {
	var out []Result
	for round := 0; round < 64; round++ {
		head, err := w.Head()
		if err != nil {
			return out, err
		}
		last, ok := t.heads[w.ID()]
		t.heads[w.ID()] = head
		if !ok || head == last {
			return out, nil
		}
		var todo []*cdb.Commit
		for id := head; id != last && len(todo) < 1<<16; {
			c, err := w.LoadCommit(id)
			if err != nil {
				return out, err
			}
			todo = append(todo, c)
			if len(c.Parents) == 0 {
				break
			}
			id = c.Parents[0]
		}
		// Commits whose triggers already ran (elsewhere, with the same
		// key, and arrived with them) are not fired again.
		answered := map[string]bool{}
		for _, c := range todo {
			if strings.HasPrefix(c.Message, triggerPrefix) {
				if i := strings.LastIndex(c.Message, " after "); i >= 0 {
					answered[c.Message[len(triggerPrefix):]] = true
				}
			}
		}
		fired := false
		for i := len(todo) - 1; i >= 0; i-- {
			c := todo[i]
			for _, tr := range Fired(t.h.Store(), c) {
				if answered[triggerMessage(tr, c)] {
					continue
				}
				_, author, _ := readTrigger(t.h.Store(), c.Tree, tr.Dir)
				k := slices.IndexFunc(t.keys, func(id cdb.Identity) bool { return bytes.Equal(id.Public, author) })
				if k < 0 {
					t.log.Info("call: trigger skipped: its author's key is not here", "dir", tr.Dir, "program", tr.Program)
					continue
				}
				res, err := Run(ctx, w, t.keys[k], Request{Path: tr.Program, Entry: tr.Entry,
					Message: triggerPrefix + triggerMessage(tr, c)})
				if err != nil {
					t.log.Warn("call: trigger failed", "dir", tr.Dir, "program", tr.Program, "commit", c.ID, "err", err)
					continue
				}
				fired = fired || !res.Commit.ID.IsZero()
				out = append(out, res)
			}
		}
		if !fired {
			return out, nil
		}
		// The trigger commits moved the head: pass over them (they fire
		// nothing, but the head must be recorded).
	}
	return out, nil
}

// Start runs a pass whenever a head of one of the home's worlds (as they
// are now) moves, until stop is called; stop runs a last pass and waits.
func (t *Triggers) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	infos, _ := t.h.Worlds()
	wake := make(chan struct{}, 1)
	var cancels []func()
	for _, i := range infos {
		ch, c := t.h.Subscribe(i.ID)
		cancels = append(cancels, c)
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-ch:
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
				if _, err := t.Pass(ctx); err != nil && ctx.Err() == nil {
					t.log.Warn("call: triggers", "err", err)
				}
			}
		}
	}()
	return func() {
		for _, c := range cancels {
			c()
		}
		cancel()
		<-done
		t.Pass(context.Background())
	}
}
