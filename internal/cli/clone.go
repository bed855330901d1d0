package cli

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/ctp"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/relay"
	"github.com/coalescent/coal/replica"
	"github.com/coalescent/coal/swarm"
)

func init() { register(newCloneCmd) }

// cloneNetJSON is what coal clone --json prints.
type cloneNetJSON struct {
	Key       string `json:"key"`
	Peer      string `json:"peer"`
	World     string `json:"world"`
	WorldName string `json:"world_name"`
	Head      string `json:"head"`
	Commits   int    `json:"commits"`
	Objects   int    `json:"objects"`
	Bytes     int64  `json:"bytes"`
}

func newCloneCmd(e *env) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "clone MULTIADDR",
		Short: "Create a home whose world comes from a peer",
		Long: `Create a new coal home in the directory --home names (or COAL_HOME, or
~/.coal), as coal init does but with no world of its own, connect to the
peer at MULTIADDR (a full address with /p2p/ID, as coal id prints it on a
serving node) and pull a world from it over /coal/sync/1.0.0
(docs/sync.md): the one --world names (by id), or, without --world, every
world the peer shows this home's new node key — the first becomes the
default. Every commit is validated before anything is stored. Progress
(bytes, then objects) goes to stderr. Then print the new node key and the
default world:

	node ed25519:KEY
	peer PEERID
	world NAME ID
	head COMMIT

A peer shows a world only to keys that may read something in it: the new
node key has no rights until someone grants it some, so unless the world
is readable by anyone, grant the key read on the peer first. If the peer
shows no world, the new home is kept (so that its key stays the same),
its key printed, and the command fails. Fails, creating nothing, if the
home exists or the peer cannot be reached or sends invalid data. With
--json: {"key", "peer", "world", "world_name", "head", "commits",
"objects", "bytes"}.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var want coda.ID
			if e.world != "" {
				id, err := coda.ParseID(e.world)
				if err != nil {
					return fmt.Errorf("--world %s: a world id, as coal world ls prints it: %w", e.world, err)
				}
				if id.IsZero() {
					return fmt.Errorf("--world %s: the zero id names no world", e.world)
				}
				want = id
			}
			if _, err := os.Stat(e.home); err == nil {
				return errs.E(errs.Exist, errs.Path(e.home), "coal clone makes a new home: the directory exists")
			}
			opts := e.options()
			opts.NoWorld = true
			h, err := cdb.Init(e.home, opts)
			if err != nil {
				return err
			}
			keep := false
			defer func() {
				h.Close()
				if !keep {
					os.RemoveAll(e.home)
				}
			}()
			ctx, cancel := context.WithTimeout(e.ctx, timeout)
			defer cancel()
			out, err := e.cloneFrom(ctx, h, args[0], want)
			if err != nil {
				if errs.Is(err, errs.NotExist) && want.IsZero() {
					keep = true
				}
				return err
			}
			keep = true
			if e.json {
				return e.printJSON(out)
			}
			_, err = fmt.Fprintf(e.stdout, "node %s\npeer %s\nworld %s %s\nhead %s\n", out.Key, out.Peer, out.WorldName, out.World, out.Head)
			return err
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long")
	return cmd
}

// cloneFrom connects h's new node to the peer at addr with a temporary
// host and pulls the world want (zero: every world it shows) into h.
func (e *env) cloneFrom(ctx context.Context, h *cdb.Home, addr string, want coda.ID) (cloneNetJSON, error) {
	key, err := relay.NodeKey(h)
	if err != nil {
		return cloneNetJSON{}, err
	}
	sw, err := swarm.New(ctx, swarm.Options{Key: key, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, PexDial: -1})
	if err != nil {
		return cloneNetJSON{}, err
	}
	defer sw.Close()
	var (
		mu      sync.Mutex
		invalid error
		last    time.Time
	)
	progress := func(_ peer.ID, _ coda.ID, n int64) {
		if time.Since(last) < 100*time.Millisecond {
			return
		}
		last = time.Now()
		fmt.Fprintf(e.stderr, "\rreceiving: %s", byteCount(n))
	}
	onInvalid := func(p peer.ID, err error) {
		mu.Lock()
		invalid = err
		mu.Unlock()
		sw.Punish(p, err)
	}
	// Large values come over CTP, as a node fetches them, chunk by chunk
	// into the store: without a Fetcher they would travel inside the
	// pull's answer, which the engine holds whole in memory (a 256 MiB
	// value cost 1.6 GB; docs/perf.md, "Clone memory").
	eng, err := replica.New(h, sw.Host(), replica.Options{
		Accept:    func(w coda.ID) bool { return want.IsZero() || w == want },
		Progress:  progress,
		OnInvalid: onInvalid,
		Fetcher:   ctp.NewClient(sw.Host(), ctp.Options{OnInvalid: onInvalid}),
	})
	if err != nil {
		return cloneNetJSON{}, err
	}
	defer eng.Close()
	pid, err := sw.Connect(ctx, addr)
	if err != nil {
		return cloneNetJSON{}, err
	}
	reports, err := eng.SyncNow(ctx, want)
	if err != nil {
		return cloneNetJSON{}, err
	}
	mu.Lock()
	bad := invalid
	mu.Unlock()
	if bad != nil {
		return cloneNetJSON{}, fmt.Errorf("peer %s sent invalid data: %w", pid, bad)
	}
	for _, r := range reports {
		if r.Error != "" {
			return cloneNetJSON{}, fmt.Errorf("peer %s: world %s: %s", pid, r.World, r.Error)
		}
	}
	st := eng.Stats(pid) // pulls the engine made on its own count too
	out := cloneNetJSON{Key: h.NodeKey().Key(), Peer: pid.String(), Commits: st.CommitsRecv, Objects: st.ObjectsRecv, Bytes: st.BytesRecv}
	worlds, err := h.Worlds()
	if err != nil {
		return cloneNetJSON{}, err
	}
	if len(worlds) == 0 {
		what := "no world"
		if !want.IsZero() {
			what = "no world " + want.String()
		}
		return cloneNetJSON{}, errs.E(errs.NotExist, fmt.Sprintf("peer %s shows %s to this home's node key %s: grant that key read on the peer (coal acl grant), then run coal sync in %s", pid, what, h.NodeKey().Key(), e.home))
	}
	w, err := h.World("")
	if err != nil {
		if err := h.SetDefaultWorld(worlds[0].Name); err != nil {
			return cloneNetJSON{}, err
		}
		if w, err = h.World(""); err != nil {
			return cloneNetJSON{}, err
		}
	}
	head, err := w.Head()
	if err != nil {
		return cloneNetJSON{}, err
	}
	out.World, out.WorldName, out.Head = w.ID().String(), w.Name(), head.String()
	fmt.Fprintf(e.stderr, "\rreceived: %d commits, %d objects, %s\n", out.Commits, out.Objects, byteCount(out.Bytes))
	return out, nil
}

// byteCount prints n bytes in the largest unit that keeps it ≥ 1.
func byteCount(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
