package tree

import (
	"testing"

	"github.com/coalescent/coal/coda"
)

// levelStats counts the nodes and items at each level of a directory.
func levelStats(t testing.TB, tr *Tree, id coda.ID) (nodes, items []int, maxItems int) {
	o := tr.newOp(false)
	var rec func(id coda.ID)
	rec = func(id coda.ID) {
		n, err := o.load(id)
		if err != nil {
			t.Fatal(err)
		}
		for len(nodes) <= n.level {
			nodes, items = append(nodes, 0), append(items, 0)
		}
		nodes[n.level]++
		items[n.level] += len(n.items)
		maxItems = max(maxItems, len(n.items))
		if n.level > 0 {
			for _, it := range n.items {
				rec(it.e.ID)
			}
		}
	}
	rec(id)
	return nodes, items, maxItems
}

func TestFanout(t *testing.T) {
	tr, _, root := bigTree(t, 200_000)
	e, err := tr.Get(root, "/big")
	if err != nil {
		t.Fatal(err)
	}
	nodes, items, mx := levelStats(t, tr, e.ID)
	for l := range nodes {
		t.Logf("level %d: %d nodes, %d items, %.1f items a node", l, nodes[l], items[l], float64(items[l])/float64(nodes[l]))
	}
	avg := float64(items[0]) / float64(nodes[0])
	if avg < 40 || avg > 100 || mx >= MaxItems {
		t.Errorf("leaf fanout %.1f (max %d), want about %d", avg, mx, 1<<FanoutBits)
	}
}
