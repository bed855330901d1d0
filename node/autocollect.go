package node

import (
	"github.com/coalescent/coal/collect"
	"github.com/coalescent/coal/errs"
)

// startAutoCollect starts automatic collect (docs/protocols.md §7.4):
// the node collects from each peer that speaks collect once identify says
// so, and every Options.AutoCollect (default 5 minutes) after, with
// backoff after failures; never from the swarm's bad peers or denied
// ones. A negative AutoCollect turns it off (coal serve --collect-every 0).
func (n *Node) startAutoCollect() error {
	if n.opts.AutoCollect < 0 || n.coll == nil || n.coll.service == nil {
		return nil
	}
	sw := n.swarm
	err := n.coll.service.StartAuto(collect.AutoOptions{
		Every:     n.opts.AutoCollect,
		Connected: sw.Connected,
		Skip:      sw.IsBad,
	})
	if err != nil {
		return errs.E(errs.Op("node: start automatic collect"), err)
	}
	return nil
}
