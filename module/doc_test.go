package module_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/coalescent/coal/module"
)

// TestDocSchemaIDs: docs/modules.md lists the id of every schema of
// module.coda (a change to the file changes every stored object's id:
// the doc must say so).
func TestDocSchemaIDs(t *testing.T) {
	doc, err := os.ReadFile("../docs/modules.md")
	if err != nil {
		t.Fatal(err)
	}
	list, err := module.Schemas()
	if err != nil || len(list) != 14 {
		t.Fatalf("%d schemas, %v", len(list), err)
	}
	for _, s := range list {
		row := fmt.Sprintf("| `%s` | `%s` |", s.Name, s.ID)
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/modules.md lacks %s", row)
		}
	}
}
