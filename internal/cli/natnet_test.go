package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["natnet"] = cmdNatnet
	scriptCmds["randfile"] = cmdRandfile
	scriptConds["netns"] = netnsUsable
}

// netnsUsable reports whether this process can build natnet's networks:
// root, with ip (iproute2) and nft (nftables), on a kernel that makes
// network namespaces. CI installs nftables when it runs as root.
var netnsUsable = sync.OnceValue(func() bool {
	if os.Geteuid() != 0 {
		return false
	}
	for _, p := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(p); err != nil {
			return false
		}
	}
	name := "coalprobe" + strconv.Itoa(os.Getpid())
	if exec.Command("ip", "netns", "add", name).Run() != nil {
		return false
	}
	ok := exec.Command("ip", "netns", "exec", name, "nft", "list", "ruleset").Run() == nil
	exec.Command("ip", "netns", "del", name).Run()
	return ok
})

// natRules make a router's NAT: masquerade out of wan; forward from lan
// to wan and back for connections the lan started; drop (not refuse) new
// connections to the router itself from wan, as home routers do.
const natRules = `
table ip nat {
  chain postrouting { type nat hook postrouting priority srcnat; oifname "wan" masquerade; }
}
table ip filter {
  chain forward { type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "lan" oifname "wan" accept
  }
  chain input { type filter hook input priority filter; policy accept;
    iifname "wan" ct state new drop
  }
}
`

// cmdNatnet builds two homes behind two NATs on a shared "internet", in
// network namespaces named after a random prefix, and removes them when
// the script ends:
//
//	natnet
//
//	$NATWAN  the internet: bridge br0 holding 11.0.0.1, .2, .3 and .4
//	$NATA    host a, 192.168.1.2, behind a router at 11.0.0.10 (NAT)
//	$NATB    host b, 192.168.2.2, behind a router at 11.0.0.20 (NAT)
//
// The routers masquerade (Linux keeps the source port when it is free, so
// a host's mapping is the same whoever it talks to) and drop unsolicited
// connections from outside; nothing routes to the 192.168 networks from
// the internet. 11.0.0.0/24 is public address space, so libp2p treats it
// as such; the namespaces reach nothing outside themselves.
func cmdNatnet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: natnet")
	}
	var rb [3]byte
	rand.Read(rb[:])
	p := "c" + hex.EncodeToString(rb[:]) // 7 bytes: interface names stay under 16
	nss := map[string]string{}
	for _, n := range []string{"wan", "ra", "rb", "ha", "hb"} {
		nss[n] = p + "-" + n
	}
	ts.Defer(func() {
		for _, n := range nss {
			exec.Command("ip", "netns", "del", n).Run()
		}
	})
	run := func(ns string, args ...string) {
		cmd := exec.Command("ip", append([]string{"-n", ns}, args...)...)
		if ns == "" {
			cmd = exec.Command("ip", args...)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			ts.Fatalf("natnet: ip %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, out)
		}
	}
	in := func(ns string, stdin string, args ...string) {
		cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			ts.Fatalf("natnet: in %s: %s: %v\n%s", ns, strings.Join(args, " "), err, out)
		}
	}
	for _, n := range []string{"wan", "ra", "rb", "ha", "hb"} {
		run("", "netns", "add", nss[n])
		run(nss[n], "link", "set", "lo", "up")
	}
	wan := nss["wan"]
	run(wan, "link", "add", "br0", "type", "bridge")
	run(wan, "link", "set", "br0", "up")
	for i := 1; i <= 4; i++ {
		run(wan, "addr", "add", fmt.Sprintf("11.0.0.%d/24", i), "dev", "br0")
	}
	for i, r := range []string{"a", "b"} {
		router, host := nss["r"+r], nss["h"+r]
		// The router's wan side, plugged into the internet's bridge.
		run("", "link", "add", p+r+"w", "type", "veth", "peer", "name", p+r+"x")
		run("", "link", "set", p+r+"w", "netns", router)
		run("", "link", "set", p+r+"x", "netns", wan)
		run(wan, "link", "set", p+r+"x", "master", "br0")
		run(wan, "link", "set", p+r+"x", "up")
		run(router, "link", "set", p+r+"w", "name", "wan")
		run(router, "link", "set", "wan", "up")
		run(router, "addr", "add", fmt.Sprintf("11.0.0.%d/24", 10*(i+1)), "dev", "wan")
		// The home's lan: the router and one host.
		run("", "link", "add", p+r+"l", "type", "veth", "peer", "name", p+r+"h")
		run("", "link", "set", p+r+"l", "netns", router)
		run("", "link", "set", p+r+"h", "netns", host)
		run(router, "link", "set", p+r+"l", "name", "lan")
		run(router, "link", "set", "lan", "up")
		run(router, "addr", "add", fmt.Sprintf("192.168.%d.1/24", i+1), "dev", "lan")
		run(host, "link", "set", p+r+"h", "name", "eth0")
		run(host, "link", "set", "eth0", "up")
		run(host, "addr", "add", fmt.Sprintf("192.168.%d.2/24", i+1), "dev", "eth0")
		run(host, "route", "add", "default", "via", fmt.Sprintf("192.168.%d.1", i+1))
		in(router, "", "sysctl", "-qw", "net.ipv4.ip_forward=1")
		in(router, natRules, "nft", "-f", "-")
	}
	ts.Setenv("NATWAN", wan)
	ts.Setenv("NATA", nss["ha"])
	ts.Setenv("NATB", nss["hb"])
}

// cmdRandfile writes N pseudo-random (incompressible, chunk-unique) bytes:
//
//	randfile NAME N
func cmdRandfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: randfile NAME N")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 0 {
		ts.Fatalf("randfile: size %q is not a number of bytes", args[1])
	}
	var seed [32]byte
	copy(seed[:], args[0])
	b := make([]byte, n)
	mrand.NewChaCha8(seed).Read(b)
	if err := os.WriteFile(ts.MkAbs(args[0]), b, 0o644); err != nil {
		ts.Fatalf("randfile: %v", err)
	}
}
