package tree

import (
	"sync"

	"github.com/coalescent/coal/coda"
)

// NodeCache holds decoded nodes by id, so that the many reads of the same
// upper nodes (every write and read of a busy directory goes through its
// top node) decode each node once. Nodes are immutable once decoded and a
// node's id names its content, so a cached node is the node. It is bounded
// by an estimate of the bytes the nodes hold: when the newer of its two
// generations is full, the older is dropped. Safe for concurrent use.
type NodeCache struct {
	mu       sync.Mutex
	cur, old map[coda.ID]*node
	size     int // estimated bytes in cur
	max      int // bytes a generation may hold
}

// NewNodeCache returns a cache of about maxBytes of decoded nodes.
func NewNodeCache(maxBytes int) *NodeCache {
	return &NodeCache{cur: make(map[coda.ID]*node), max: max(maxBytes/2, 1)}
}

// CachingStore is a Store whose nodes Trees may cache. NodeCache returns the
// cache for the node id, or nil if a node of that id must not be cached.
// A node in a cache must be in the store the cache is for: a staging area
// that may be discarded gives a cache of its own for the nodes it holds
// (and may add them to the store's cache once they are in the store).
// Trees add the nodes they read, and the nodes they write, to the cache
// NodeCache gives for them.
type CachingStore interface {
	Store
	NodeCache(id coda.ID) *NodeCache
}

// AddFrom adds every node of o to c (o's nodes are now in c's store).
func (c *NodeCache) AddFrom(o *NodeCache) {
	o.mu.Lock()
	nodes := make(map[coda.ID]*node, len(o.cur)+len(o.old))
	for _, g := range []map[coda.ID]*node{o.old, o.cur} {
		for id, n := range g {
			nodes[id] = n
		}
	}
	o.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, n := range nodes {
		c.addLocked(id, n, nodeCost(n))
	}
}

func (c *NodeCache) get(id coda.ID) (*node, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.cur[id]; ok {
		return n, true
	}
	if n, ok := c.old[id]; ok {
		c.addLocked(id, n, nodeCost(n))
		return n, true
	}
	return nil, false
}

func (c *NodeCache) add(id coda.ID, n *node, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(id, n, size)
}

func (c *NodeCache) addLocked(id coda.ID, n *node, size int) {
	if _, ok := c.cur[id]; ok {
		return
	}
	if c.size+size > c.max {
		c.old, c.cur, c.size = c.cur, make(map[coda.ID]*node, len(c.cur)), 0
	}
	c.cur[id] = n
	c.size += size
}

// nodeCost estimates the bytes a decoded node holds.
func nodeCost(n *node) int {
	c := 64
	for _, it := range n.items {
		c += 128 + len(it.key.name)
	}
	return c
}
