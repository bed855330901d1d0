package tree

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coalescent/coal/coda"
)

// dump renders the whole structure of a tree, for failing tests.
func dump(t testing.TB, tr *Tree, root coda.ID) string {
	var b strings.Builder
	o := tr.newOp(false)
	var rec func(id coda.ID, indent string)
	rec = func(id coda.ID, indent string) {
		n, err := o.load(id)
		if err != nil {
			fmt.Fprintf(&b, "%s!%v\n", indent, err)
			return
		}
		fmt.Fprintf(&b, "%snode %s level %d\n", indent, id.Short(), n.level)
		for _, it := range n.items {
			if n.level > 0 {
				fmt.Fprintf(&b, "%s  child %q dir=%v\n", indent, it.key.name, it.key.dir)
				rec(it.e.ID, indent+"    ")
				continue
			}
			fmt.Fprintf(&b, "%s  %q %v %s live=%d t=%d\n", indent, it.key.name, it.e.Kind, it.e.ID.Short(), it.e.Live, it.e.Stamp.Time)
			if it.key.dir {
				rec(it.e.ID, indent+"    ")
			}
		}
	}
	rec(root, "")
	return b.String()
}
