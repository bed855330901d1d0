package swarm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/coalescent/coal/errs"
)

// ConfigFile is the swarm's configuration file in the home. It is the
// swarm's own (cdb's config.json rejects fields it does not know, and the
// network is not the store's business).
const ConfigFile = "swarm.json"

// DefaultPort is the port a new home's config listens on, TCP and QUIC
// both, when it is free on this machine; otherwise a free port is picked
// once and kept in the config, so the node's addresses stay the same
// across restarts.
const DefaultPort = 7071

// Config is HOME/swarm.json (docs/swarm.md). Unknown fields are rejected.
type Config struct {
	// Version is the format version, 1.
	Version int `json:"version"`
	// Listen are the multiaddrs the host listens on when coal serve is
	// given no --listen.
	Listen []string `json:"listen"`
	// Bootstrap are full multiaddrs (with /p2p/ID) of peers dialed at
	// start and whenever the node has no peers.
	Bootstrap []string `json:"bootstrap"`
	// NoMDNS turns mDNS discovery off (as --no-mdns does).
	NoMDNS bool `json:"no_mdns"`
	// Relays are full multiaddrs (with /p2p/ID) of circuit relays the
	// node reserves a slot on while it is not publicly reachable, and
	// advertises /p2p-circuit addresses through (as --relay does).
	Relays []string `json:"relays,omitempty"`
	// RelayService makes the node a circuit relay for others (as
	// --relay-service does), with the limits of docs/swarm.md.
	RelayService bool `json:"relay_service,omitempty"`
	// RelayLimit overrides the relay service's limit on each relayed
	// connection; nil is the default (2 minutes, 128 KiB each way).
	RelayLimit *RelayLimit `json:"relay_limit,omitempty"`
	// RelayPeers are the peer ids that may reserve a slot on the relay
	// service; empty: any peer.
	RelayPeers []string `json:"relay_peers,omitempty"`
	// Reachability is "auto" or "" (AutoNAT decides), "private" (the
	// node is not reachable directly: it uses its relays and advertises
	// only its relay addresses) or "public".
	Reachability string `json:"reachability,omitempty"`
}

// RelayLimit is the relay service's limit on each relayed connection:
// the relay resets it after Seconds or once Bytes have gone one way. Both
// zero: no limit, and the connections it relays are not limited (every
// protocol runs over them). Otherwise both are positive.
type RelayLimit struct {
	Seconds int64 `json:"seconds"`
	Bytes   int64 `json:"bytes"`
}

func (l *RelayLimit) check() error {
	if l == nil || (l.Seconds == 0 && l.Bytes == 0) || (l.Seconds > 0 && l.Bytes > 0 && l.Seconds <= maxRelaySeconds) {
		return nil
	}
	return fmt.Errorf("relay limit {seconds: %d, bytes: %d}: both must be positive (seconds at most %d), or both 0 for no limit", l.Seconds, l.Bytes, maxRelaySeconds)
}

// maxRelaySeconds bounds RelayLimit.Seconds (a year), so that it is a
// valid time.Duration.
const maxRelaySeconds = 365 * 24 * 3600

// The values of Config.Reachability and Options.Reachability.
const (
	ReachAuto    = "auto"
	ReachPrivate = "private"
	ReachPublic  = "public"
)

func validReach(r string) bool {
	return r == "" || r == ReachAuto || r == ReachPrivate || r == ReachPublic
}

// DefaultListen returns the listen multiaddrs on every interface, IPv4
// and IPv6, TCP and QUIC, on port.
func DefaultListen(port int) []string {
	p := strconv.Itoa(port)
	return []string{
		"/ip4/0.0.0.0/tcp/" + p,
		"/ip4/0.0.0.0/udp/" + p + "/quic-v1",
		"/ip6/::/tcp/" + p,
		"/ip6/::/udp/" + p + "/quic-v1",
	}
}

// LoadConfig reads dir's swarm.json. If there is none, it makes one
// (listening on DefaultPort, or on a port free for both TCP and UDP if that
// one is taken), writes it, and returns it.
func LoadConfig(dir string) (*Config, error) {
	file := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		c := &Config{Version: 1, Listen: DefaultListen(freePort(DefaultPort)), Bootstrap: []string{}}
		if err := writeJSON(file, c); err != nil {
			return nil, err
		}
		return c, nil
	}
	if err != nil {
		return nil, errs.E(errs.Op("swarm.LoadConfig"), errs.Path(file), err)
	}
	return parseConfig(file, b)
}

func parseConfig(file string, b []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, errs.E(errs.Invalid, errs.Path(file), err)
	}
	if dec.More() {
		return nil, errs.E(errs.Invalid, errs.Path(file), "data after the JSON object")
	}
	if c.Version != 1 {
		return nil, errs.E(errs.Invalid, errs.Path(file), fmt.Sprintf("unknown swarm config version %d (this coal reads 1)", c.Version))
	}
	for i, a := range c.Listen {
		if _, err := ma.NewMultiaddr(a); err != nil {
			return nil, errs.E(errs.Invalid, errs.Path(fmt.Sprintf("%s: listen[%d]", file, i)), fmt.Errorf("bad multiaddr %q: %v", a, err))
		}
	}
	for i, a := range c.Bootstrap {
		if _, err := parsePeerAddr(a); err != nil {
			return nil, errs.E(errs.Invalid, errs.Path(fmt.Sprintf("%s: bootstrap[%d]", file, i)), err)
		}
	}
	for i, a := range c.Relays {
		if _, err := parsePeerAddr(a); err != nil {
			return nil, errs.E(errs.Invalid, errs.Path(fmt.Sprintf("%s: relays[%d]", file, i)), err)
		}
	}
	if err := c.RelayLimit.check(); err != nil {
		return nil, errs.E(errs.Invalid, errs.Path(file+": relay_limit"), err)
	}
	for i, p := range c.RelayPeers {
		if _, err := peer.Decode(p); err != nil {
			return nil, errs.E(errs.Invalid, errs.Path(fmt.Sprintf("%s: relay_peers[%d]", file, i)), fmt.Errorf("bad peer id %q: %v", p, err))
		}
	}
	if !validReach(c.Reachability) {
		return nil, errs.E(errs.Invalid, errs.Path(file+": reachability"), fmt.Sprintf("reachability %q is none of auto, private, public", c.Reachability))
	}
	return &c, nil
}

// freePort returns want if both TCP and UDP are free on it on every
// interface, else a port the kernel picks that is free for both.
func freePort(want int) int {
	try := func(port int) (int, bool) {
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			return 0, false
		}
		defer l.Close()
		port = l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", ":"+strconv.Itoa(port))
		if err != nil {
			return 0, false
		}
		u.Close()
		return port, true
	}
	if p, ok := try(want); ok {
		return p
	}
	for range 20 {
		if p, ok := try(0); ok {
			return p
		}
	}
	return want
}

// writeJSON writes v to file atomically (a temporary file beside it,
// synced, then renamed), mode 0600.
func writeJSON(file string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return errs.E(errs.Internal, err)
	}
	b = append(b, '\n')
	tmp := file + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return errs.E(errs.Path(file), err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		os.Remove(tmp)
		return errs.E(errs.Path(file), err)
	}
	return nil
}

// portsFree fails if a listen address with a fixed port is taken by
// another process. libp2p binds TCP with SO_REUSEPORT, which would let a
// second coal node (another home whose swarm.json names the same port)
// bind it silently and share the connections; a plain bind is refused.
func portsFree(listen []string) error {
	for _, s := range listen {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		var head ma.Multiaddr
		for _, c := range a {
			head = append(head, c)
			if code := c.Protocol().Code; code == ma.P_TCP || code == ma.P_UDP {
				break
			}
		}
		network, host, err := manet.DialArgs(head)
		if err != nil {
			continue
		}
		if _, port, _ := net.SplitHostPort(host); port == "0" || port == "" {
			continue
		}
		switch network {
		case "tcp", "tcp4", "tcp6":
			var l net.Listener
			if l, err = net.Listen(network, host); err == nil {
				l.Close()
			}
		case "udp", "udp4", "udp6":
			var c net.PacketConn
			if c, err = net.ListenPacket(network, host); err == nil {
				c.Close()
			}
		default:
			continue
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			return errs.E(errs.Unavailable, fmt.Sprintf("listen address %s is in use by another program (another coal serve?): choose another port with --listen or in %s", s, ConfigFile))
		}
	}
	return nil
}
